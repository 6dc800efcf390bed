#include "random_layer.hpp"

#include <algorithm>
#include <cmath>

namespace bitscale::cli {

namespace {

// splitmix64: a well-mixed seed per (seed, mode, index).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

int uniform(std::mt19937_64& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

bool chance(std::mt19937_64& rng, double p) { return std::bernoulli_distribution(p)(rng); }

// Values of a tensor: one of several distributions, so that extremes and saturation occur.
std::vector<std::int32_t> values(std::mt19937_64& rng, golden::Mode mode, std::size_t n) {
  const int lo = golden::min_value(mode), hi = golden::max_value(mode);
  const int style = uniform(rng, 0, 9);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) {
    if (style <= 1) {
      x = chance(rng, 0.5) ? lo : hi;  // extremes only
    } else if (style <= 3) {
      x = chance(rng, 0.3) ? (chance(rng, 0.5) ? lo : hi) : uniform(rng, lo, hi);
    } else if (style == 4) {
      x = uniform(rng, 0, hi);  // non-negative (post-ReLU activations)
    } else if (style == 5) {
      x = uniform(rng, std::max(lo, -3), std::min(hi, 3));  // small
    } else {
      x = uniform(rng, lo, hi);
    }
  }
  return v;
}

}  // namespace

std::uint64_t case_seed(std::uint64_t seed, golden::Mode mode, std::uint64_t index) {
  return mix(mix(seed) ^ mix(static_cast<std::uint64_t>(mode) + 0x100) ^ mix(index + 0x10000));
}

RandomCase random_case(std::uint64_t cseed, golden::Mode mode, int max_k) {
  std::mt19937_64 rng(cseed);
  RandomCase rc;
  golden::ConvShape s;
  const int kind = uniform(rng, 0, 9);
  if (kind <= 2) {  // fully connected, K from 1 to a few thousand
    rc.kind = "fc";
    s.in_c = chance(rng, 0.15) ? uniform(rng, 1, 4) : uniform(rng, 1, std::min(max_k, chance(rng, 0.2) ? 4096 : 300));
    s.out_c = uniform(rng, 1, chance(rng, 0.2) ? 200 : 40);
  } else {
    rc.kind = kind <= 6 ? "conv" : kind <= 8 ? "grouped" : "depthwise";
    s.in_h = uniform(rng, 1, 10);
    s.in_w = uniform(rng, 1, 10);
    s.k_h = uniform(rng, 1, 3);
    s.k_w = uniform(rng, 1, 3);
    s.stride_h = uniform(rng, 1, 2);
    s.stride_w = uniform(rng, 1, 2);
    s.pad_top = uniform(rng, 0, s.k_h - 1);
    s.pad_bottom = uniform(rng, 0, s.k_h - 1);
    s.pad_left = uniform(rng, 0, s.k_w - 1);
    s.pad_right = uniform(rng, 0, s.k_w - 1);
    // The kernel must fit the padded input.
    s.in_h = std::max(s.in_h, s.k_h - s.pad_top - s.pad_bottom);
    s.in_w = std::max(s.in_w, s.k_w - s.pad_left - s.pad_right);
    if (rc.kind == "conv") {
      s.in_c = uniform(rng, 1, 24);
      s.out_c = uniform(rng, 1, 40);
    } else if (rc.kind == "grouped") {
      s.groups = uniform(rng, 2, 4);
      s.in_c = s.groups * uniform(rng, 1, 6);
      s.out_c = s.groups * uniform(rng, 1, 8);
    } else {
      s.in_c = uniform(rng, 1, 24);
      s.groups = s.in_c;
      s.out_c = s.in_c * uniform(rng, 1, 2);
    }
  }
  rc.layer.shape = s;
  rc.layer.mode = mode;
  rc.layer.weights = values(rng, mode, static_cast<std::size_t>(s.weight_count()));
  rc.input = golden::PackedTensor::from_values(s.in_h, s.in_w, s.in_c, mode,
                                               values(rng, mode, static_cast<std::size_t>(s.in_h) * s.in_w * s.in_c));

  // Bias: none, small, or anywhere in the signed 32-bit range.
  if (chance(rng, 0.7)) {
    rc.layer.bias.resize(static_cast<std::size_t>(s.out_c));
    const bool wide = chance(rng, 0.2);
    const std::int64_t typ = std::int64_t{1} << (2 * golden::bits(mode) - 2);
    for (auto& b : rc.layer.bias) {
      b = wide ? static_cast<std::int32_t>(rng())
               : static_cast<std::int32_t>(std::uniform_int_distribution<std::int64_t>(
                     -std::min<std::int64_t>(typ, INT32_MAX), std::min<std::int64_t>(typ, INT32_MAX))(rng));
    }
  }

  // Shift near log2 of the typical accumulator magnitude (+-4), sometimes 0 or large.
  const double typical = std::log2(std::sqrt(static_cast<double>(s.k()))) + 2.0 * golden::bits(mode) - 2.0;
  int shift = static_cast<int>(std::lround(typical)) - golden::bits(mode) + 1 + uniform(rng, -4, 4);
  if (chance(rng, 0.1)) shift = 0;
  if (chance(rng, 0.05)) shift = uniform(rng, 30, golden::kAccBits - 1);
  rc.layer.out.shift = std::clamp(shift, 0, golden::kAccBits - 1);
  // Per-channel shifts (per-channel precision) on a quarter of the layers: a few distinct
  // values around the layer's, so that the driver cuts n-tiles at shift changes.
  if (chance(rng, 0.25)) {
    const int spread = uniform(rng, 1, 3);
    rc.layer.channel_shift.resize(static_cast<std::size_t>(s.out_c));
    for (int& c : rc.layer.channel_shift)
      c = std::clamp(rc.layer.out.shift + uniform(rng, -spread, spread), 0, golden::kAccBits - 1);
  }
  rc.layer.out.relu = chance(rng, 0.4);
  rc.layer.out.clamp = chance(rng, 0.3);
  rc.layer.out.clamp_hi = static_cast<std::int16_t>(
      chance(rng, 0.1) ? uniform(rng, -32768, 32767) : uniform(rng, golden::min_value(mode), golden::max_value(mode)));
  return rc;
}

}  // namespace bitscale::cli
