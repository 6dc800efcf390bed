`include "bsa_compat.svh"

// Proof harness (docs/FORMAL.md, "The multiplier", step (a)): one leaf of the multiplier grid,
// bsa_blkmul, computes p = en ? a * w : 0 for every pair of 5-bit signed operands (all 2^11
// inputs, including -16, which bsa_opdec never produces). The spec's product is formed 16 bits
// wide from explicitly sign-extended operands (a product mod 2^16 of two values in -16 .. 15,
// whose exact value lies in -240 .. 256), and compared with the leaf's 10-bit product
// sign-extended: the leaf's output is the exact product, not just its low bits.
module bsa_blkmul_formal
  `BSA_IMPORT(bsa_pkg)
(
  input  logic             en_i,
  input  logic [NIB_W-1:0] a_i,
  input  logic [NIB_W-1:0] w_i,
  output logic             fail_o
);

  logic signed [2*NIB_W-1:0] p;
  bsa_blkmul u_blk (.en_i(en_i), .a_i(a_i), .w_i(w_i), .p_o(p));

  logic [15:0] a16, w16, prod, p16;
  assign a16  = {{(16 - NIB_W){a_i[NIB_W-1]}}, a_i};
  assign w16  = {{(16 - NIB_W){w_i[NIB_W-1]}}, w_i};
  assign prod = en_i ? a16 * w16 : 16'd0;  // unsigned product mod 2^16 = the signed one mod 2^16
  assign p16  = {{(16 - 2 * NIB_W){p[2*NIB_W-1]}}, p};

  assign fail_o = (p16 != prod);

endmodule
