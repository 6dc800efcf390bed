// `bitscale traffic` as one library call: the bits each MAC layer moves off-chip — weights, input
// and output activations — uncompressed, at one precision per tensor (per layer), and in DPRed's
// per-group precision (docs/DPRED.md), on real images through the golden back-end.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/quant/traffic.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/stats.hpp"

namespace bitscale::study {

struct TrafficJob {
  data::DataPaths data;  ///< model, images ("": the defaults)
  std::string calib;     ///< calibration JSON or image directory ("": the even positions)
  int calib_limit = 50;
  int bits = 8;
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
  quant::QuantOptions quantization = kArrayQuantDefaults;
  int limit = 0;  ///< at most this many images of the odd positions (0: all)
  AcceleratorFactory factory;
};

struct TrafficLayer {
  std::string name;              ///< "conv 3x3 #0 (in 128x128x3, out 8)"
  int bits = 0;                  ///< the layer's data width
  quant::LayerGroups groups;     ///< activations summed over the images
  quant::SerialCycles serial;    ///< bit-serial estimate, summed over the images
  std::uint64_t array_busy = 0;  ///< this array's busy cycles (CNT_BUSY), summed over the images
  quant::BlockGating gating;     ///< exact zero-block gating estimate, summed over the images
  /// The array's group-width detector on this layer's outputs (CNT_GW1 .. CNT_GW16: output rows of the
  /// tiles of each width, docs/DPRED.md "Width detector in the RTL"), summed over the images.
  std::array<std::uint64_t, 16> detector{};
};

/// One image's figures, for intervals over images: per MAC layer, its activations' sizes
/// (input and output), and its network totals of the bit-serial estimate and the array.
struct TrafficImage {
  std::vector<golden::dpred::TensorBits> input, output;  ///< per layer
  quant::SerialCycles serial;
  std::uint64_t array_busy = 0;
};

struct TrafficOutcome {
  std::string model;
  int bits = 0;
  std::size_t images = 0;  ///< images whose activations are counted
  std::vector<TrafficLayer> layers;
  std::vector<TrafficImage> per_image;  ///< the images counted, in order
  Bootstrap boot;                       ///< of the intervals over images
};

/// Measures; throws std::invalid_argument or std::runtime_error with context.
TrafficOutcome run_traffic(const TrafficJob& job, const std::function<void(const std::string&)>& warn = {});
/// Per-layer table and network totals, per image (weights counted once per image), with 95 %
/// bootstrap intervals over the images, the group-width histograms per layer, the bit-serial
/// estimate next to the array's cycles and the exact zero-block gating estimate.
std::string traffic_report(const TrafficOutcome& r);
/// JSON: per-layer entries and network totals with bits_uncompressed, bits_per_layer,
/// bits_per_group (per image), the dense/zero-skip split, the group-width histograms, the
/// bit-serial estimate (bit_serial: cycles, cycles_full_width, array_busy_cycles), the exact
/// zero-block gating estimate (gating: block_products, skippable, activation_zero, weight_zero per
/// image) and intervals.
std::string traffic_json(const TrafficOutcome& r);

}  // namespace bitscale::study
