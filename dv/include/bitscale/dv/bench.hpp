// The layer benchmark (`bitscale bench`): simulated cycles per second of the verilated array
// and MACs per second of the golden back-ends on one fixed 3x3 convolution.
#pragma once

#include <cstdint>
#include <string>

#include "bitscale/golden/tensor.hpp"

namespace bitscale::dv {

/// The fixed benchmark layer: 3x3 convolution, 14x14x64 -> 14x14x64, pad 1, 8-bit.
struct BenchLayer {
  golden::Layer layer;
  golden::PackedTensor input;
};
BenchLayer bench_layer();

struct BenchResult {
  std::int64_t layer_macs = 0;
  double rtl_array_cycles_per_s = 0;  ///< array-bound tile (16x16, 16-bit, K = 8192)
  double rtl_layer_s = 0;
  std::uint64_t rtl_layer_cycles = 0;
  double golden_device_layer_s = 0, golden_functional_layer_s = 0, golden_reference_layer_s = 0;
};

/// Times each measurement for at least `seconds` of wall time; throws std::runtime_error if
/// the back-ends disagree on the layer.
BenchResult run_bench(double seconds);

/// The figures, one line per measurement.
std::string bench_report(const BenchResult& r);
/// The figures as a JSON object (one line, with its newline).
std::string bench_json(const BenchResult& r);

}  // namespace bitscale::dv
