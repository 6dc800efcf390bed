// bitscale accelerator top: wiring of bus decode (bsa_bus), registers (bsa_csr), tile
// sequencer (bsa_ctrl), scratchpads (bsa_spad), PE array (bsa_array) and output scratchpad
// (bsa_outbuf), plus the usage and invariant assertions (docs/ARCHITECTURE.md).
`include "bsa_assert.svh"
`include "bsa_compat.svh"

module bsa_top
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
#(
  parameter int unsigned Rows        = DEFAULT_ROWS,
  parameter int unsigned Cols        = DEFAULT_COLS,         // multiple of 4
  parameter int unsigned ActWords    = DEFAULT_ACT_WORDS,    // 16-bit words per activation bank (power of 2)
  parameter int unsigned WgtWords    = DEFAULT_WGT_WORDS,    // 16-bit words per weight bank (power of 2)
  parameter int unsigned BiasEntries = DEFAULT_BIAS_ENTRIES,  // 32-bit entries per bias bank (even)
  localparam int unsigned WideW      = ((Rows > Cols) ? Rows : Cols) * LINE_W  // wide data port
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic              bus_req_i,
  input  logic              bus_we_i,
  input  logic [ADDR_W-1:0] bus_addr_i,
  input  logic [LINE_W-1:0] bus_wdata_i,
  output logic              bus_rvalid_o,
  output logic              bus_err_o,
  output logic [LINE_W-1:0] bus_rdata_o,
  // wide beats (bank ADDR_BANK_ALL): line L of bank b at [LINE_W*b +: LINE_W]
  input  logic [WideW-1:0]  bus_wide_wdata_i,
  output logic [WideW-1:0]  bus_wide_rdata_o,
  // row beats (bank ADDR_BANK_ROWS, ACT writes): line L + s of activation bank r at [LINE_W*(Cols/4*r + s) +: LINE_W]
  input  logic [Rows*Cols*WORD_W-1:0] bus_row_wdata_i,
  output logic              done_o,
  output logic              err_o,
  output logic              irq_o
);

  localparam int unsigned ActLines  = ActWords / LINE_WORDS;
  localparam int unsigned WgtLines  = WgtWords / LINE_WORDS;
  localparam int unsigned BiasLines = BiasEntries / LINE_BIAS;
  localparam int unsigned OutLines  = Cols / LINE_WORDS;
  localparam int unsigned ActAW     = $clog2(ActLines);
  localparam int unsigned WgtAW     = $clog2(WgtLines);
  localparam int unsigned BiasAW    = $clog2(BiasLines);
  localparam int unsigned OutAW     = $clog2(OutLines + 1);  // output lines and the header line

  // ---- bus decode ----
  logic [7:0]       bank;
  logic [11:0]      line;
  logic             is_csr, is_act, is_wgt, is_bias, out_rd, wide, rows;
  logic             busy, hazard;
  logic [ERR_W-1:0] csr_code;
  logic             spad_req;        // scratchpad access that goes ahead
  logic             bus_err;
  logic [ERR_W-1:0] bus_code;
  logic [LINE_W-1:0] csr_rdata, out_rdata;
  logic [Rows*LINE_W-1:0] out_wide_rdata;
  // Per-row and per-column vectors are flat: element i of width W at [W*i +: W].
  logic [Rows*LINE_W-1:0] act_rdata;
  logic [Cols*LINE_W-1:0] wgt_rdata, bias_rdata;

  bsa_bus #(
    .Rows      (Rows),
    .Cols      (Cols),
    .ActLines  (ActLines),
    .WgtLines  (WgtLines),
    .BiasLines (BiasLines),
    .OutLines  (OutLines)
  ) u_bus (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .req_i        (bus_req_i),
    .we_i         (bus_we_i),
    .addr_i       (bus_addr_i),
    .bank_o       (bank),
    .line_o       (line),
    .csr_req_o    (is_csr),
    .spad_req_o   (spad_req),
    .act_o        (is_act),
    .wgt_o        (is_wgt),
    .bias_o       (is_bias),
    .out_rd_o     (out_rd),
    .wide_o       (wide),
    .rows_o       (rows),
    .busy_i       (busy),
    .hazard_i     (hazard),
    .csr_code_i   (csr_code),
    .err_o        (bus_err),
    .code_o       (bus_code),
    .csr_rdata_i  (csr_rdata),
    .act_rdata_i  (act_rdata),
    .wgt_rdata_i  (wgt_rdata),
    .bias_rdata_i (bias_rdata),
    .out_rdata_i  (out_rdata),
    .out_wide_rdata_i (out_wide_rdata),
    .rvalid_o     (bus_rvalid_o),
    .rerr_o       (bus_err_o),
    .rdata_o      (bus_rdata_o),
    .wide_rdata_o (bus_wide_rdata_o)
  );

  // ---- registers ----
  mode_e              mode;
  logic [15:0]        k, act_base, wgt_base, bias_base;
  logic [15:0]        start_act_base, start_wgt_base, start_bias_base;  // CTRL.LOAD: the START's bases
  logic [8:0]         rows_act, cols_act;
  logic [5:0]         shift;
  logic               bias_en, relu, clamp_en, col_shift, acc_keep;
  // OUT_CFG.ACC_KEEP: no initialisation, so no bias entry read or checked (docs/NUMERICS.md
  // "Accumulating across tiles")
  logic               bias_rd_en;
  assign bias_rd_en = bias_en & ~acc_keep;
  logic signed [15:0] clamp_hi;
  logic               start, start_ok, start_err, tile_done, tile_last, run;
  logic [ERR_W-1:0]   start_code;
  logic               array_en;
  logic [19:0]        mac_inc;
  logic [31:0]        blk_inc;
  logic [16*9-1:0]     gw_inc;  // output groups of width w written this edge at [9*(w-1) +: 9]
  logic [15:0]        blk_skip, blk_en;
  logic               zgate;
  logic [31:0]        zskip_inc;
  logic [4*9-1:0]     a_nzc, w_nzc;  // zero-block gating: non-zero blocks per position (bsa_array)
  logic               dw;
  // MODE.ZGATE has no effect in DW mode (docs/NUMERICS.md): the zero-block flags are per row
  // operand, and a DW-mode PE has an activation word of its own.
  logic               zgate_eff;
  assign zgate_eff = zgate & ~dw;
  logic [15:0]        ctrl_rd_words, ctrl_wr_words, rd_words, wr_words;

  bsa_csr #(
    .Rows        (Rows),
    .Cols        (Cols),
    .ActWords    (ActWords),
    .WgtWords    (WgtWords),
    .BiasEntries (BiasEntries)
  ) u_csr (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .req_i        (is_csr),
    .we_i         (bus_we_i),
    .idx_i        (line),
    .wdata_i      (bus_wdata_i),
    .rdata_o      (csr_rdata),
    .acc_code_o   (csr_code),
    .busy_i       (busy),
    .start_o      (start),
    .start_ok_i   (start_ok),
    .start_err_i  (start_err),
    .start_code_i (start_code),
    .tile_done_i  (tile_done),
    .done_set_i   (tile_last),
    .bus_err_i    (bus_err),
    .bus_code_i   (bus_code),
    .mode_o       (mode),
    .blk_skip_o   (blk_skip),
    .zgate_o      (zgate),
    .dw_o         (dw),
    .k_o          (k),
    .rows_act_o   (rows_act),
    .cols_act_o   (cols_act),
    .act_base_o   (act_base),
    .wgt_base_o   (wgt_base),
    .bias_base_o  (bias_base),
    .start_act_base_o  (start_act_base),
    .start_wgt_base_o  (start_wgt_base),
    .start_bias_base_o (start_bias_base),
    .shift_o      (shift),
    .bias_en_o    (bias_en),
    .relu_o       (relu),
    .clamp_en_o   (clamp_en),
    .col_shift_o  (col_shift),
    .acc_keep_o   (acc_keep),
    .clamp_hi_o   (clamp_hi),
    .done_o       (done_o),
    .err_o        (err_o),
    .irq_o        (irq_o),
    .array_i      (array_en),
    .mac_inc_i    (mac_inc),
    .blk_inc_i    (blk_inc),
    .gw_inc_i     (gw_inc),
    .rd_words_i   (rd_words),
    .wr_words_i   (wr_words),
    .zskip_inc_i  (zskip_inc),
    .xfer_i       (spad_req),
    .overlap_i    (spad_req && busy)
  );

  // ---- tile sequencer ----
  logic                 rd_en, bias_rd, init, out_en;
  logic [15:0]          act_word, wgt_word;
  logic [$clog2(Cols)-1:0] act_sel;
  logic [1:0]           wgt_sel;
  logic                 bias_sel;
  logic [4*Rows-1:0]    act_nib_en;
  logic [Cols-1:0]      col_en;

  bsa_ctrl #(
    .Rows        (Rows),
    .Cols        (Cols),
    .ActWords    (ActWords),
    .WgtWords    (WgtWords),
    .BiasEntries (BiasEntries)
  ) u_ctrl (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .start_i      (start),
    .mode_i       (mode),
    .k_i          (k),
    .rows_act_i   (rows_act),
    .cols_act_i   (cols_act),
    .act_base_i   (act_base),
    .wgt_base_i   (wgt_base),
    .bias_base_i  (bias_base),
    .start_act_base_i  (start_act_base),
    .start_wgt_base_i  (start_wgt_base),
    .start_bias_base_i (start_bias_base),
    .shift_i      (shift),
    .bias_en_i    (bias_rd_en),
    .acc_keep_i   (acc_keep),
    .blk_skip_i   (blk_skip),
    .zgate_i      (zgate_eff),
    .a_nzc_i      (a_nzc),
    .w_nzc_i      (w_nzc),
    .dw_i         (dw),
    .bus_line_i   (line),
    .bus_act_i    (is_act),
    .bus_rows_i   (rows),
    .bus_wgt_i    (is_wgt),
    .bus_bias_i   (is_bias),
    .hazard_o     (hazard),
    .busy_o       (busy),
    .run_o        (run),
    .start_ok_o   (start_ok),
    .start_err_o  (start_err),
    .start_code_o (start_code),
    .tile_done_o  (tile_done),
    .done_o       (tile_last),
    .rd_en_o      (rd_en),
    .act_word_o   (act_word),
    .wgt_word_o   (wgt_word),
    .bias_rd_o    (bias_rd),
    .act_sel_o    (act_sel),
    .wgt_sel_o    (wgt_sel),
    .bias_sel_o   (bias_sel),
    .act_nib_en_o (act_nib_en),
    .col_en_o     (col_en),
    .init_o       (init),
    .acc_en_o     (array_en),
    .out_en_o     (out_en),
    .blk_en_o     (blk_en),
    .mac_inc_o    (mac_inc),
    .blk_inc_o    (blk_inc),
    .rd_words_o   (ctrl_rd_words),
    .wr_words_o   (ctrl_wr_words),
    .zskip_inc_o  (zskip_inc)
  );

  // Word addresses: bits [1:0] select the word of a line (used in bsa_ctrl); the START
  // check keeps them below ActWords / WgtWords.
  logic unused_word_bits;
  assign unused_word_bits = ^{act_word[15:ActAW+2], act_word[1:0], wgt_word[15:WgtAW+2], wgt_word[1:0]};

  // Bus scratchpad traffic counts 4 words per line and bank: a wide beat moves a line of every bank
  // of its region (Rows banks for ACT and OUT, Cols for WGT and BIAS).
  logic [15:0] bus_words;
  // A row beat moves Cols/4 lines of every activation bank.
  assign bus_words = rows ? 16'(Rows * Cols) : !wide ? 16'd4 : (is_act || !(is_wgt || is_bias)) ? 16'(4 * Rows) : 16'(4 * Cols);
  assign rd_words = ctrl_rd_words + ((spad_req && !bus_we_i) ? bus_words : 16'd0);
  assign wr_words = ctrl_wr_words + ((spad_req &&  bus_we_i) ? bus_words : 16'd0);

  // ---- scratchpads ----
  logic [Rows*WORD_W-1:0] act_words;
  logic [Cols*WORD_W-1:0] wgt_words;
  logic [Cols*32-1:0]     bias_vals;

  // Activation banks. Each row's bank is ActSub = Cols / 4 sub-banks of 64-bit lines (the same
  // bits as one bank): line l sits in sub-bank l mod ActSub at sub-line l / ActSub, so a
  // Cols-word row (ActSub lines) is one read of all sub-banks at once. Bus accesses and
  // broadcast-mode array reads enable one sub-bank; DW-mode reads (MODE.DW) enable all of them.
  localparam int unsigned ActSub      = Cols / LINE_WORDS;
  localparam int unsigned ActSubLines = (ActLines + ActSub - 1) / ActSub;
  localparam int unsigned ActSubAW    = (ActSubLines > 1) ? $clog2(ActSubLines) : 1;
  logic [Rows*Cols*WORD_W-1:0] act_rows;  // row r's Cols-word read at [WORD_W*Cols*r +: WORD_W*Cols]
  logic [ActAW-1:0]            act_line;  // line read this cycle (array while busy, else bus)
  logic [ActSubAW-1:0]         act_subline;
  logic [31:0]                 act_sub;   // sub-bank of act_line
  logic [ActSubAW-1:0]         wr_subline;
  logic [31:0]                 wr_sub;    // sub-bank of the bus line (write port)
  logic [31:0]                 bus_sub_q; // sub-bank of the last bus access (read response)
  assign act_line    = busy ? act_word[ActAW+1:2] : line[ActAW-1:0];
  // ActSub a power of two (every verilated geometry): bit slices; otherwise constant divisions.
  localparam bit ActSubPow2 = (ActSub & (ActSub - 1)) == 0;
  assign act_subline = ActSubPow2 ? ActSubAW'(32'(act_line) >> $clog2(ActSub)) : ActSubAW'(32'(act_line) / ActSub);
  assign act_sub     = ActSubPow2 ? 32'(act_line) & (ActSub - 1) : 32'(act_line) % ActSub;
  assign wr_subline  = ActSubPow2 ? ActSubAW'(32'(line[ActAW-1:0]) >> $clog2(ActSub)) : ActSubAW'(32'(line[ActAW-1:0]) / ActSub);
  assign wr_sub      = ActSubPow2 ? 32'(line[ActAW-1:0]) & (ActSub - 1) : 32'(line[ActAW-1:0]) % ActSub;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bus_sub_q <= '0;
    end else if (spad_req && is_act) begin
      bus_sub_q <= wr_sub;
    end
  end

  for (genvar r = 0; r < Rows; r++) begin : g_act
    // The row's Cols-word read, assembled per row: the bus and broadcast reads select from it, and
    // act_rows is built from whole rows (one concatenation of 64-bit reads into a Rows*Cols-word
    // vector was a chain of ever wider copies in the verilated model, docs/PERFORMANCE.md).
    logic [Cols*WORD_W-1:0] row_rdata;
    for (genvar s = 0; s < ActSub; s++) begin : g_sub
      logic bus_hit, arr_hit;
      assign bus_hit = spad_req && is_act && (rows || ((wide || 32'(bank) == r) && (wr_sub == s)));
      assign arr_hit = rd_en && (9'(r) < rows_act) && (dw || act_sub == s);
      bsa_spad #(.Lines(ActSubLines), .Width(LINE_W)) u_bank (
        .clk_i   (clk_i),
        .re_i    ((bus_hit && !bus_we_i) || arr_hit),
        .raddr_i (act_subline),
        .rdata_o (row_rdata[LINE_W*s +: LINE_W]),
        .we_i    (bus_hit && bus_we_i),
        .waddr_i (wr_subline),
        .wdata_i (rows ? bus_row_wdata_i[LINE_W*(ActSub*r+s) +: LINE_W] :
                  wide ? bus_wide_wdata_i[LINE_W*r +: LINE_W] : bus_wdata_i)
      );
    end
    assign act_rows[WORD_W*Cols*r +: WORD_W*Cols] = row_rdata;
    assign act_rdata[LINE_W*r +: LINE_W] = row_rdata[LINE_W*bus_sub_q +: LINE_W];
    assign act_words[WORD_W*r +: WORD_W] = row_rdata[WORD_W*act_sel +: WORD_W];
  end

  for (genvar c = 0; c < Cols; c++) begin : g_wgt
    logic bus_hit, bias_hit;
    assign bus_hit = spad_req && is_wgt && (wide || 32'(bank) == c);
    bsa_spad #(.Lines(WgtLines), .Width(LINE_W)) u_bank (
      .clk_i   (clk_i),
      .re_i    ((bus_hit && !bus_we_i) || (rd_en && col_en[c])),
      .raddr_i (busy ? wgt_word[WgtAW+1:2] : line[WgtAW-1:0]),
      .rdata_o (wgt_rdata[LINE_W*c +: LINE_W]),
      .we_i    (bus_hit && bus_we_i),
      .waddr_i (line[WgtAW-1:0]),
      .wdata_i (wide ? bus_wide_wdata_i[LINE_W*c +: LINE_W] : bus_wdata_i)
    );
    assign wgt_words[WORD_W*c +: WORD_W] = wgt_rdata[LINE_W*c + 16*wgt_sel +: 16];

    assign bias_hit = spad_req && is_bias && (wide || 32'(bank) == c);
    bsa_spad #(.Lines(BiasLines), .Width(LINE_W)) u_bias (
      .clk_i   (clk_i),
      .re_i    ((bias_hit && !bus_we_i) || (bias_rd && col_en[c])),
      .raddr_i (bias_rd ? bias_base[BiasAW:1] : line[BiasAW-1:0]),
      .rdata_o (bias_rdata[LINE_W*c +: LINE_W]),
      .we_i    (bias_hit && bus_we_i),
      .waddr_i (line[BiasAW-1:0]),
      .wdata_i (wide ? bus_wide_wdata_i[LINE_W*c +: LINE_W] : bus_wdata_i)
    );
    // Inactive columns start at 0 (their bias bank is not read): every accumulator is defined for
    // OUT_CFG.ACC_KEEP tiles that activate more columns than the initialising one.
    assign bias_vals[32*c +: 32] = (bias_en && col_en[c]) ? bias_rdata[LINE_W*c + 32*bias_sel +: 32] : 32'd0;
  end

  // ---- PE array ----
  logic [Rows*Cols*WORD_W-1:0] out_row;
  logic [Rows*OUT_HDR_GW_W-1:0] row_gw;

  bsa_array #(
    .Rows (Rows),
    .Cols (Cols)
  ) u_array (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .mode_i       (mode),
    .blk_en_i     (blk_en),
    .zgate_i      (zgate_eff),
    .act_i        (act_words),
    .act_nib_en_i (act_nib_en),
    .dw_i         (dw),
    .act_dw_i     (act_rows),
    .wgt_i        (wgt_words),
    .col_en_i     (col_en),
    .init_i       (init),
    .bias_i       (bias_vals),
    .acc_en_i     (array_en),
    .out_en_i     (out_en),
    .shift_i      (shift),
    .col_shift_i  (col_shift && bias_en),
    .relu_i       (relu),
    .clamp_en_i   (clamp_en),
    .clamp_hi_i   (clamp_hi),
    .out_row_o    (out_row),
    .a_nzc_o      (a_nzc),
    .w_nzc_o      (w_nzc),
    .row_gw_o     (row_gw)
  );

  // ---- group-width histogram: CNT_GW1 .. CNT_GW16 count the active rows of each width ----
  always_comb begin
    gw_inc = '0;
    if (out_en) begin
      for (int unsigned r = 0; r < Rows; r++) begin
        for (int unsigned w = 1; w <= 16; w++) begin
          if (9'(r) < rows_act && 32'(row_gw[OUT_HDR_GW_W*r +: OUT_HDR_GW_W]) == w) begin
            gw_inc[9*(w-1) +: 9] = gw_inc[9*(w-1) +: 9] + 9'd1;
          end
        end
      end
    end
  end

  // ---- output scratchpad ----
  bsa_outbuf #(
    .Rows     (Rows),
    .Cols     (Cols),
    .OutLines (OutLines)
  ) u_outbuf (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .we_i       (out_en),
    .rows_act_i (rows_act),
    .row_i      (out_row),
    .gw_i       (row_gw),
    .re_i       (out_rd),
    .wide_i     (wide),
    .bank_i     (bank[$clog2(Rows)-1:0]),
    .line_i     (line[OutAW-1:0]),
    .rdata_o    (out_rdata),
    .wide_rdata_o (out_wide_rdata)
  );

  // ---- usage assertions: software must not do these (the hardware refuses them) ----
  `BSA_ASSERT(NoStartWhileBusy, !(start && run))
  `BSA_ASSERT(StartConfigLegal, !(start_err && !run))
  `BSA_ASSERT(BusAddrMapped, !(bus_err && bus_code == ERR_W'(ERR_BUS_ADDR)))
  `BSA_ASSERT(BusNoWriteReadOnly, !(bus_err && bus_code == ERR_W'(ERR_BUS_RO)))
  `BSA_ASSERT(BusIdleForScratchpads, !(bus_err && bus_code == ERR_W'(ERR_BUS_BUSY)))
  `BSA_ASSERT(BusNoHazard, !(bus_err && bus_code == ERR_W'(ERR_BUS_HAZARD)))
  // ---- internal invariants of overlapped transfers: a bus write that goes ahead while a tile runs
  // never meets the array's read of the same line (1R1W banks, read windows latched at START) ----
  `BSA_ASSERT(NoWriteIntoTileWindow, !(busy && spad_req && bus_we_i && hazard))
  `BSA_ASSERT(WgtPortsApart, !(rd_en && spad_req && bus_we_i && is_wgt && line[WgtAW-1:0] == wgt_word[WgtAW+1:2]))
  `BSA_ASSERT(ActPortsApart, !(rd_en && spad_req && bus_we_i && is_act &&
                               (rows ? wr_subline == act_subline : line[ActAW-1:0] == act_word[ActAW+1:2])))
  // ---- internal invariants ----
  `BSA_ASSERT(ModeLegalWhileBusy, !(busy && !mode_legal(mode)))

  // Parameter checks.
  // Bank ADDR_BANK_ALL (255) is the wide beat: at most 254 banks.
  if (Cols % 4 != 0 || Cols > 252 || Rows > 254 || Rows < 2 || Cols < 4) begin : g_bad_params
    $error("bsa_top: Rows must be 2..254 and Cols a multiple of 4 up to 252");
  end

  // bsa_mul (block combination), bsa_array (output packing) and bsa_csr (MAC counters) build
  // the 16-, 8- and 4-bit datapaths by name: the mode table of bsa_regs.def must agree.
  if (mode_bits(MODE_16) != 16 || mode_bits(MODE_8) != 8 || mode_bits(MODE_4) != 4)
  begin : g_bad_modes
    $error("bsa_top: modes MODE_16, MODE_8, MODE_4 of bsa_regs.def must be 16, 8 and 4 bits");
  end

endmodule
