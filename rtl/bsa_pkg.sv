// Types and constants of the bitscale accelerator (bsa).
// Register indices, field positions and error codes come from the generated bsa_reg_pkg.
package bsa_pkg;

  // Precision mode, MODE register encoding.
  typedef enum logic [1:0] {
    MODE_W16 = 2'd0,  // 1 lane of 16 bits per word
    MODE_W8  = 2'd1,  // 2 lanes of 8 bits
    MODE_W4  = 2'd2,  // 4 lanes of 4 bits
    MODE_BAD = 2'd3   // illegal
  } mode_e;

  // Tile sequencer states.
  typedef enum logic [1:0] {
    ST_IDLE  = 2'd0,
    ST_RUN   = 2'd1,  // read one word per cycle from every active bank
    ST_DRAIN = 2'd2,  // accumulate the last word
    ST_OUT   = 2'd3   // output stage, write the output scratchpad
  } state_e;

  localparam int unsigned ACC_W   = 48;  // accumulator width (docs/NUMERICS.md, bound < 2^44)
  localparam int unsigned SUM_W   = 32;  // sum of the lane products of one word pair
  localparam int unsigned WORD_W  = 16;  // packed operand word
  localparam int unsigned LINE_W  = 64;  // scratchpad line = bus data width
  localparam int unsigned ADDR_W  = 24;  // bus line address
  localparam int unsigned ERR_W   = 8;   // STATUS.ERR_CODE
  localparam int unsigned CNT_W   = 64;  // performance counters

  // Widened operand nibbles of one 16-bit word: 4 x 5-bit signed.
  typedef logic [3:0][4:0] nibs_t;

endpackage
