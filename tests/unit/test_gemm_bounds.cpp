// The portable GEMM micro-kernel reads nothing past its operands: A's last row ends at a
// page followed by an inaccessible one (a read past it is a segfault, which fails the test),
// and the sums equal direct dot products. g++ 12 at -O3 vectorized this kernel into loads 4
// bytes past the last row (golden/CMakeLists.txt).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "../../golden/src/gemm.hpp"

namespace bitscale::golden::detail {
namespace {

/// `bytes` of read-write memory whose end touches an inaccessible page.
class GuardedBlock {
 public:
  explicit GuardedBlock(std::size_t bytes) {
    page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    pages_ = (bytes + page_ - 1) / page_ + 1;
    base_ = ::mmap(nullptr, pages_ * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base_ == MAP_FAILED) throw std::runtime_error("mmap failed");
    ::mprotect(static_cast<char*>(base_) + (pages_ - 1) * page_, page_, PROT_NONE);
    data_ = static_cast<char*>(base_) + (pages_ - 1) * page_ - bytes;
  }
  GuardedBlock(const GuardedBlock&) = delete;
  GuardedBlock& operator=(const GuardedBlock&) = delete;
  ~GuardedBlock() { ::munmap(base_, pages_ * page_); }
  [[nodiscard]] void* data() const { return data_; }

 private:
  void* base_ = nullptr;
  char* data_ = nullptr;
  std::size_t page_ = 0, pages_ = 0;
};

TEST(GemmBounds, GenericKernelStaysInsideItsOperands) {
  for (const int npairs : {1, 7, 2304, 32768}) {
    const std::size_t lda = 2 * static_cast<std::size_t>(npairs);
    const int nb = 2;
    const std::size_t tile_stride = lda * kGemmNR;
    GuardedBlock ablk(kGemmMR * lda * sizeof(std::int16_t));
    GuardedBlock wblk(static_cast<std::size_t>(nb) * tile_stride * sizeof(std::int16_t));
    auto* a = static_cast<std::int16_t*>(ablk.data());
    auto* w = static_cast<std::int16_t*>(wblk.data());
    for (std::size_t i = 0; i < kGemmMR * lda; ++i) a[i] = static_cast<std::int16_t>(static_cast<int>(i % 255) - 127);
    for (std::size_t i = 0; i < static_cast<std::size_t>(nb) * tile_stride; ++i) {
      w[i] = static_cast<std::int16_t>(static_cast<int>((i * 7) % 251) - 125);
    }
    std::vector<std::int32_t> c(static_cast<std::size_t>(kGemmMR) * kGemmLdc, 0);
    gemm_kernel_generic(a, lda, w, tile_stride, npairs, nb, c.data());
    for (int r = 0; r < kGemmMR; ++r) {
      for (int n = 0; n < nb * kGemmNR; ++n) {
        const int t = n / kGemmNR, j = n % kGemmNR;
        std::int64_t want = 0;  // |sum| <= 2 * 32768 * 127 * 125: no int32 wrap
        for (int p = 0; p < npairs; ++p) {
          for (int q = 0; q < 2; ++q) {
            want +=
                std::int64_t{a[static_cast<std::size_t>(r) * lda + 2 * static_cast<std::size_t>(p) + q]} *
                w[static_cast<std::size_t>(t) * tile_stride + static_cast<std::size_t>(p) * 2 * kGemmNR + 2 * j + q];
          }
        }
        ASSERT_EQ(c[static_cast<std::size_t>(r) * kGemmLdc + n], want)
            << "npairs " << npairs << " row " << r << " n " << n;
      }
    }
  }
}

}  // namespace
}  // namespace bitscale::golden::detail
