#include "bitscale/dv/generator.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

namespace bitscale::dv {

namespace {

// splitmix64: a well-mixed seed per (seed, mode, index).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::string_view to_string(LayerKind kind) {
  constexpr std::string_view kNames[] = {"fc", "conv", "grouped", "depthwise"};
  return kNames[static_cast<int>(kind)];
}

std::uint64_t case_seed(std::uint64_t seed, golden::Mode mode, std::uint64_t index) {
  return mix(mix(seed) ^ mix(static_cast<std::uint64_t>(mode) + 0x100) ^ mix(index + 0x10000));
}

LayerGenerator::LayerGenerator(std::uint64_t seed, GeneratorOptions opts) : rng_(seed), opts_(opts) {}

LayerGenerator::LayerGenerator(std::mt19937_64 rng, GeneratorOptions opts) : rng_(std::move(rng)), opts_(opts) {}

int LayerGenerator::uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

bool LayerGenerator::chance(double p) { return std::bernoulli_distribution(p)(rng_); }

std::vector<std::int32_t> LayerGenerator::values(golden::Mode mode, std::size_t n) {
  const int lo = golden::min_value(mode), hi = golden::max_value(mode);
  if (opts_.one_extreme > 0 && chance(opts_.one_extreme)) return std::vector<std::int32_t>(n, chance(0.5) ? lo : hi);
  const int style = uniform(0, 9);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) {
    if (style <= 1) {
      x = chance(0.5) ? lo : hi;  // extremes only
    } else if (style <= 3) {
      x = chance(0.3) ? (chance(0.5) ? lo : hi) : uniform(lo, hi);
    } else if (style == 4) {
      x = uniform(0, hi);  // non-negative (post-ReLU activations)
    } else if (style == 5) {
      x = uniform(std::max(lo, -3), std::min(hi, 3));  // small
    } else {
      x = uniform(lo, hi);
    }
  }
  return v;
}

golden::PackedTensor LayerGenerator::tensor(int h, int w, int c, golden::Mode mode) {
  return golden::PackedTensor::from_values(h, w, c, mode, values(mode, static_cast<std::size_t>(h) * w * c));
}

golden::ConvShape LayerGenerator::shape(LayerKind& kind, golden::Mode mode) {
  golden::ConvShape s;
  const int k = uniform(0, 9);
  if (k <= 2) {  // fully connected, K from 1 up to max_k (at most what a bank holds in the mode)
    kind = LayerKind::kFullyConnected;
    const int bank_limit = opts_.bank_words * golden::lanes(mode);
    s.in_c = chance(0.15) ? uniform(1, std::min(opts_.max_k, 4))
                          : uniform(1, std::min({opts_.max_k, bank_limit, chance(0.2) ? bank_limit : 300}));
    s.out_c = uniform(1, chance(0.2) ? 200 : 40);
    return s;
  }
  kind = k <= 6 ? LayerKind::kConv : k <= 8 ? LayerKind::kGrouped : LayerKind::kDepthwise;
  s.in_h = uniform(1, 10);
  s.in_w = uniform(1, 10);
  s.k_h = uniform(opts_.kernel.lo, opts_.kernel.hi);
  s.k_w = uniform(opts_.kernel.lo, opts_.kernel.hi);
  s.stride_h = uniform(opts_.stride.lo, opts_.stride.hi);
  s.stride_w = uniform(opts_.stride.lo, opts_.stride.hi);
  s.pad_top = uniform(0, s.k_h - 1 + opts_.extra_pad);
  s.pad_bottom = uniform(0, s.k_h - 1 + opts_.extra_pad);
  s.pad_left = uniform(0, s.k_w - 1 + opts_.extra_pad);
  s.pad_right = uniform(0, s.k_w - 1 + opts_.extra_pad);
  // The kernel must fit the padded input.
  s.in_h = std::max(s.in_h, s.k_h - s.pad_top - s.pad_bottom);
  s.in_w = std::max(s.in_w, s.k_w - s.pad_left - s.pad_right);
  if (kind == LayerKind::kConv) {
    s.in_c = uniform(1, opts_.max_channels);
    s.out_c = uniform(1, opts_.max_out);
  } else if (kind == LayerKind::kGrouped) {
    s.groups = uniform(2, 4);
    s.in_c = s.groups * uniform(1, 6);
    s.out_c = s.groups * uniform(opts_.group_out.lo, opts_.group_out.hi);
  } else {
    s.in_c = uniform(1, opts_.max_channels);
    s.groups = s.in_c;
    s.out_c = s.in_c * uniform(opts_.multiplier.lo, opts_.multiplier.hi);
  }
  return s;
}

Case LayerGenerator::random_case(golden::Mode mode) {
  LayerKind kind{};
  const golden::ConvShape s = shape(kind, mode);
  Case c = random_case(s, mode);
  c.kind = kind;
  return c;
}

Case LayerGenerator::random_case(const golden::ConvShape& s, golden::Mode mode, StageOptions stage) {
  Case c;
  c.kind = s.groups == 1 ? (s.in_h == 1 && s.in_w == 1 && s.k_h == 1 && s.k_w == 1 ? LayerKind::kFullyConnected
                                                                                   : LayerKind::kConv)
                         : (s.groups == s.in_c ? LayerKind::kDepthwise : LayerKind::kGrouped);
  c.layer.shape = s;
  c.layer.mode = mode;
  c.layer.weights = values(mode, static_cast<std::size_t>(s.weight_count()));
  c.input = tensor(s.in_h, s.in_w, s.in_c, mode);
  output_stage(c.layer, stage);
  return c;
}

golden::Layer LayerGenerator::layer(const golden::ConvShape& s, golden::Mode mode, StageOptions stage) {
  golden::Layer l;
  l.shape = s;
  l.mode = mode;
  l.weights = values(mode, static_cast<std::size_t>(s.weight_count()));
  output_stage(l, stage);
  return l;
}

void LayerGenerator::output_stage(golden::Layer& l, StageOptions stage) {
  const golden::ConvShape& s = l.shape;
  const golden::Mode mode = l.mode;
  // Bias: none, small, or anywhere in the signed 32-bit range (exactly at its ends if asked).
  if (stage.bias == Draw::kRandom ? chance(0.7) : stage.bias == Draw::kAlways) {
    l.bias.resize(static_cast<std::size_t>(s.out_c));
    const bool wide = chance(0.2);
    const std::int64_t typ = std::int64_t{1} << (2 * golden::bits(mode) - 2);
    for (auto& b : l.bias) {
      if (opts_.extreme_bias > 0 && chance(opts_.extreme_bias)) {
        b = chance(0.5) ? INT32_MIN : INT32_MAX;
        continue;
      }
      b = wide ? static_cast<std::int32_t>(rng_())
               : static_cast<std::int32_t>(std::uniform_int_distribution<std::int64_t>(
                     -std::min<std::int64_t>(typ, INT32_MAX), std::min<std::int64_t>(typ, INT32_MAX))(rng_));
    }
  }

  // Shift near log2 of the typical accumulator magnitude (+-4), sometimes 0 or large.
  const double typical = std::log2(std::sqrt(static_cast<double>(s.k()))) + 2.0 * golden::bits(mode) - 2.0;
  int shift = static_cast<int>(std::lround(typical)) - golden::bits(mode) + 1 + uniform(-4, 4);
  if (chance(0.1)) shift = 0;
  if (chance(0.05)) shift = uniform(30, golden::kAccBits - 1);
  l.out.shift = std::clamp(shift, 0, golden::kAccBits - 1);
  // Per-channel shifts (per-channel precision) on a quarter of the layers: a few distinct
  // values around the layer's, so that the driver cuts n-tiles at shift changes.
  if (stage.channel_shifts == Draw::kRandom ? chance(0.25) : stage.channel_shifts == Draw::kAlways) {
    const int spread = uniform(1, 3);
    l.channel_shift.resize(static_cast<std::size_t>(s.out_c));
    for (int& c : l.channel_shift) c = std::clamp(l.out.shift + uniform(-spread, spread), 0, golden::kAccBits - 1);
  }
  l.out.relu = chance(0.4);
  l.out.clamp = chance(0.3);
  l.out.clamp_hi = static_cast<std::int16_t>(chance(0.1) ? uniform(-32768, 32767)
                                                         : uniform(golden::min_value(mode), golden::max_value(mode)));
}

}  // namespace bitscale::dv
