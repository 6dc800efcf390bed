`include "bsa_compat.svh"

// Cut point for step (b) of the multiplier proof (docs/FORMAL.md, "The multiplier"): a module of
// the name and ports of the leaf bsa_blkmul whose output is driven by nothing. formal/mul_cut.ys
// reads it over the real leaf (read_verilog -overwrite) and, after flattening, connects each of
// the 16 instances' ports to the harness (`connect`): the product becomes a free input of the
// harness, and the leaf's enable and operands become signals the harness checks. What the real
// leaf computes is step (a) (formal/bsa_blkmul_formal.sv).
module bsa_blkmul
  `BSA_IMPORT(bsa_pkg)
(
  input  logic                      en_i,
  input  logic signed [NIB_W-1:0]   a_i,
  input  logic signed [NIB_W-1:0]   w_i,
  output logic signed [2*NIB_W-1:0] p_o
);
endmodule
