// The random-layer generator of every regression and random test: seeded shapes with edge
// cases (K = 1, K not a multiple of the lanes, M and N not multiples of the array size,
// padding, stride, groups, depthwise) and values that reach the extremes of the mode, per-channel
// shifts, biases, ReLU and clamps, so that the output stage saturates.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "bitscale/golden/tensor.hpp"

namespace bitscale::dv {

enum class LayerKind { kFullyConnected, kConv, kGrouped, kDepthwise };

/// "fc", "conv", "grouped", "depthwise".
std::string_view to_string(LayerKind kind);

/// A random layer with its input.
struct Case {
  golden::Layer layer;
  golden::PackedTensor input;
  LayerKind kind = LayerKind::kConv;
};

/// Inclusive range of a random draw.
struct Range {
  int lo = 1, hi = 1;
};

/// A part of the output stage that a test fixes or leaves to chance.
enum class Draw { kRandom, kAlways, kNever };

/// Choices for a layer of a given shape (bias on 70% of the layers, per-channel shifts on 25%).
struct StageOptions {
  Draw bias = Draw::kRandom;
  Draw channel_shifts = Draw::kRandom;
};

/// Knobs of the distribution. The defaults are those of `bitscale regress`; changing a range
/// changes only the values drawn, never the number of draws.
struct GeneratorOptions {
  int max_k = 4096;         ///< largest K of fully-connected layers (at most the bank limit, bank_words x lanes)
  int bank_words = 8192;    ///< words per scratchpad bank of the device (regmap::kDefaultActWords)
  int max_channels = 24;    ///< largest input channels of convolutions and depthwise layers
  int max_out = 40;         ///< largest output channels of (ungrouped) convolutions
  Range group_out{1, 8};    ///< output channels per group of grouped convolutions
  Range multiplier{1, 2};   ///< channel multiplier of depthwise layers
  Range kernel{1, 3};       ///< kernel height and width
  Range stride{1, 2};       ///< stride, each direction
  int extra_pad = 0;        ///< padding up to kernel - 1 + extra_pad (more: outputs that see only padding)
  double extreme_bias = 0;  ///< probability of a bias of exactly INT32_MIN or INT32_MAX
  double one_extreme = 0;   ///< probability that a tensor holds one extreme value only (products of one sign)
};

/// Seed of layer `index` of a regression with seed `seed` in mode `mode` (replayable).
std::uint64_t case_seed(std::uint64_t seed, golden::Mode mode, std::uint64_t index);

/// One random stream. Every draw advances it; the same seed and calls give the same layers.
class LayerGenerator {
 public:
  explicit LayerGenerator(std::uint64_t seed, GeneratorOptions opts = {});
  explicit LayerGenerator(std::mt19937_64 rng, GeneratorOptions opts = {});

  /// A random shape (kind drawn first), layer and input.
  Case random_case(golden::Mode mode);
  /// Weights, input and output stage for a given shape (drawn in the same order).
  Case random_case(const golden::ConvShape& shape, golden::Mode mode, StageOptions stage = {});
  /// Weights and output stage for a given shape.
  golden::Layer layer(const golden::ConvShape& shape, golden::Mode mode, StageOptions stage = {});
  /// A packed tensor with values of one of the value distributions.
  golden::PackedTensor tensor(int h, int w, int c, golden::Mode mode);
  /// n values of the mode: extremes only, extremes often, non-negative, small or uniform.
  std::vector<std::int32_t> values(golden::Mode mode, std::size_t n);
  /// An integer in [lo, hi].
  int uniform(int lo, int hi);
  /// The underlying stream, for a test's own choices.
  std::mt19937_64& rng() { return rng_; }

 private:
  golden::ConvShape shape(LayerKind& kind, golden::Mode mode);
  void output_stage(golden::Layer& layer, StageOptions stage);
  bool chance(double p);

  std::mt19937_64 rng_;
  GeneratorOptions opts_;
};

}  // namespace bitscale::dv
