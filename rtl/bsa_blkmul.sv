`include "bsa_compat.svh"

// One 4-bit block product of the multiplier grid (docs/NUMERICS.md, "Approximate block
// products"): two widened nibbles (5-bit signed, bsa_opdec) multiplied when enabled. A disabled
// block has its operands gated to 0 (operand isolation: the multiplier's inputs stop switching)
// and its product is 0.
module bsa_blkmul
  `BSA_IMPORT(bsa_pkg)
(
  input  logic                      en_i,
  input  logic signed [NIB_W-1:0]   a_i,
  input  logic signed [NIB_W-1:0]   w_i,
  output logic signed [2*NIB_W-1:0] p_o
);

  logic signed [NIB_W-1:0] a_g, w_g;

  assign a_g = en_i ? a_i : '0;
  assign w_g = en_i ? w_i : '0;
  assign p_o = a_g * w_g;

endmodule
