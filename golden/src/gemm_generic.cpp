// Portable int16 GEMM micro-kernel (see gemm.hpp); the reference for the x86 kernels.
#include <cstring>

#include "gemm.hpp"

namespace bitscale::golden::detail {

void gemm_kernel_generic(const std::int16_t* a, std::size_t lda, const std::int16_t* w, std::size_t w_tile_stride,
                         int npairs, int nb, std::int32_t* c) {
  for (int t = 0; t < nb; ++t) {
    std::uint32_t acc[kGemmMR][kGemmNR] = {};  // unsigned: wrapping, like the SIMD kernels
    const std::int16_t* wt = w + static_cast<std::size_t>(t) * w_tile_stride;
    for (int p = 0; p < npairs; ++p) {
      const std::int16_t* wp = wt + static_cast<std::size_t>(p) * 2 * kGemmNR;
      for (int r = 0; r < kGemmMR; ++r) {
        const std::int32_t a0 = a[static_cast<std::size_t>(r) * lda + 2 * static_cast<std::size_t>(p)];
        const std::int32_t a1 = a[static_cast<std::size_t>(r) * lda + 2 * static_cast<std::size_t>(p) + 1];
        for (int j = 0; j < kGemmNR; ++j) {
          acc[r][j] += static_cast<std::uint32_t>(a0 * wp[2 * j]) + static_cast<std::uint32_t>(a1 * wp[2 * j + 1]);
        }
      }
    }
    for (int r = 0; r < kGemmMR; ++r) {
      for (int j = 0; j < kGemmNR; ++j) {
        c[r * kGemmLdc + t * kGemmNR + j] = static_cast<std::int32_t>(acc[r][j]);
      }
    }
  }
}

}  // namespace bitscale::golden::detail
