// A Network in dynamic fixed point (Ristretto style, no retraining) executed through the
// driver: every MAC operator (conv, fully connected) becomes a golden::Layer run by a
// driver::Accelerator on a Device (golden or rtl back-end); the other operators run on the
// host in fixed point. The rules are in docs/QUANTIZATION.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/tensor.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/quant/calibration.hpp"
#include "bitscale/quant/fixed_point.hpp"

namespace bitscale::quant {

namespace host {
struct QTensor;
}

/// Granularity of the weights' fractional length (docs/QUANTIZATION.md): one FL per layer (the
/// seed paper's rule), one per output channel, or one per group of array columns (each
/// convolution group's channels ordered by their own FL and cut into groups of the array's
/// width, a group taking its smallest FL: per-channel precision without extra n-tiles). The
/// array applies per-channel FLs with a SHIFT per tile (golden::Layer::channel_shift).
enum class WeightFl { kLayer, kChannel, kGroup };
std::string_view to_string(WeightFl w);
/// "layer", "channel" or "group"; throws std::invalid_argument naming the accepted values.
WeightFl weight_fl_from_string(std::string_view s);

/// Precision of the classifier, the last MAC operator (the one feeding the softmax): the level's
/// (the seed paper) or 16-bit in every level, so that the logits, hence the confidence, keep a
/// 16-bit resolution (docs/QUANTIZATION.md); the operators after it run at 16 bits too.
enum class ClassifierPrecision { kLevel, kWide };
/// "level" or "16".
std::string_view to_string(ClassifierPrecision c);
/// "level" or "16"; throws std::invalid_argument naming the accepted values.
ClassifierPrecision classifier_precision_from_string(std::string_view s);

/// The host-side choices of a quantization besides the weight FL rule. The defaults are the
/// seed paper's (and this library's historical behaviour); array runs of the study default to
/// ClassifierPrecision::kWide (study::kArrayQuantDefaults).
struct QuantOptions {
  ClassifierPrecision classifier = ClassifierPrecision::kLevel;
  Rounding rounding = Rounding::kNearest;
  std::uint64_t rounding_seed = 0;  ///< stochastic rounding only
  bool operator==(const QuantOptions&) const = default;
};
/// E.g. "classifier 16-bit, round to nearest" or "classifier at the level, stochastic rounding (seed 7)".
std::string describe(const QuantOptions& o);

/// Compensation of the block products an Ax-BxP configuration skips (docs/NUMERICS.md,
/// "Approximate block products", "Compensation"): none (the skipped products contribute 0), or
/// their expected sum per output channel, from the weights and the calibration images' mean of
/// every activation block per input channel, added to the layer's bias.
enum class ApproxCompensation { kNone, kMean };
/// "none" or "mean".
std::string_view to_string(ApproxCompensation c);
/// "none" or "mean"; throws std::invalid_argument naming the accepted values.
ApproxCompensation approx_compensation_from_string(std::string_view s);

/// Activation block statistics of every MAC layer, measured on calibration images
/// (measure_block_means): mean[layer][c * golden::blocks(mode) + i] is the mean over the images
/// and the pixels of block i (golden::block_of) of input channel c of the layer's input.
struct BlockMeans {
  std::size_t images = 0;
  std::vector<std::vector<double>> mean;
};

/// The compensation of `layer` under skip mask `x` (docs/NUMERICS.md): per output channel n,
/// round(sum over the taps k = (kh, kw, c) of v(kh, kw) * sum over the skipped pairs (i, j) of
/// mean[c * nb + i] * w_j[n][k] * 2^(4(i+j))), v(kh, kw) the fraction of output pixels whose tap
/// (kh, kw) reads the input rather than the zero padding. All zeros for an exact x. Throws
/// std::invalid_argument when `mean` does not have in_c * blocks(mode) entries.
std::vector<std::int64_t> approx_compensation(const golden::Layer& layer, golden::Approx x,
                                              std::span<const double> mean);

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
  /// Keep every MAC layer's input and output values (HWC, after the host's part of the activation).
  bool record_mac_io = false;
  /// Read every MAC layer's group-width headers back (driver::GroupWidthReadback::kOn for the run of
  /// the layer; one bus read per output row of each tile) and keep them.
  bool record_group_widths = false;
};

struct QuantResult {
  std::vector<float> probabilities;
  std::vector<golden::PackedTensor> mac_outputs;  ///< per QuantLayer, if recorded
  driver::Counters counters;                      ///< of this forward pass
  std::vector<driver::Counters> layer_counters;   ///< per QuantLayer, if recorded
  struct MacIo {
    std::vector<std::int32_t> input, output;
  };
  std::vector<MacIo> mac_io;                           ///< per QuantLayer, if recorded
  std::vector<driver::LayerGroupWidths> group_widths;  ///< per QuantLayer, if recorded
};

class QuantizedNetwork {
 public:
  /// Quantizes weights (rounded per `options`) and plans every tensor's fractional length for
  /// `bits` (4, 8, 16; the classifier and what follows it at 16 with ClassifierPrecision::kWide);
  /// MAC layers are prepared once with `acc` (its geometry) and reusable by any Accelerator
  /// of the same geometry. Throws std::invalid_argument for what the array cannot run
  /// (dilation, K beyond a bank).
  QuantizedNetwork(const model::Network& net, const Calibration& calib, int bits, const driver::Accelerator& acc,
                   WeightFl weight_fl = WeightFl::kChannel, const QuantOptions& options = {});

  [[nodiscard]] int bits() const { return golden::bits(mode_); }
  [[nodiscard]] golden::Mode mode() const { return mode_; }
  [[nodiscard]] WeightFl weight_fl() const { return weight_fl_; }
  [[nodiscard]] const QuantOptions& options() const { return options_; }
  /// The mode operator `i` runs in (mode(), or 16 bits from the classifier on with kWide).
  [[nodiscard]] golden::Mode op_mode(std::size_t i) const { return op_mode_.at(i); }
  [[nodiscard]] const model::Network& network() const { return *net_; }
  [[nodiscard]] const std::vector<QuantLayer>& layers() const { return layers_; }
  /// Sets the Ax-BxP configuration of MAC layer `layer` (index into layers()); throws
  /// std::invalid_argument for an index out of range or a mask illegal in the layer's mode. With
  /// ApproxCompensation::kMean (set_compensation) an approximate layer's bias becomes its exact
  /// bias plus approx_compensation(); an exact layer always has its exact bias. Throws
  /// std::overflow_error naming the layer and the channel when a compensated bias leaves the
  /// signed 32-bit range.
  void set_approx(std::size_t layer, golden::Approx approx);
  /// The compensation of the approximate layers and the statistics it uses (from
  /// measure_block_means on this network); re-applies it to the layers already configured.
  /// Default: ApproxCompensation::kNone. Throws std::invalid_argument for kMean with statistics
  /// of another network (layer count or channel count differing).
  void set_compensation(ApproxCompensation c, BlockMeans means = {});
  [[nodiscard]] ApproxCompensation compensation() const { return compensation_; }
  /// The bias of MAC layer `layer` without compensation (empty: no bias).
  [[nodiscard]] const std::vector<std::int32_t>& exact_bias(std::size_t layer) const { return exact_bias_.at(layer); }
  /// Effective FL of every activation tensor (-1000 for tensors that are not activations).
  [[nodiscard]] const std::vector<int>& tensor_fl() const { return fl_; }

  /// One image through the array (MAC layers) and the host (the rest). Not thread-safe per
  /// Accelerator; the QuantizedNetwork itself may be shared by threads.
  [[nodiscard]] QuantResult run(driver::Accelerator& acc, std::span<const std::uint8_t> rgb,
                                const QuantRunOptions& opts = {}) const;

 private:
  /// MAC operator `i` quantized and prepared for the array.
  [[nodiscard]] QuantLayer plan_mac(std::size_t i, int fl_in, const Calibration& calib,
                                    const driver::Accelerator& acc) const;
  /// The output FL of host operator `i` (and its quantized constant, for an ADD).
  int plan_host_op(std::size_t i, int fl_in, const Calibration& calib);
  /// MAC layer `ql` on `x` into `y` (resized; its storage is reused when it has the size).
  void run_mac(driver::Accelerator& acc, const QuantLayer& ql, const host::QTensor& x, const QuantRunOptions& opts,
               QuantResult& res, std::vector<std::int32_t>& y) const;
  /// Sets MAC layer `layer`'s bias from its exact bias, configuration and the compensation.
  void apply_bias(std::size_t layer);
  /// Host operator `i` into `y` (resized; its storage is reused).
  void run_host_op(std::size_t i, std::span<const host::QTensor> t, int fl_out, std::vector<std::int32_t>& y) const;

  const model::Network* net_;
  golden::Mode mode_;
  WeightFl weight_fl_;
  QuantOptions options_;
  std::vector<golden::Mode> op_mode_;  ///< per op
  std::vector<int> fl_;
  std::vector<int> op_layer_;  ///< per op: index into layers_ or -1
  std::vector<QuantLayer> layers_;
  std::vector<std::vector<std::int32_t>> add_constant_;  ///< per op: quantized ADD constant
  std::vector<int> add_constant_fl_;
  ApproxCompensation compensation_ = ApproxCompensation::kNone;
  BlockMeans means_;
  std::vector<std::vector<std::int32_t>> exact_bias_;  ///< per MAC layer
};

/// Runs `q` as configured (exact, for statistics of the exact network) on `images` (decoded for
/// the network) and returns the mean of every activation block of every MAC layer's input
/// (BlockMeans). Throws std::invalid_argument for no image.
BlockMeans measure_block_means(const QuantizedNetwork& q, driver::Accelerator& acc,
                               std::span<const std::vector<std::uint8_t>> images);

}  // namespace bitscale::quant
