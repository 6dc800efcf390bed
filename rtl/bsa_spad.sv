// One scratchpad bank: synchronous RAM with one read port and one write port (1R1W), one line
// per port and cycle, registered read. The write port serves the bus; the read port the array
// while a tile runs, else the bus. A bus write while a tile runs (docs/ARCHITECTURE.md "Bus",
// transfers overlapped with compute) never addresses a line the tile reads (ERR_BUS_HAZARD), so
// the two ports never meet on one line.
module bsa_spad #(
  parameter int unsigned Lines = 2048,
  parameter int unsigned Width = 64,
  localparam int unsigned AW = (Lines > 1) ? $clog2(Lines) : 1
) (
  input  logic             clk_i,
  input  logic             re_i,
  input  logic [AW-1:0]    raddr_i,
  output logic [Width-1:0] rdata_o,
  input  logic             we_i,
  input  logic [AW-1:0]    waddr_i,
  input  logic [Width-1:0] wdata_i
);

  logic [Width-1:0] mem_q [Lines];
  logic [Width-1:0] rdata_q;

  // Memory array: no reset, as an SRAM macro.
  always_ff @(posedge clk_i) begin
    if (we_i) begin
      mem_q[waddr_i] <= wdata_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (re_i) begin
      rdata_q <= mem_q[raddr_i];
    end
  end

  assign rdata_o = rdata_q;

endmodule
