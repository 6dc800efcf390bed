`include "bsa_compat.svh"

// Switching-activity harness (docs/SYNTHESIS.md, "Switching activity per block product"): one
// processing element as the array feeds it. The activation and weight words go through their
// bsa_opdec decoders (all nibbles enabled: every lane valid), the 16 block enables come from
// bsa_ctrl (combinational in MODE and MODE.BLKSKIP; the sequencer idles), and bsa_pe multiplies
// and accumulates while acc_en_i. Nothing here is exported for the C++ driver: it counts toggles
// with Verilator's toggle coverage of the instances below it (syn/activity/activity.cpp).
module bsa_act_harness
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic [MODE_W-1:0]       mode_i,
  input  logic [15:0]             blk_skip_i,
  input  logic                    acc_en_i,
  input  logic [WORD_W-1:0]       act_i,
  input  logic [WORD_W-1:0]       wgt_i,
  output logic [15:0]             blk_en_o,
  output logic signed [ACC_W-1:0] acc_o
);

  mode_e mode;
  nibs_t act_nibs, wgt_nibs;

  always_comb begin
    mode              = MODE_16;
    mode[MODE_W-1:0]  = mode_i;
  end

  /* verilator lint_off PINCONNECTEMPTY */
  bsa_ctrl #(
    .Rows (1),
    .Cols (1)
  ) u_ctrl (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .start_i      (1'b0),
    .mode_i       (mode),
    .k_i          (16'd0),
    .rows_act_i   (9'd0),
    .cols_act_i   (9'd0),
    .act_base_i   (16'd0),
    .wgt_base_i   (16'd0),
    .bias_base_i  (16'd0),
    .start_act_base_i  (16'd0),
    .start_wgt_base_i  (16'd0),
    .start_bias_base_i (16'd0),
    .shift_i      (6'd0),
    .bias_en_i    (1'b0),
    .acc_keep_i   (1'b0),
    .blk_skip_i   (blk_skip_i),
    .zgate_i      (1'b0),
    .a_nzc_i      (36'd0),
    .w_nzc_i      (36'd0),
    .dw_i         (1'b0),
    .bus_line_i   (12'd0),
    .bus_act_i    (1'b0),
    .bus_rows_i   (1'b0),
    .bus_wgt_i    (1'b0),
    .bus_bias_i   (1'b0),
    .hazard_o     (),
    .busy_o       (),
    .run_o        (),
    .start_ok_o   (),
    .start_err_o  (),
    .start_code_o (),
    .tile_done_o  (),
    .done_o       (),
    .rd_en_o      (),
    .act_word_o   (),
    .wgt_word_o   (),
    .bias_rd_o    (),
    .act_sel_o    (),
    .wgt_sel_o    (),
    .bias_sel_o   (),
    .act_nib_en_o (),
    .col_en_o     (),
    .init_o       (),
    .acc_en_o     (),
    .out_en_o     (),
    .blk_en_o     (blk_en_o),
    .mac_inc_o    (),
    .blk_inc_o    (),
    .rd_words_o   (),
    .wr_words_o   (),
    .zskip_inc_o  ()
  );
  /* verilator lint_on PINCONNECTEMPTY */

  bsa_opdec u_act_dec (
    .top_nib_i (lane_top_nibs(mode)),
    .word_i   (act_i),
    .nib_en_i (4'hF),
    .nibs_o   (act_nibs)
  );

  bsa_opdec u_wgt_dec (
    .top_nib_i (lane_top_nibs(mode)),
    .word_i   (wgt_i),
    .nib_en_i (4'hF),
    .nibs_o   (wgt_nibs)
  );

  bsa_pe u_pe (
    .clk_i    (clk_i),
    .rst_ni   (rst_ni),
    .mode_i   (mode),
    .blk_en_i (blk_en_o),
    .a_nz_i   (4'hF),
    .w_nz_i   (4'hF),
    .a_i      (act_nibs),
    .w_i      (wgt_nibs),
    .init_i   (1'b0),
    .bias_i   (32'sd0),
    .acc_en_i (acc_en_i),
    .acc_o    (acc_o)
  );

endmodule
