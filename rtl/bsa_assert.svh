// Assertion macros of the bitscale accelerator. They compile to nothing under SYNTHESIS.
// A failing assertion reports its label to the C++ harness through the DPI-C function
// bsa_assert_failed (verilator/rtl_device.cpp keeps the labels per device) and prints it
// through $error (counted in the errorCount of the VerilatedContext); the driver checks the
// count after every tile and stops the run with an error naming the labels.
`ifndef BSA_ASSERT_SVH
`define BSA_ASSERT_SVH

`ifdef SYNTHESIS
  `define BSA_ASSERT(__name, __prop)
`else
  import "DPI-C" function void bsa_assert_failed(input string label);
  // Concurrent assertion on clk_i, disabled in reset.
  `define BSA_ASSERT(__name, __prop)                                   \
    __name: assert property (@(posedge clk_i) disable iff (!rst_ni) (__prop)) \
      else begin                                                       \
        bsa_assert_failed(`"__name`");                                 \
        $error("bsa usage or invariant violated (docs/ARCHITECTURE.md)"); \
      end
`endif

`endif  // BSA_ASSERT_SVH
