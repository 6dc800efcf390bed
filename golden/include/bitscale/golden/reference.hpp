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

/// Validates `layer` (Layer::validate) and packs once what conv2d and conv2d_acc otherwise derive
/// from the weights on every call (GEMM weight panels, depthwise taps, the bias in int64) into
/// layer.kernels; later calls skip the weight validation and the packing. The packed operands are
/// used only while layer.weights and layer.bias are the vectors they were packed from (same
/// storage and size, same shape and mode; a copy of the layer has other storage and is packed per
/// call again): do not change a sealed layer's weights or bias in place, seal again after
/// changing them. The output stage, channel shifts and Ax-BxP configuration may change freely.
void seal(Layer& layer);

/// GEMM micro-kernels usable on this CPU, fastest first; the last one is "generic"
/// (portable C++). Possible names: "avx512vnni", "avx512bw", "avx2", "generic".
std::vector<std::string> gemm_kernels();
/// Name of the kernel conv2d_acc uses (by default the first of gemm_kernels()).
std::string gemm_kernel();
/// Selects the kernel (tests, benchmarks); process-wide. Throws std::invalid_argument for a
/// name not in gemm_kernels().
void set_gemm_kernel(std::string_view name);

/// The measured int16 multiply-accumulate peak of one core with the MAC instruction of GEMM kernel
/// `kernel` (vpdpwssd zmm for "avx512vnni", vpmaddwd + vpaddd on zmm / ymm for "avx512bw" / "avx2"):
/// independent register-only instructions repeated for at least `seconds`; int16 MACs per second.
/// Throws std::invalid_argument for "generic" (no such instruction) or a kernel not in gemm_kernels().
double int16_mac_peak(std::string_view kernel, double seconds);

}  // namespace bitscale::golden
