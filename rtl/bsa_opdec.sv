`include "bsa_compat.svh"

// Operand decoder: splits a packed 16-bit word into four nibbles widened to 5 bits for the
// block multipliers. A nibble is sign-extended when it is the most significant nibble of its
// lane in the current mode (top_nib_i, bsa_pkg's lane_top_nibs of the mode, decoded once per
// array), zero-extended otherwise; disabled nibbles (lanes past K, inactive rows or columns)
// become 0. One decoder per array row, per array column and, for MODE.DW, per PE.
module bsa_opdec
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic [3:0]          top_nib_i,
  input  logic [WORD_W-1:0]   word_i,
  input  logic [3:0]          nib_en_i,
  output nibs_t               nibs_o
);

  for (genvar i = 0; i < 4; i++) begin : g_nib
    assign nibs_o[NIB_W*i +: NIB_W] =
        nib_en_i[i] ? {top_nib_i[i] & word_i[4*i+3], word_i[4*i +: 4]} : 5'd0;
  end

endmodule
