// Per-mode block-product counters CNT_BLK16 / CNT_BLK8 / CNT_BLK4 on the verilated array: the
// mixed-mode sequence of tests/common/blk_modes.hpp, counted by hand (the golden device and the
// functional back-end run the same sequence in tests/unit/test_blk_modes.cpp).
#include <gtest/gtest.h>

#include "bitscale/driver/accelerator.hpp"
#include "blk_modes.hpp"

namespace bitscale {
namespace {

TEST(RtlBlockCountersPerMode, MixedSequenceCountedByHand) {
  auto acc = driver::make_accelerator(driver::Backend::kRtl);
  test::check_blocks_per_mode(*acc);
}

}  // namespace
}  // namespace bitscale
