`include "bsa_compat.svh"

// Proof harness (docs/FORMAL.md): the register file and the tile sequencer wired as in bsa_top
// (bsa_csr + bsa_ctrl), with any sequence of register accesses. fail_o = 1 when the sequencer
// reads a scratchpad word outside its bank (activation or weight word >= words per bank, a bias
// entry >= entries per bank), or when one of the invariants that carry the induction breaks:
// while busy, the mode is legal and KW > 0; while the tile reads operands (RUN), t < KW and the
// tile's last words ACT_BASE + KW (+ KW x Cols with MODE.DW, ACT_BASE then a multiple of Cols),
// WGT_BASE + KW lie inside the banks (the base registers: the bases a START carries with CTRL.LOAD
// are checked before the registers take them).
module bsa_ctrl_formal
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic              clk_i,
  input  logic              req_i,
  input  logic              we_i,
  input  logic [11:0]       idx_i,
  input  logic [LINE_W-1:0] wdata_i,
  input  logic              bus_err_i,
  input  logic [ERR_W-1:0]  bus_code_i,
  output logic              fail_o
);

  localparam int unsigned Rows        = DEFAULT_ROWS;
  localparam int unsigned Cols        = DEFAULT_COLS;
  localparam int unsigned ActWords    = DEFAULT_ACT_WORDS;
  localparam int unsigned WgtWords    = DEFAULT_WGT_WORDS;
  localparam int unsigned BiasEntries = DEFAULT_BIAS_ENTRIES;

  mode_e              mode;
  logic [15:0]        k, act_base, wgt_base, bias_base, start_act_base, start_wgt_base, start_bias_base;
  logic [8:0]         rows_act, cols_act;
  logic [5:0]         shift;
  logic               bias_en, relu, clamp_en, col_shift, acc_keep;
  logic signed [15:0] clamp_hi;
  logic               busy, run, start, start_ok, start_err, tile_done, tile_last, array_en;
  logic [ERR_W-1:0]   start_code, acc_code;
  logic [19:0]        mac_inc;
  logic [31:0]        blk_inc;
  logic [15:0]        blk_skip, blk_en;
  logic               zgate;
  logic               dw;
  logic [31:0]        zskip_inc;
  logic [15:0]        rd_words, wr_words, act_word, wgt_word;
  logic [LINE_W-1:0]  rdata;
  logic               done, err, irq, rd_en, bias_rd, bias_sel, init, out_en;
  logic [$clog2(Cols)-1:0] act_sel;
  logic [1:0]         wgt_sel;
  logic [4*Rows-1:0]  act_nib_en;
  logic [Cols-1:0]    col_en;

  bsa_csr #(.Rows(Rows), .Cols(Cols), .ActWords(ActWords), .WgtWords(WgtWords),
            .BiasEntries(BiasEntries)) u_csr (
    .clk_i, .rst_ni(1'b1), .req_i, .we_i, .idx_i, .wdata_i, .rdata_o(rdata), .acc_code_o(acc_code),
    .busy_i(busy), .start_o(start), .start_ok_i(start_ok), .start_err_i(start_err),
    .start_code_i(start_code), .tile_done_i(tile_done), .done_set_i(tile_last), .bus_err_i, .bus_code_i, .mode_o(mode),
    .blk_skip_o(blk_skip), .zgate_o(zgate), .dw_o(dw), .blk_inc_i(blk_inc), .zskip_inc_i(zskip_inc), .gw_inc_i('0),
    .k_o(k), .rows_act_o(rows_act), .cols_act_o(cols_act), .act_base_o(act_base),
    .wgt_base_o(wgt_base), .bias_base_o(bias_base), .start_act_base_o(start_act_base),
    .start_wgt_base_o(start_wgt_base), .start_bias_base_o(start_bias_base), .shift_o(shift), .bias_en_o(bias_en),
    .relu_o(relu), .clamp_en_o(clamp_en), .col_shift_o(col_shift), .acc_keep_o(acc_keep), .clamp_hi_o(clamp_hi), .done_o(done), .err_o(err),
    .irq_o(irq), .array_i(array_en), .mac_inc_i(mac_inc), .rd_words_i(rd_words),
    .wr_words_i(wr_words), .xfer_i(1'b0), .overlap_i(1'b0)
  );

  bsa_ctrl #(.Rows(Rows), .Cols(Cols), .ActWords(ActWords), .WgtWords(WgtWords),
             .BiasEntries(BiasEntries)) u_ctrl (
    .clk_i, .rst_ni(1'b1), .start_i(start), .mode_i(mode), .k_i(k), .rows_act_i(rows_act),
    .cols_act_i(cols_act), .act_base_i(act_base), .wgt_base_i(wgt_base), .bias_base_i(bias_base),
    .start_act_base_i(start_act_base), .start_wgt_base_i(start_wgt_base), .start_bias_base_i(start_bias_base),
    .shift_i(shift), .bias_en_i(bias_en && !acc_keep), .acc_keep_i(acc_keep), .blk_skip_i(blk_skip), .zgate_i(zgate), .a_nzc_i(36'd0), .w_nzc_i(36'd0), .dw_i(dw),
    .bus_line_i(12'd0), .bus_act_i(1'b0), .bus_rows_i(1'b0), .bus_wgt_i(1'b0), .bus_bias_i(1'b0), .hazard_o(),
    .busy_o(busy), .run_o(run), .start_ok_o(start_ok),
    .start_err_o(start_err), .start_code_o(start_code), .tile_done_o(tile_done), .done_o(tile_last), .rd_en_o(rd_en),
    .act_word_o(act_word), .wgt_word_o(wgt_word), .bias_rd_o(bias_rd), .act_sel_o(act_sel),
    .wgt_sel_o(wgt_sel), .bias_sel_o(bias_sel), .act_nib_en_o(act_nib_en), .col_en_o(col_en),
    .init_o(init), .acc_en_o(array_en), .out_en_o(out_en), .blk_en_o(blk_en), .mac_inc_o(mac_inc), .blk_inc_o(blk_inc),
    .rd_words_o(rd_words), .wr_words_o(wr_words), .zskip_inc_o(zskip_inc)
  );

  // ---- the spec's words per K vector, from the mode table of docs/NUMERICS.md ----
  logic [16:0] kw;
  logic        legal_mode;
  always_comb begin
    legal_mode = 1'b1;
    unique case (mode)
      MODE_16: kw = 17'(k);
      MODE_8:  kw = (17'(k) + 17'd1) >> 1;
      MODE_4:  kw = (17'(k) + 17'd3) >> 2;
      default: begin kw = '0; legal_mode = 1'b0; end
    endcase
  end

  // MODE.DW: word step t reads the Cols-word row at ACT_BASE + t x Cols (ACT_BASE a multiple of Cols).
  logic [24:0] act_end;
  assign act_end  = dw ? 25'(act_base) + (25'(kw) << $clog2(Cols)) : 25'(act_base) + 25'(kw);  // Cols = 16

  logic out_of_range, invariant_broken;
  assign out_of_range = (rd_en && (32'(act_word) >= ActWords || 32'(wgt_word) >= WgtWords)) ||
                        (bias_rd && 32'(bias_base) >= BiasEntries);
  assign invariant_broken =
      (busy && (!legal_mode || kw == 17'd0)) ||
      (rd_en && (32'(act_end) > ActWords || 32'(17'(wgt_base) + kw) > WgtWords ||
               (dw && act_base[$clog2(Cols)-1:0] != '0) ||
               (rd_en && 17'(wgt_word - wgt_base) >= kw)));  // word step t = WGT_WORD - WGT_BASE (mod 2^16)
  assign fail_o = out_of_range || invariant_broken;

  logic unused;
  assign unused = ^{rdata, acc_code, done, err, irq, tile_last, run, start_act_base, start_wgt_base, start_bias_base, bias_sel, init, out_en, act_sel, wgt_sel,
                    act_nib_en, col_en, shift, relu, clamp_en, clamp_hi, rows_act, cols_act, blk_en};

endmodule
