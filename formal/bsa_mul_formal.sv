`include "bsa_compat.svh"

// Proof harness (docs/FORMAL.md): the operand decoders and the block multiplier of one PE,
// bsa_opdec x 2 + bsa_mul, against the dot product of docs/NUMERICS.md written from the spec
// (packing rule, signed B-bit lanes, lanes past the valid ones treated as 0), not from the RTL.
// fail_o must be 0 for every input; `make formal` proves it for each mode with yosys's SAT solver.
module bsa_mul_formal
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
#(
  parameter int unsigned ModeCode = 0  // the MODE code proved (`make formal` sets each legal one)
) (
  input  logic [15:0] a_i,       // packed activation word
  input  logic [15:0] w_i,       // packed weight word
  input  logic [2:0]  vlanes_i,  // valid lanes of the activation word (1 .. P)
  input  logic        col_en_i,  // the weight's column is active
  input  logic        zgate_i,   // MODE.ZGATE: zero blocks gated (bsa_array's detector)
  output logic        fail_o
);

  mode_e mode;
  assign mode[MODE_W-1:0] = MODE_W'(ModeCode);  // part-select: no casts to a type in yosys 0.23

  // ---- the RTL: enables as bsa_ctrl derives them (valid lanes x B/4 nibbles) ----
  logic [3:0] nib_en;
  nibs_t      a_nibs, w_nibs;
  logic signed [SUM_W-1:0] sum;

  always_comb begin
    for (int unsigned i = 0; i < 4; i++) begin
      nib_en[i] = (i < 32'(vlanes_i) * (mode_bits(mode) / 4));
    end
  end

  bsa_opdec u_adec (.top_nib_i(lane_top_nibs(mode)), .word_i(a_i), .nib_en_i(nib_en), .nibs_o(a_nibs));
  bsa_opdec u_wdec (.top_nib_i(lane_top_nibs(mode)), .word_i(w_i), .nib_en_i({4{col_en_i}}), .nibs_o(w_nibs));
  // Every grid block enabled: the exact configuration (blocks outside the mode's lanes are left out
  // of its sums; Ax-BxP masks are checked by simulation, docs/REGRESSION.md).
  // Exact zero-block gating: the zero-block flags as bsa_array makes them from the decoded nibbles
  // (all ones without ZGATE). The spec below does not change: gating must be exact.
  logic [3:0] a_nz, w_nz;
  for (genvar i = 0; i < 4; i++) begin : g_nz
    assign a_nz[i] = !zgate_i || (a_nibs[NIB_W*i +: NIB_W] != '0);
    assign w_nz[i] = !zgate_i || (w_nibs[NIB_W*i +: NIB_W] != '0);
  end
  bsa_mul u_mul (.en_i(1'b1), .mode_i(mode), .blk_en_i(16'hFFFF), .a_nz_i(a_nz), .w_nz_i(w_nz),
                 .a_i(a_nibs), .w_i(w_nibs), .sum_o(sum));

  // ---- the spec: element l of a word is bits [B*l +: B], signed; lane l counts if l < valid ----
  logic signed [SUM_W-1:0] ref_sum;
  logic                    legal;

  always_comb begin
    ref_sum = '0;
    legal   = 1'b1;
    unique case (mode)
      MODE_16: begin
        legal = (vlanes_i == 3'd1);
        ref_sum = SUM_W'($signed(a_i) * $signed(w_i));
      end
      MODE_8: begin
        legal = (vlanes_i >= 3'd1 && vlanes_i <= 3'd2);
        for (int unsigned l = 0; l < 2; l++) begin
          if (l < 32'(vlanes_i)) begin
            ref_sum = ref_sum + SUM_W'($signed(a_i[8*l +: 8]) * $signed(w_i[8*l +: 8]));
          end
        end
      end
      MODE_4: begin
        legal = (vlanes_i >= 3'd1 && vlanes_i <= 3'd4);
        for (int unsigned l = 0; l < 4; l++) begin
          if (l < 32'(vlanes_i)) begin
            ref_sum = ref_sum + SUM_W'($signed(a_i[4*l +: 4]) * $signed(w_i[4*l +: 4]));
          end
        end
      end
      default: legal = 1'b0;  // MODE = 3 never computes (START refused)
    endcase
    if (!col_en_i) begin
      ref_sum = '0;
    end
  end

  assign fail_o = legal && !(sum == ref_sum);

endmodule
