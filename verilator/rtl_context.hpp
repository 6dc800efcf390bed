// Private to the RTL harness: the Verilator context of one device, which also keeps the labels of
// its failed assertions (filled by bsa_assert_failed, the DPI-C function of rtl/bsa_assert.svh).
#pragma once

#include <string>
#include <vector>

#include "verilated.h"

namespace bitscale::rtl::detail {

// Verilator keeps a per-thread "current context" (assertion counts, scope registry); each device
// selects its own before its model runs, so the DPI call finds the log of the model that failed.
struct Context final : VerilatedContext {
  std::vector<std::string> assertion_log;  ///< labels of the failed assertions, oldest first
};

}  // namespace bitscale::rtl::detail
