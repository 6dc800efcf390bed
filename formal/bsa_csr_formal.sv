`include "bsa_compat.svh"

// Proof harness (docs/FORMAL.md): the register file bsa_csr from any state, with every input
// free at every edge. fail_o = 1 when, across one clock edge,
//   - a refused register access (unmapped index, write to a read-only register, write to a
//     configuration register while busy: docs/ARCHITECTURE.md "Bus") changed a configuration
//     register, or
//   - a configuration register changed while a tile was running (what keeps a running tile's
//     K, bases, shift and output options fixed), except the three base registers at an accepted
//     START with CTRL.LOAD, or
//   - such a START left the base registers other than the bases it carried, or
//   - the bases the sequencer addresses with differ from the base registers.
// `make formal` proves fail_o = 0 in every reachable state by induction (sat -tempinduct).
module bsa_csr_formal
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic              clk_i,
  input  logic              req_i,
  input  logic              we_i,
  input  logic [11:0]       idx_i,
  input  logic [LINE_W-1:0] wdata_i,
  input  logic              busy_i,
  input  logic              start_ok_i,
  input  logic              start_err_i,
  input  logic [ERR_W-1:0]  start_code_i,
  input  logic              tile_done_i,
  input  logic              done_set_i,
  input  logic              bus_err_i,
  input  logic [ERR_W-1:0]  bus_code_i,
  input  logic              array_i,
  input  logic [19:0]       mac_inc_i,
  input  logic [31:0]       blk_inc_i,
  input  logic [15:0]       rd_words_i,
  input  logic [15:0]       wr_words_i,
  input  logic [31:0]       zskip_inc_i,
  output logic              fail_o
);

  localparam int unsigned CfgW = MODE_W + 1 + MODE_BLKSKIP_W + 1 + K_W + ROWS_ACT_W + COLS_ACT_W + SHIFT_W + 4 +
                                 CLAMP_HI_W;
  localparam int unsigned BasesW = ACT_BASE_W + WGT_BASE_W + BIAS_BASE_W;

  mode_e                  mode;
  logic [MODE_BLKSKIP_W-1:0] blk_skip;
  logic                   zgate;
  logic                   dw;
  logic [K_W-1:0]         k;
  logic [ROWS_ACT_W-1:0]  rows_act;
  logic [COLS_ACT_W-1:0]  cols_act;
  logic [ACT_BASE_W-1:0]  act_base;
  logic [WGT_BASE_W-1:0]  wgt_base;
  logic [BIAS_BASE_W-1:0] bias_base;
  logic [SHIFT_W-1:0]     shift;
  logic                   bias_en, relu, clamp_en, col_shift;
  logic signed [15:0]     clamp_hi;
  logic [LINE_W-1:0]      rdata;
  logic [ERR_W-1:0]       acc_code;
  logic                   start, done, err, irq;

  bsa_csr u_csr (
    .clk_i, .rst_ni(1'b1), .req_i, .we_i, .idx_i, .wdata_i, .rdata_o(rdata), .acc_code_o(acc_code),
    .busy_i, .start_o(start), .start_ok_i, .start_err_i, .start_code_i, .tile_done_i, .done_set_i, .bus_err_i,
    .bus_code_i, .mode_o(mode), .blk_skip_o(blk_skip), .zgate_o(zgate), .dw_o(dw), .k_o(k), .rows_act_o(rows_act), .cols_act_o(cols_act),
    .act_base_o(act_base), .wgt_base_o(wgt_base), .bias_base_o(bias_base), .start_act_base_o(), .start_wgt_base_o(), .start_bias_base_o(), .shift_o(shift),
    .bias_en_o(bias_en), .relu_o(relu), .clamp_en_o(clamp_en), .col_shift_o(col_shift), .clamp_hi_o(clamp_hi),
    .done_o(done), .err_o(err), .irq_o(irq), .array_i, .mac_inc_i, .blk_inc_i, .gw_inc_i('0), .rd_words_i, .wr_words_i,
    .zskip_inc_i, .xfer_i(1'b0), .overlap_i(1'b0)
  );

  logic [CfgW-1:0]   cfg, cfg_q;
  logic [BasesW-1:0] bases, bases_q, loaded_bases_q;  // bases: the base registers (connected by csr.ys)
  logic              seen_q, refused_q, busy_q, loaded_q;
  assign cfg = {mode, zgate, blk_skip, dw, k, rows_act, cols_act, shift, bias_en, relu, clamp_en, col_shift, clamp_hi};

  // The previous edge's view (seen_q: there was one).
  always_ff @(posedge clk_i) begin
    seen_q    <= 1'b1;
    cfg_q     <= cfg;
    bases_q   <= bases;
    refused_q <= req_i && (acc_code != ERR_W'(ERR_NONE));
    busy_q    <= busy_i;
    loaded_q  <= start && wdata_i[CTRL_LOAD] && start_ok_i;
    loaded_bases_q <= {wdata_i[CTRL_BIAS_BASE_LSB +: BIAS_BASE_W], wdata_i[CTRL_WGT_BASE_LSB +: WGT_BASE_W],
                       wdata_i[CTRL_ACT_BASE_LSB +: ACT_BASE_W]};
  end

  assign fail_o = (seen_q && (refused_q || busy_q) && (cfg != cfg_q)) ||
                  (seen_q && (refused_q || busy_q) && !loaded_q && (bases != bases_q)) ||
                  (seen_q && loaded_q && (bases != loaded_bases_q)) ||
                  ({bias_base, wgt_base, act_base} != bases);  // the running tile addresses with the registers

  logic unused;
  assign unused = ^{rdata, start, done, err, irq};

endmodule
