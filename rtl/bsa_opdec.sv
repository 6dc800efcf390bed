// Operand decoder: splits a packed 16-bit word into four nibbles widened to 5 bits for the
// block multipliers. A nibble is sign-extended when it is the most significant nibble of its
// lane in the current mode, zero-extended otherwise; disabled nibbles (lanes past K,
// inactive rows or columns) become 0. One decoder per array row and per array column.
module bsa_opdec
  import bsa_pkg::*;
  import bsa_reg_pkg::*;
(
  input  mode_e               mode_i,
  input  logic [WORD_W-1:0]   word_i,
  input  logic [3:0]          nib_en_i,
  output nibs_t               nibs_o
);

  logic [3:0] top_nib;  // nibble i is the top (sign-carrying) nibble of its lane

  always_comb begin
    unique case (mode_i)
      MODE_16: top_nib = 4'b1000;
      MODE_8:  top_nib = 4'b1010;
      MODE_4:  top_nib = 4'b1111;
      default:  top_nib = 4'b1111;
    endcase
  end

  for (genvar i = 0; i < 4; i++) begin : g_nib
    assign nibs_o[i] = nib_en_i[i] ? {top_nib[i] & word_i[4*i+3], word_i[4*i +: 4]} : 5'd0;
  end

endmodule
