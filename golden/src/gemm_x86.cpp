// x86 int16 GEMM micro-kernels (see gemm.hpp). Compiled for the baseline ISA; each kernel
// carries its own target attribute and is only called after a CPUID check
// (reference.cpp), so the library runs on any x86-64.
#include <immintrin.h>

#include <cstring>

#include "gemm.hpp"

namespace bitscale::golden::detail {

namespace {

#define BITSCALE_AVX2 __attribute__((target("avx2")))
#define BITSCALE_AVX512BW __attribute__((target("avx512f,avx512bw")))
#define BITSCALE_AVX512VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))

// -------- AVX2: one 16-channel tile = 2 ymm; kGemmMR x 2 accumulators --------

BITSCALE_AVX2 inline void tile_avx2(const std::int16_t* a, std::size_t lda, const std::int16_t* w, int npairs,
                                    std::int32_t* c) {
  __m256i acc[kGemmMR][2];
  for (int r = 0; r < kGemmMR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int p = 0; p < npairs; ++p) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + p * 32));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + p * 32 + 16));
    for (int r = 0; r < kGemmMR; ++r) {
      std::int32_t v;
      std::memcpy(&v, a + static_cast<std::size_t>(r) * lda + 2 * static_cast<std::size_t>(p), sizeof v);
      const __m256i b = _mm256_set1_epi32(v);
      acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(b, w0));
      acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(b, w1));
    }
  }
  for (int r = 0; r < kGemmMR; ++r) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * kGemmLdc), acc[r][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * kGemmLdc + 8), acc[r][1]);
  }
}

// -------- AVX-512: NB tiles of 16 channels = NB zmm; kGemmMR x NB accumulators --------

template <int NB>
BITSCALE_AVX512BW inline void tile_avx512bw(const std::int16_t* a, std::size_t lda, const std::int16_t* w,
                                            std::size_t wts, int npairs, std::int32_t* c) {
  __m512i acc[kGemmMR][NB];
  for (int r = 0; r < kGemmMR; ++r)
    for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_setzero_si512();
  for (int p = 0; p < npairs; ++p) {
    __m512i wv[NB];
    for (int j = 0; j < NB; ++j) wv[j] = _mm512_loadu_si512(w + static_cast<std::size_t>(j) * wts + p * 32);
    for (int r = 0; r < kGemmMR; ++r) {
      std::int32_t v;
      std::memcpy(&v, a + static_cast<std::size_t>(r) * lda + 2 * static_cast<std::size_t>(p), sizeof v);
      const __m512i b = _mm512_set1_epi32(v);
      for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_add_epi32(acc[r][j], _mm512_madd_epi16(b, wv[j]));
    }
  }
  for (int r = 0; r < kGemmMR; ++r)
    for (int j = 0; j < NB; ++j) _mm512_storeu_si512(c + r * kGemmLdc + j * kGemmNR, acc[r][j]);
}

template <int NB>
BITSCALE_AVX512VNNI inline void tile_avx512vnni(const std::int16_t* a, std::size_t lda, const std::int16_t* w,
                                                std::size_t wts, int npairs, std::int32_t* c) {
  __m512i acc[kGemmMR][NB];
  for (int r = 0; r < kGemmMR; ++r)
    for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_setzero_si512();
  for (int p = 0; p < npairs; ++p) {
    __m512i wv[NB];
    for (int j = 0; j < NB; ++j) wv[j] = _mm512_loadu_si512(w + static_cast<std::size_t>(j) * wts + p * 32);
    for (int r = 0; r < kGemmMR; ++r) {
      std::int32_t v;
      std::memcpy(&v, a + static_cast<std::size_t>(r) * lda + 2 * static_cast<std::size_t>(p), sizeof v);
      const __m512i b = _mm512_set1_epi32(v);
      for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_dpwssd_epi32(acc[r][j], b, wv[j]);  // non-saturating
    }
  }
  for (int r = 0; r < kGemmMR; ++r)
    for (int j = 0; j < NB; ++j) _mm512_storeu_si512(c + r * kGemmLdc + j * kGemmNR, acc[r][j]);
}

}  // namespace

BITSCALE_AVX2 void gemm_kernel_avx2(const std::int16_t* a, std::size_t lda, const std::int16_t* w,
                                    std::size_t w_tile_stride, int npairs, int nb, std::int32_t* c) {
  for (int t = 0; t < nb; ++t) {
    tile_avx2(a, lda, w + static_cast<std::size_t>(t) * w_tile_stride, npairs, c + t * kGemmNR);
  }
}

BITSCALE_AVX512BW void gemm_kernel_avx512bw(const std::int16_t* a, std::size_t lda, const std::int16_t* w,
                                            std::size_t w_tile_stride, int npairs, int nb, std::int32_t* c) {
  switch (nb) {
    case 1:
      tile_avx512bw<1>(a, lda, w, w_tile_stride, npairs, c);
      break;
    case 2:
      tile_avx512bw<2>(a, lda, w, w_tile_stride, npairs, c);
      break;
    case 3:
      tile_avx512bw<3>(a, lda, w, w_tile_stride, npairs, c);
      break;
    default:
      tile_avx512bw<4>(a, lda, w, w_tile_stride, npairs, c);
      break;
  }
}

BITSCALE_AVX512VNNI void gemm_kernel_avx512vnni(const std::int16_t* a, std::size_t lda, const std::int16_t* w,
                                                std::size_t w_tile_stride, int npairs, int nb, std::int32_t* c) {
  switch (nb) {
    case 1:
      tile_avx512vnni<1>(a, lda, w, w_tile_stride, npairs, c);
      break;
    case 2:
      tile_avx512vnni<2>(a, lda, w, w_tile_stride, npairs, c);
      break;
    case 3:
      tile_avx512vnni<3>(a, lda, w, w_tile_stride, npairs, c);
      break;
    default:
      tile_avx512vnni<4>(a, lda, w, w_tile_stride, npairs, c);
      break;
  }
}

}  // namespace bitscale::golden::detail

// -------- int16 MAC peak: the MAC instructions of the kernels above on registers only --------
//
// Inline assembly (the compiler must neither hoist nor merge the loop-invariant products):
// independent accumulators, more than latency x throughput of the instruction on current cores,
// no loads or stores. Operand values do not affect the timing of integer SIMD instructions.

namespace bitscale::golden::detail {

BITSCALE_AVX512VNNI std::uint64_t mac_peak_avx512vnni(std::uint64_t iters) {
  std::uint64_t n = iters;
  if (n == 0) return 0;
  asm volatile(
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
      "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
      "1:\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm2\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm3\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm4\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm5\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm6\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm7\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm8\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm9\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm10\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm11\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm12\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm13\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm14\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm15\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm16\n\t"
      "vpdpwssd %%zmm1, %%zmm0, %%zmm17\n\t"
      "dec %0\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : "+r"(n)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15", "xmm16", "xmm17");
  return iters * 16 * 32;  // 16 vpdpwssd zmm per iteration, 32 int16 products each
}

BITSCALE_AVX512BW std::uint64_t mac_peak_avx512bw(std::uint64_t iters) {
  std::uint64_t n = iters;
  if (n == 0) return 0;
  asm volatile(
      "vpxord %%zmm0, %%zmm0, %%zmm0\n\t"
      "vpxord %%zmm1, %%zmm1, %%zmm1\n\t"
      "1:\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm14\n\t"
      "vpaddd %%zmm14, %%zmm2, %%zmm2\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm15\n\t"
      "vpaddd %%zmm15, %%zmm3, %%zmm3\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm16\n\t"
      "vpaddd %%zmm16, %%zmm4, %%zmm4\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm17\n\t"
      "vpaddd %%zmm17, %%zmm5, %%zmm5\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm18\n\t"
      "vpaddd %%zmm18, %%zmm6, %%zmm6\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm19\n\t"
      "vpaddd %%zmm19, %%zmm7, %%zmm7\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm20\n\t"
      "vpaddd %%zmm20, %%zmm8, %%zmm8\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm21\n\t"
      "vpaddd %%zmm21, %%zmm9, %%zmm9\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm22\n\t"
      "vpaddd %%zmm22, %%zmm10, %%zmm10\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm23\n\t"
      "vpaddd %%zmm23, %%zmm11, %%zmm11\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm24\n\t"
      "vpaddd %%zmm24, %%zmm12, %%zmm12\n\t"
      "vpmaddwd %%zmm1, %%zmm0, %%zmm25\n\t"
      "vpaddd %%zmm25, %%zmm13, %%zmm13\n\t"
      "dec %0\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : "+r"(n)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24",
        "xmm25");
  return iters * 12 * 32;  // 12 vpmaddwd zmm per iteration, 32 int16 products each
}

BITSCALE_AVX2 std::uint64_t mac_peak_avx2(std::uint64_t iters) {
  std::uint64_t n = iters;
  if (n == 0) return 0;
  asm volatile(
      "vpxor %%ymm0, %%ymm0, %%ymm0\n\t"
      "vpxor %%ymm1, %%ymm1, %%ymm1\n\t"
      "1:\n\t"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm8\n\t"
      "vpaddd %%ymm8, %%ymm2, %%ymm2\n\t"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm9\n\t"
      "vpaddd %%ymm9, %%ymm3, %%ymm3\n\t"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm10\n\t"
      "vpaddd %%ymm10, %%ymm4, %%ymm4\n\t"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm11\n\t"
      "vpaddd %%ymm11, %%ymm5, %%ymm5\n\t"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm12\n\t"
      "vpaddd %%ymm12, %%ymm6, %%ymm6\n\t"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm13\n\t"
      "vpaddd %%ymm13, %%ymm7, %%ymm7\n\t"
      "dec %0\n\t"
      "jnz 1b\n\t"
      "vzeroupper\n\t"
      : "+r"(n)
      :
      : "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
        "xmm13");
  return iters * 6 * 16;  // 6 vpmaddwd ymm per iteration, 16 int16 products each
}

}  // namespace bitscale::golden::detail
