`include "bsa_compat.svh"

// Rows x Cols array of PEs with broadcast operands (Envision-style 2-D SIMD array):
// row r gets one activation word, column c one weight word per cycle. Operands are decoded
// once per row and per column. On out_en_i, every PE's accumulator goes through its output
// stage and each row packs its Cols outputs in the mode's subword format.
module bsa_array
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
#(
  parameter int unsigned Rows = 16,
  parameter int unsigned Cols = 16
) (
  // Per-row and per-column vectors are flat: element i of width W at [W*i +: W].
  input  logic                              clk_i,
  input  logic                              rst_ni,
  input  mode_e                             mode_i,
  input  logic [15:0]                       blk_en_i,  // bsa_mul grid block enables (bsa_ctrl)
  input  logic                              zgate_i,   // MODE.ZGATE: gate block products of zero blocks
  // operands (valid when acc_en_i)
  input  logic [Rows*WORD_W-1:0]            act_i,
  input  logic [4*Rows-1:0]                 act_nib_en_i,
  // MODE.DW (docs/NUMERICS.md "Depthwise mode"): PE (r, c) takes word c of row r's Cols-word read
  input  logic                              dw_i,
  input  logic [Rows*Cols*WORD_W-1:0]       act_dw_i,     // row r word c at [WORD_W*(Cols*r+c) +: WORD_W]
  input  logic [Cols*WORD_W-1:0]            wgt_i,
  input  logic [Cols-1:0]                   col_en_i,
  // accumulator control
  input  logic                              init_i,
  input  logic [Cols*32-1:0]                bias_i,
  input  logic                              acc_en_i,
  // output stage
  input  logic                              out_en_i,
  input  logic [5:0]                        shift_i,
  // OUT_CFG.COL_SHIFT with BIAS_EN (docs/NUMERICS.md "Per-column shifts"): bias entry bits [31:26] are
  // the column's shift (taken at init_i, 47 if above), bits [25:0] its signed bias
  input  logic                              col_shift_i,
  input  logic                              relu_i,
  input  logic                              clamp_en_i,
  input  logic signed [15:0]                clamp_hi_i,
  output logic [Rows*Cols*WORD_W-1:0]       out_row_o,
  // zero-block gating (MODE.ZGATE): rows / columns whose operand block i is non-zero, count i at
  // [9*i +: 9] (0 without ZGATE), for CNT_BLK and CNT_ZSKIP (bsa_ctrl)
  output logic [4*9-1:0]                    a_nzc_o,
  output logic [4*9-1:0]                    w_nzc_o,
  output logic [Rows*OUT_HDR_GW_W-1:0]      row_gw_o   // width of row r (1 .. B) at [OUT_HDR_GW_W*r +:]
);

  localparam int unsigned RowW = Cols * WORD_W;  // bits of one packed output row

  logic [3:0] top_nib;  // the nibbles that top their lane in this mode, for every decoder
  nibs_t a_nibs [Rows];
  nibs_t w_nibs [Cols];
  logic signed [15:0] y [Rows][Cols];
  nibs_t a_pe [Rows][Cols];  // activation operand of each PE: the row's, or its own in DW mode

  assign top_nib = lane_top_nibs(mode_i);

  for (genvar r = 0; r < Rows; r++) begin : g_row_dec
    bsa_opdec u_dec (
      .top_nib_i (top_nib),
      .word_i   (act_i[WORD_W*r +: WORD_W]),
      .nib_en_i (act_nib_en_i[4*r +: 4]),
      .nibs_o   (a_nibs[r])
    );
  end

  // DW mode: one decoder per PE (each PE has its own activation word), then a 2:1 mux per PE.
  for (genvar r = 0; r < Rows; r++) begin : g_dw_row
    for (genvar c = 0; c < Cols; c++) begin : g_dw_col
      nibs_t dw_nibs;
      bsa_opdec u_dec (
        .top_nib_i (top_nib),
        .word_i   (act_dw_i[WORD_W*(Cols*r+c) +: WORD_W]),
        .nib_en_i (act_nib_en_i[4*r +: 4]),
        .nibs_o   (dw_nibs)
      );
      assign a_pe[r][c] = dw_i ? dw_nibs : a_nibs[r];
    end
  end

  for (genvar c = 0; c < Cols; c++) begin : g_col_dec
    bsa_opdec u_dec (
      .top_nib_i (top_nib),
      .word_i   (wgt_i[WORD_W*c +: WORD_W]),
      .nib_en_i ({4{col_en_i[c]}}),
      .nibs_o   (w_nibs[c])
    );
  end

  // ---- exact zero-block gating (docs/NUMERICS.md, "Exact zero-block gating") ----
  // A block is zero when its decoded nibble is 0 (a raw nibble 0000, or a disabled one: lanes past
  // K, inactive rows and columns). Detected once per row and per column operand at the array edge
  // and broadcast; PE (r, c) gates block product (i, j) when a_nz[r][i] & w_nz[c][j] is 0. Without
  // ZGATE every flag is 1 and the counts are not evaluated.
  logic [4*Rows-1:0] a_nz;  // row r, block i at [4*r+i]
  logic [4*Cols-1:0] w_nz;  // column c, block j at [4*c+j]
  for (genvar r = 0; r < Rows; r++) begin : g_row_nz
    for (genvar i = 0; i < 4; i++) begin : g_nib
      assign a_nz[4*r+i] = !zgate_i || (a_nibs[r][NIB_W*i +: NIB_W] != '0);
    end
  end
  for (genvar c = 0; c < Cols; c++) begin : g_col_nz
    for (genvar j = 0; j < 4; j++) begin : g_nib
      assign w_nz[4*c+j] = !zgate_i || (w_nibs[c][NIB_W*j +: NIB_W] != '0);
    end
  end
  // Counts per block position: a population count over the rows and one over the columns (never
  // per PE); bsa_ctrl multiplies them per kept block pair.
  always_comb begin
    a_nzc_o = '0;
    w_nzc_o = '0;
    if (zgate_i && acc_en_i) begin
      for (int unsigned i = 0; i < 4; i++) begin
        for (int unsigned r = 0; r < Rows; r++) begin
          a_nzc_o[9*i +: 9] = a_nzc_o[9*i +: 9] + 9'(a_nz[4*r+i]);
        end
        for (int unsigned c = 0; c < Cols; c++) begin
          w_nzc_o[9*i +: 9] = w_nzc_o[9*i +: 9] + 9'(w_nz[4*c+i]);
        end
      end
    end
  end

  // Per-column shifts: the bias entry is split into shift and a 26-bit bias; the shift is kept from
  // init_i (the bias read) to the output edge. COL_SHIFT is a configuration bit: stable while busy.
  logic [Cols*32-1:0] bias_pe;
  logic [5:0]         shift_col [Cols];
  for (genvar c = 0; c < Cols; c++) begin : g_col_shift
    logic [5:0] col_shift_q;
    logic [5:0] entry_shift;
    assign entry_shift = bias_i[32*c+26 +: 6];
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        col_shift_q <= 6'd0;
      end else if (init_i) begin
        col_shift_q <= (entry_shift > 6'(ACC_W - 1)) ? 6'(ACC_W - 1) : entry_shift;
      end
    end
    assign bias_pe[32*c +: 32] = col_shift_i ? {{6{bias_i[32*c+25]}}, bias_i[32*c +: 26]} : bias_i[32*c +: 32];
    assign shift_col[c]        = col_shift_i ? col_shift_q : shift_i;
  end

  for (genvar r = 0; r < Rows; r++) begin : g_row
    for (genvar c = 0; c < Cols; c++) begin : g_col
      logic signed [ACC_W-1:0] acc;

      bsa_pe u_pe (
        .clk_i    (clk_i),
        .rst_ni   (rst_ni),
        .mode_i   (mode_i),
        .blk_en_i (blk_en_i),
        .a_nz_i   (a_nz[4*r +: 4]),
        .w_nz_i   (w_nz[4*c +: 4]),
        .a_i      (a_pe[r][c]),
        .w_i      (w_nibs[c]),
        .init_i   (init_i),
        .bias_i   (bias_pe[32*c +: 32]),
        .acc_en_i (acc_en_i),
        .acc_o    (acc)
      );

      bsa_outstage u_out (
        .en_i       (out_en_i & col_en_i[c]),
        .mode_i     (mode_i),
        .acc_i      (acc),
        .shift_i    (shift_col[c]),
        .relu_i     (relu_i),
        .clamp_en_i (clamp_en_i),
        .clamp_hi_i (clamp_hi_i),
        .y_o        (y[r][c])
      );
    end
  end

  // Pack each row: output c goes to bits [B*c +: B] (lane c mod P of word c / P).
  always_comb begin
    out_row_o = '0;
    if (out_en_i) begin
      for (int unsigned r = 0; r < Rows; r++) begin
        for (int unsigned c = 0; c < Cols; c++) begin
          unique case (mode_i)
            MODE_16: out_row_o[RowW*r + 16*c +: 16] = y[r][c];
            MODE_8:  out_row_o[RowW*r + 8*c +: 8]   = y[r][c][7:0];
            default: out_row_o[RowW*r + 4*c +: 4]   = y[r][c][3:0];
          endcase
        end
      end
    end
  end

  // Group-width detector (docs/NUMERICS.md, "Group-width detector"): the width of row r is the
  // largest minimal two's-complement width of its outputs as written (the low B bits, signed).
  // Leading-sign detection: bit i of d is set when bit i of an output differs from its sign bit;
  // the OR over the row's outputs has its highest set bit at width - 2 (none set: width 1).
  // Outputs of inactive columns are 0 and set no bit. Evaluated only on out_en_i: the same function
  // (all outputs are 0 otherwise, width 1), written so that the verilated model skips it on the
  // other cycles (docs/PERFORMANCE.md).
  for (genvar r = 0; r < Rows; r++) begin : g_gw
    logic [14:0] d_row;
    logic [15:0] x;  // an output as written, sign-extended from B bits
    logic [OUT_HDR_GW_W-1:0] gw;

    always_comb begin
      d_row = '0;
      x     = '0;
      gw    = OUT_HDR_GW_W'(1);
      if (out_en_i) begin
        for (int unsigned c = 0; c < Cols; c++) begin
          unique case (mode_i)
            MODE_16: x = y[r][c];
            MODE_8:  x = {{8{y[r][c][7]}}, y[r][c][7:0]};
            default: x = {{12{y[r][c][3]}}, y[r][c][3:0]};
          endcase
          d_row = d_row | (x[14:0] ^ {15{x[15]}});
        end
        for (int unsigned i = 0; i < 15; i++) begin
          if (d_row[i]) begin
            gw = OUT_HDR_GW_W'(i + 2);
          end
        end
      end
    end

    assign row_gw_o[OUT_HDR_GW_W*r +: OUT_HDR_GW_W] = gw;
  end

endmodule
