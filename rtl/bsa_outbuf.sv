`include "bsa_compat.svh"

// Output scratchpad: one register row of Cols packed outputs per array row, written by the
// array's output stage (rows below ROWS_ACT), read over the bus one 64-bit line at a time.
// Line OutLines of bank r is the row's header: its group width (bits [OUT_HDR_GW_W-1:0]),
// written by every tile (0 for rows at or above ROWS_ACT), 0 after reset.
// The read data is registered (held between reads) and answers in the cycle after the access.
module bsa_outbuf
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
#(
  parameter int unsigned Rows     = 16,
  parameter int unsigned Cols     = 16,
  parameter int unsigned OutLines = Cols / 4,
  localparam int unsigned RowAW   = $clog2(Rows),
  localparam int unsigned OutAW   = $clog2(OutLines + 1)  // output lines and the header line
) (
  input  logic                             clk_i,
  input  logic                             rst_ni,
  // write: the array's output rows and their group widths
  input  logic                             we_i,
  input  logic [8:0]                       rows_act_i,
  input  logic [Rows*Cols*WORD_W-1:0]      row_i,  // row r at [Cols*WORD_W*r +: Cols*WORD_W]
  input  logic [Rows*OUT_HDR_GW_W-1:0]     gw_i,   // width of row r at [OUT_HDR_GW_W*r +: OUT_HDR_GW_W]
  // bus read
  input  logic                             re_i,
  input  logic [RowAW-1:0]                 bank_i,
  input  logic [OutAW-1:0]                 line_i,
  input  logic                             wide_i,       // wide read: line_i of every bank
  output logic [LINE_W-1:0]                rdata_o,      // narrow read (held between narrow reads)
  output logic [Rows*LINE_W-1:0]           wide_rdata_o  // wide read, bank r at [LINE_W*r +: LINE_W] (held)
);

  logic [Cols*WORD_W-1:0]   out_q [Rows];
  logic [OUT_HDR_GW_W-1:0]  hdr_q [Rows];
  logic [LINE_W-1:0]        rdata_d, rdata_q;
  logic [Rows*LINE_W-1:0]   wide_d, wide_q;

  for (genvar r = 0; r < Rows; r++) begin : g_out
    always_ff @(posedge clk_i) begin
      if (we_i && 9'(r) < rows_act_i) begin
        out_q[r] <= row_i[Cols*WORD_W*r +: Cols*WORD_W];
      end
    end

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        hdr_q[r] <= '0;
      end else if (we_i) begin
        hdr_q[r] <= (9'(r) < rows_act_i) ? gw_i[OUT_HDR_GW_W*r +: OUT_HDR_GW_W] : '0;
      end
    end
  end

  always_comb begin
    rdata_d = rdata_q;
    wide_d  = wide_q;
    for (int unsigned r = 0; r < Rows; r++) begin
      if (re_i && wide_i) begin
        wide_d[LINE_W*r +: LINE_W] = (32'(line_i) == OutLines) ? LINE_W'(hdr_q[r]) : out_q[r][LINE_W*line_i +: LINE_W];
      end
    end
    if (re_i && !wide_i) begin
      if (32'(line_i) == OutLines) begin
        rdata_d = LINE_W'(hdr_q[bank_i]);
      end else begin
        rdata_d = out_q[bank_i][LINE_W*line_i +: LINE_W];
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rdata_q <= '0;
      wide_q  <= '0;
    end else begin
      rdata_q <= rdata_d;
      wide_q  <= wide_d;
    end
  end

  assign rdata_o      = rdata_q;
  assign wide_rdata_o = wide_q;

endmodule
