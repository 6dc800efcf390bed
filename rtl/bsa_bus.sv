// Bus decode and response of the bitscale accelerator (docs/ARCHITECTURE.md, "Bus").
// One access per rising edge, 64-bit data, 24-bit line address
// (region[23:20], bank[19:12], line[11:0]); bank ADDR_BANK_ALL is a wide beat (line L of every
// bank of a scratchpad region, data on the wide port). The access is decoded and checked (address,
// read-only, busy: ACT/WGT/BIAS reads, then hazard: scratchpad writes into the running tile's read
// windows, in that order) in its cycle; the response is registered: rvalid/err and
// read data appear after the edge, the data from the unit recorded in rsrc_q.
`include "bsa_assert.svh"
`include "bsa_compat.svh"

module bsa_bus
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
#(
  parameter int unsigned Rows      = DEFAULT_ROWS,
  parameter int unsigned Cols      = DEFAULT_COLS,
  parameter int unsigned ActLines  = DEFAULT_ACT_WORDS / LINE_WORDS,
  parameter int unsigned WgtLines  = DEFAULT_WGT_WORDS / LINE_WORDS,
  parameter int unsigned BiasLines = DEFAULT_BIAS_ENTRIES / LINE_BIAS,
  parameter int unsigned OutLines  = DEFAULT_COLS / LINE_WORDS,  // output lines per bank; line OutLines is the header
  localparam int unsigned WideW    = ((Rows > Cols) ? Rows : Cols) * LINE_W  // wide data port
) (
  input  logic                        clk_i,
  input  logic                        rst_ni,
  // bus request
  input  logic                        req_i,
  input  logic                        we_i,
  input  logic [ADDR_W-1:0]           addr_i,
  // decoded access
  output logic [7:0]                  bank_o,
  output logic [11:0]                 line_o,
  output logic                        csr_req_o,   // register access (checked by bsa_csr)
  output logic                        spad_req_o,  // scratchpad access that goes ahead
  output logic                        act_o,       // the address is in a region (valid with spad_req_o)
  output logic                        wgt_o,
  output logic                        bias_o,
  output logic                        out_rd_o,    // output scratchpad read that goes ahead
  output logic                        wide_o,      // wide beat (bank ADDR_BANK_ALL): line L of every bank of the region
  output logic                        rows_o,      // row beat (bank ADDR_BANK_ROWS, ACT writes): Cols/4 lines of every bank
  // checks
  input  logic                        busy_i,
  input  logic                        hazard_i,    // the address is in a read window of the running tile (bsa_ctrl)
  input  logic [ERR_W-1:0]            csr_code_i,  // bsa_csr's check of a register access
  output logic                        err_o,       // the access fails this cycle
  output logic [ERR_W-1:0]            code_o,
  // read data of the units (one cycle after the access)
  input  logic [LINE_W-1:0]           csr_rdata_i,  // combinational, sampled at the edge
  input  logic [Rows*LINE_W-1:0]      act_rdata_i,  // bank b at [LINE_W*b +: LINE_W]
  input  logic [Cols*LINE_W-1:0]      wgt_rdata_i,
  input  logic [Cols*LINE_W-1:0]      bias_rdata_i,
  input  logic [LINE_W-1:0]           out_rdata_i,
  input  logic [Rows*LINE_W-1:0]      out_wide_rdata_i,  // line L of every output bank (wide read)
  // response
  output logic                        rvalid_o,
  output logic                        rerr_o,
  output logic [LINE_W-1:0]           rdata_o,        // narrow read data (0 for a wide read)
  output logic [WideW-1:0]            wide_rdata_o    // wide read data, bank b at [LINE_W*b +: LINE_W] (0 otherwise)
);

  localparam int unsigned BankW = $clog2((Rows > Cols) ? Rows : Cols);

  logic [3:0] region;
  assign region = addr_i[ADDR_W-1:ADDR_REGION_LSB];
  assign bank_o = addr_i[ADDR_REGION_LSB-1:ADDR_BANK_LSB];
  assign line_o = addr_i[ADDR_BANK_LSB-1:0];

  logic is_act, is_wgt, is_bias, is_out, wide, rows;
  // A wide beat (bank field ADDR_BANK_ALL) addresses line L of every bank of a scratchpad region.
  assign wide      = 32'(bank_o) == ADDR_BANK_ALL;
  // A row beat (ADDR_BANK_ROWS) writes lines L .. L + Cols/4 - 1 of every activation bank, L aligned.
  assign rows      = 32'(bank_o) == ADDR_BANK_ROWS;
  assign csr_req_o = req_i && (32'(region) == REGION_CSR) && (bank_o == 8'd0);
  assign is_act    = (32'(region) == REGION_ACT)  && (32'(line_o) < ActLines) &&
                     (wide || 32'(bank_o) < Rows || (rows && we_i && (32'(line_o) % (Cols / LINE_WORDS)) == 0));
  assign is_wgt    = (32'(region) == REGION_WGT)  && (wide || 32'(bank_o) < Cols) && (32'(line_o) < WgtLines);
  assign is_bias   = (32'(region) == REGION_BIAS) && (wide || 32'(bank_o) < Cols) && (32'(line_o) < BiasLines);
  assign is_out    = (32'(region) == REGION_OUT)  && (wide || 32'(bank_o) < Rows) && (32'(line_o) <= OutLines);  // + header line
  assign wide_o    = wide;
  assign rows_o    = rows;

  always_comb begin
    code_o = ERR_W'(ERR_NONE);
    if (req_i) begin
      if (csr_req_o) begin
        code_o = csr_code_i;
      end else if (!(is_act || is_wgt || is_bias || is_out)) begin
        code_o = ERR_W'(ERR_BUS_ADDR);
      end else if (is_out && we_i) begin
        code_o = ERR_W'(ERR_BUS_RO);
      end else if (busy_i && !we_i && !is_out) begin
        code_o = ERR_W'(ERR_BUS_BUSY);  // operand scratchpad reads wait for the tile (their read port is the array's)
      end else if (busy_i && hazard_i) begin
        code_o = ERR_W'(ERR_BUS_HAZARD);  // a write into a line the running tile reads
      end
    end
    err_o      = req_i && (code_o != ERR_W'(ERR_NONE));
    spad_req_o = req_i && !csr_req_o && !err_o;
  end

  assign act_o    = is_act;
  assign wgt_o    = is_wgt;
  assign bias_o   = is_bias;
  assign out_rd_o = spad_req_o && !we_i && is_out;

  // ---- response (registered) ----
  rsp_src_e          rsrc_d, rsrc_q;
  logic              rvalid_q, rerr_q, rwide_q;
  logic [BankW-1:0]  rbank_q;
  logic [LINE_W-1:0] csr_rdata_q;

  always_comb begin
    rsrc_d = RSP_NONE;
    if (req_i && !err_o && !we_i) begin
      if (csr_req_o) begin
        rsrc_d = RSP_CSR;
      end else if (is_act) begin
        rsrc_d = RSP_ACT;
      end else if (is_wgt) begin
        rsrc_d = RSP_WGT;
      end else if (is_bias) begin
        rsrc_d = RSP_BIAS;
      end else begin
        rsrc_d = RSP_OUT;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rvalid_q    <= 1'b0;
      rerr_q      <= 1'b0;
      rwide_q     <= 1'b0;
      rsrc_q      <= RSP_NONE;
      rbank_q     <= '0;
      csr_rdata_q <= '0;
    end else begin
      rvalid_q    <= req_i;
      rerr_q      <= err_o;
      rwide_q     <= wide && !csr_req_o;
      rsrc_q      <= rsrc_d;
      rbank_q     <= bank_o[BankW-1:0];
      csr_rdata_q <= csr_rdata_i;
    end
  end

  always_comb begin
    rdata_o      = '0;
    wide_rdata_o = '0;
    if (rwide_q) begin
      unique case (rsrc_q)
        RSP_ACT:  wide_rdata_o = WideW'(act_rdata_i);
        RSP_WGT:  wide_rdata_o = WideW'(wgt_rdata_i);
        RSP_BIAS: wide_rdata_o = WideW'(bias_rdata_i);
        RSP_OUT:  wide_rdata_o = WideW'(out_wide_rdata_i);
        default:  wide_rdata_o = '0;
      endcase
    end else begin
      unique case (rsrc_q)
        RSP_CSR:  rdata_o = csr_rdata_q;
        RSP_ACT:  rdata_o = act_rdata_i[LINE_W*rbank_q[$clog2(Rows)-1:0] +: LINE_W];
        RSP_WGT:  rdata_o = wgt_rdata_i[LINE_W*rbank_q[$clog2(Cols)-1:0] +: LINE_W];
        RSP_BIAS: rdata_o = bias_rdata_i[LINE_W*rbank_q[$clog2(Cols)-1:0] +: LINE_W];
        RSP_OUT:  rdata_o = out_rdata_i;
        default:  rdata_o = '0;
      endcase
    end
  end

  assign rvalid_o = rvalid_q;
  assign rerr_o   = rerr_q;

  `BSA_ASSERT(OneResponsePerAccess, !(rvalid_o && rerr_o && rsrc_q != RSP_NONE))

endmodule
