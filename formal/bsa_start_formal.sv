`include "bsa_compat.svh"

// Proof harness (docs/FORMAL.md): the control path of bsa_top (bsa_bus + bsa_csr + bsa_ctrl wired
// as there, scratchpad read data 0) under any sequence of bus accesses, at the default geometry.
// fail_o = 0 states, one edge after each access:
//   START (a write of CTRL with bit START; such a write is never refused) is checked against the
//   spec's conditions, in the spec's order (docs/ARCHITECTURE.md, "A tile, cycle by cycle";
//   codes of rtl/bsa_regs.def), computed here from the configuration registers (with CTRL.LOAD
//   the bases of the write instead of ACT_BASE, WGT_BASE and BIAS_BASE) and from whether the
//   running tile still reads operands after this cycle (the sequencer in RUN, not at its last word):
//     reading -> ERR_START_BUSY (1); MODE = 3 -> ERR_BAD_MODE (2); K = 0 or ACT_BASE + KW > 8192 or
//     WGT_BASE + KW > 8192 with KW = ceil(K / P) -> ERR_BAD_K (3); ROWS_ACT or COLS_ACT outside
//     1 .. 16 -> ERR_BAD_SHAPE (4); SHIFT >= 48 -> ERR_BAD_SHIFT (5); BIAS_EN and BIAS_BASE >= 256
//     -> ERR_BAD_BIAS (6); a BLKSKIP bit outside the mode's grid (0xFFFF, 0x0033, 0x0001 for 16-,
//     8-, 4-bit) -> ERR_BAD_APPROX (10); MODE.DW and ACT_BASE not a multiple of 16 (Cols) -> ERR_BAD_DW
//     (11); else accepted. With MODE.DW the ERR_BAD_K bound is ACT_BASE + KW x 16 > 8192.
//   An accepted START: BUSY = 1, DONE = 0, ERR = 0 and STATUS.CODE = 0 after the edge, and with
//   CTRL.LOAD the three base registers hold the bases of the write. A refused one: ERR = 1,
//   STATUS.CODE = its code, and the base registers keep their values. DONE rises only with BUSY
//   falling (the last started tile completed).
//   STATUS.CODE is observed through the register read data whenever the access of the next
//   cycle addresses STATUS (every access is considered, so every case is covered).
//   BUSY rises only at an accepted START; ERR rises only at a refused START or a failed access.
//   The 10 performance counters (the register file's cnt_q, connected by formal/start.ys): after
//   a CLEAR (CTRL bit CLEAR) all are 0; at any other edge each one grows by less than 2^33 modulo
//   2^64 (a decrease by d would be a step of 2^64 - d), i.e. it never decreases except by wrapping
//   past 2^64 - 1. By transitivity: counters only grow between CLEARs.
// Proved by induction.
module bsa_start_formal
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic        clk_i,
  input  logic        req_i,
  input  logic        we_i,
  input  logic [23:0] addr_i,
  input  logic [63:0] wdata_i,
  output logic        fail_o
);

  localparam int unsigned Rows = 16, Cols = 16;

  // ---- the RTL, wired as in bsa_top ----
  logic [7:0]        bank;
  logic [11:0]       line;
  logic              is_csr, spad_req, is_act, is_wgt, is_bias, out_rd, bus_err, busy, wide, rows, hazard;
  logic [ERR_W-1:0]  bus_code, csr_code, start_code;
  logic [63:0]       csr_rdata;
  mode_e             mode;
  logic [15:0]       k, act_base, wgt_base, bias_base, blk_skip, blk_en;
  logic [15:0]       start_act_base, start_wgt_base, start_bias_base;
  logic              dw;
  logic [8:0]        rows_act, cols_act;
  logic [5:0]        shift;
  logic              bias_en, acc_keep, start, start_ok, start_err, tile_done, tile_last, array_en, done, err, run;
  logic [19:0]       mac_inc;
  logic [31:0]       blk_inc;
  logic              zgate;
  logic [31:0]       zskip_inc;
  logic [15:0]       ctrl_rd_words, ctrl_wr_words, rd_words, wr_words;

  bsa_bus u_bus (
    .clk_i, .rst_ni(1'b1), .req_i, .we_i, .addr_i, .bank_o(bank), .line_o(line),
    .csr_req_o(is_csr), .spad_req_o(spad_req), .act_o(is_act), .wgt_o(is_wgt), .bias_o(is_bias),
    .out_rd_o(out_rd), .wide_o(wide), .rows_o(rows), .busy_i(busy), .hazard_i(hazard), .csr_code_i(csr_code), .err_o(bus_err), .code_o(bus_code),
    .csr_rdata_i(csr_rdata), .act_rdata_i('0), .wgt_rdata_i('0), .bias_rdata_i('0),
    .out_rdata_i('0), .out_wide_rdata_i('0), .rvalid_o(), .rerr_o(), .rdata_o(), .wide_rdata_o()
  );

  bsa_csr u_csr (
    .clk_i, .rst_ni(1'b1), .req_i(is_csr), .we_i, .idx_i(line), .wdata_i, .rdata_o(csr_rdata),
    .acc_code_o(csr_code), .busy_i(busy), .start_o(start), .start_ok_i(start_ok),
    .start_err_i(start_err), .start_code_i(start_code), .tile_done_i(tile_done), .done_set_i(tile_last),
    .bus_err_i(bus_err), .bus_code_i(bus_code), .mode_o(mode), .blk_skip_o(blk_skip), .zgate_o(zgate), .dw_o(dw), .k_o(k),
    .rows_act_o(rows_act), .cols_act_o(cols_act), .act_base_o(act_base), .wgt_base_o(wgt_base),
    .bias_base_o(bias_base), .start_act_base_o(start_act_base),
    .start_wgt_base_o(start_wgt_base), .start_bias_base_o(start_bias_base), .shift_o(shift), .bias_en_o(bias_en), .relu_o(), .clamp_en_o(), .col_shift_o(), .acc_keep_o(acc_keep),
    .clamp_hi_o(), .done_o(done), .err_o(err), .irq_o(), .array_i(array_en),
    .mac_inc_i(mac_inc), .blk_inc_i(blk_inc), .gw_inc_i('0), .rd_words_i(rd_words), .wr_words_i(wr_words), .zskip_inc_i(zskip_inc),
    .xfer_i(spad_req), .overlap_i(spad_req && busy)
  );

  bsa_ctrl u_ctrl (
    .clk_i, .rst_ni(1'b1), .start_i(start), .mode_i(mode), .k_i(k), .rows_act_i(rows_act),
    .cols_act_i(cols_act), .act_base_i(act_base), .wgt_base_i(wgt_base), .bias_base_i(bias_base),
    .start_act_base_i(start_act_base), .start_wgt_base_i(start_wgt_base), .start_bias_base_i(start_bias_base),
    .shift_i(shift), .bias_en_i(bias_en && !acc_keep), .acc_keep_i(acc_keep), .blk_skip_i(blk_skip), .zgate_i(zgate), .a_nzc_i(36'd0), .w_nzc_i(36'd0), .dw_i(dw),
    .bus_line_i(line), .bus_act_i(is_act), .bus_rows_i(rows), .bus_wgt_i(is_wgt), .bus_bias_i(is_bias), .hazard_o(hazard), .busy_o(busy),
    .run_o(run), .start_ok_o(start_ok), .start_err_o(start_err), .start_code_o(start_code),
    .tile_done_o(tile_done), .done_o(tile_last), .rd_en_o(), .act_word_o(), .wgt_word_o(), .bias_rd_o(),
    .act_sel_o(), .wgt_sel_o(), .bias_sel_o(), .act_nib_en_o(), .col_en_o(), .init_o(),
    .acc_en_o(array_en), .out_en_o(), .blk_en_o(blk_en), .mac_inc_o(mac_inc),
    .blk_inc_o(blk_inc), .rd_words_o(ctrl_rd_words), .wr_words_o(ctrl_wr_words),
    .zskip_inc_o(zskip_inc)
  );

  logic [15:0] bus_words;  // as in bsa_top: 4 words per line and bank, a wide beat every bank, a row beat Cols/4 lines of each
  assign bus_words = rows ? 16'(Rows * Cols) : !wide ? 16'd4 : (is_act || !(is_wgt || is_bias)) ? 16'(4 * Rows) : 16'(4 * Cols);
  assign rd_words = ctrl_rd_words + ((spad_req && !we_i) ? bus_words : 16'd0);
  assign wr_words = ctrl_wr_words + ((spad_req &&  we_i) ? bus_words : 16'd0);

  // The counters, connected by formal/start.ys: counter i at [64i +: 64]; and the base registers
  // ACT_BASE, WGT_BASE, BIAS_BASE (u_csr's act_base_q, wgt_base_q, bias_base_q).
  logic [639:0] cnt;
  logic [15:0]  act_q, wgt_q, bias_q;

  // ---- the spec ----
  logic        s_ctrl_wr, s_start, s_clear, s_load;
  logic [15:0] s_act, s_wgt, s_bias;  // the bases the START is checked with
  logic [16:0] kw;
  logic [24:0] act_end;  // ACT_BASE + KW, or + KW x 16 (Cols) with MODE.DW
  logic [15:0] grid;
  logic [7:0]  s_code;
  assign s_ctrl_wr = req_i && we_i && addr_i == 24'h00_0003;
  assign s_start   = s_ctrl_wr && wdata_i[0];
  assign s_clear   = s_ctrl_wr && wdata_i[1];
  assign s_load    = s_start && wdata_i[2];
  assign s_act     = s_load ? wdata_i[31:16] : act_q;
  assign s_wgt     = s_load ? wdata_i[47:32] : wgt_q;
  assign s_bias    = s_load ? wdata_i[63:48] : bias_q;

  always_comb begin
    unique case (mode[1:0])
      2'd0:    begin kw = 17'(k);                  grid = 16'hFFFF; end
      2'd1:    begin kw = (17'(k) + 17'd1) >> 1;   grid = 16'h0033; end
      2'd2:    begin kw = (17'(k) + 17'd3) >> 2;   grid = 16'h0001; end
      default: begin kw = '0;                      grid = 16'h0000; end
    endcase
    act_end = dw ? 25'(s_act) + (25'(kw) << 4) : 25'(s_act) + 25'(kw);
    s_code = 8'd0;
    if (run)                                                         s_code = 8'd1;
    else if (mode[1:0] == 2'd3)                                      s_code = 8'd2;
    else if (k == 16'd0 || act_end > 25'd8192 ||
             17'(s_wgt) + kw > 17'd8192)                             s_code = 8'd3;
    else if (rows_act == 9'd0 || rows_act > 9'd16 ||
             cols_act == 9'd0 || cols_act > 9'd16)                   s_code = 8'd4;
    else if (shift >= 6'd48)                                         s_code = 8'd5;
    else if (bias_en && !acc_keep && s_bias >= 16'd256)              s_code = 8'd6;
    else if ((blk_skip & ~grid) != 16'd0)                            s_code = 8'd10;
    else if (dw && s_act[3:0] != 4'd0)                               s_code = 8'd11;
  end

  // ---- one edge later ----
  logic         p_valid, p_start, p_clear, p_busy, p_err, p_event, p_load, p_done;
  logic [7:0]   p_code;
  logic [639:0] p_cnt;
  logic [47:0]  p_bases, p_regs;
  always_ff @(posedge clk_i) begin
    p_valid <= 1'b1;
    p_start <= s_start;
    p_load  <= s_load;
    p_done  <= done;
    p_bases <= {s_bias, s_wgt, s_act};
    p_regs  <= {bias_q, wgt_q, act_q};
    p_clear <= s_clear;
    p_code  <= s_code;
    p_busy  <= busy;
    p_err   <= err;
    p_event <= (s_start && s_code != 8'd0) || bus_err;
    p_cnt   <= cnt;
  end

  logic status_rd, start_ok_spec, counters_ok;
  assign status_rd = line == 12'h004;  // the register read data is that of STATUS
  always_comb begin
    start_ok_spec = 1'b1;
    if (p_start && p_code == 8'd0) begin
      start_ok_spec = busy && !done && !err && (!status_rd || csr_rdata[15:8] == 8'd0) &&
                      (!p_load || {bias_q, wgt_q, act_q} == p_bases);
    end
    if (p_start && p_code != 8'd0) begin
      start_ok_spec = err && (!status_rd || csr_rdata[15:8] == p_code) && {bias_q, wgt_q, act_q} == p_regs;
    end
    if (!p_busy && busy && !(p_start && p_code == 8'd0)) start_ok_spec = 1'b0;
    if (!p_done && done && busy) start_ok_spec = 1'b0;
    if (!p_err && err && !p_event) start_ok_spec = 1'b0;
    counters_ok = 1'b1;
    for (int i = 0; i < 10; i++) begin
      if (p_clear) begin
        counters_ok = counters_ok && cnt[64*i +: 64] == 64'd0;
      end else begin
        // the step, modulo 2^64: a decrease of d would read as 2^64 - d
        counters_ok = counters_ok && (cnt[64*i +: 64] - p_cnt[64*i +: 64]) < 64'h2_0000_0000;
      end
    end
  end

  assign fail_o = p_valid && !(start_ok_spec && counters_ok);

  logic unused;
  assign unused = ^{is_act, is_wgt, is_bias, out_rd, blk_en, done, bank};

endmodule
