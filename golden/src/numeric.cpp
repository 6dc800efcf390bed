// The numeric specification of docs/NUMERICS.md, defined once.
#include "bitscale/golden/numeric.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace bitscale::golden {

Mode mode_from_bits(int b) {
  for (const Mode m : kModes) {
    if (bits(m) == b) return m;
  }
  throw std::invalid_argument(fmt::format("bit-width {} is not a mode (4, 8 or 16)", b));
}

std::string to_string(Mode m) { return fmt::format("{}-bit", bits(m)); }

std::int64_t round_shift(std::int64_t acc, int shift) {
  if (shift < 0 || shift >= kAccBits) {
    throw std::invalid_argument(fmt::format("shift {} outside 0 .. {}", shift, kAccBits - 1));
  }
  if (shift == 0) return acc;
  // floor((acc + 2^(s-1)) / 2^s) without forming the sum: with acc = q*2^s + r (0 <= r < 2^s),
  // the quotient is q plus 1 exactly when r >= 2^(s-1), i.e. when bit s-1 of acc is set.
  // C++20 defines >> on negative values as arithmetic (floor) shift.
  return (acc >> shift) + ((acc >> (shift - 1)) & 1);
}

std::int32_t saturate(std::int64_t v, Mode m) {
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, min_value(m), max_value(m)));
}

std::int32_t output_value(std::int64_t acc, Mode m, const OutputStage& os) {
  std::int32_t y = saturate(round_shift(acc, os.shift), m);
  if (os.relu) y = std::max(y, 0);
  // May leave the mode's range when clamp_hi is below it; the hardware then packs the low
  // B bits (docs/NUMERICS.md, step 5). The layer reference saturates clamp_hi instead.
  if (os.clamp) y = std::min<std::int32_t>(y, os.clamp_hi);
  return y;
}

OutputStage layer_output_stage(const OutputStage& os, Mode m) {
  OutputStage r = os;
  r.clamp_hi = static_cast<std::int16_t>(saturate(os.clamp_hi, m));
  return r;
}

namespace {

void check_lane(int lane, Mode m) {
  if (lane < 0 || lane >= lanes(m)) {
    throw std::out_of_range(fmt::format("lane {} outside 0 .. {} of a {} word", lane, lanes(m) - 1, to_string(m)));
  }
}

}  // namespace

std::int32_t get_lane(std::uint16_t word, int lane, Mode m) {
  check_lane(lane, m);
  const int b = bits(m);
  const std::uint32_t raw = (static_cast<std::uint32_t>(word) >> (b * lane)) & ((1u << b) - 1u);
  const std::uint32_t sign = 1u << (b - 1);
  return static_cast<std::int32_t>(raw ^ sign) - static_cast<std::int32_t>(sign);  // sign-extend
}

std::uint16_t set_lane(std::uint16_t word, int lane, Mode m, std::int32_t v) {
  check_lane(lane, m);
  const int b = bits(m);
  const std::uint32_t mask = ((1u << b) - 1u) << (b * lane);
  const std::uint32_t field = (static_cast<std::uint32_t>(v) << (b * lane)) & mask;
  return static_cast<std::uint16_t>((word & ~mask) | field);
}

void pack(std::span<const std::int32_t> values, Mode m, std::span<std::uint16_t> words) {
  const std::size_t need = packed_words(values.size(), m);
  if (words.size() < need) {
    throw std::out_of_range(
        fmt::format("pack: {} {} values need {} words, got {}", values.size(), to_string(m), need, words.size()));
  }
  const int p = lanes(m);
  std::fill(words.begin(), words.begin() + static_cast<std::ptrdiff_t>(need), std::uint16_t{0});
  for (std::size_t e = 0; e < values.size(); ++e) {
    const std::int32_t v = values[e];
    if (v < min_value(m) || v > max_value(m)) {
      throw std::out_of_range(fmt::format("pack: value {} at index {} outside the {} range {} .. {}", v, e,
                                          to_string(m), min_value(m), max_value(m)));
    }
    std::uint16_t& w = words[e / static_cast<std::size_t>(p)];
    w = set_lane(w, static_cast<int>(e % static_cast<std::size_t>(p)), m, v);
  }
}

void unpack(std::span<const std::uint16_t> words, Mode m, std::span<std::int32_t> values) {
  const std::size_t need = packed_words(values.size(), m);
  if (words.size() < need) {
    throw std::out_of_range(
        fmt::format("unpack: {} {} values need {} words, got {}", values.size(), to_string(m), need, words.size()));
  }
  const int p = lanes(m);
  for (std::size_t e = 0; e < values.size(); ++e) {
    values[e] = get_lane(words[e / static_cast<std::size_t>(p)], static_cast<int>(e % static_cast<std::size_t>(p)), m);
  }
}

}  // namespace bitscale::golden
