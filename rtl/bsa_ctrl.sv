`include "bsa_compat.svh"

// Tile sequencer: checks a START, then runs IDLE -> RUN (one word per cycle, KW cycles), then the
// DRAIN and output cycles, each a flag of its own (docs/ARCHITECTURE.md, "A tile, cycle by cycle").
// A START is accepted from the last RUN cycle on, so that back-to-back tiles read operands in every
// cycle: the new tile's first products (and its initialisation) meet the old tile's output edge. It
// addresses the scratchpads, aligns the operand-select and lane-enable information with the read
// data, and reports the array-side counter increments.
module bsa_ctrl
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
#(
  parameter int unsigned Rows        = DEFAULT_ROWS,
  parameter int unsigned Cols        = DEFAULT_COLS,
  parameter int unsigned ActWords    = DEFAULT_ACT_WORDS,
  parameter int unsigned WgtWords    = DEFAULT_WGT_WORDS,
  parameter int unsigned BiasEntries = DEFAULT_BIAS_ENTRIES,
  // index of a word in a Cols-word activation row (the width of the DW read)
  localparam int unsigned ColW       = (Cols > 1) ? $clog2(Cols) : 1
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  // START request (CTRL.START written this cycle) and configuration
  input  logic                    start_i,
  input  mode_e                   mode_i,
  input  logic [15:0]             k_i,
  input  logic [8:0]              rows_act_i,
  input  logic [8:0]              cols_act_i,
  input  logic [15:0]             act_base_i,        // the base registers (the running tile's)
  input  logic [15:0]             wgt_base_i,
  input  logic [15:0]             bias_base_i,
  input  logic [15:0]             start_act_base_i,  // the bases a START is checked with (CTRL.LOAD)
  input  logic [15:0]             start_wgt_base_i,
  input  logic [15:0]             start_bias_base_i,
  input  logic [5:0]              shift_i,
  input  logic                    bias_en_i,     // BIAS_EN and not ACC_KEEP: the tile reads its bias entry
  input  logic                    acc_keep_i,    // OUT_CFG.ACC_KEEP: no init_o for the tile
  input  logic [15:0]             blk_skip_i,    // MODE.BLKSKIP: block pair (i,j) at bit 4i+j skipped
  input  logic                    zgate_i,       // MODE.ZGATE: exact zero-block gating
  input  logic [4*9-1:0]          a_nzc_i,       // bsa_array: active rows with block i non-zero, [9*i +: 9]
  input  logic [4*9-1:0]          w_nzc_i,       // bsa_array: active columns with block j non-zero
  input  logic                    dw_i,          // MODE.DW: depthwise dataflow (word c of a Cols-word row per PE)
  // bus address of this cycle (bsa_bus), for the hazard check of overlapped transfers
  input  logic [11:0]             bus_line_i,
  input  logic                    bus_act_i,
  input  logic                    bus_rows_i,    // a row beat: ACT lines bus_line_i .. bus_line_i + Cols/4 - 1
  input  logic                    bus_wgt_i,
  input  logic                    bus_bias_i,
  output logic                    hazard_o,      // the bus line is in a read window of the running tile
  // status
  output logic                    busy_o,
  output logic                    run_o,         // the running tile reads operands, not its last (a START is refused)
  output logic                    start_ok_o,    // START accepted at this edge
  output logic                    start_err_o,   // START refused at this edge
  output logic [ERR_W-1:0]        start_code_o,
  output logic                    tile_done_o,   // outputs written at this edge
  output logic                    done_o,        // ... and no later tile started (STATUS.DONE)
  // scratchpad reads
  output logic                    rd_en_o,       // read word t of every active bank
  output logic [15:0]             act_word_o,
  output logic [15:0]             wgt_word_o,
  output logic                    bias_rd_o,     // read the bias entries (first RUN cycle)
  // operand alignment (valid with the read data)
  output logic [ColW-1:0]         act_sel_o,     // word of the Cols-word activation row (not DW)
  output logic [1:0]              wgt_sel_o,
  output logic                    bias_sel_o,
  output logic [4*Rows-1:0]       act_nib_en_o,  // row r at [4*r +: 4]
  output logic [Cols-1:0]         col_en_o,
  output logic                    init_o,
  output logic                    acc_en_o,
  output logic                    out_en_o,
  output logic [15:0]             blk_en_o,      // grid block (I,J) of bsa_mul at bit 4I+J computes
  // array-side counter increments
  output logic [19:0]             mac_inc_o,
  output logic [31:0]             blk_inc_o,
  output logic [15:0]             rd_words_o,
  output logic [15:0]             wr_words_o,
  output logic [31:0]             zskip_inc_o
);

  // Lane counts 0 .. MODE_MAX_LANES; 4-bit nibbles (blocks of bsa_mul) per 16-bit word.
  localparam int unsigned LANE_W    = $clog2(MODE_MAX_LANES + 1);
  localparam int unsigned WORD_NIBS = WORD_W / 4;
  // Cols a power of two (every verilated geometry): the DW address arithmetic is shifts and bit
  // slices; otherwise constant multiplications and divisions.
  localparam bit          ColsPow2  = (Cols & (Cols - 1)) == 0;

  state_e            state_d, state_q;
  logic              last_rd;                 // the running tile reads its last word
  logic              drain_q, out_q;          // DRAIN cycle (after the last read), output cycle
  logic [15:0]       t_d, t_q;                // word being read
  logic [15:0]       kw;                      // words per K vector
  logic [LANE_W-1:0] lanes;                   // lanes per word
  int unsigned       lanes_log2;              // log2(lanes)
  logic [15:0]       k_rem;                   // K mod lanes
  logic [LANE_W-1:0] last_lanes;              // valid lanes of the last word
  logic              valid_d, valid_q;        // read data of the previous cycle is an operand
  logic [LANE_W-1:0] vlanes_d, vlanes_q;      // its valid lanes
  logic [ColW-1:0]   act_sel_d, act_sel_q;
  logic [1:0]        wgt_sel_d, wgt_sel_q;
  logic              bias_sel_d, bias_sel_q;
  logic              init_d, init_q;
  logic [24:0]       act_end;                 // DW: ACT_BASE + KW x Cols (up to 16 + 24 bits)
  logic [16:0]       wgt_end;
  logic              act_misaligned;          // DW: ACT_BASE not a multiple of Cols

  // n x Cols (words of n Cols-word rows).
  function automatic logic [24:0] dw_rows(logic [15:0] n);
    dw_rows = ColsPow2 ? 25'(n) << $clog2(Cols) : 25'(n) * 25'(Cols);
  endfunction

  // ---- Ax-BxP block enables (docs/NUMERICS.md, "Approximate block products") ----
  // With nb = B / 4 blocks per operand (a power of two), the skip mask may name the pairs (i, j),
  // i, j < nb (blk_grid). Grid block (I, J) of bsa_mul serves lane I / nb when I / nb == J / nb,
  // as pair (I mod nb, J mod nb); it is enabled when that pair is not skipped. blk_kept is the
  // number of block products per lane product. The mask is a configuration register: stable
  // while a tile runs.
  logic [15:0] blk_grid;
  logic [4:0]  blk_kept;
  logic [3:0]  nb_m1;  // nb - 1 (nb = 4, 2, 1; an illegal mode never computes)
  always_comb begin
    nb_m1    = 4'((mode_bits(mode_i) / 4) - 1);
    blk_kept = 5'd0;
    for (int unsigned i = 0; i < 4; i++) begin
      for (int unsigned j = 0; j < 4; j++) begin
        blk_grid[4*i+j] = (4'(i) & ~nb_m1) == 4'd0 && (4'(j) & ~nb_m1) == 4'd0;
        blk_kept = blk_kept + 5'(blk_grid[4*i+j] && !blk_skip_i[4*i+j]);
        blk_en_o[4*i+j] = mode_legal(mode_i) && ((4'(i) & ~nb_m1) == (4'(j) & ~nb_m1)) &&
                          !blk_skip_i[4 * (i & 32'(nb_m1)) + (j & 32'(nb_m1))];
      end
    end
  end

  // ---- START checks (order as documented) ----
  // Lanes per word and their log2 come from the mode table of bsa_regs.def (mode_lanes,
  // mode_lanes_log2 of bsa_reg_pkg); both are 0 for an illegal mode, which the checks below
  // refuse before K is looked at.
  always_comb begin
    lanes      = LANE_W'(mode_lanes(mode_i));
    lanes_log2 = mode_lanes_log2(mode_i);
    k_rem      = k_i & (16'(lanes) - 16'd1);                          // K mod lanes
    kw         = 16'((17'(k_i) + 17'(lanes) - 17'd1) >> lanes_log2);  // ceil(K / lanes)
    last_lanes = (k_rem == 16'd0) ? lanes : LANE_W'(k_rem);
    act_end    = dw_i ? 25'(start_act_base_i) + dw_rows(kw) : 25'(start_act_base_i) + 25'(kw);
    act_misaligned = dw_i && (ColsPow2 ? (start_act_base_i & 16'(Cols - 1)) != 16'd0
                                       : (32'(start_act_base_i) % Cols) != 0);
    wgt_end    = 17'(start_wgt_base_i) + 17'(kw);
  end

  always_comb begin
    start_code_o = ERR_W'(ERR_NONE);
    if (run_o) begin
      start_code_o = ERR_W'(ERR_START_BUSY);
    end else if (!mode_legal(mode_i)) begin
      start_code_o = ERR_W'(ERR_BAD_MODE);
    end else if (k_i == 16'd0 || act_end > 25'(ActWords) || wgt_end > 17'(WgtWords)) begin
      start_code_o = ERR_W'(ERR_BAD_K);
    end else if (rows_act_i == 9'd0 || rows_act_i > 9'(Rows) ||
                 cols_act_i == 9'd0 || cols_act_i > 9'(Cols)) begin
      start_code_o = ERR_W'(ERR_BAD_SHAPE);
    end else if (32'(shift_i) >= ACC_W) begin
      start_code_o = ERR_W'(ERR_BAD_SHIFT);
    end else if (bias_en_i && 32'(start_bias_base_i) >= BiasEntries) begin
      start_code_o = ERR_W'(ERR_BAD_BIAS);
    end else if ((blk_skip_i & ~blk_grid) != 16'd0) begin
      start_code_o = ERR_W'(ERR_BAD_APPROX);
    end else if (act_misaligned) begin
      start_code_o = ERR_W'(ERR_BAD_DW);
    end
  end

  assign start_ok_o  = start_i && (start_code_o == ERR_W'(ERR_NONE));
  assign start_err_o = start_i && (start_code_o != ERR_W'(ERR_NONE));

  // ---- sequencer ----
  always_comb begin
    state_d    = state_q;
    t_d        = t_q;
    valid_d    = 1'b0;
    vlanes_d   = vlanes_q;
    act_sel_d  = act_sel_q;
    wgt_sel_d  = wgt_sel_q;
    bias_sel_d = bias_sel_q;
    init_d     = 1'b0;
    rd_en_o    = 1'b0;
    unique case (state_q)
      ST_IDLE: begin
        if (start_ok_o) begin
          state_d = ST_RUN;
          t_d     = '0;
        end
      end
      ST_RUN: begin
        rd_en_o   = 1'b1;
        valid_d   = 1'b1;
        act_sel_d = ColsPow2 ? ColW'(act_word_o) : ColW'(32'(act_word_o) % Cols);
        wgt_sel_d = wgt_word_o[1:0];
        vlanes_d  = last_rd ? last_lanes : lanes;
        t_d       = t_q + 16'd1;
        // The bias entries are read with word 0 and taken with its products (unless ACC_KEEP).
        if (t_q == 16'd0) begin
          init_d     = !acc_keep_i;
          bias_sel_d = bias_base_i[0];
        end
        // The last read: a START may go ahead (the next tile reads from the next cycle on).
        if (last_rd) begin
          state_d = ST_IDLE;
          if (start_ok_o) begin
            state_d = ST_RUN;
            t_d     = '0;
          end
        end
      end
      default: state_d = ST_IDLE;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q    <= ST_IDLE;
      drain_q    <= 1'b0;
      out_q      <= 1'b0;
      t_q        <= '0;
      valid_q    <= 1'b0;
      vlanes_q   <= '0;
      act_sel_q  <= '0;
      wgt_sel_q  <= '0;
      bias_sel_q <= 1'b0;
      init_q     <= 1'b0;
    end else begin
      state_q    <= state_d;
      drain_q    <= last_rd;
      out_q      <= drain_q;
      t_q        <= t_d;
      valid_q    <= valid_d;
      vlanes_q   <= vlanes_d;
      act_sel_q  <= act_sel_d;
      wgt_sel_q  <= wgt_sel_d;
      bias_sel_q <= bias_sel_d;
      init_q     <= init_d;
    end
  end

  // The bias entry's line is addressed by bsa_top from BIAS_BASE; the sequencer selects its half.
  logic unused_bias_bits;
  assign unused_bias_bits = ^bias_base_i[15:1];
  assign last_rd     = (state_q == ST_RUN) && (t_q == kw - 16'd1);
  assign busy_o      = (state_q != ST_IDLE) || drain_q || out_q;
  assign run_o       = (state_q == ST_RUN) && !last_rd;
  assign tile_done_o = out_q;
  // STATUS.DONE: the last started tile completed; not when a later one runs, drains or starts now.
  assign done_o      = out_q && (state_q == ST_IDLE) && !drain_q && !start_ok_o;
  // DW: word step t reads the Cols-word row ACT_BASE / Cols + t (ACT_BASE is a multiple of Cols).
  assign act_word_o  = dw_i ? act_base_i + 16'(dw_rows(t_q)) : act_base_i + t_q;
  assign wgt_word_o  = wgt_base_i + t_q;
  assign bias_rd_o   = rd_en_o && (t_q == 16'd0) && bias_en_i;
  assign act_sel_o   = act_sel_q;
  assign wgt_sel_o   = wgt_sel_q;
  assign bias_sel_o  = bias_sel_q;
  assign init_o      = init_q;
  assign acc_en_o    = valid_q;
  assign out_en_o    = out_q;

  // ---- read windows of the running tile (latched at START; docs/ARCHITECTURE.md "Bus") ----
  // ACT lines ACT_BASE / 4 .. (act_end - 1) / 4, WGT lines WGT_BASE / 4 .. (wgt_end - 1) / 4, and
  // with BIAS_EN the BIAS line BIAS_BASE / 2, in every bank: a bus write into them while busy is
  // refused (ERR_BUS_HAZARD), so the operands of the tile cannot change under it.
  logic [12:0] act_lo_q, act_hi_q, wgt_lo_q, wgt_hi_q;
  logic [14:0] bias_line_q;
  logic        bias_win_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      act_lo_q    <= '0;
      act_hi_q    <= '0;
      wgt_lo_q    <= '0;
      wgt_hi_q    <= '0;
      bias_line_q <= '0;
      bias_win_q  <= 1'b0;
    end else if (start_ok_o) begin
      act_lo_q    <= 13'(start_act_base_i >> 2);
      act_hi_q    <= 13'((act_end - 25'd1) >> 2);
      wgt_lo_q    <= 13'(start_wgt_base_i >> 2);
      wgt_hi_q    <= 13'((wgt_end - 17'd1) >> 2);
      bias_line_q <= 15'(start_bias_base_i >> 1);
      bias_win_q  <= bias_en_i;
    end
  end
  logic [12:0] bus_act_hi;  // last ACT line of the access
  assign bus_act_hi = 13'(bus_line_i) + (bus_rows_i ? 13'(Cols / 4 - 1) : 13'd0);
  assign hazard_o = busy_o &&
                    ((bus_act_i && bus_act_hi >= act_lo_q && 13'(bus_line_i) <= act_hi_q) ||
                     (bus_wgt_i && 13'(bus_line_i) >= wgt_lo_q && 13'(bus_line_i) <= wgt_hi_q) ||
                     (bus_bias_i && bias_win_q && 15'(bus_line_i) == bias_line_q));

  // ---- lane, row and column enables ----
  // The valid lanes of a word are its low vlanes x (B / 4) nibbles (B = mode_bits).
  logic [WORD_NIBS-1:0] nib_en;
  int unsigned          nib_valid;
  always_comb begin
    nib_valid = 32'(vlanes_q) * (mode_bits(mode_i) / 4);
    for (int unsigned i = 0; i < WORD_NIBS; i++) begin
      nib_en[i] = (i < nib_valid);
    end
  end

  for (genvar r = 0; r < Rows; r++) begin : g_row_en
    assign act_nib_en_o[4*r +: 4] = (9'(r) < rows_act_i) ? nib_en : 4'b0000;
  end
  for (genvar c = 0; c < Cols; c++) begin : g_col_en
    assign col_en_o[c] = (9'(c) < cols_act_i);
  end

  // ---- counter increments ----
  logic [17:0] pes_act;
  logic [8:0]  out_words;  // ceil(cols_act / lanes)
  assign pes_act = 18'(rows_act_i) * 18'(cols_act_i);
  // Block products of the valid lanes not skipped by BLKSKIP (blk_all) and, with ZGATE, those of
  // them whose activation and weight blocks are both non-zero (blk_nz): per kept grid pair (I, J)
  // of a valid lane, (rows with block I non-zero) x (columns with block J non-zero), from the
  // counts of bsa_array (docs/NUMERICS.md, "Exact zero-block gating"). CNT_BLK counts the
  // computed ones, CNT_ZSKIP the difference.
  logic [31:0] blk_all, blk_nz;
  assign blk_all = 32'(pes_act) * 32'(vlanes_q) * 32'(blk_kept);
  always_comb begin
    blk_nz = 32'd0;
    if (zgate_i) begin
      for (int unsigned i = 0; i < 4; i++) begin
        for (int unsigned j = 0; j < 4; j++) begin
          if (blk_en_o[4*i+j] && nib_en[i]) begin
            blk_nz = blk_nz + 32'(a_nzc_i[9*i +: 9]) * 32'(w_nzc_i[9*j +: 9]);
          end
        end
      end
    end
  end
  assign out_words = 9'((10'(cols_act_i) + 10'(lanes) - 10'd1) >> lanes_log2);
  assign mac_inc_o  = valid_q ? 20'(pes_act) * 20'(vlanes_q) : 20'd0;
  assign blk_inc_o  = !valid_q ? 32'd0 : zgate_i ? blk_nz : blk_all;
  assign zskip_inc_o = (valid_q && zgate_i) ? blk_all - blk_nz : 32'd0;
  // DW: every active row reads a whole Cols-word row (Cols words), every active column one word.
  assign rd_words_o = (rd_en_o ? (dw_i ? 16'(dw_rows(16'(rows_act_i))) : 16'(rows_act_i)) + 16'(cols_act_i)
                               : 16'd0) +
                      (bias_rd_o ? 16'(cols_act_i) << 1 : 16'd0);
  assign wr_words_o = out_en_o ? 16'(rows_act_i) * 16'(out_words) : 16'd0;

endmodule
