// The layer benchmark (`bitscale bench`): simulated cycles per second of the verilated array
// and MACs per second of the golden back-ends on one fixed 3x3 convolution, against the measured
// int16 MAC peak of one core (the RTL figures only in builds with the RTL back-end).
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
  bool rtl = true;  ///< false: a build without the RTL back-end (the rtl_* figures are 0)
  double golden_device_layer_s = 0, golden_functional_layer_s = 0, golden_reference_layer_s = 0;
  double golden_sealed_layer_s = 0;  ///< golden::conv2d on the layer after golden::seal()
  std::string gemm_kernel;           ///< golden::gemm_kernel() during the run
  double int16_peak_mac_per_s = 0;   ///< golden::int16_mac_peak of that kernel (0 for "generic")
};

/// Times each measurement for at least `seconds` of wall time; throws std::runtime_error if
/// the back-ends disagree on the layer.
BenchResult run_bench(double seconds);

/// The figures, one line per measurement.
std::string bench_report(const BenchResult& r);
/// The figures as a JSON object (one line, with its newline).
std::string bench_json(const BenchResult& r);

}  // namespace bitscale::dv
