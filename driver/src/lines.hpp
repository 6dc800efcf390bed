// Scratchpad line packing shared by the driver's sources (private to the driver library).
#pragma once

#include <cstdint>

namespace bitscale::driver::detail {

/// Four consecutive 16-bit words as one scratchpad line (word 0 in the low bits).
inline std::uint64_t line_of(const std::uint16_t* w) {
  return std::uint64_t{w[0]} | (std::uint64_t{w[1]} << 16) | (std::uint64_t{w[2]} << 32) | (std::uint64_t{w[3]} << 48);
}

}  // namespace bitscale::driver::detail
