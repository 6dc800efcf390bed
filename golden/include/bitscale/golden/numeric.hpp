// The numeric specification of docs/NUMERICS.md, defined once: modes, packing,
// rounding, saturation and the output stage. Every other C++ layer uses these.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "bitscale/regmap.hpp"

namespace bitscale::golden {

/// Precision mode; the values are the MODE codes of rtl/bsa_regs.def (regmap::kModes).
enum class Mode : std::uint8_t {
  k16 = regmap::kMode16,
  k8 = regmap::kMode8,
  k4 = regmap::kMode4,
};
/// The legal modes, in the order of regmap::kModes (index = MODE code).
inline constexpr std::array<Mode, 3> kModes{Mode::k16, Mode::k8, Mode::k4};

/// MODE register code of a mode.
constexpr std::uint32_t mode_code(Mode m) { return static_cast<std::uint32_t>(m); }
/// The mode of a MODE register code; nullopt for an illegal code.
constexpr std::optional<Mode> mode_of_code(std::uint32_t code) {
  for (const Mode m : kModes) {
    if (mode_code(m) == code) return m;
  }
  return std::nullopt;
}
/// Operand/output bit-width B of a mode (16, 8, 4; regmap::kModes).
constexpr int bits(Mode m) { return regmap::kModes[mode_code(m)].bits; }
/// Lanes P per 16-bit word (1, 2, 4; regmap::kModes).
constexpr int lanes(Mode m) { return regmap::kModes[mode_code(m)].lanes; }
/// Smallest and largest B-bit value.
constexpr std::int32_t min_value(Mode m) { return -(1 << (bits(m) - 1)); }
constexpr std::int32_t max_value(Mode m) { return (1 << (bits(m) - 1)) - 1; }
/// Mode of a bit-width; throws std::invalid_argument for anything but 4, 8, 16.
Mode mode_from_bits(int b);
/// "16-bit", "8-bit", "4-bit".
std::string to_string(Mode m);

/// Accumulator width (bits) of the hardware (ACC_W of rtl/bsa_regs.def).
inline constexpr int kAccBits = static_cast<int>(regmap::kAccW);

// The numeric spec and the hardware description agree (rtl/bsa_regs.def).
static_assert(regmap::kModes.size() == kModes.size(), "every legal MODE code is a golden::Mode");
static_assert(
    [] {
      for (std::size_t i = 0; i < kModes.size(); ++i) {
        const regmap::ModeInfo& info = regmap::kModes[i];
        if (info.code != i || info.bits * info.lanes != 16) return false;  // B bits x P lanes = one 16-bit word
      }
      return true;
    }(),
    "regmap::kModes must be indexed by MODE code and fill 16-bit words");
static_assert(bits(Mode::k16) == 16 && bits(Mode::k8) == 8 && bits(Mode::k4) == 4, "mode names and bit-widths agree");
static_assert(kAccBits > 0 && kAccBits <= 64 && regmap::kShiftField.fits(kAccBits - 1),
              "SHIFT holds every shift below ACC_W");

/// Output stage configuration (OUT_CFG, SHIFT, CLAMP_HI).
struct OutputStage {
  int shift = 0;              ///< 0 .. kAccBits-1
  bool relu = false;          ///< clamp below at 0
  bool clamp = false;         ///< clamp above at clamp_hi
  std::int16_t clamp_hi = 0;  ///< signed upper clamp
};

/// Arithmetic right shift with round half up: s == 0 ? acc : floor((acc + 2^(s-1)) / 2^s).
std::int64_t round_shift(std::int64_t acc, int shift);
/// Saturate to the B-bit range of the mode.
std::int32_t saturate(std::int64_t v, Mode m);
/// The whole output stage: round_shift, saturate, ReLU, clamp.
std::int32_t output_value(std::int64_t acc, Mode m, const OutputStage& os);

/// A bias entry under OUT_CFG.COL_SHIFT (docs/NUMERICS.md "Per-column shifts"): bits [31:26] the shift of the
/// column (values above kAccBits - 1 read as kAccBits - 1), bits [25:0] the signed bias.
inline constexpr int kColumnBiasBits = 26;
struct ColumnEntry {
  std::int32_t bias = 0;
  int shift = 0;
};
/// The bias and shift of a bias entry under COL_SHIFT.
ColumnEntry split_column_entry(std::uint32_t entry);
/// Whether a bias fits the entry's kColumnBiasBits signed bits.
constexpr bool fits_column_bias(std::int64_t bias) {
  return bias >= -(std::int64_t{1} << (kColumnBiasBits - 1)) && bias < (std::int64_t{1} << (kColumnBiasBits - 1));
}
/// The entry of a bias and shift; throws std::invalid_argument unless fits_column_bias(bias) and 0 <= shift < kAccBits.
std::uint32_t column_entry(std::int64_t bias, int shift);
/// The stage a layer programs into the hardware: clamp_hi saturated to the mode's range
/// (docs/NUMERICS.md: "saturated to the mode's range by the driver"), so that
/// output_value(acc, m, layer_output_stage(os, m)) is always in the mode's range.
/// The layer reference (conv2d) applies it.
OutputStage layer_output_stage(const OutputStage& os, Mode m);

/// Lane `lane` of a packed word, sign-extended.
std::int32_t get_lane(std::uint16_t word, int lane, Mode m);
/// `word` with lane `lane` replaced by the low B bits of v.
std::uint16_t set_lane(std::uint16_t word, int lane, Mode m, std::int32_t v);
/// Number of 16-bit words holding n elements.
constexpr std::size_t packed_words(std::size_t n, Mode m) {
  return (n + static_cast<std::size_t>(lanes(m)) - 1) / static_cast<std::size_t>(lanes(m));
}
/// Pack values (each must be in range; throws std::out_of_range naming the index otherwise)
/// into words.size() >= packed_words(values.size()) words; unused lanes are 0.
void pack(std::span<const std::int32_t> values, Mode m, std::span<std::uint16_t> words);
/// Unpack values.size() elements from words.
void unpack(std::span<const std::uint16_t> words, Mode m, std::span<std::int32_t> values);

}  // namespace bitscale::golden

namespace bitscale::golden {

// ---- Approximate block products (Ax-BxP), docs/NUMERICS.md "Approximate block products" ----

/// 4-bit blocks per B-bit operand: B / 4 (4, 2, 1).
constexpr int blocks(Mode m) { return bits(m) / 4; }
/// Bit of block pair (i, j) (activation block i, weight block j) in a skip mask.
constexpr std::uint16_t block_bit(int i, int j) { return static_cast<std::uint16_t>(1u << (4 * i + j)); }
/// The bits of a skip mask that a mode may set: block pairs (i, j) with i, j < blocks(m)
/// (0xFFFF, 0x0033, 0x0001).
constexpr std::uint16_t approx_grid(Mode m) {
  std::uint16_t g = 0;
  for (int i = 0; i < blocks(m); ++i)
    for (int j = 0; j < blocks(m); ++j) g = static_cast<std::uint16_t>(g | block_bit(i, j));
  return g;
}

/// A configuration of approximate block products: the block pairs that are skipped
/// (MODE.BLKSKIP). The default, no pair skipped, is the exact product.
struct Approx {
  std::uint16_t skip = 0;  ///< bit 4i + j: block product (i, j) is not computed (contributes 0)
  [[nodiscard]] constexpr bool exact() const { return skip == 0; }
  [[nodiscard]] constexpr bool skips(int i, int j) const { return (skip & block_bit(i, j)) != 0; }
  friend constexpr bool operator==(Approx, Approx) = default;
};
/// Whether the mask only names block pairs of the mode's grid (else START: ERR_BAD_APPROX).
constexpr bool approx_legal(Approx x, Mode m) { return (x.skip & ~approx_grid(m)) == 0; }
/// Block products computed per lane product: blocks(m)^2 minus the skipped pairs.
constexpr int kept_blocks(Approx x, Mode m) {
  int n = 0;
  for (int i = 0; i < blocks(m); ++i)
    for (int j = 0; j < blocks(m); ++j) n += x.skips(i, j) ? 0 : 1;
  return n;
}
/// Largest member of the documented family of a mode: 2 (blocks(m) - 1) (6, 2, 0).
constexpr int approx_family_max(Mode m) { return 2 * (blocks(m) - 1); }
/// Member c of the documented family: keep the block pairs with i + j >= c, skip the others.
/// Throws std::invalid_argument for c outside 0 .. approx_family_max(m).
Approx approx_family(Mode m, int c);
/// Block i of a B-bit value x (docs/NUMERICS.md): nibble x[4i+3:4i], signed for the top block,
/// unsigned below. x must be in the mode's range.
std::int32_t block_of(std::int32_t x, int i, Mode m);
/// The approximate product a (x) w of the configuration: the sum of the kept block products
/// a_i * w_j * 2^(4(i+j)) (the block-product twin of bsa_mul). Equal to a * w when x.exact().
std::int64_t approx_product(std::int32_t a, std::int32_t w, Mode m, Approx x);
/// "exact" or the mask as "skip=0x0013" (4 hex digits).
std::string to_string(Approx x);
/// A configuration of mode m from text: "exact", "c<N>" (member N of the family), "skip=<mask>"
/// or "keep=<mask>" (mask decimal or 0x-hex; keep= is the complement within the mode's grid).
/// Throws std::invalid_argument naming the text for anything else or an illegal mask.
Approx parse_approx(std::string_view text, Mode m);

}  // namespace bitscale::golden
