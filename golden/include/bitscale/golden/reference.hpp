// Reference layer computation straight from docs/NUMERICS.md: direct loops over the
// convolution, exact 64-bit accumulation, the output stage; no tiling, no hardware.
#pragma once

#include <cstdint>
#include <vector>

#include "bitscale/golden/tensor.hpp"

namespace bitscale::golden {

/// Accumulator values (bias + exact sum), HWC order, out_h*out_w*out_c of them.
std::vector<std::int64_t> conv2d_acc(const Layer& layer, const PackedTensor& in);
/// Full layer: accumulators through the output stage, packed in the layer's mode.
PackedTensor conv2d(const Layer& layer, const PackedTensor& in);

}  // namespace bitscale::golden
