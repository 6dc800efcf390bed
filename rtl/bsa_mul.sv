`include "bsa_compat.svh"

// Precision-reconfigurable multiplier: a 4x4 grid of 5x5-bit signed block products
// (4-bit nibbles widened by bsa_opdec), combined per mode (docs/NUMERICS.md):
//   16-bit: all 16 blocks, block (i,j) weighted 2^(4(i+j))          -> 1 product
//    8-bit: blocks with i/2 == j/2, weighted 2^(4(i%2 + j%2))      -> 2 lane products
//    4-bit: blocks with i == j, weight 1                           -> 4 lane products
// The output is the sum of the lane products of the word pair. Only the blocks of the
// current mode are evaluated; approximate (Ax-BxP) modes can gate single blocks here.
module bsa_mul
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic                    en_i,
  input  mode_e                   mode_i,
  input  nibs_t                   a_i,
  input  nibs_t                   w_i,
  output logic signed [SUM_W-1:0] sum_o
);

  // The widened nibbles of both operands.
  logic signed [NIB_W-1:0] a [4];
  logic signed [NIB_W-1:0] w [4];
  always_comb begin
    for (int unsigned i = 0; i < 4; i++) begin
      a[i] = a_i[NIB_W*i +: NIB_W];
      w[i] = w_i[NIB_W*i +: NIB_W];
    end
  end

  always_comb begin
    sum_o = '0;
    if (en_i) begin
      unique case (mode_i)
        MODE_16: begin
          for (int unsigned i = 0; i < 4; i++) begin
            for (int unsigned j = 0; j < 4; j++) begin
              sum_o = sum_o + (SUM_W'(a[i] * w[j]) <<< (4 * (i + j)));
            end
          end
        end
        MODE_8: begin
          for (int unsigned l = 0; l < 2; l++) begin
            for (int unsigned i = 0; i < 2; i++) begin
              for (int unsigned j = 0; j < 2; j++) begin
                sum_o = sum_o + (SUM_W'(a[2*l+i] * w[2*l+j]) <<< (4 * (i + j)));
              end
            end
          end
        end
        MODE_4: begin
          for (int unsigned i = 0; i < 4; i++) begin
            sum_o = sum_o + SUM_W'(a[i] * w[i]);
          end
        end
        default: sum_o = '0;
      endcase
    end
  end

endmodule
