`include "bsa_compat.svh"

// Precision-reconfigurable multiplier: a 4x4 grid of bsa_blkmul block products (5x5-bit signed,
// the 4-bit nibbles widened by bsa_opdec), combined per mode (docs/NUMERICS.md):
//   16-bit: all 16 blocks, block (i,j) weighted 2^(4(i+j))          -> 1 product
//    8-bit: blocks with i/2 == j/2, weighted 2^(4(i%2 + j%2))      -> 2 lane products
//    4-bit: blocks with i == j, weight 1                           -> 4 lane products
// Block (i,j) computes only when en_i and blk_en_i[4i+j] (bsa_ctrl: the blocks that serve a
// lane of the mode and are not skipped by the Ax-BxP mask MODE.BLKSKIP); a disabled block has
// its operands isolated and contributes 0. The output is the sum of the lane products of the
// word pair.
module bsa_mul
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic                    en_i,
  input  mode_e                   mode_i,
  input  logic [15:0]             blk_en_i,
  input  nibs_t                   a_i,
  input  nibs_t                   w_i,
  output logic signed [SUM_W-1:0] sum_o
);

  // The block products, block (i,j) at index 4i+j.
  logic signed [2*NIB_W-1:0] p [16];

  for (genvar i = 0; i < 4; i++) begin : g_a
    for (genvar j = 0; j < 4; j++) begin : g_w
      bsa_blkmul u_blk (
        .en_i (en_i & blk_en_i[4*i+j]),
        .a_i  (a_i[NIB_W*i +: NIB_W]),
        .w_i  (w_i[NIB_W*j +: NIB_W]),
        .p_o  (p[4*i+j])
      );
    end
  end

  // Blocks that serve no lane of the mode are disabled (0) and left out of the sums.
  always_comb begin
    sum_o = '0;
    unique case (mode_i)
      MODE_16: begin
        for (int unsigned i = 0; i < 4; i++) begin
          for (int unsigned j = 0; j < 4; j++) begin
            sum_o = sum_o + (SUM_W'(p[4*i+j]) <<< (4 * (i + j)));
          end
        end
      end
      MODE_8: begin
        for (int unsigned l = 0; l < 2; l++) begin
          for (int unsigned i = 0; i < 2; i++) begin
            for (int unsigned j = 0; j < 2; j++) begin
              sum_o = sum_o + (SUM_W'(p[4*(2*l+i) + 2*l+j]) <<< (4 * (i + j)));
            end
          end
        end
      end
      MODE_4: begin
        for (int unsigned i = 0; i < 4; i++) begin
          sum_o = sum_o + SUM_W'(p[5*i]);
        end
      end
      default: sum_o = '0;
    endcase
  end

endmodule
