`include "bsa_compat.svh"

// Proof harness (docs/FORMAL.md): the output stage of one PE, bsa_outstage, against the steps of
// docs/NUMERICS.md "Output stage" for mode ModeCode and every accumulator, shift < ACC_W, ReLU,
// clamp and CLAMP_HI. The rounding is checked through its defining inequality, not a formula:
// y = floor((acc + 2^(s-1)) / 2^s) <=> y * 2^(s+1) <= 2 acc + 2^s < (y + 1) * 2^(s+1) (s = 0
// included), so the check does not restate the RTL's shift-and-add. fail_o must be 0 for every
// input; `make formal` proves it for each mode with yosys's SAT solver.
module bsa_outstage_formal
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
#(
  parameter int unsigned ModeCode = 0  // the MODE code proved (`make formal` sets each legal one)
) (
  input  logic signed [ACC_W-1:0] acc_i,
  input  logic [5:0]              shift_i,
  input  logic                    relu_i,
  input  logic                    clamp_en_i,
  input  logic signed [15:0]      clamp_hi_i,
  input  logic                    en_i,
  output logic                    fail_o
);

  mode_e mode;
  assign mode[MODE_W-1:0] = MODE_W'(ModeCode);  // part-select: no casts to a type in yosys 0.23

  // ---- the RTL: the full stage, and the same accumulator without ReLU and clamp ----
  logic signed [15:0] y, y_sat;
  bsa_outstage u_full (
    .en_i(en_i), .mode_i(mode), .acc_i(acc_i), .shift_i(shift_i), .relu_i(relu_i),
    .clamp_en_i(clamp_en_i), .clamp_hi_i(clamp_hi_i), .y_o(y)
  );
  bsa_outstage u_sat (
    .en_i(1'b1), .mode_i(mode), .acc_i(acc_i), .shift_i(shift_i), .relu_i(1'b0),
    .clamp_en_i(1'b0), .clamp_hi_i(16'sd0), .y_o(y_sat)
  );

  // ---- the spec ----
  localparam int unsigned XW = ACC_W + 18;  // y * 2^(s+1) with |y| <= 2^15, s + 1 <= 48
  logic signed [XW-1:0] lo, hi, two_acc_half, y_lo, y_hi, yx;
  logic                 legal, round_ok, steps_ok;
  logic signed [15:0]   y_relu, y_ref;

  always_comb begin
    legal = (32'(shift_i) < ACC_W);
    // Step 2: the range of a B-bit output.
    unique case (mode)
      MODE_16: begin lo = XW'(-32'sd32768); hi = XW'(32767); end
      MODE_8:  begin lo = XW'(-32'sd128);   hi = XW'(127);   end
      MODE_4:  begin lo = XW'(-32'sd8);     hi = XW'(7);     end
      default: begin lo = '0; hi = '0; legal = 1'b0; end
    endcase
    // Step 1 through its inequality: y*2^(s+1) <= 2 acc + 2^s < (y+1)*2^(s+1).
    yx           = XW'(y_sat);
    two_acc_half = (XW'(acc_i) <<< 1) + (XW'(1) <<< shift_i);
    y_lo         = yx <<< (shift_i + 6'd1);
    y_hi         = (yx + XW'(1)) <<< (shift_i + 6'd1);
    // Inside the range the result is the rounded value; at a bound, the rounded value is beyond it.
    round_ok = (yx >= lo) && (yx <= hi) &&
               (yx == lo || y_lo <= two_acc_half) &&
               (yx == hi || two_acc_half < y_hi);
    // Steps 3 and 4 on the saturated value.
    y_relu = (relu_i && y_sat < 16'sd0) ? 16'sd0 : y_sat;
    y_ref  = (clamp_en_i && y_relu > clamp_hi_i) ? clamp_hi_i : y_relu;
    steps_ok = en_i ? (y == y_ref) : (y == 16'sd0);
  end

  assign fail_o = legal && !(round_ok && steps_ok);

endmodule
