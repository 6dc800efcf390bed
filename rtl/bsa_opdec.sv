`include "bsa_compat.svh"

// Operand decoder: splits a packed 16-bit word into four nibbles widened to 5 bits for the
// block multipliers. A nibble is sign-extended when it is the most significant nibble of its
// lane in the current mode, zero-extended otherwise; disabled nibbles (lanes past K,
// inactive rows or columns) become 0. One decoder per array row and per array column.
module bsa_opdec
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  mode_e               mode_i,
  input  logic [WORD_W-1:0]   word_i,
  input  logic [3:0]          nib_en_i,
  output nibs_t               nibs_o
);

  logic [3:0]  top_nib;    // nibble i is the top (sign-carrying) nibble of its lane
  logic [31:0] lane_nibs;  // nibbles per lane, B / 4 (a power of two; 0 in an illegal mode)

  // Lanes are B = mode_bits bits wide (bsa_regs.def): nibble i tops its lane when i + 1 is a
  // multiple of B / 4. An illegal mode never computes (START refused); its nibbles are
  // sign-extended like 4-bit lanes.
  always_comb begin
    lane_nibs = 32'(mode_bits(mode_i) / 4);
    for (int unsigned i = 0; i < 4; i++) begin
      top_nib[i] = (lane_nibs == 32'd0) || (((i + 1) & (lane_nibs - 32'd1)) == 32'd0);
    end
  end

  for (genvar i = 0; i < 4; i++) begin : g_nib
    assign nibs_o[NIB_W*i +: NIB_W] =
        nib_en_i[i] ? {top_nib[i] & word_i[4*i+3], word_i[4*i +: 4]} : 5'd0;
  end

endmodule
