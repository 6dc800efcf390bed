// Dynamic fixed point arithmetic (docs/QUANTIZATION.md): the fractional length rule, rounding,
// saturation to a mode and rescaling between fractional lengths. Defined here only.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>

#include "bitscale/golden/float_ops.hpp"
#include "bitscale/golden/numeric.hpp"

namespace bitscale::quant {

/// IL = ceil(log2(max_abs)) + 1 (one sign bit); max_abs > 0.
int integer_length(double max_abs);
/// FL = bits - IL, or bits - 1 when max_abs == 0.
int fractional_length(double max_abs, int bits);
/// saturate(round(x * 2^fl)) to the mode's range; round = to nearest, ties away from zero.
std::int32_t quantize_value(double x, int fl, golden::Mode mode);

/// How the host rounds the parameters it quantizes (weights, biases, ADD constants): to nearest
/// (ties away from zero) or stochastically (Gysel's Ristretto, the seed paper): x becomes
/// floor(x) + 1 with probability frac(x), else floor(x). The array's own requantization
/// (ROUND_SHIFT of the accumulator) is always round half up: it is the hardware's.
enum class Rounding { kNearest, kStochastic };
std::string_view to_string(Rounding r);
/// "nearest" or "stochastic"; throws std::invalid_argument naming the accepted values.
Rounding rounding_from_string(std::string_view s);
/// The generator of one stream of stochastic roundings (one per layer): std::mt19937_64 seeded
/// through std::seed_seq with the 32-bit halves of `seed` and `stream`, so that the draws depend
/// on (seed, stream) only, on every platform (both are specified by the standard).
std::mt19937_64 rounding_generator(std::uint64_t seed, std::uint64_t stream);
/// A uniform double in [0, 1) from the top 53 bits of one draw (no implementation-defined
/// distribution).
double uniform_01(std::mt19937_64& rng);
/// floor(y) + 1 with probability y - floor(y) (exact in double), else floor(y); one draw.
double round_stochastic(double y, std::mt19937_64& rng);
/// saturate(round_stochastic(x * 2^fl)) to the mode's range.
std::int32_t quantize_stochastic(double x, int fl, golden::Mode mode, std::mt19937_64& rng);
/// A fixed-point value moved from `from_fl` to `to_fl` fractional bits: an exact left shift,
/// or a right shift with round half up (golden::round_shift). Not saturated.
std::int64_t rescale(std::int64_t v, int from_fl, int to_fl);
/// round(num / den) with ties towards +infinity, den > 0 (floor((2 num + den) / (2 den))).
std::int64_t round_div(std::int64_t num, std::int64_t den);
/// A fixed-point value (FL `fl`) saturated to the mode, then the activation's clamp range with
/// its bounds quantized to `fl` (the host's output stage).
std::int32_t activate_fixed(std::int64_t v, golden::FloatActivation a, int fl, golden::Mode m);

}  // namespace bitscale::quant
