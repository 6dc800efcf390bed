// `bitscale regress`: random layers on the RTL and golden back-ends, compared word for word
// with each other and with the untiled golden reference, counters included.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bitscale/golden/numeric.hpp"

namespace bitscale::cli {

struct RegressOptions {
  std::uint64_t seed = 1;
  std::uint64_t count = 100;  ///< layers per mode
  std::uint64_t first = 0;    ///< index of the first layer (replay a single failing one)
  std::vector<golden::Mode> modes{golden::Mode::k16, golden::Mode::k8, golden::Mode::k4};
  int max_k = 4096;
  int max_report = 10;  ///< mismatches printed per mode
  std::string fst;      ///< waveform of the RTL run
  std::string json;     ///< summary file
  bool progress = true;
};

/// Runs the regression; returns the number of failing layers (0 = all bit-exact).
std::uint64_t run_regress(const RegressOptions& opts);

}  // namespace bitscale::cli
