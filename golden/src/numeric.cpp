// The numeric specification of docs/NUMERICS.md, defined once.
#include "bitscale/golden/numeric.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "vector_ops.hpp"

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

namespace {

/// The low `B` bits of v at bit `shift`.
template <int B>
constexpr std::uint32_t field(std::int32_t v, int shift) {
  return (static_cast<std::uint32_t>(v) & ((1u << B) - 1u)) << shift;
}

}  // namespace

namespace detail {

#if defined(BITSCALE_GOLDEN_X86)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
MinMax
minmax_i32(const std::int32_t* __restrict v, std::size_t n) {
  std::int32_t lo = 0, hi = 0;
  for (std::size_t i = 0; i < n; ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  return {lo, hi};
}

#if defined(BITSCALE_GOLDEN_X86)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void pack_whole_words(const std::int32_t* __restrict v, std::size_t n, Mode m, std::uint16_t* __restrict w) {
  switch (m) {
    case Mode::k16:
      for (std::size_t i = 0; i < n; ++i) w[i] = static_cast<std::uint16_t>(v[i]);
      break;
    case Mode::k8:
      for (std::size_t i = 0; i < n; ++i)
        w[i] = static_cast<std::uint16_t>(field<8>(v[2 * i], 0) | field<8>(v[2 * i + 1], 8));
      break;
    case Mode::k4:
      for (std::size_t i = 0; i < n; ++i) {
        w[i] = static_cast<std::uint16_t>(field<4>(v[4 * i], 0) | field<4>(v[4 * i + 1], 4) |
                                          field<4>(v[4 * i + 2], 8) | field<4>(v[4 * i + 3], 12));
      }
      break;
  }
}

#if defined(BITSCALE_GOLDEN_X86)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void unpack_whole_words(const std::uint16_t* __restrict w, std::size_t n, Mode m, std::int32_t* __restrict v) {
  switch (m) {
    case Mode::k16:
      for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::int16_t>(w[i]);
      break;
    case Mode::k8:
      for (std::size_t i = 0; i < n; ++i) {
        v[2 * i] = static_cast<std::int8_t>(static_cast<std::uint8_t>(w[i]));
        v[2 * i + 1] = static_cast<std::int8_t>(static_cast<std::uint8_t>(w[i] >> 8));
      }
      break;
    case Mode::k4:
      for (std::size_t i = 0; i < n; ++i) {
        // Nibble l moved to the top 4 bits of an int16, then an arithmetic shift: sign extension.
        const auto x = static_cast<std::int16_t>(w[i]);
        v[4 * i] = static_cast<std::int16_t>(x << 12) >> 12;
        v[4 * i + 1] = static_cast<std::int16_t>(x << 8) >> 12;
        v[4 * i + 2] = static_cast<std::int16_t>(x << 4) >> 12;
        v[4 * i + 3] = x >> 12;
      }
      break;
  }
}

}  // namespace detail

namespace {

/// Index of the first value outside the mode's range, or values.size() when all are in range:
/// one min/max pass, the search only on failure.
std::size_t first_out_of_range(std::span<const std::int32_t> values, Mode m) {
  const detail::MinMax r = detail::minmax_i32(values.data(), values.size());
  if (r.lo >= min_value(m) && r.hi <= max_value(m)) return values.size();
  for (std::size_t e = 0; e < values.size(); ++e) {
    if (values[e] < min_value(m) || values[e] > max_value(m)) return e;
  }
  return values.size();
}

}  // namespace

void pack(std::span<const std::int32_t> values, Mode m, std::span<std::uint16_t> words) {
  const std::size_t need = packed_words(values.size(), m);
  if (words.size() < need) {
    throw std::out_of_range(
        fmt::format("pack: {} {} values need {} words, got {}", values.size(), to_string(m), need, words.size()));
  }
  if (const std::size_t e = first_out_of_range(values, m); e < values.size()) {
    throw std::out_of_range(fmt::format("pack: value {} at index {} outside the {} range {} .. {}", values[e], e,
                                        to_string(m), min_value(m), max_value(m)));
  }
  const std::size_t p = static_cast<std::size_t>(lanes(m)), full = values.size() / p;
  detail::pack_whole_words(values.data(), full, m, words.data());
  if (full < need) {  // the last word: the remaining values, unused lanes 0
    std::uint16_t w = 0;
    for (std::size_t e = full * p; e < values.size(); ++e)
      w = set_lane(w, static_cast<int>(e - full * p), m, values[e]);
    words[full] = w;
  }
}

void unpack(std::span<const std::uint16_t> words, Mode m, std::span<std::int32_t> values) {
  const std::size_t need = packed_words(values.size(), m);
  if (words.size() < need) {
    throw std::out_of_range(
        fmt::format("unpack: {} {} values need {} words, got {}", values.size(), to_string(m), need, words.size()));
  }
  const std::size_t p = static_cast<std::size_t>(lanes(m)), full = values.size() / p;
  detail::unpack_whole_words(words.data(), full, m, values.data());
  for (std::size_t e = full * p; e < values.size(); ++e)
    values[e] = get_lane(words[full], static_cast<int>(e - full * p), m);
}

}  // namespace bitscale::golden

namespace bitscale::golden {

Approx approx_family(Mode m, int c) {
  if (c < 0 || c > approx_family_max(m)) {
    throw std::invalid_argument(fmt::format("Ax-BxP family member c{} of the {} mode: c must be 0 .. {}", c,
                                            to_string(m), approx_family_max(m)));
  }
  Approx x;
  for (int i = 0; i < blocks(m); ++i)
    for (int j = 0; j < blocks(m); ++j)
      if (i + j < c) x.skip = static_cast<std::uint16_t>(x.skip | block_bit(i, j));
  return x;
}

std::int32_t block_of(std::int32_t x, int i, Mode m) {
  const auto nib = static_cast<std::int32_t>((static_cast<std::uint32_t>(x) >> (4 * i)) & 0xFu);
  return (i == blocks(m) - 1 && nib >= 8) ? nib - 16 : nib;  // the top block is signed
}

std::int64_t approx_product(std::int32_t a, std::int32_t w, Mode m, Approx x) {
  std::int64_t sum = 0;
  for (int i = 0; i < blocks(m); ++i) {
    const std::int64_t ai = block_of(a, i, m);
    for (int j = 0; j < blocks(m); ++j) {
      if (!x.skips(i, j)) sum += ai * block_of(w, j, m) * (std::int64_t{1} << (4 * (i + j)));
    }
  }
  return sum;
}

std::string to_string(Approx x) { return x.exact() ? "exact" : fmt::format("skip={:#06x}", x.skip); }

Approx parse_approx(std::string_view text, Mode m) {
  const auto fail = [&](std::string_view why) -> Approx {
    throw std::invalid_argument(
        fmt::format("Ax-BxP configuration '{}' of the {} mode: {} (expected exact, c0 .. c{}, "
                    "skip=<mask> or keep=<mask> with mask bits within {:#06x})",
                    text, to_string(m), why, approx_family_max(m), approx_grid(m)));
  };
  const auto number = [&](std::string_view s) -> unsigned long {
    if (s.empty()) fail("no number");
    std::size_t used = 0;
    unsigned long v = 0;
    try {
      v = std::stoul(std::string(s), &used, 0);
    } catch (const std::exception&) {
      fail("not a number");
    }
    if (used != s.size()) fail("not a number");
    return v;
  };
  if (text == "exact") return {};
  if (text.size() >= 2 && text[0] == 'c') {
    const unsigned long c = number(text.substr(1));
    if (c > static_cast<unsigned long>(approx_family_max(m))) fail("no such family member");
    return approx_family(m, static_cast<int>(c));
  }
  for (const std::string_view key : {std::string_view("skip="), std::string_view("keep=")}) {
    if (text.substr(0, key.size()) != key) continue;
    const unsigned long v = number(text.substr(key.size()));
    if ((v & ~static_cast<unsigned long>(approx_grid(m))) != 0) fail("mask bits outside the mode's block grid");
    const auto mask = static_cast<std::uint16_t>(v);
    return Approx{key == "skip=" ? mask : static_cast<std::uint16_t>(approx_grid(m) & ~mask)};
  }
  return fail("unknown form");
}

}  // namespace bitscale::golden

namespace bitscale::golden {

ColumnEntry split_column_entry(std::uint32_t entry) {
  ColumnEntry e;
  const std::uint32_t low = entry & ((1u << kColumnBiasBits) - 1u);
  const std::uint32_t sign = 1u << (kColumnBiasBits - 1);
  e.bias = static_cast<std::int32_t>(static_cast<std::int64_t>(low ^ sign) - static_cast<std::int64_t>(sign));
  e.shift = std::min(static_cast<int>(entry >> kColumnBiasBits), kAccBits - 1);
  return e;
}

std::uint32_t column_entry(std::int64_t bias, int shift) {
  if (!fits_column_bias(bias) || shift < 0 || shift >= kAccBits) {
    throw std::invalid_argument(
        fmt::format("column entry: bias {} does not fit {} signed bits or shift {} not in 0 .. {}", bias,
                    kColumnBiasBits, shift, kAccBits - 1));
  }
  return (static_cast<std::uint32_t>(shift) << kColumnBiasBits) |
         (static_cast<std::uint32_t>(bias) & ((1u << kColumnBiasBits) - 1u));
}

}  // namespace bitscale::golden
