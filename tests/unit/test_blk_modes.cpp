// Per-mode block-product counters CNT_BLK16 / CNT_BLK8 / CNT_BLK4 (rtl/bsa_regs.def) on the golden
// device and the functional back-end: a mixed-mode sequence counted by hand (tests/common/blk_modes.hpp;
// the same sequence runs on the RTL in tests/rtl/test_rtl_blk_modes.cpp), and the energy model
// pricing each mode's skipped block products at its own price.
#include <gtest/gtest.h>

#include "bitscale/golden/counter_model.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/study/energy.hpp"
#include "blk_modes.hpp"

namespace bitscale {
namespace {

TEST(BlockCountersPerMode, MixedSequenceOnTheGoldenDevice) {
  golden::GoldenDevice dev;
  driver::Accelerator acc(dev);
  test::check_blocks_per_mode(acc);
}

TEST(BlockCountersPerMode, MixedSequenceOnTheFunctionalBackEnd) {
  driver::Accelerator acc(driver::default_hw_config());
  test::check_blocks_per_mode(acc);
}

TEST(BlockCountersPerMode, EveryTileCountsInItsModesCounter) {
  // The counter rules: CNT_BLK and the mode's own counter move together, tile by tile and edge by edge.
  for (const golden::Mode m : {golden::Mode::k16, golden::Mode::k8, golden::Mode::k4}) {
    golden::TileCounts t;
    t.mode = m;
    t.k = 7;
    t.rows = 3;
    t.cols = 5;
    t.approx = golden::approx_family(m, golden::approx_family_max(m));
    const golden::CounterValues c = golden::count_tile(t);
    EXPECT_EQ(c, golden::count_tile_edges(t));
    const auto kept = static_cast<std::uint64_t>(golden::kept_blocks(t.approx, m));
    EXPECT_EQ(c[golden::blk_counter(m)], 3u * 5u * 7u * kept);
    EXPECT_EQ(c[regmap::kCntBlk16] + c[regmap::kCntBlk8] + c[regmap::kCntBlk4], c[regmap::kCntBlk]);
    golden::CounterValues g = c;
    golden::count_zero_gating(g, m, 4);
    EXPECT_EQ(g[golden::blk_counter(m)], c[golden::blk_counter(m)] - 4);
    EXPECT_EQ(g[regmap::kCntZskip], 4u);
  }
}

// Hand-worked prices with a table of 4 / 2 / 1 pJ per 16- / 8- / 4-bit MAC and blk_share 0.5
// (per block product: 16-bit 4/16 = 0.25 pJ, 8-bit 2/4 = 0.5 pJ, 4-bit 1 pJ).
//   100 16-bit MACs with 40 of their 1600 block products skipped, 1000 8-bit MACs at c1 (1000 of
//   4000 skipped): saved 0.5 x (40 x 0.25 + 1000 x 0.5) = 255 pJ.
// Without the per-mode counters (one CNT_BLK = 4560) the 1040 skipped products are attributed to the
// cheapest mode first (16-bit at 0.25 pJ per block, capacity 1600): 0.5 x 1040 x 0.25 = 130 pJ, a
// lower bound; the per-mode counters give the exact 255 pJ.
TEST(BlockCountersPerMode, EnergyPricesEachModesSkippedBlocksAtItsPrice) {
  study::EnergyTable t;
  t.pj_per_mac16 = 4, t.pj_per_mac8 = 2, t.pj_per_mac4 = 1;
  t.pj_per_spad_read = t.pj_per_spad_write = t.pj_per_offchip_byte = 0;
  t.blk_share = 0.5;
  driver::Counters c;
  c.mac16 = 100, c.mac8 = 1000;
  c.blk16 = 1600 - 40, c.blk8 = 3000;
  c.blk = c.blk16 + c.blk8;
  EXPECT_TRUE(study::has_mode_blocks(c));
  EXPECT_EQ(study::skipped_blocks(c, golden::Mode::k16), 40u);
  EXPECT_EQ(study::skipped_blocks(c, golden::Mode::k8), 1000u);
  EXPECT_EQ(study::skipped_blocks(c), 1040u);
  EXPECT_DOUBLE_EQ(study::skipped_mac_pj(c, t), 255.0);
  EXPECT_DOUBLE_EQ(study::energy_breakdown(c, 0, t).mac_pj, 100 * 4 + 1000 * 2 - 255.0);
  driver::Counters legacy = c;
  legacy.blk16 = legacy.blk8 = 0;
  EXPECT_FALSE(study::has_mode_blocks(legacy));
  EXPECT_DOUBLE_EQ(study::skipped_mac_pj(legacy, t), 130.0);
  // An exact mixed run costs exactly its MACs.
  driver::Counters exact = c;
  exact.blk16 = 1600, exact.blk8 = 4000, exact.blk = 5600;
  EXPECT_EQ(study::skipped_mac_pj(exact, t), 0.0);
  // Inconsistent counters are refused, naming them.
  driver::Counters bad = c;
  bad.blk += 1;
  EXPECT_THROW((void)study::skipped_mac_pj(bad, t), std::invalid_argument);
  bad = c;
  bad.blk8 = 4001, bad.blk = bad.blk16 + bad.blk8;
  try {
    (void)study::skipped_mac_pj(bad, t);
    ADD_FAILURE() << "8-bit block products above the MACs' accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("CNT_BLK8"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bitscale
