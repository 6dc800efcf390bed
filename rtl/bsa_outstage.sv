`include "bsa_compat.svh"

// Output stage of one PE (docs/NUMERICS.md): arithmetic right shift with round half up
// (ties towards +inf), saturation to the mode's bit-width, optional ReLU and upper clamp.
// The result is a 16-bit signed value whose low B bits are the B-bit output.
module bsa_outstage
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
(
  input  logic                    en_i,
  input  mode_e                   mode_i,
  input  logic signed [ACC_W-1:0] acc_i,
  input  logic [5:0]              shift_i,
  input  logic                    relu_i,
  input  logic                    clamp_en_i,
  input  logic signed [15:0]      clamp_hi_i,
  output logic signed [15:0]      y_o
);

  logic signed [ACC_W:0] rounded;  // one guard bit: acc + 2^(s-1) cannot overflow
  logic signed [ACC_W:0] shifted;
  logic signed [ACC_W:0] lo, hi;
  logic signed [15:0]    y;

  always_comb begin
    rounded = '0;
    shifted = '0;
    lo      = '0;
    hi      = '0;
    y       = '0;
    if (en_i && mode_legal(mode_i)) begin  // an illegal mode never gets here (START refused)
      rounded = {acc_i[ACC_W-1], acc_i};
      if (shift_i != 6'd0) begin
        rounded = rounded + ((ACC_W+1)'(1) << (shift_i - 6'd1));
      end
      shifted = rounded >>> shift_i;
      // Saturation to the B-bit range -2^(B-1) .. 2^(B-1) - 1 (mode_out_max, bsa_regs.def).
      hi = (ACC_W+1)'(mode_out_max(mode_i));
      lo = -hi - (ACC_W+1)'(1);
      if (shifted < lo) begin
        y = lo[15:0];
      end else if (shifted > hi) begin
        y = hi[15:0];
      end else begin
        y = shifted[15:0];
      end
      if (relu_i && y < 16'sd0) begin
        y = '0;
      end
      if (clamp_en_i && y > clamp_hi_i) begin
        y = clamp_hi_i;
      end
    end
  end

  assign y_o = y;

endmodule
