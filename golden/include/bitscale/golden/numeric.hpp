// The numeric specification of docs/NUMERICS.md, defined once: modes, packing,
// rounding, saturation and the output stage. Every other C++ layer uses these.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

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
