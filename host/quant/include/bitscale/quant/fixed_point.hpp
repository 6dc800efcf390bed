// Dynamic fixed point arithmetic (docs/QUANTIZATION.md): the fractional length rule, rounding,
// saturation to a mode and rescaling between fractional lengths. Defined here only.
#pragma once

#include <cstdint>

#include "bitscale/golden/float_ops.hpp"
#include "bitscale/golden/numeric.hpp"

namespace bitscale::quant {

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
/// A fixed-point value (FL `fl`) saturated to the mode, then the activation's clamp range with
/// its bounds quantized to `fl` (the host's output stage).
std::int32_t activate_fixed(std::int64_t v, golden::FloatActivation a, int fl, golden::Mode m);

}  // namespace bitscale::quant
