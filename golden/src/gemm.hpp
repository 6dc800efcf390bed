// Internal int16 GEMM micro-kernels of the golden reference (golden/src/reference.cpp).
//
// One call computes a kGemmMR x (nb * kGemmNR) tile of int32 dot products over `npairs`
// pairs of k:
//
//   c[r * kGemmLdc + n] = sum_{p < npairs} sum_{q < 2} a[r * lda + 2p + q] * w(n, 2p + q)
//
// a:  kGemmMR rows of int16 operands, row stride lda (elements), read as int32 pairs.
// w:  packed weights; tile t (16 output channels) starts at w + t * w_tile_stride and holds,
//     for each pair p, 16 x 2 int16: w[t * w_tile_stride + p * 32 + 2 j + q] = w(16 t + j, 2p + q).
// c:  kGemmMR x kGemmLdc int32, overwritten (not accumulated).
//
// The sums are computed in wrapping int32 arithmetic, so the caller must bound npairs such
// that no partial sum leaves the int32 range (the kernels add products pairwise, as vpmaddwd
// does, so |pair sum| must fit as well). Every kernel returns the same exact values.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bitscale::golden::detail {

inline constexpr int kGemmMR = 6;     ///< rows (output pixels) per kernel call
inline constexpr int kGemmNR = 16;    ///< output channels per weight tile
inline constexpr int kGemmMaxNB = 4;  ///< weight tiles per kernel call
inline constexpr int kGemmLdc = kGemmNR * kGemmMaxNB;

using GemmKernel = void (*)(const std::int16_t* a, std::size_t lda, const std::int16_t* w, std::size_t w_tile_stride,
                            int npairs, int nb, std::int32_t* c);

/// Portable C++ (auto-vectorised for the build's baseline ISA).
void gemm_kernel_generic(const std::int16_t* a, std::size_t lda, const std::int16_t* w, std::size_t w_tile_stride,
                         int npairs, int nb, std::int32_t* c);

#if defined(BITSCALE_GOLDEN_X86)
/// AVX2 (vpmaddwd + vpaddd on 256-bit vectors).
void gemm_kernel_avx2(const std::int16_t* a, std::size_t lda, const std::int16_t* w, std::size_t w_tile_stride,
                      int npairs, int nb, std::int32_t* c);
/// AVX-512 F+BW (vpmaddwd + vpaddd on 512-bit vectors).
void gemm_kernel_avx512bw(const std::int16_t* a, std::size_t lda, const std::int16_t* w, std::size_t w_tile_stride,
                          int npairs, int nb, std::int32_t* c);
/// AVX-512 VNNI (vpdpwssd).
void gemm_kernel_avx512vnni(const std::int16_t* a, std::size_t lda, const std::int16_t* w, std::size_t w_tile_stride,
                            int npairs, int nb, std::int32_t* c);
#endif

}  // namespace bitscale::golden::detail

namespace bitscale::golden::detail {

/// MAC-peak loops: `iters` iterations of independent register-only MAC instructions of one
/// kernel's ISA; return the int16 multiply-accumulates done. Call only where the ISA exists.
#if defined(BITSCALE_GOLDEN_X86)
std::uint64_t mac_peak_avx512vnni(std::uint64_t iters);
std::uint64_t mac_peak_avx512bw(std::uint64_t iters);
std::uint64_t mac_peak_avx2(std::uint64_t iters);
#endif

}  // namespace bitscale::golden::detail
