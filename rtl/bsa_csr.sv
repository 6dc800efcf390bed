`include "bsa_compat.svh"

// Control/status registers (rtl/bsa_regs.def, docs/REGISTERS.md): configuration, STATUS,
// IRQ, read-only identification and the 64-bit performance counters.
module bsa_csr
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
#(
  parameter int unsigned Rows        = DEFAULT_ROWS,
  parameter int unsigned Cols        = DEFAULT_COLS,
  parameter int unsigned ActWords    = DEFAULT_ACT_WORDS,
  parameter int unsigned WgtWords    = DEFAULT_WGT_WORDS,
  parameter int unsigned BiasEntries = DEFAULT_BIAS_ENTRIES
) (
  input  logic                         clk_i,
  input  logic                         rst_ni,
  // register access (CSR region, bank 0), decoded by bsa_bus
  input  logic                         req_i,
  input  logic                         we_i,
  input  logic [11:0]                  idx_i,
  input  logic [LINE_W-1:0]            wdata_i,
  output logic [LINE_W-1:0]            rdata_o,
  output logic [ERR_W-1:0]             acc_code_o,
  // tile control
  input  logic                         busy_i,
  output logic                         start_o,       // CTRL.START written
  input  logic                         start_ok_i,
  input  logic                         start_err_i,
  input  logic [ERR_W-1:0]             start_code_i,
  input  logic                         tile_done_i,   // a tile's outputs written (CNT_TILES)
  input  logic                         done_set_i,    // ... and no later tile started: STATUS.DONE
  // any failed bus access this cycle (register or scratchpad), for STATUS
  input  logic                         bus_err_i,
  input  logic [ERR_W-1:0]             bus_code_i,
  // configuration
  output mode_e                        mode_o,
  output logic [MODE_BLKSKIP_W-1:0]    blk_skip_o,
  output logic                         zgate_o,
  output logic                         dw_o,          // MODE.DW: depthwise dataflow
  output logic [K_W-1:0]               k_o,
  output logic [ROWS_ACT_W-1:0]        rows_act_o,
  output logic [COLS_ACT_W-1:0]        cols_act_o,
  output logic [ACT_BASE_W-1:0]        act_base_o,
  output logic [WGT_BASE_W-1:0]        wgt_base_o,
  output logic [BIAS_BASE_W-1:0]       bias_base_o,
  output logic [ACT_BASE_W-1:0]        start_act_base_o,   // the bases a START is checked with
  output logic [WGT_BASE_W-1:0]        start_wgt_base_o,
  output logic [BIAS_BASE_W-1:0]       start_bias_base_o,
  output logic [SHIFT_W-1:0]           shift_o,
  output logic                         bias_en_o,
  output logic                         relu_o,
  output logic                         clamp_en_o,
  output logic                         col_shift_o,  // OUT_CFG.COL_SHIFT
  output logic                         acc_keep_o,   // OUT_CFG.ACC_KEEP
  output logic signed [15:0]           clamp_hi_o,
  // pins
  output logic                         done_o,
  output logic                         err_o,
  output logic                         irq_o,
  // counter increments of this cycle
  input  logic                         array_i,
  input  logic [19:0]                  mac_inc_i,
  input  logic [31:0]                  blk_inc_i,
  input  logic [16*9-1:0]               gw_inc_i,     // output groups of width w written: [9*(w-1) +: 9]
  input  logic [15:0]                  rd_words_i,
  input  logic [15:0]                  wr_words_i,
  input  logic [31:0]                  zskip_inc_i,
  input  logic                         xfer_i,       // a scratchpad bus beat goes ahead this cycle
  input  logic                         overlap_i     // ... while a tile runs
);

  localparam int unsigned CntIdxW = $clog2(NUM_CNT);

  // Configuration registers hold exactly their fields (rtl/bsa_regs.def).
  logic [MODE_W-1:0]      mode_q;
  logic [MODE_BLKSKIP_W-1:0] blkskip_q;
  logic                      zgate_q;
  logic                   dw_q;
  logic [K_W-1:0]         k_q;
  logic [ACT_BASE_W-1:0]  act_base_q;
  logic [WGT_BASE_W-1:0]  wgt_base_q;
  logic [BIAS_BASE_W-1:0] bias_base_q;
  logic [CLAMP_HI_W-1:0]  clamp_hi_q;
  logic [ROWS_ACT_W-1:0]  rows_act_q;
  logic [COLS_ACT_W-1:0]  cols_act_q;
  logic [SHIFT_W-1:0]     shift_q;
  logic [OUT_CFG_ACC_KEEP:0] out_cfg_q;  // OUT_CFG fields are bits 0 .. ACC_KEEP
  logic [IRQ_EN_ERR:0]       irq_en_q;   // IRQ_EN fields are bits 0 .. ERR
  logic        done_d, done_q, err_d, err_q;
  logic [ERR_W-1:0] code_d, code_q;
  logic [CNT_W-1:0] cnt_d [NUM_CNT];
  logic [CNT_W-1:0] cnt_q [NUM_CNT];

  logic is_ro, is_cfg, acc_err, wr_ok, clear;

  // ---- access checks ----
  always_comb begin
    // Access types of bsa_reg_pkg (rtl/bsa_regs.def): writes to ro registers are refused,
    // writes to rw (configuration) registers are refused while busy.
    is_ro  = reg_is_ro(idx_i);
    is_cfg = reg_is_rw(idx_i);
    acc_code_o = ERR_W'(ERR_NONE);
    if (idx_i > REG_CNT_LAST) begin
      acc_code_o = ERR_W'(ERR_BUS_ADDR);
    end else if (we_i && is_ro) begin
      acc_code_o = ERR_W'(ERR_BUS_RO);
    end else if (we_i && is_cfg && busy_i) begin
      acc_code_o = ERR_W'(ERR_BUS_BUSY);
    end
    acc_err = req_i && (acc_code_o != ERR_W'(ERR_NONE));
  end

  assign wr_ok   = req_i && we_i && !acc_err;
  assign start_o = wr_ok && (idx_i == REG_CTRL) && wdata_i[CTRL_START];
  assign clear   = wr_ok && (idx_i == REG_CTRL) && wdata_i[CTRL_CLEAR];
  // CTRL.LOAD with START: the tile's bases come with the START (one beat per tile). The START check
  // sees them at once (start_*_base_o); the registers keep them only if the START is accepted. A
  // running tile addresses its operands from the registers.
  logic load;
  assign load = start_o && wdata_i[CTRL_LOAD];

  // ---- configuration registers ----
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      mode_q      <= '0;
      blkskip_q   <= '0;
      zgate_q     <= 1'b0;
      dw_q        <= 1'b0;
      k_q         <= '0;
      rows_act_q  <= '0;
      cols_act_q  <= '0;
      act_base_q  <= '0;
      wgt_base_q  <= '0;
      bias_base_q <= '0;
      shift_q     <= '0;
      out_cfg_q   <= '0;
      clamp_hi_q  <= '0;
      irq_en_q    <= '0;
    end else if (wr_ok) begin
      unique case (idx_i)
        REG_MODE: begin
          mode_q    <= wdata_i[MODE_LSB +: MODE_W];
          blkskip_q <= wdata_i[MODE_BLKSKIP_LSB +: MODE_BLKSKIP_W];
          zgate_q   <= wdata_i[MODE_ZGATE];
          dw_q      <= wdata_i[MODE_DW];
        end
        REG_K:         k_q         <= wdata_i[K_LSB +: K_W];
        REG_ROWS_ACT:  rows_act_q  <= wdata_i[ROWS_ACT_LSB +: ROWS_ACT_W];
        REG_COLS_ACT:  cols_act_q  <= wdata_i[COLS_ACT_LSB +: COLS_ACT_W];
        REG_ACT_BASE:  act_base_q  <= wdata_i[ACT_BASE_LSB +: ACT_BASE_W];
        REG_WGT_BASE:  wgt_base_q  <= wdata_i[WGT_BASE_LSB +: WGT_BASE_W];
        REG_BIAS_BASE: bias_base_q <= wdata_i[BIAS_BASE_LSB +: BIAS_BASE_W];
        REG_SHIFT:     shift_q     <= wdata_i[SHIFT_LSB +: SHIFT_W];
        REG_OUT_CFG:   out_cfg_q   <= wdata_i[OUT_CFG_ACC_KEEP:0];
        REG_CLAMP_HI:  clamp_hi_q  <= wdata_i[CLAMP_HI_LSB +: CLAMP_HI_W];
        REG_IRQ_EN:    irq_en_q    <= wdata_i[IRQ_EN_ERR:0];
        REG_CTRL: begin
          if (load && start_ok_i) begin
            act_base_q  <= wdata_i[CTRL_ACT_BASE_LSB +: ACT_BASE_W];
            wgt_base_q  <= wdata_i[CTRL_WGT_BASE_LSB +: WGT_BASE_W];
            bias_base_q <= wdata_i[CTRL_BIAS_BASE_LSB +: BIAS_BASE_W];
          end
        end
        default: ;
      endcase
    end
  end

  // ---- STATUS: w1c first, a legal START clears, events set ----
  always_comb begin
    done_d = done_q;
    err_d  = err_q;
    code_d = code_q;
    if (wr_ok && idx_i == REG_STATUS) begin
      if (wdata_i[STATUS_DONE]) begin
        done_d = 1'b0;
      end
      if (wdata_i[STATUS_ERR]) begin
        err_d = 1'b0;  // ERR_CODE keeps the code of the last error until a legal START
      end
    end
    if (start_ok_i) begin
      done_d = 1'b0;
      err_d  = 1'b0;
      code_d = ERR_W'(ERR_NONE);
    end
    if (done_set_i) begin
      done_d = 1'b1;
    end
    if (start_err_i) begin
      err_d  = 1'b1;
      code_d = start_code_i;
    end else if (bus_err_i) begin
      err_d  = 1'b1;
      code_d = bus_code_i;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      done_q <= 1'b0;
      err_q  <= 1'b0;
      code_q <= '0;
    end else begin
      done_q <= done_d;
      err_q  <= err_d;
      code_q <= code_d;
    end
  end

  // ---- performance counters, index = register - REG_CNT_FIRST (CNT_* of bsa_reg_pkg) ----
  always_comb begin
    for (int unsigned i = 0; i < NUM_CNT; i++) begin
      cnt_d[i] = cnt_q[i];
    end
    cnt_d[CNT_CYCLES] = cnt_q[CNT_CYCLES] + 64'd1;
    cnt_d[CNT_BUSY]   = cnt_q[CNT_BUSY] + 64'(busy_i);
    cnt_d[CNT_ARRAY]  = cnt_q[CNT_ARRAY] + 64'(array_i);
    unique case (mode_q)
      MODE_16: cnt_d[CNT_MAC16] = cnt_q[CNT_MAC16] + 64'(mac_inc_i);
      MODE_8:  cnt_d[CNT_MAC8]  = cnt_q[CNT_MAC8] + 64'(mac_inc_i);
      default: cnt_d[CNT_MAC4]  = cnt_q[CNT_MAC4] + 64'(mac_inc_i);
    endcase
    cnt_d[CNT_SPAD_RD] = cnt_q[CNT_SPAD_RD] + 64'(rd_words_i);
    cnt_d[CNT_SPAD_WR] = cnt_q[CNT_SPAD_WR] + 64'(wr_words_i);
    cnt_d[CNT_TILES]   = cnt_q[CNT_TILES] + 64'(tile_done_i);
    cnt_d[CNT_BLK]     = cnt_q[CNT_BLK] + 64'(blk_inc_i);
    unique case (mode_q)  // CNT_BLK16 .. CNT_BLK4: the part of CNT_BLK of each mode
      MODE_16: cnt_d[CNT_BLK16] = cnt_q[CNT_BLK16] + 64'(blk_inc_i);
      MODE_8:  cnt_d[CNT_BLK8]  = cnt_q[CNT_BLK8] + 64'(blk_inc_i);
      default: cnt_d[CNT_BLK4]  = cnt_q[CNT_BLK4] + 64'(blk_inc_i);
    endcase
    cnt_d[CNT_ZSKIP]   = cnt_q[CNT_ZSKIP] + 64'(zskip_inc_i);
    cnt_d[CNT_XFER]    = cnt_q[CNT_XFER] + 64'(xfer_i);
    cnt_d[CNT_OVERLAP] = cnt_q[CNT_OVERLAP] + 64'(overlap_i);
    for (int unsigned w = 0; w < 16; w++) begin  // CNT_GW1 .. CNT_GW16 are consecutive
      cnt_d[CNT_GW1 + w] = cnt_q[CNT_GW1 + w] + 64'(gw_inc_i[9*w +: 9]);
    end
    if (clear) begin
      for (int unsigned i = 0; i < NUM_CNT; i++) begin
        cnt_d[i] = '0;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (int unsigned i = 0; i < NUM_CNT; i++) begin
        cnt_q[i] <= '0;
      end
    end else begin
      for (int unsigned i = 0; i < NUM_CNT; i++) begin
        cnt_q[i] <= cnt_d[i];
      end
    end
  end

  // ---- read data ----
  always_comb begin
    rdata_o = '0;
    unique case (idx_i)
      REG_ID:        rdata_o = 64'(ID_VALUE);
      REG_HWCFG: begin
        rdata_o[HWCFG_ROWS_LSB +: HWCFG_ROWS_W]         = HWCFG_ROWS_W'(Rows);
        rdata_o[HWCFG_COLS_LSB +: HWCFG_COLS_W]         = HWCFG_COLS_W'(Cols);
        rdata_o[HWCFG_ACT_LOG2_LSB +: HWCFG_ACT_LOG2_W] = HWCFG_ACT_LOG2_W'($clog2(ActWords));
        rdata_o[HWCFG_WGT_LOG2_LSB +: HWCFG_WGT_LOG2_W] = HWCFG_WGT_LOG2_W'($clog2(WgtWords));
      end
      REG_HWCFG2: begin
        rdata_o[HWCFG2_BIAS_ENTRIES_LSB +: HWCFG2_BIAS_ENTRIES_W] = HWCFG2_BIAS_ENTRIES_W'(BiasEntries);
        rdata_o[HWCFG2_ACC_W_LSB +: HWCFG2_ACC_W_W]               = HWCFG2_ACC_W_W'(ACC_W);
      end
      REG_STATUS: begin
        rdata_o[STATUS_BUSY]                      = busy_i;
        rdata_o[STATUS_DONE]                      = done_q;
        rdata_o[STATUS_ERR]                       = err_q;
        rdata_o[STATUS_CODE_LSB +: STATUS_CODE_W] = code_q;
      end
      REG_IRQ_EN:    rdata_o = 64'(irq_en_q);
      REG_MODE: begin
        rdata_o[MODE_LSB +: MODE_W]                 = mode_q;
        rdata_o[MODE_BLKSKIP_LSB +: MODE_BLKSKIP_W] = blkskip_q;
        rdata_o[MODE_ZGATE]                         = zgate_q;
        rdata_o[MODE_DW]                            = dw_q;
      end
      REG_K:         rdata_o = 64'(k_q);
      REG_ROWS_ACT:  rdata_o = 64'(rows_act_q);
      REG_COLS_ACT:  rdata_o = 64'(cols_act_q);
      REG_ACT_BASE:  rdata_o = 64'(act_base_q);
      REG_WGT_BASE:  rdata_o = 64'(wgt_base_q);
      REG_BIAS_BASE: rdata_o = 64'(bias_base_q);
      REG_SHIFT:     rdata_o = 64'(shift_q);
      REG_OUT_CFG:   rdata_o = 64'(out_cfg_q);
      REG_CLAMP_HI:  rdata_o = 64'(clamp_hi_q);
      default: begin
        if (idx_i >= REG_CNT_FIRST && idx_i <= REG_CNT_LAST) begin
          rdata_o = cnt_q[CntIdxW'(idx_i - REG_CNT_FIRST)];
        end
      end
    endcase
  end

  // The MODE field as its enum, written through a part-select: yosys 0.23 has no casts to a
  // type (bsa_compat.svh), and Verilator refuses an implicit conversion to an enum.
  assign mode_o[MODE_W-1:0] = mode_q;
  assign blk_skip_o  = blkskip_q;
  assign zgate_o     = zgate_q;
  assign dw_o        = dw_q;
  assign k_o         = k_q;
  assign rows_act_o  = rows_act_q;
  assign cols_act_o  = cols_act_q;
  assign act_base_o  = act_base_q;
  assign wgt_base_o  = wgt_base_q;
  assign bias_base_o = bias_base_q;
  assign start_act_base_o  = load ? wdata_i[CTRL_ACT_BASE_LSB +: ACT_BASE_W] : act_base_q;
  assign start_wgt_base_o  = load ? wdata_i[CTRL_WGT_BASE_LSB +: WGT_BASE_W] : wgt_base_q;
  assign start_bias_base_o = load ? wdata_i[CTRL_BIAS_BASE_LSB +: BIAS_BASE_W] : bias_base_q;
  assign shift_o     = shift_q;
  assign bias_en_o   = out_cfg_q[OUT_CFG_BIAS_EN];
  assign relu_o      = out_cfg_q[OUT_CFG_RELU];
  assign clamp_en_o  = out_cfg_q[OUT_CFG_CLAMP_EN];
  assign col_shift_o = out_cfg_q[OUT_CFG_COL_SHIFT];
  assign acc_keep_o  = out_cfg_q[OUT_CFG_ACC_KEEP];
  assign clamp_hi_o  = clamp_hi_q;
  assign done_o      = done_q;
  assign err_o       = err_q;
  assign irq_o       = (done_q && irq_en_q[IRQ_EN_DONE]) || (err_q && irq_en_q[IRQ_EN_ERR]);

endmodule
