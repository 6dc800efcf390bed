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
