// Dynamic fixed point (Ristretto style, no retraining) of a Network, executed through the
// driver: every MAC operator (conv, depthwise, fully connected) becomes a golden::Layer run by
// a driver::Accelerator on a Device (golden or rtl back-end); the other operators run on the
// host in fixed point. The rules are in docs/QUANTIZATION.md and are defined here only.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/tensor.hpp"
#include "bitscale/model/network.hpp"

namespace bitscale::quant {

/// Bit-widths a calibration covers (the modes of the array).
inline constexpr int kCalibrationBits[] = {4, 8, 16};

/// IL = ceil(log2(max_abs)) + 1 (one sign bit); max_abs > 0.
int integer_length(double max_abs);
/// FL = bits - IL, or bits - 1 when max_abs == 0.
int fractional_length(double max_abs, int bits);
/// saturate(round(x * 2^fl)) to the mode's range; round = to nearest, ties away from zero.
std::int32_t quantize_value(double x, int fl, golden::Mode mode);
/// A fixed-point value moved from `from_fl` to `to_fl` fractional bits: an exact left shift,
/// or a right shift with round half up (golden::round_shift). Not saturated.
std::int64_t rescale(std::int64_t v, int from_fl, int to_fl);
/// round(num / den) with ties towards +infinity, den > 0 (floor((2 num + den) / (2 den))).
std::int64_t round_div(std::int64_t num, std::int64_t den);

/// Granularity of the weights' fractional length (docs/QUANTIZATION.md): one FL per layer (the
/// seed paper's rule), one per output channel, or one per group of array columns (each
/// convolution group's channels ordered by their own FL and cut into groups of the array's
/// width, a group taking its smallest FL: per-channel precision without extra n-tiles). The
/// array applies per-channel FLs with a SHIFT per tile (golden::Layer::channel_shift).
enum class WeightFl { kLayer, kChannel, kGroup };
std::string_view to_string(WeightFl w);
/// "layer", "channel" or "group"; throws std::invalid_argument naming the accepted values.
WeightFl weight_fl_from_string(std::string_view s);

/// Activation ranges recorded by the float network on a calibration image set, and the
/// fractional length of every activation tensor for each bit-width of kCalibrationBits.
struct Calibration {
  std::string model;                 ///< model::Network::name() it was made for
  std::vector<std::string> images;   ///< the calibration images, in the order used
  std::vector<double> max_abs;       ///< per tensor index; < 0 for tensors that are not activations
  std::vector<std::vector<int>> fl;  ///< [tensor][i] for kCalibrationBits[i]; empty for non-activations

  /// Calibrated FL of an activation tensor; throws std::out_of_range for non-activations.
  [[nodiscard]] int fractional_length(int tensor, int bits) const;
  /// JSON text: {"format":"bitscale-calibration-1","model":...,"images":[...],
  /// "tensors":[{"index":i,"name":...,"max_abs":x,"fl":{"4":a,"8":b,"16":c}},...]}.
  [[nodiscard]] std::string to_json(const model::Network& net) const;
  /// Parses to_json's output and checks tensor count and names against `net`;
  /// throws std::runtime_error naming `source`.
  [[nodiscard]] static Calibration from_json(std::string_view text, const model::Network& net,
                                             const std::string& source);
  void save(const std::string& path, const model::Network& net) const;
  [[nodiscard]] static Calibration load(const std::string& path, const model::Network& net);
};

/// Accumulates max |x| of every activation tensor over float forward passes.
class Calibrator {
 public:
  explicit Calibrator(const model::Network& net);
  void add(std::span<const std::uint8_t> rgb, const std::string& name);
  /// Merges another calibrator of the same network (parallel calibration).
  void merge(const Calibrator& other);
  [[nodiscard]] std::size_t count() const { return images_.size(); }
  [[nodiscard]] Calibration result() const;

 private:
  const model::Network* net_;
  std::vector<double> max_abs_;
  std::vector<std::string> images_;
};

/// One MAC operator mapped onto the array.
struct QuantLayer {
  int op = -1;                          ///< index into model::Network::ops()
  int fl_in = 0, fl_w = 0, fl_out = 0;  ///< fl_w: the smallest of channel_fl_w if there are several
  std::vector<int> channel_fl_w;        ///< per output channel (WeightFl::kChannel, kGroup), else empty
  driver::PreparedLayer prepared;
};

struct QuantRunOptions {
  bool record_mac_outputs = false;  ///< keep every MAC layer's packed integer output
  /// Keep every MAC layer's counters (reading them costs bus cycles: only CNT_CYCLES changes).
  bool record_layer_counters = false;
};

struct QuantResult {
  std::vector<float> probabilities;
  std::vector<golden::PackedTensor> mac_outputs;  ///< per QuantLayer, if recorded
  driver::Counters counters;                      ///< of this forward pass
  std::vector<driver::Counters> layer_counters;   ///< per QuantLayer, if recorded
};

class QuantizedNetwork {
 public:
  /// Quantizes weights and plans every tensor's fractional length for `bits` (4, 8, 16);
  /// MAC layers are prepared once with `acc` (its geometry) and reusable by any Accelerator
  /// of the same geometry. Throws std::invalid_argument for what the array cannot run
  /// (dilation, K beyond a bank).
  QuantizedNetwork(const model::Network& net, const Calibration& calib, int bits, const driver::Accelerator& acc,
                   WeightFl weight_fl = WeightFl::kChannel);

  [[nodiscard]] int bits() const { return golden::bits(mode_); }
  [[nodiscard]] golden::Mode mode() const { return mode_; }
  [[nodiscard]] WeightFl weight_fl() const { return weight_fl_; }
  [[nodiscard]] const model::Network& network() const { return *net_; }
  [[nodiscard]] const std::vector<QuantLayer>& layers() const { return layers_; }
  /// Effective FL of every activation tensor (-1000 for tensors that are not activations).
  [[nodiscard]] const std::vector<int>& tensor_fl() const { return fl_; }

  /// One image through the array (MAC layers) and the host (the rest). Not thread-safe per
  /// Accelerator; the QuantizedNetwork itself may be shared by threads.
  [[nodiscard]] QuantResult run(driver::Accelerator& acc, std::span<const std::uint8_t> rgb,
                                const QuantRunOptions& opts = {}) const;

 private:
  const model::Network* net_;
  golden::Mode mode_;
  WeightFl weight_fl_;
  std::vector<int> fl_;
  std::vector<int> op_layer_;  ///< per op: index into layers_ or -1
  std::vector<QuantLayer> layers_;
  std::vector<std::vector<std::int32_t>> add_constant_;  ///< per op: quantized ADD constant
  std::vector<int> add_constant_fl_;
};

}  // namespace bitscale::quant
