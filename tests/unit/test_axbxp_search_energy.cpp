// The price of approximate MACs (docs/ENERGY.md "Approximate MACs"): a MAC of mode m that
// computes k of its blocks(m)^2 block products costs E_m (1 - f + f k / blocks(m)^2). Expected
// values are worked out by hand from that definition with round numbers.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/study/energy.hpp"
#include "test_files.hpp"

namespace bitscale::study {
namespace {

// 16 / 2 / 1 pJ per 16 / 8 / 4-bit MAC (1, 0.5, 1 pJ per block product: the 8-bit one is the
// cheapest, as with the Envision table), half of it block products, no memory terms.
EnergyTable table(double share = 0.5, double e16 = 16) {
  EnergyTable t;
  t.source = "test";
  t.pj_per_mac16 = e16;
  t.pj_per_mac8 = 2;
  t.pj_per_mac4 = 1;
  t.blk_share = share;
  return t;
}

driver::Counters counters(std::uint64_t mac16, std::uint64_t mac8, std::uint64_t mac4, std::uint64_t blk) {
  driver::Counters c;
  c.mac16 = mac16, c.mac8 = mac8, c.mac4 = mac4, c.blk = blk;
  return c;
}

double mac_pj(const driver::Counters& c, const EnergyTable& t) { return energy_breakdown(c, 0, t).mac_pj; }

TEST(AxbxpEnergy, ExactRunsPriceExactlyAsBefore) {
  // Every block product computed: 16 per 16-bit MAC, 4 per 8-bit, 1 per 4-bit.
  const driver::Counters c = counters(3, 10, 7, 3 * 16 + 10 * 4 + 7 * 1);
  EXPECT_EQ(skipped_blocks(c), 0u);
  EXPECT_EQ(mac_pj(c, table()), 3 * 16.0 + 10 * 2.0 + 7 * 1.0);
  EXPECT_EQ(energy_breakdown(c, 0, table()).mac_saved_pj, 0.0);
  // Records made before CNT_BLK existed (blk 0) are exact too.
  EXPECT_EQ(mac_pj(counters(3, 10, 7, 0), table()), 75.0);
  // The Envision table, bit for bit the figure without the block term.
  const EnergyTable env = EnergyTable::envision();
  EXPECT_EQ(mac_pj(c, env), 3 * env.pj_per_mac16 + 10 * env.pj_per_mac8 + 7 * env.pj_per_mac4);
}

TEST(AxbxpEnergy, SkippedBlocksOfEightBitMacs) {
  // 100 8-bit MACs in family member c = 2 (1 of 4 block products) and an exact 16-bit classifier
  // of 10 MACs: an 8-bit MAC costs 2 (1 - 0.5 + 0.5 / 4) = 1.25 pJ, a 16-bit one 16 pJ.
  const driver::Counters c = counters(10, 100, 0, 10 * 16 + 100 * 1);
  EXPECT_EQ(skipped_blocks(c), 300u);
  EXPECT_DOUBLE_EQ(mac_pj(c, table()), 100 * 1.25 + 10 * 16.0);
  EXPECT_DOUBLE_EQ(energy_breakdown(c, 0, table()).mac_saved_pj, 75.0);
  // c = 1 (3 of 4): 2 (0.5 + 0.5 * 3 / 4) = 1.75 pJ.
  EXPECT_DOUBLE_EQ(mac_pj(counters(10, 100, 0, 10 * 16 + 100 * 3), table()), 100 * 1.75 + 160.0);
  // A share of 0: approximate MACs cost what exact ones do.
  EXPECT_EQ(mac_pj(c, table(0.0)), 360.0);
}

TEST(AxbxpEnergy, MoreSkippedBlocksCostStrictlyLess) {
  double last = mac_pj(counters(5, 50, 0, 5 * 16 + 50 * 4), table());
  for (std::uint64_t skipped = 1; skipped <= 50 * 4; ++skipped) {
    const double e = mac_pj(counters(5, 50, 0, 5 * 16 + 50 * 4 - skipped), table());
    EXPECT_LT(e, last) << skipped;
    last = e;
  }
  // Every 8-bit block skipped: the 8-bit MACs keep their non-block half (1 pJ each).
  EXPECT_DOUBLE_EQ(last, 5 * 16.0 + 50 * 1.0);
}

TEST(AxbxpEnergy, SkippedBlocksGoToTheCheapestModeFirst) {
  // With 4 pJ per 16-bit MAC, per block product: 16-bit 4/16 = 0.25, 8-bit 2/4 = 0.5, 4-bit 1 pJ;
  // the cheapest is 16-bit here. 20 skipped of 2 16-bit MACs (capacity 32) and 10 8-bit MACs (40): all 20 to
  // 16-bit: saved 0.5 * 20 * 0.25 = 2.5.
  EXPECT_DOUBLE_EQ(energy_breakdown(counters(2, 10, 0, 32 + 40 - 20), 0, table(0.5, 4)).mac_saved_pj, 2.5);
  // 40 skipped: 32 at 0.25 and 8 at 0.5: 0.5 (8 + 4) = 6.
  EXPECT_DOUBLE_EQ(energy_breakdown(counters(2, 10, 0, 32 + 40 - 40), 0, table(0.5, 4)).mac_saved_pj, 6.0);
}

TEST(AxbxpEnergy, InconsistentCountersAreRefused) {
  EXPECT_THROW((void)skipped_blocks(counters(0, 10, 0, 41)), std::invalid_argument);
  EXPECT_THROW((void)energy_breakdown(counters(1, 0, 0, 17), 0, table()), std::invalid_argument);
}

TEST(AxbxpEnergy, BlockShareFromTheSynthesisAndFromTableFiles) {
  // docs/SYNTHESIS.md: 4096 leaves of 160 cells in a design of 1 694 003 cells.
  EXPECT_NEAR(EnergyTable::envision().blk_share, 0.3869, 1e-4);
  EXPECT_EQ(EnergyTable::envision_with_memory().blk_share, EnergyTable::envision().blk_share);
  const auto dir = test::temp_dir("axbxp_energy");
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream((dir / name).string()) << text;
    return (dir / name).string();
  };
  EXPECT_EQ(EnergyTable::load(write("a.txt", "mac16_pj 4\nmac8_pj 2\nmac4_pj 1\nblk_share 0.25\n")).blk_share, 0.25);
  EXPECT_EQ(EnergyTable::load(write("b.txt", "mac16_pj 4\nmac8_pj 2\nmac4_pj 1\n")).blk_share, EnergyTable::kBlkShare);
  try {
    (void)EnergyTable::load(write("c.txt", "mac16_pj 4\nmac8_pj 2\nmac4_pj 1\nblk_share 1.5\n"));
    ADD_FAILURE() << "a share above 1 was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("c.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("blk_share"), std::string::npos) << e.what();
  }
  EnergyTable bad = table();
  bad.blk_share = -0.1;
  EXPECT_THROW(bad.validate(), std::runtime_error);
}

}  // namespace
}  // namespace bitscale::study
