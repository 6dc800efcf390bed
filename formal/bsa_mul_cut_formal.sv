`include "bsa_compat.svh"

// Proof harness (docs/FORMAL.md, "The multiplier", step (b)): the operand decoders, the block
// enables of the sequencer and the multiplier of one PE (2 x bsa_opdec, bsa_ctrl's blk_en_o,
// bsa_mul) with its 16 leaves cut: formal/mul_cut.ys replaces bsa_blkmul by a module whose output
// is driven by nothing (formal/bsa_blkmul_cut.sv) and connects, for grid block (I, J) at
// k = 4I + J, the leaf's product to the free input p_i[10k +: 10] and its enable and operands to
// leaf_en[k], leaf_a[5k +: 5], leaf_w[5k +: 5] here. For mode ModeCode, every pair of words,
// every count of valid lanes, active or inactive column, PE enable and every 16-bit skip mask S
// (MODE.BLKSKIP; bits outside the mode's grid are refused at START, so every legal mask is
// included), and every value of the 16 products (assuming only what step (a) proves of a leaf:
// a disabled leaf outputs 0), fail_o = 0 states, with nb = B / 4 blocks per lane operand:
//   - leaf (I, J) serves lane l = I / nb iff J / nb = l, as block pair (i, j) = (I mod nb, J mod nb);
//     a leaf that serves no lane is disabled;
//   - a serving leaf is enabled iff the PE is enabled and (i, j) is not in S (bit 4i + j);
//   - its activation operand is block i of lane l of the activation word, its weight operand
//     block j of lane l of the weight word, each read signed for the top block (i = nb - 1) and
//     unsigned below (docs/NUMERICS.md, "Approximate block products"), and 0 for a lane past the
//     valid ones (activation) or an inactive column (weight): "treated as 0";
//   - the output is sum over enabled leaves of p_IJ * 2^(4(i + j)) (mod 2^32, the output width;
//     formal/bsa_blocks_formal.sv proves the spec's value lies in the signed 32-bit range).
// The activation decoder's nibble enables are bsa_ctrl's (array row 0, active), made from its
// registered valid-lane count vlanes_q, connected to the harness by formal/mul_cut.ys: the count
// is a register, free in this one-step proof (`sat -seq 1` without an initial state; the clock is
// a free input so that yosys does not fold the register to a constant), and assumed 1 .. P.
// The spec side is written from the lane/block definitions of NUMERICS.md with its own table of
// nb per mode, not from the RTL's formulas.
module bsa_mul_cut_formal
  `BSA_IMPORT(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)
#(
  parameter int unsigned ModeCode = 0  // the MODE code proved (`make formal` sets each legal one)
) (
  input  logic         clk_i,     // the sequencer's clock (free: its registers stay free variables)
  input  logic [15:0]  a_i,       // packed activation word
  input  logic [15:0]  w_i,       // packed weight word
  input  logic         col_en_i,  // the weight's column is active
  input  logic         en_i,      // the PE accumulates this cycle
  input  logic [15:0]  skip_i,    // MODE.BLKSKIP
  input  logic         zgate_i,   // MODE.ZGATE
  input  logic [159:0] p_i,       // the 16 leaf products (cut points), leaf k at [10k +: 10]
  output logic         fail_o
);

  mode_e mode;
  assign mode[MODE_W-1:0] = MODE_W'(ModeCode);  // part-select: no casts to a type in yosys 0.23

  // ---- the spec's table (docs/NUMERICS.md): blocks per lane operand, lanes per word ----
  // (MODE = 3 never computes: START refused; its entry is never used)
  localparam int unsigned NB    = (ModeCode == MODE_16) ? 4 : (ModeCode == MODE_8) ? 2 : 1;
  localparam int unsigned LANES = (ModeCode == MODE_16) ? 1 : (ModeCode == MODE_8) ? 2 :
                                  (ModeCode == MODE_4) ? 4 : 0;

  // ---- the RTL ----
  logic [3:0] nib_en;
  nibs_t      a_nibs, w_nibs;
  logic [15:0] blk_en;
  logic signed [SUM_W-1:0] sum;

  // The activation nibble enables of array row 0 (active: ROWS_ACT = 1) as the sequencer makes
  // them from its registered valid-lane count of the word, vlanes_q, which formal/mul_cut.ys
  // connects to vlanes here (a register: free in this one-step proof, assumed 1 .. P).
  logic [2:0] vlanes;
  logic [63:0] act_nib_en;
  assign nib_en = act_nib_en[3:0];

  bsa_opdec u_adec (.top_nib_i(lane_top_nibs(mode)), .word_i(a_i), .nib_en_i(nib_en), .nibs_o(a_nibs));
  bsa_opdec u_wdec (.top_nib_i(lane_top_nibs(mode)), .word_i(w_i), .nib_en_i({4{col_en_i}}), .nibs_o(w_nibs));

  // The block enables come from the sequencer, combinational in MODE and BLKSKIP alone; its
  // other inputs (tied to 0) do not reach them.
  bsa_ctrl u_ctrl (
    .clk_i(clk_i), .rst_ni(1'b1), .start_i(1'b0), .mode_i(mode), .k_i(16'd0),
    .rows_act_i(9'd1), .cols_act_i(9'd0), .act_base_i(16'd0), .wgt_base_i(16'd0),
    .bias_base_i(16'd0), .start_act_base_i(16'd0), .start_wgt_base_i(16'd0), .start_bias_base_i(16'd0), .shift_i(6'd0), .bias_en_i(1'b0), .acc_keep_i(1'b0), .blk_skip_i(skip_i),
    .zgate_i(zgate_i), .a_nzc_i(36'd0), .w_nzc_i(36'd0), .dw_i(1'b0),
    .bus_line_i(12'd0), .bus_act_i(1'b0), .bus_rows_i(1'b0), .bus_wgt_i(1'b0), .bus_bias_i(1'b0), .hazard_o(),
    .busy_o(), .run_o(), .start_ok_o(), .start_err_o(), .start_code_o(), .tile_done_o(), .done_o(), .rd_en_o(),
    .act_word_o(), .wgt_word_o(), .bias_rd_o(), .act_sel_o(), .wgt_sel_o(), .bias_sel_o(),
    .act_nib_en_o(act_nib_en), .col_en_o(), .init_o(), .acc_en_o(), .out_en_o(), .blk_en_o(blk_en),
    .mac_inc_o(), .blk_inc_o(), .rd_words_o(), .wr_words_o(), .zskip_inc_o()
  );

  // The zero-block flags as bsa_array makes them from the decoded nibbles (all ones without ZGATE).
  logic [3:0] a_nz, w_nz;
  for (genvar i = 0; i < 4; i++) begin : g_nz
    assign a_nz[i] = !zgate_i || (a_nibs[NIB_W*i +: NIB_W] != '0);
    assign w_nz[i] = !zgate_i || (w_nibs[NIB_W*i +: NIB_W] != '0);
  end

  bsa_mul u_mul (.en_i(en_i), .mode_i(mode), .blk_en_i(blk_en), .a_nz_i(a_nz), .w_nz_i(w_nz),
                 .a_i(a_nibs), .w_i(w_nibs),
                 .sum_o(sum));

  // The cut leaves' ports, connected by formal/mul_cut.ys.
  logic [15:0] leaf_en;
  logic [79:0] leaf_a, leaf_w;

  // ---- the spec, per grid block (I, J), all indices elaboration-time constants ----
  logic [15:0]  leaf_ok, disabled_zero, spec_en;
  logic [511:0] term;  // block (I, J)'s weighted product at [32k +: 32] (0 when disabled)

  for (genvar gI = 0; gI < 4; gI++) begin : g_i
    for (genvar gJ = 0; gJ < 4; gJ++) begin : g_j
      localparam integer K    = 4 * gI + gJ;
      localparam integer L    = gI / NB;         // lane of the activation nibble
      localparam integer BI   = gI % NB;         // block pair (i, j)
      localparam integer BJ   = gJ % NB;
      localparam integer SERV = (gJ / NB) == L;  // the block serves lane L
      // block i of lane l of a word: bits [B*l + 4i +: 4] = [4*(NB*l + i) +: 4]
      logic [3:0] a_nib, w_nib;
      logic [4:0] spec_a, spec_w;
      logic [9:0] p;
      assign a_nib  = a_i[4*(NB*L+BI) +: 4];
      assign w_nib  = w_i[4*(NB*L+BJ) +: 4];
      // signed for the top block (i = nb - 1), unsigned below; 0 past the valid lanes / columns
      assign spec_a = (32'(vlanes) <= L) ? 5'd0 : (BI == NB - 1) ? {a_nib[3], a_nib} : {1'b0, a_nib};
      assign spec_w = !col_en_i ? 5'd0 : (BJ == NB - 1) ? {w_nib[3], w_nib} : {1'b0, w_nib};
      // with ZGATE, a pair whose (treated-as-0 included) activation or weight block is 0000 is off
      assign spec_en[K] = SERV && en_i && !skip_i[4*BI+BJ] && (!zgate_i || (spec_a != 5'd0 && spec_w != 5'd0));
      assign p = p_i[10*K +: 10];
      // step (a): a disabled leaf outputs 0
      assign disabled_zero[K] = leaf_en[K] || (p == 10'd0);
      assign leaf_ok[K] = SERV ? (leaf_en[K] == spec_en[K] && leaf_a[5*K +: 5] == spec_a &&
                                  leaf_w[5*K +: 5] == spec_w)
                               : !leaf_en[K];
      assign term[32*K +: 32] = spec_en[K] ? ({{22{p[9]}}, p} << (4 * (BI + BJ))) : 32'd0;
    end
  end

  logic [31:0] ref_sum;
  always_comb begin
    ref_sum = '0;
    for (int unsigned k = 0; k < 16; k++) begin
      ref_sum = ref_sum + term[32*k +: 32];
    end
  end

  logic assume_ok;
  assign assume_ok = (32'(vlanes) >= 1) && (32'(vlanes) <= LANES) && (&disabled_zero);

  assign fail_o = assume_ok && !((&leaf_ok) && 32'(sum) == ref_sum);

endmodule
