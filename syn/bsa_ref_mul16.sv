// Reference for the cell counts of docs/SYNTHESIS.md: a plain signed 16 x 16 multiplier, the
// 16-bit mode of bsa_mul without its reconfiguration.
module bsa_ref_mul16 (
  input  logic signed [15:0] a_i,
  input  logic signed [15:0] w_i,
  output logic signed [31:0] p_o
);

  assign p_o = a_i * w_i;

endmodule
