// One scratchpad bank: single-port synchronous RAM, one line per cycle, registered read.
module bsa_spad #(
  parameter int unsigned Lines = 2048,
  parameter int unsigned Width = 64,
  localparam int unsigned AW = (Lines > 1) ? $clog2(Lines) : 1
) (
  input  logic             clk_i,
  input  logic             req_i,
  input  logic             we_i,
  input  logic [AW-1:0]    addr_i,
  input  logic [Width-1:0] wdata_i,
  output logic [Width-1:0] rdata_o
);

  logic [Width-1:0] mem_q [Lines];
  logic [Width-1:0] rdata_q;

  // Memory array: no reset, as an SRAM macro.
  always_ff @(posedge clk_i) begin
    if (req_i && we_i) begin
      mem_q[addr_i] <= wdata_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (req_i && !we_i) begin
      rdata_q <= mem_q[addr_i];
    end
  end

  assign rdata_o = rdata_q;

endmodule
