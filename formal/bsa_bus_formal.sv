`include "bsa_compat.svh"

// Proof harness (docs/FORMAL.md): the bus decode, bsa_bus with the register file's access check
// (bsa_csr) wired as in bsa_top, at the default geometry (16 x 16, 8192-word activation and weight
// banks, 256 bias entries), against the address map of rtl/bsa_regs.def / docs/REGISTERS.md
// written here from its numbers: region = addr[23:20], bank = addr[19:12], line = addr[11:0];
//   region 0 (CSR), bank 0: register index = line; unmapped (> 0x2F) -> ERR_BUS_ADDR, a write to a
//     read-only register (ID, HWCFG, HWCFG2, counters 0x10 .. 0x2F) -> ERR_BUS_RO, a write to a
//     configuration register (rw: 0x05 .. 0x0F) while busy -> ERR_BUS_BUSY (CTRL and STATUS
//     writes are never refused);
//   region 1 (ACT): bank < 16, line < 2048; region 2 (WGT): bank < 16, line < 2048; region 3
//     (BIAS): bank < 16, line < 128; region 4 (OUT): bank < 16, line < 5 (4 output lines, line 4 the group-width header); anything else (other
//     regions, CSR banks != 0, banks or lines out of range) -> ERR_BUS_ADDR; a write to OUT ->
//     ERR_BUS_RO; a legal scratchpad read while busy -> ERR_BUS_BUSY, a legal scratchpad write while
//     busy into a read window of the running tile (hazard_i, a free input here) -> ERR_BUS_HAZARD
//     (checked in this order). Bank 0xFF (ADDR_BANK_ALL) of ACT, WGT, BIAS, OUT is a wide beat: legal
//     for any line in range, its read data on the wide port (the region's banks side by side) and
//     0 on the narrow one.
// For every access, busy or not (BUSY is a free input here), fail_o = 0 states: the error flag
// and code are the spec's; the decoded region flags, bank and line are the address's; an access
// goes ahead iff it is legal. One edge later: rvalid = a request was made, rerr = it failed, and
// the read data is that of the addressed unit and bank (sampled at the access's edge for the
// registers, the scratchpad's registered output of the next cycle) or 0 for a write or failed
// access. The register file reads ID_VALUE at ID and the default geometry at HWCFG and HWCFG2, and
// an accepted write of a configuration register (0x05 .. 0x0F) reads back at the next edge as the
// written value restricted to the register's fields. Proved by induction.
module bsa_bus_formal
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic              clk_i,
  input  logic              req_i,
  input  logic              we_i,
  input  logic [23:0]       addr_i,
  input  logic [63:0]       wdata_i,
  input  logic              busy_i,
  input  logic              hazard_i,
  input  logic [16*64-1:0]  act_rdata_i,
  input  logic [16*64-1:0]  wgt_rdata_i,
  input  logic [16*64-1:0]  bias_rdata_i,
  input  logic [63:0]       out_rdata_i,
  input  logic [16*64-1:0]  out_wide_rdata_i,
  output logic              fail_o
);

  // ---- the RTL, wired as in bsa_top ----
  logic [7:0]  bank;
  logic [11:0] line;
  logic        is_csr, spad_req, is_act, is_wgt, is_bias, out_rd, err, rvalid, rerr;
  logic [ERR_W-1:0] code, csr_code;
  logic [63:0] csr_rdata, rdata;
  logic [16*64-1:0] wide_rdata;

  bsa_bus u_bus (
    .clk_i, .rst_ni(1'b1), .req_i, .we_i, .addr_i, .bank_o(bank), .line_o(line),
    .csr_req_o(is_csr), .spad_req_o(spad_req), .act_o(is_act), .wgt_o(is_wgt), .bias_o(is_bias),
    .out_rd_o(out_rd), .wide_o(), .rows_o(), .busy_i, .hazard_i, .csr_code_i(csr_code), .err_o(err), .code_o(code),
    .csr_rdata_i(csr_rdata), .act_rdata_i, .wgt_rdata_i, .bias_rdata_i, .out_rdata_i, .out_wide_rdata_i,
    .rvalid_o(rvalid), .rerr_o(rerr), .rdata_o(rdata), .wide_rdata_o(wide_rdata)
  );

  bsa_csr u_csr (
    .clk_i, .rst_ni(1'b1), .req_i(is_csr), .we_i, .idx_i(line), .wdata_i, .rdata_o(csr_rdata),
    .acc_code_o(csr_code), .busy_i, .start_o(), .start_ok_i(1'b0), .start_err_i(1'b0),
    .start_code_i(8'd0), .tile_done_i(1'b0), .done_set_i(1'b0), .bus_err_i(err), .bus_code_i(code), .mode_o(),
    .blk_skip_o(), .zgate_o(), .dw_o(), .k_o(), .rows_act_o(), .cols_act_o(), .act_base_o(), .wgt_base_o(),
    .bias_base_o(), .start_act_base_o(), .start_wgt_base_o(), .start_bias_base_o(), .shift_o(), .bias_en_o(), .relu_o(), .clamp_en_o(), .col_shift_o(), .clamp_hi_o(), .done_o(),
    .err_o(), .irq_o(), .array_i(1'b0), .mac_inc_i(20'd0), .blk_inc_i(32'd0), .gw_inc_i('0),
    .rd_words_i(16'd0), .wr_words_i(16'd0), .zskip_inc_i(32'd0), .xfer_i(1'b0), .overlap_i(1'b0)
  );

  // ---- the spec's address map ----
  logic [3:0]  s_region;
  logic [7:0]  s_bank;
  logic [11:0] s_line;
  logic        s_csr, s_act, s_wgt, s_bias, s_out, s_ro, s_rw, s_wide, s_rows;
  logic [7:0]  s_code;
  assign s_region = addr_i[23:20];
  assign s_bank   = addr_i[19:12];
  assign s_line   = addr_i[11:0];
  assign s_csr    = s_region == 4'd0 && s_bank == 8'd0;
  assign s_wide   = s_bank == 8'hFF;
  assign s_rows   = s_bank == 8'hFE;  // row beat: ACT writes at a multiple of 4 lines (Cols / 4)
  assign s_act    = s_region == 4'd1 && (s_bank < 8'd16 || s_wide || (s_rows && we_i && s_line[1:0] == 2'd0)) &&
                    s_line < 12'd2048;
  assign s_wgt    = s_region == 4'd2 && (s_bank < 8'd16 || s_wide) && s_line < 12'd2048;
  assign s_bias   = s_region == 4'd3 && (s_bank < 8'd16 || s_wide) && s_line < 12'd128;
  assign s_out    = s_region == 4'd4 && (s_bank < 8'd16 || s_wide) && s_line < 12'd5;
  assign s_ro     = s_line <= 12'h02 || (s_line >= 12'h10 && s_line <= 12'h2F);
  assign s_rw     = s_line >= 12'h05 && s_line <= 12'h0F;

  always_comb begin
    s_code = 8'd0;
    if (s_csr) begin
      if (s_line > 12'h2F)               s_code = 8'd7;   // ERR_BUS_ADDR
      else if (we_i && s_ro)             s_code = 8'd9;   // ERR_BUS_RO
      else if (we_i && s_rw && busy_i)   s_code = 8'd8;   // ERR_BUS_BUSY
    end else begin
      if (!(s_act || s_wgt || s_bias || s_out)) s_code = 8'd7;
      else if (s_out && we_i)                   s_code = 8'd9;
      else if (busy_i && !we_i && !s_out)       s_code = 8'd8;   // ERR_BUS_BUSY (OUT reads go ahead)
      else if (busy_i && hazard_i)              s_code = 8'd12;  // ERR_BUS_HAZARD
    end
  end

  logic decode_ok;
  assign decode_ok =
      err == (req_i && s_code != 8'd0) && (!req_i || code == s_code) &&
      is_csr == (req_i && s_csr) && bank == s_bank && line == s_line &&
      spad_req == (req_i && !s_csr && s_code == 8'd0) &&
      (!spad_req || (is_act == s_act && is_wgt == s_wgt && is_bias == s_bias)) &&
      out_rd == (req_i && !s_csr && s_code == 8'd0 && !we_i && s_out) &&
      (s_line != 12'h00 || csr_rdata == 64'hB5A1_0001) &&
      (s_line != 12'h01 || csr_rdata == 64'h0D0D_1010) &&   // HWCFG: 16 x 16, 2^13-word banks
      (s_line != 12'h02 || csr_rdata == 64'h0030_0100);     // HWCFG2: 256 entries, ACC_W 48

  // ---- one edge later: the response ----
  logic        p_valid, p_req, p_read_ok, p_wide, p_csr, p_act, p_wgt, p_bias, p_out, p_err, p_cfg_wr;
  logic [11:0] p_line;
  logic [63:0] p_wdata;
  logic [3:0]  p_bank;
  logic [63:0] p_csr_rdata, expect_rdata;
  logic [16*64-1:0] expect_wide;
  always_ff @(posedge clk_i) begin
    p_valid     <= 1'b1;
    p_req       <= req_i;
    p_err       <= req_i && s_code != 8'd0;
    p_read_ok   <= req_i && !we_i && s_code == 8'd0;
    p_csr       <= s_csr;
    p_act       <= s_act;
    p_wgt       <= s_wgt;
    p_bias      <= s_bias;
    p_out       <= s_out;
    p_wide      <= s_wide && !s_csr;
    p_bank      <= s_bank[3:0];
    p_csr_rdata <= csr_rdata;
    p_cfg_wr    <= req_i && we_i && s_csr && s_rw && s_code == 8'd0;
    p_line      <= s_line;
    p_wdata     <= wdata_i;
  end

  always_comb begin
    expect_rdata = 64'd0;
    expect_wide  = '0;
    if (p_read_ok && p_wide) begin
      if (p_act)       expect_wide = act_rdata_i;
      else if (p_wgt)  expect_wide = wgt_rdata_i;
      else if (p_bias) expect_wide = bias_rdata_i;
      else if (p_out)  expect_wide = out_wide_rdata_i;
    end else if (p_read_ok) begin
      if (p_csr)       expect_rdata = p_csr_rdata;
      else if (p_act)  expect_rdata = act_rdata_i[64*p_bank +: 64];
      else if (p_wgt)  expect_rdata = wgt_rdata_i[64*p_bank +: 64];
      else if (p_bias) expect_rdata = bias_rdata_i[64*p_bank +: 64];
      else if (p_out)  expect_rdata = out_rdata_i;
    end
  end

  // A configuration register written (write accepted) reads back, at the next edge, the written
  // value restricted to its fields (rtl/bsa_regs.def): the write landed in the register its index
  // names.
  logic [63:0] cfg_mask;
  // (a chain of conditions, not a case: yosys 0.23 would turn a constant case into a ROM, which
  // its sat does not import)
  assign cfg_mask =
      (p_line == 12'h05) ? 64'h0000_0003 :  // IRQ_EN: DONE, ERR
      (p_line == 12'h06) ? 64'hFFFF_000F :  // MODE: MODE [1:0], ZGATE [2], DW [3], BLKSKIP [31:16]
      (p_line == 12'h07) ? 64'h0000_FFFF :  // K
      (p_line == 12'h08) ? 64'h0000_01FF :  // ROWS_ACT
      (p_line == 12'h09) ? 64'h0000_01FF :  // COLS_ACT
      (p_line == 12'h0A) ? 64'h0000_FFFF :  // ACT_BASE
      (p_line == 12'h0B) ? 64'h0000_FFFF :  // WGT_BASE
      (p_line == 12'h0C) ? 64'h0000_FFFF :  // BIAS_BASE
      (p_line == 12'h0D) ? 64'h0000_003F :  // SHIFT
      (p_line == 12'h0E) ? 64'h0000_001F :  // OUT_CFG: BIAS_EN, RELU, CLAMP_EN, COL_SHIFT, ACC_KEEP
                           64'h0000_FFFF;   // CLAMP_HI (0x0F)
  logic readback_ok;
  assign readback_ok = !p_valid || !p_cfg_wr || s_line != p_line ||
                       csr_rdata == (p_wdata & cfg_mask);

  logic response_ok;
  assign response_ok = !p_valid || (rvalid == p_req && rerr == p_err && rdata == expect_rdata && wide_rdata == expect_wide);

  assign fail_o = !(decode_ok && response_ok && readback_ok);

endmodule
