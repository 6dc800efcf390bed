// Top of the gate-level activity model (syn/activity/activity.cmake): the harness synthesized
// twice by yosys, as the RTL is (u_gated) and with the operand isolation of bsa_blkmul removed
// (u_ungated: every module renamed bsa_* -> ngsa_*), driven by the same inputs. Both compute
// the same accumulator; syn/activity/activity.cpp counts the toggles of every net below them.
module bsa_act_top (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic [1:0]  mode_i,
  input  logic [15:0] blk_skip_i,
  input  logic        acc_en_i,
  input  logic [15:0] act_i,
  input  logic [15:0] wgt_i,
  output logic [15:0] blk_en_o,
  output logic [47:0] acc_o,
  output logic [15:0] ng_blk_en_o,
  output logic [47:0] ng_acc_o
);

  bsa_act_harness u_gated (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .mode_i     (mode_i),
    .blk_skip_i (blk_skip_i),
    .acc_en_i   (acc_en_i),
    .act_i      (act_i),
    .wgt_i      (wgt_i),
    .blk_en_o   (blk_en_o),
    .acc_o      (acc_o)
  );

  ngsa_act_harness u_ungated (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .mode_i     (mode_i),
    .blk_skip_i (blk_skip_i),
    .acc_en_i   (acc_en_i),
    .act_i      (act_i),
    .wgt_i      (wgt_i),
    .blk_en_o   (ng_blk_en_o),
    .acc_o      (ng_acc_o)
  );

endmodule
