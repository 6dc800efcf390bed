`include "bsa_compat.svh"

// Proof harness (docs/FORMAL.md, "The multiplier", step (c)): the spec's block decomposition
// (docs/NUMERICS.md, "Approximate block products") in each legal mode, written independently of
// the RTL. For every 16-bit word x and every lane l of the mode (B = 16 / P bits, nb = B / 4
// blocks), with x_i = nibble i of the lane read signed for the top block i = nb - 1 and unsigned
// below:
//   (1) sum_i x_i * 2^(4i) = the lane's value, x[B*l +: B] read as a signed B-bit number;
//   (2) for every second word w and every skip mask S, the approximate lane dot product
//       sum_l sum_{(i,j) not in S} a_{l,i} * w_{l,j} * 2^(4(i+j)), computed 48 bits wide, lies in
//       -2^31 .. 2^31 - 1: the multiplier's 32-bit output (equal to it mod 2^32 by step (b))
//       is the exact value, for every mask (S = 0 included).
// fail_o must be 0 for every input.
module bsa_blocks_formal
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic [15:0] a_i,
  input  logic [15:0] w_i,
  input  logic [15:0] skip_i,
  output logic        fail_o
);

  logic [2:0] mode_fail;

  for (genvar m = 0; m < 3; m++) begin : g_mode
    localparam integer NB    = (m == 0) ? 4 : (m == 1) ? 2 : 1;  // 16-, 8-, 4-bit
    localparam integer LANES = 4 / NB;
    localparam integer B     = 4 * NB;

    logic [LANES-1:0] ident_fail;
    logic signed [47:0] dot;

    for (genvar l = 0; l < LANES; l++) begin : g_lane
      // value of the lane, sign-extended; the sum of its weighted blocks
      logic signed [47:0] lane_a, sum_a;
      assign lane_a = {{(48 - B){a_i[B*l+B-1]}}, a_i[B*l +: B]};
      always_comb begin
        sum_a = '0;
        for (int i = 0; i < NB; i++) begin
          if (i == NB - 1) begin
            sum_a = sum_a + ({{44{a_i[4*(NB*l+i)+3]}}, a_i[4*(NB*l+i) +: 4]} << (4 * i));
          end else begin
            sum_a = sum_a + ({44'd0, a_i[4*(NB*l+i) +: 4]} << (4 * i));
          end
        end
      end
      assign ident_fail[l] = (sum_a != lane_a);
    end

    // block i of lane l as a 10-bit two's-complement number (signed top block, unsigned others);
    // a block product of two of them (-120 .. 225) is exact in 10 bits.
    function automatic logic [9:0] blk(input logic [15:0] x, input integer l, input integer i);
      blk = (i == NB - 1) ? {{6{x[4*(NB*l+i)+3]}}, x[4*(NB*l+i) +: 4]}
                          : {6'd0, x[4*(NB*l+i) +: 4]};
    endfunction

    always_comb begin
      dot = '0;
      for (int l = 0; l < LANES; l++) begin
        for (int i = 0; i < NB; i++) begin
          for (int j = 0; j < NB; j++) begin
            if (!skip_i[4*i+j]) begin
              logic [9:0] prod;
              prod = blk(a_i, l, i) * blk(w_i, l, j);
              dot  = dot + ({{38{prod[9]}}, prod} << (4 * (i + j)));
            end
          end
        end
      end
    end

    assign mode_fail[m] = (|ident_fail) || (dot < -48'sd2147483648) || (dot > 48'sd2147483647);
  end

  assign fail_o = |mode_fail;

endmodule
