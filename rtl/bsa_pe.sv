`include "bsa_compat.svh"

// Processing element: one reconfigurable multiplier and a 48-bit accumulator.
// Output stationary: on every acc_en_i cycle the accumulator adds the sum of the lane products of
// its row and column operands; with init_i (the tile's first word) it takes the bias plus that sum
// instead, so a tile's first products can meet the previous tile's output edge.
module bsa_pe
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  mode_e                   mode_i,
  input  logic [15:0]             blk_en_i,
  input  logic [3:0]              a_nz_i,
  input  logic [3:0]              w_nz_i,
  input  nibs_t                   a_i,
  input  nibs_t                   w_i,
  input  logic                    init_i,
  input  logic signed [31:0]      bias_i,
  input  logic                    acc_en_i,
  output logic signed [ACC_W-1:0] acc_o
);

  logic signed [SUM_W-1:0] sum;
  logic signed [ACC_W-1:0] acc_d, acc_q;

  bsa_mul u_mul (
    .en_i   (acc_en_i),
    .mode_i (mode_i),
    .blk_en_i (blk_en_i),
    .a_nz_i   (a_nz_i),
    .w_nz_i   (w_nz_i),
    .a_i    (a_i),
    .w_i    (w_i),
    .sum_o  (sum)
  );

  always_comb begin
    acc_d = acc_q;
    if (acc_en_i) begin
      acc_d = (init_i ? ACC_W'(bias_i) : acc_q) + ACC_W'(sum);
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      acc_q <= '0;
    end else begin
      acc_q <= acc_d;
    end
  end

  assign acc_o = acc_q;

endmodule
