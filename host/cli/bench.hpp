// `bitscale bench`: simulated cycles per second of the verilated array and MACs per second
// of the golden model on a fixed layer.
#pragma once

#include <string>

namespace bitscale::cli {

struct BenchOptions {
  double seconds = 2.0;  ///< minimum wall time per measurement
  std::string json;      ///< write the figures here too
};

void run_bench(const BenchOptions& opts);

}  // namespace bitscale::cli
