`include "bsa_compat.svh"

// Precision-reconfigurable multiplier: a 4x4 grid of bsa_blkmul block products (5x5-bit signed,
// the 4-bit nibbles widened by bsa_opdec), combined per mode (docs/NUMERICS.md):
//   16-bit: all 16 blocks, block (i,j) weighted 2^(4(i+j))          -> 1 product
//    8-bit: blocks with i/2 == j/2, weighted 2^(4(i%2 + j%2))      -> 2 lane products
//    4-bit: blocks with i == j, weight 1                           -> 4 lane products
// Block (i,j) computes only when en_i and blk_en_i[4i+j] (bsa_ctrl: the blocks that serve a
// lane of the mode and are not skipped by the Ax-BxP mask MODE.BLKSKIP) and, for exact zero-block
// gating (MODE.ZGATE), a_nz_i[i] and w_nz_i[j] (bsa_array: the operand block is not 0000; all ones
// without ZGATE); a disabled block has its operands isolated and contributes 0 (exact for a zero
// block, whose product is 0). The output is the sum of the lane products of the
// word pair.
//
// Each block's product is a signal of its own generate scope (g_a[i].g_w[j].p), not an element
// of an unpacked array, and the 16 enables are one vector per PE: the verilated model evaluates
// the grid on every rising edge (one clock domain), and these keep each cycle cheap
// (docs/PERFORMANCE.md "Where a simulated cycle goes").
module bsa_mul
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic                    en_i,
  input  mode_e                   mode_i,
  input  logic [15:0]             blk_en_i,
  input  logic [3:0]              a_nz_i,    // activation block i is non-zero (or ZGATE off)
  input  logic [3:0]              w_nz_i,    // weight block j is non-zero (or ZGATE off)
  input  nibs_t                   a_i,
  input  nibs_t                   w_i,
  output logic signed [SUM_W-1:0] sum_o
);

  // The enables of the 16 blocks as one vector (bit 4i+j: block (i,j)): the same AND gates as one
  // enable per block, computed once per PE in the verilated model (docs/PERFORMANCE.md).
  logic [15:0] nz_pair;  // activation block i and weight block j both non-zero
  logic [15:0] blk_on;
  for (genvar i = 0; i < 4; i++) begin : g_nz
    assign nz_pair[4*i +: 4] = {4{a_nz_i[i]}} & w_nz_i;
  end
  assign blk_on = {16{en_i}} & blk_en_i & nz_pair;

  for (genvar i = 0; i < 4; i++) begin : g_a
    for (genvar j = 0; j < 4; j++) begin : g_w
      logic signed [2*NIB_W-1:0] p;  // block product (i,j)

      bsa_blkmul u_blk (
        .en_i (blk_on[4*i+j]),
        .a_i  (a_i[NIB_W*i +: NIB_W]),
        .w_i  (w_i[NIB_W*j +: NIB_W]),
        .p_o  (p)
      );
    end
  end

  // Block (I,J) sign-extended to the sum and weighted by 2^S.
`define BSA_BLK(I, J, S) (SUM_W'(g_a[I].g_w[J].p) <<< (S))

  // Blocks that serve no lane of the mode are disabled (0) and left out of the sums.
  always_comb begin
    sum_o = '0;
    if (en_i) begin
      unique case (mode_i)
        MODE_16: begin
          sum_o = `BSA_BLK(0, 0, 0)  + `BSA_BLK(0, 1, 4)  + `BSA_BLK(0, 2, 8)  + `BSA_BLK(0, 3, 12)
                + `BSA_BLK(1, 0, 4)  + `BSA_BLK(1, 1, 8)  + `BSA_BLK(1, 2, 12) + `BSA_BLK(1, 3, 16)
                + `BSA_BLK(2, 0, 8)  + `BSA_BLK(2, 1, 12) + `BSA_BLK(2, 2, 16) + `BSA_BLK(2, 3, 20)
                + `BSA_BLK(3, 0, 12) + `BSA_BLK(3, 1, 16) + `BSA_BLK(3, 2, 20) + `BSA_BLK(3, 3, 24);
        end
        MODE_8: begin
          sum_o = `BSA_BLK(0, 0, 0) + `BSA_BLK(0, 1, 4) + `BSA_BLK(1, 0, 4) + `BSA_BLK(1, 1, 8)
                + `BSA_BLK(2, 2, 0) + `BSA_BLK(2, 3, 4) + `BSA_BLK(3, 2, 4) + `BSA_BLK(3, 3, 8);
        end
        MODE_4: begin
          sum_o = `BSA_BLK(0, 0, 0) + `BSA_BLK(1, 1, 0) + `BSA_BLK(2, 2, 0) + `BSA_BLK(3, 3, 0);
        end
        default: sum_o = '0;
      endcase
    end
  end

`undef BSA_BLK

endmodule
