// bsa_top verilated at more than one geometry (verilator/CMakeLists.txt, BITSCALE_RTL_GEOMETRIES):
// each instance reports its Rows x Cols in HWCFG, and the regression of `bitscale regress
// --geometry RxC` (random layers of every mode, exact and under random Ax-BxP masks, through the
// driver) is bit-exact against the golden device of the same geometry, counters included, with
// the tile count that the tiling rule of docs/ARCHITECTURE.md gives for that geometry.
#include <gtest/gtest.h>

#include <map>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/regress.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "test_seed.hpp"

namespace bitscale::rtl {
// For the parameter in gtest's messages: "2x4".
void PrintTo(const Geometry& g, std::ostream* os) { *os << to_string(g); }
}  // namespace bitscale::rtl

namespace bitscale::dv {
namespace {

using rtl::Geometry;

std::vector<Geometry> extra_geometries() {
  std::vector<Geometry> g;
  for (const Geometry& x : rtl::rtl_geometries()) {
    if (!(x == rtl::kDefaultGeometry)) g.push_back(x);
  }
  return g;
}

TEST(RtlGeometry, TheDefaultAndSmallerOnesAreBuilt) {
  const auto& all = rtl::rtl_geometries();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front(), (Geometry{static_cast<int>(regmap::kDefaultRows), static_cast<int>(regmap::kDefaultCols)}));
  EXPECT_FALSE(extra_geometries().empty()) << "configure with BITSCALE_RTL_GEOMETRIES (default 2x4;8x4)";
  for (const Geometry& g : all) {
    EXPECT_EQ(g.cols % 4, 0) << rtl::to_string(g);
    EXPECT_GE(g.rows, 2) << rtl::to_string(g);
  }
}

TEST(RtlGeometry, EachInstanceReportsItsGeometryInHwcfg) {
  for (const Geometry& g : rtl::rtl_geometries()) {
    const auto dev = rtl::make_rtl_device(g);
    EXPECT_EQ(dev->geometry(), g);
    const driver::Accelerator acc(*dev);  // reads HWCFG
    EXPECT_EQ(acc.hw().rows, g.rows) << rtl::to_string(g);
    EXPECT_EQ(acc.hw().cols, g.cols) << rtl::to_string(g);
    // The banks are parameters of their own, the same at every geometry.
    EXPECT_EQ(acc.hw().act_words, static_cast<int>(regmap::kDefaultActWords)) << rtl::to_string(g);
    EXPECT_EQ(acc.hw().wgt_words, static_cast<int>(regmap::kDefaultWgtWords)) << rtl::to_string(g);
    EXPECT_EQ(dev->assertion_failures(), 0u) << rtl::to_string(g);
  }
}

TEST(RtlGeometry, AGeometryNotBuiltIsRefusedNamingTheBuiltOnes) {
  try {
    (void)rtl::make_rtl_device({3, 4});
    FAIL() << "3x4 was not verilated, yet a device was made";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("3x4"), std::string::npos) << what;
    for (const Geometry& g : rtl::rtl_geometries()) EXPECT_NE(what.find(rtl::to_string(g)), std::string::npos) << what;
  }
  // Through the back-end factory of the commands too, and for the golden device a bad geometry.
  EXPECT_THROW((void)driver::make_device("rtl", {.rows = 3, .cols = 4}), std::invalid_argument);
  EXPECT_THROW((void)driver::make_device("golden", {.rows = 4, .cols = 6}), std::invalid_argument);
}

// Tiles of one layer on a rows x cols array by the rule of docs/ARCHITECTURE.md and
// driver/tile_plan.hpp, computed here from the shape alone: per group, ceil(M / rows) m-tiles
// times the n-tiles, and an n-tile holds up to `cols` channels of the group (with per-channel shifts
// and a bias that fits 26 bits: per-column shifts, any shifts; else channels that share one shift).
std::uint64_t expected_tiles(const golden::Layer& l, Geometry g) {
  driver::PreparedLayer pl;
  pl.layer = l;
  const bool col_shift = driver::uses_column_shifts(pl, driver::ShiftMapping::kPerColumn);
  const int m = l.shape.out_h() * l.shape.out_w();
  // Depthwise layers (channel multiplier 1) run as MODE.DW tiles: the channels of all groups side by
  // side, as one group (their Cols-word rows fit the banks: K <= max_k = 1000, Cols <= 8).
  const bool dw = l.shape.groups > 1 && l.shape.groups == l.shape.in_c && l.shape.groups == l.shape.out_c;
  const int groups = dw ? 1 : l.shape.groups;
  const int ng = l.shape.out_c / groups;
  std::uint64_t tiles = 0;
  for (int grp = 0; grp < groups; ++grp) {
    std::map<int, int> per_shift;  // channels of the group per shift
    for (int j = 0; j < ng; ++j) {
      ++per_shift[l.channel_shift.empty() || col_shift ? l.out.shift
                                                       : l.channel_shift[static_cast<std::size_t>(grp * ng + j)]];
    }
    std::uint64_t ntiles = 0;
    for (const auto& [shift, n] : per_shift) ntiles += static_cast<std::uint64_t>((n + g.cols - 1) / g.cols);
    tiles += static_cast<std::uint64_t>((m + g.rows - 1) / g.rows) * ntiles;
  }
  return tiles;
}

class RtlGeometryRegress : public ::testing::TestWithParam<Geometry> {};

TEST_P(RtlGeometryRegress, RandomLayersMatchTheGoldenDeviceOfTheSameGeometry) {
  const Geometry g = GetParam();
  for (const char* approx : {"exact", "random"}) {
    RegressOptions opts;
    opts.seed = test::test_seed(29);
    opts.rows = g.rows;
    opts.cols = g.cols;
    const bool exact = std::string(approx) == "exact";
    opts.count = exact ? 300 : 100;
    opts.first = exact ? 0 : 300;  // other layers than the exact run's
    opts.max_k = 1000;
    opts.approx = approx;
    const RegressResult r = run_regress(opts);
    EXPECT_EQ(r.failed(), 0u) << rtl::to_string(g) << " " << approx;
    ASSERT_EQ(r.modes.size(), opts.modes.size());
    int ragged_m = 0, ragged_n = 0;
    for (std::size_t mi = 0; mi < r.modes.size(); ++mi) {
      const ModeSummary& s = r.modes[mi];
      for (const std::string& rep : s.reports) ADD_FAILURE() << rep;
      EXPECT_EQ(s.layers, opts.count) << summary_line(s);
      EXPECT_EQ(s.exact, opts.count) << summary_line(s);
      // The same layers drawn again: their tiles on this geometry, and whether they are ragged.
      std::uint64_t tiles = 0, macs = 0;
      for (std::uint64_t i = opts.first; i < opts.first + opts.count; ++i) {
        const Case c =
            LayerGenerator(case_seed(opts.seed, s.mode, i), generator_options(opts, 8192)).random_case(s.mode);
        tiles += expected_tiles(c.layer, g);
        macs += static_cast<std::uint64_t>(c.layer.shape.macs());
        ragged_m += (c.layer.shape.out_h() * c.layer.shape.out_w()) % g.rows != 0 ? 1 : 0;
        ragged_n += (c.layer.shape.out_c / c.layer.shape.groups) % g.cols != 0 ? 1 : 0;
      }
      EXPECT_EQ(s.tiles, tiles) << rtl::to_string(g) << " " << summary_line(s);
      EXPECT_EQ(s.macs, macs) << summary_line(s);
    }
    // The stimulus reached tiles that are partly empty in each dimension.
    EXPECT_GT(ragged_m, 0) << rtl::to_string(g);
    EXPECT_GT(ragged_n, 0) << rtl::to_string(g);
  }
}

INSTANTIATE_TEST_SUITE_P(Built, RtlGeometryRegress, ::testing::ValuesIn(extra_geometries()),
                         [](const ::testing::TestParamInfo<Geometry>& info) { return rtl::to_string(info.param); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(RtlGeometryRegress);

}  // namespace
}  // namespace bitscale::dv
