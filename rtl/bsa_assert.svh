// Assertion macros of the bitscale accelerator. They compile to nothing under SYNTHESIS.
// A failing assertion reports its name through $error; the C++ harness counts the
// errors (errorCount of the VerilatedContext) and the driver turns them into exceptions.
`ifndef BSA_ASSERT_SVH
`define BSA_ASSERT_SVH

`ifdef SYNTHESIS
  `define BSA_ASSERT(__name, __prop)
`else
  // Concurrent assertion on clk_i, disabled in reset.
  `define BSA_ASSERT(__name, __prop)                                   \
    __name: assert property (@(posedge clk_i) disable iff (!rst_ni) (__prop)) \
      else $error("bsa usage or invariant violated (docs/ARCHITECTURE.md)");
`endif

`endif  // BSA_ASSERT_SVH
