`include "bsa_compat.svh"

// Internal types and constants of the bitscale accelerator (bsa).
// Every hardware fact software also knows (register indices and fields, the precision mode
// enum mode_e, ACC_W, counters, error codes, default geometry) comes from the generated
// bsa_reg_pkg (rtl/bsa_regs.def); modules import both packages (bsa_compat.svh).
`BSA_PACKAGE(bsa_pkg)
  `BSA_IMPORT(bsa_reg_pkg)

  // Tile sequencer states. The DRAIN and output cycles after the last read are flags of their own
  // (bsa_ctrl drain_q, out_q): they overlap the first cycles of a tile started in the last read.
  typedef enum logic {
    ST_IDLE = 1'b0,
    ST_RUN  = 1'b1   // read one word per cycle from every active bank
  } state_e;

  // Unit that answers a bus read (bsa_bus response mux).
  typedef enum logic [2:0] {
    RSP_NONE = 3'd0,  // write or failed access: read data 0
    RSP_CSR  = 3'd1,
    RSP_ACT  = 3'd2,
    RSP_WGT  = 3'd3,
    RSP_BIAS = 3'd4,
    RSP_OUT  = 3'd5
  } rsp_src_e;

  localparam int unsigned SUM_W   = 32;  // sum of the lane products of one word pair
  localparam int unsigned WORD_W  = 16;  // packed operand word
  localparam int unsigned LINE_W  = 64;  // scratchpad line = bus data width
  localparam int unsigned ERR_W   = STATUS_CODE_W;  // STATUS.CODE
  localparam int unsigned CNT_W   = 64;  // performance counters

  // Widened operand nibbles of one 16-bit word: 4 x 5-bit signed, nibble i at [NIB_W*i +: NIB_W].
  localparam int unsigned NIB_W = 5;
  typedef logic [4*NIB_W-1:0] nibs_t;

  // Nibbles that top their lane (sign-extended by bsa_opdec) in a mode: lanes are B = mode_bits bits
  // wide (bsa_regs.def), so nibble i tops its lane when i + 1 is a multiple of B / 4. An illegal
  // mode never computes (START refused); its nibbles are sign-extended like 4-bit lanes.
  function automatic logic [3:0] lane_top_nibs(mode_e mode);
    int unsigned lane_nibs;  // nibbles per lane, B / 4 (a power of two; 0 in an illegal mode)
    lane_nibs = mode_bits(mode) / 4;
    for (int unsigned i = 0; i < 4; i++) begin
      lane_top_nibs[i] = (lane_nibs == 0) || (((i + 1) & (lane_nibs - 1)) == 0);
    end
  endfunction

`BSA_ENDPACKAGE
