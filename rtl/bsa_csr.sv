// Control/status registers (rtl/bsa_regs.def, docs/REGISTERS.md): configuration, STATUS,
// IRQ, read-only identification and the 64-bit performance counters.
module bsa_csr
  import bsa_pkg::*;
  import bsa_reg_pkg::*;
#(
  parameter int unsigned Rows        = 16,
  parameter int unsigned Cols        = 16,
  parameter int unsigned ActWords    = 8192,
  parameter int unsigned WgtWords    = 8192,
  parameter int unsigned BiasEntries = 256
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  // register access (CSR region, bank 0), decoded by bsa_top
  input  logic               req_i,
  input  logic               we_i,
  input  logic [11:0]        idx_i,
  input  logic [LINE_W-1:0]  wdata_i,
  output logic [LINE_W-1:0]  rdata_o,
  output logic [ERR_W-1:0]   acc_code_o,
  // tile control
  input  logic               busy_i,
  output logic               start_o,       // CTRL.START written
  input  logic               start_ok_i,
  input  logic               start_err_i,
  input  logic [ERR_W-1:0]   start_code_i,
  input  logic               tile_done_i,
  // any failed bus access this cycle (register or scratchpad), for STATUS
  input  logic               bus_err_i,
  input  logic [ERR_W-1:0]   bus_code_i,
  // configuration
  output mode_e              mode_o,
  output logic [15:0]        k_o,
  output logic [8:0]         rows_act_o,
  output logic [8:0]         cols_act_o,
  output logic [15:0]        act_base_o,
  output logic [15:0]        wgt_base_o,
  output logic [15:0]        bias_base_o,
  output logic [5:0]         shift_o,
  output logic               bias_en_o,
  output logic               relu_o,
  output logic               clamp_en_o,
  output logic signed [15:0] clamp_hi_o,
  // pins
  output logic               done_o,
  output logic               err_o,
  output logic               irq_o,
  // counter increments of this cycle
  input  logic               array_i,
  input  logic [19:0]        mac_inc_i,
  input  logic [15:0]        rd_words_i,
  input  logic [15:0]        wr_words_i
);

  localparam int unsigned NumCnt = 9;  // CNT_CYCLES .. CNT_TILES

  logic [1:0]  mode_q;
  logic [15:0] k_q, act_base_q, wgt_base_q, bias_base_q, clamp_hi_q;
  logic [8:0]  rows_act_q, cols_act_q;
  logic [5:0]  shift_q;
  logic [2:0]  out_cfg_q;
  logic [1:0]  irq_en_q;
  logic        done_d, done_q, err_d, err_q;
  logic [ERR_W-1:0] code_d, code_q;
  logic [CNT_W-1:0] cnt_d [NumCnt];
  logic [CNT_W-1:0] cnt_q [NumCnt];

  logic is_ro, is_cfg, acc_err, wr_ok, clear;

  // ---- access checks ----
  always_comb begin
    is_ro  = (idx_i == REG_ID) || (idx_i == REG_HWCFG) || (idx_i == REG_HWCFG2) ||
             (idx_i >= REG_CNT_CYCLES && idx_i <= REG_CNT_TILES);
    is_cfg = (idx_i >= REG_IRQ_EN && idx_i <= REG_CLAMP_HI);
    acc_code_o = ERR_W'(ERR_NONE);
    if (idx_i > REG_CNT_TILES) begin
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

  // ---- configuration registers ----
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      mode_q      <= '0;
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
        REG_MODE:      mode_q      <= wdata_i[1:0];
        REG_K:         k_q         <= wdata_i[15:0];
        REG_ROWS_ACT:  rows_act_q  <= wdata_i[8:0];
        REG_COLS_ACT:  cols_act_q  <= wdata_i[8:0];
        REG_ACT_BASE:  act_base_q  <= wdata_i[15:0];
        REG_WGT_BASE:  wgt_base_q  <= wdata_i[15:0];
        REG_BIAS_BASE: bias_base_q <= wdata_i[15:0];
        REG_SHIFT:     shift_q     <= wdata_i[5:0];
        REG_OUT_CFG:   out_cfg_q   <= wdata_i[2:0];
        REG_CLAMP_HI:  clamp_hi_q  <= wdata_i[15:0];
        REG_IRQ_EN:    irq_en_q    <= wdata_i[1:0];
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
    if (tile_done_i) begin
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

  // ---- performance counters, index = register - REG_CNT_CYCLES:
  // 0 cycles, 1 busy, 2 array, 3 mac16, 4 mac8, 5 mac4, 6 spad_rd, 7 spad_wr, 8 tiles ----
  always_comb begin
    for (int unsigned i = 0; i < NumCnt; i++) begin
      cnt_d[i] = cnt_q[i];
    end
    cnt_d[0] = cnt_q[0] + 64'd1;
    cnt_d[1] = cnt_q[1] + 64'(busy_i);
    cnt_d[2] = cnt_q[2] + 64'(array_i);
    unique case (mode_q)
      MODE_W16: cnt_d[3] = cnt_q[3] + 64'(mac_inc_i);
      MODE_W8:  cnt_d[4] = cnt_q[4] + 64'(mac_inc_i);
      default:  cnt_d[5] = cnt_q[5] + 64'(mac_inc_i);
    endcase
    cnt_d[6] = cnt_q[6] + 64'(rd_words_i);
    cnt_d[7] = cnt_q[7] + 64'(wr_words_i);
    cnt_d[8] = cnt_q[8] + 64'(tile_done_i);
    if (clear) begin
      for (int unsigned i = 0; i < NumCnt; i++) begin
        cnt_d[i] = '0;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (int unsigned i = 0; i < NumCnt; i++) begin
        cnt_q[i] <= '0;
      end
    end else begin
      for (int unsigned i = 0; i < NumCnt; i++) begin
        cnt_q[i] <= cnt_d[i];
      end
    end
  end

  // ---- read data ----
  always_comb begin
    rdata_o = '0;
    unique case (idx_i)
      REG_ID:        rdata_o = 64'(ID_VALUE);
      REG_HWCFG:     rdata_o = 64'({8'($clog2(WgtWords)), 8'($clog2(ActWords)), 8'(Cols), 8'(Rows)});
      REG_HWCFG2:    rdata_o = 64'({8'(ACC_W), 16'(BiasEntries)});
      REG_STATUS:    rdata_o = 64'({code_q, 5'd0, err_q, done_q, busy_i});
      REG_IRQ_EN:    rdata_o = 64'(irq_en_q);
      REG_MODE:      rdata_o = 64'(mode_q);
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
        if (idx_i >= REG_CNT_CYCLES && idx_i <= REG_CNT_TILES) begin
          rdata_o = cnt_q[4'(idx_i - REG_CNT_CYCLES)];
        end
      end
    endcase
  end

  assign mode_o      = mode_e'(mode_q);
  assign k_o         = k_q;
  assign rows_act_o  = rows_act_q;
  assign cols_act_o  = cols_act_q;
  assign act_base_o  = act_base_q;
  assign wgt_base_o  = wgt_base_q;
  assign bias_base_o = bias_base_q;
  assign shift_o     = shift_q;
  assign bias_en_o   = out_cfg_q[OUT_BIAS_EN];
  assign relu_o      = out_cfg_q[OUT_RELU];
  assign clamp_en_o  = out_cfg_q[OUT_CLAMP_EN];
  assign clamp_hi_o  = clamp_hi_q;
  assign done_o      = done_q;
  assign err_o       = err_q;
  assign irq_o       = (done_q && irq_en_q[0]) || (err_q && irq_en_q[1]);

endmodule
