`include "bsa_compat.svh"

// One 4-bit block product of the multiplier grid (docs/NUMERICS.md, "Approximate block
// products"): two widened nibbles (5-bit signed, bsa_opdec) multiplied when enabled. A disabled
// block has its operands gated to 0 (operand isolation: the multiplier's inputs stop switching)
// and its product is 0.
//
// The product is formed from operands sign-extended to SUM_W and cut to its 10 bits (the same
// 5 x 5 multiplier after synthesis, wreduce): the verilated model then multiplies native 32-bit
// words, where a 10-bit signed product sign-extends its operands twice (docs/PERFORMANCE.md).
// It is written under `if (en_i)` although the isolated operands already make it 0:
// the verilated model then multiplies only in enabled blocks and merges the test of one block
// position over all PEs into one branch (docs/PERFORMANCE.md); the isolation AND gates stay
// for the hardware. The isolation is written as a mux of the same enable (the same AND gates
// after synthesis: 171 cells either way): inside that branch the C++ compiler then knows the
// operands are not gated and skips the masking, where an AND with a replicated enable was
// computed again in every enabled block (docs/PERFORMANCE.md).
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

  always_comb begin
    if (en_i) begin
      p_o = (2*NIB_W)'(SUM_W'(a_g) * SUM_W'(w_g));
    end else begin
      p_o = '0;
    end
  end

endmodule
