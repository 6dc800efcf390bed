// Reference layer computation straight from docs/NUMERICS.md: the convolution, exact
// accumulation, the output stage; no tiling, no hardware.
//
// conv2d_acc is the fast implementation (im2col + int16 GEMM with int32 partial sums that
// provably cannot overflow, added into int64; a separate path for depthwise layers);
// conv2d_acc_naive is the direct loop nest with one int64 multiply-add per MAC, kept as the
// check for the fast path (tests compare the two bit for bit).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/golden/tensor.hpp"

namespace bitscale::golden {

/// Accumulator values (bias + exact sum), HWC order, out_h*out_w*out_c of them.
std::vector<std::int64_t> conv2d_acc(const Layer& layer, const PackedTensor& in);
/// Same values as conv2d_acc, from the direct loops of the spec (slow).
std::vector<std::int64_t> conv2d_acc_naive(const Layer& layer, const PackedTensor& in);
/// Full layer: accumulators through the output stage, packed in the layer's mode.
PackedTensor conv2d(const Layer& layer, const PackedTensor& in);
/// Same, into `out` (its words are reused when it already holds as many: no allocation).
void conv2d(const Layer& layer, const PackedTensor& in, PackedTensor& out);

/// GEMM micro-kernels usable on this CPU, fastest first; the last one is "generic"
/// (portable C++). Possible names: "avx512vnni", "avx512bw", "avx2", "generic".
std::vector<std::string> gemm_kernels();
/// Name of the kernel conv2d_acc uses (by default the first of gemm_kernels()).
std::string gemm_kernel();
/// Selects the kernel (tests, benchmarks); process-wide. Throws std::invalid_argument for a
/// name not in gemm_kernels().
void set_gemm_kernel(std::string_view name);

}  // namespace bitscale::golden
