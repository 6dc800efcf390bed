// Internal vectorised helpers of golden/src (numeric.cpp): cloned per ISA (AVX-512, AVX2,
// baseline) and resolved once at load time, like the loops of reference.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bitscale/golden/numeric.hpp"

namespace bitscale::golden::detail {

struct MinMax {
  std::int32_t lo = 0, hi = 0;  ///< min and max of the values and 0
};
/// Smallest and largest of v[0 .. n-1] and 0.
MinMax minmax_i32(const std::int32_t* v, std::size_t n);
/// Packs n whole words of lanes(m) values each (values in range).
void pack_whole_words(const std::int32_t* v, std::size_t n, Mode m, std::uint16_t* w);
/// Unpacks the n * lanes(m) values of n whole words, sign-extended.
void unpack_whole_words(const std::uint16_t* w, std::size_t n, Mode m, std::int32_t* v);

}  // namespace bitscale::golden::detail
