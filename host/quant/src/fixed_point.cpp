#include "bitscale/quant/fixed_point.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace bitscale::quant {

using golden::Mode;

int integer_length(double max_abs) {
  if (!(max_abs > 0.0) || !std::isfinite(max_abs)) {
    throw std::invalid_argument(fmt::format("integer_length of {}", max_abs));
  }
  return static_cast<int>(std::ceil(std::log2(max_abs))) + 1;
}

int fractional_length(double max_abs, int bits) {
  if (max_abs == 0.0) return bits - 1;
  return bits - integer_length(max_abs);
}

std::int32_t quantize_value(double x, int fl, Mode mode) {
  const double r = std::round(std::ldexp(x, fl));
  const double lo = golden::min_value(mode), hi = golden::max_value(mode);
  return static_cast<std::int32_t>(std::clamp(r, lo, hi));
}

std::string_view to_string(Rounding r) { return r == Rounding::kStochastic ? "stochastic" : "nearest"; }

Rounding rounding_from_string(std::string_view s) {
  for (const Rounding r : {Rounding::kNearest, Rounding::kStochastic}) {
    if (s == to_string(r)) return r;
  }
  throw std::invalid_argument(fmt::format("rounding '{}': expected 'nearest' or 'stochastic'", s));
}

std::mt19937_64 rounding_generator(std::uint64_t seed, std::uint64_t stream) {
  const auto lo = [](std::uint64_t v) { return static_cast<std::uint32_t>(v & 0xffffffffu); };
  const auto hi = [](std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); };
  std::seed_seq seq{lo(seed), hi(seed), lo(stream), hi(stream)};
  return std::mt19937_64(seq);
}

double uniform_01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double round_stochastic(double y, std::mt19937_64& rng) {
  const double f = std::floor(y);
  const double u = uniform_01(rng);  // drawn even when y is an integer: one draw per value
  return u < y - f ? f + 1.0 : f;
}

std::int32_t quantize_stochastic(double x, int fl, Mode mode, std::mt19937_64& rng) {
  const double r = round_stochastic(std::ldexp(x, fl), rng);
  const double lo = golden::min_value(mode), hi = golden::max_value(mode);
  return static_cast<std::int32_t>(std::clamp(r, lo, hi));
}

std::int64_t rescale(std::int64_t v, int from_fl, int to_fl) {
  if (to_fl >= from_fl) return v * (std::int64_t{1} << (to_fl - from_fl));
  return golden::round_shift(v, from_fl - to_fl);
}

std::int64_t round_div(std::int64_t num, std::int64_t den) {
  const std::int64_t n = 2 * num + den, d = 2 * den;
  std::int64_t q = n / d;
  if ((n % d != 0) && (n < 0)) --q;  // floor
  return q;
}

std::int32_t activate_fixed(std::int64_t v, golden::FloatActivation a, int fl, Mode m) {
  std::int64_t y = golden::saturate(v, m);
  const auto bound = [&](double real) {
    return static_cast<std::int64_t>(std::clamp(std::round(std::ldexp(real, fl)),
                                                static_cast<double>(golden::min_value(m)),
                                                static_cast<double>(golden::max_value(m))));
  };
  switch (a) {
    case golden::FloatActivation::kNone:
      break;
    case golden::FloatActivation::kRelu:
      y = std::max<std::int64_t>(y, 0);
      break;
    case golden::FloatActivation::kRelu6:
      y = std::min(std::max<std::int64_t>(y, 0), bound(6.0));
      break;
    case golden::FloatActivation::kReluN1To1:
      y = std::clamp(y, bound(-1.0), bound(1.0));
      break;
  }
  return static_cast<std::int32_t>(y);
}

}  // namespace bitscale::quant
