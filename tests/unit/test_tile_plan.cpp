// The pure tile planner (driver::plan_tiles) on random layers and geometries: every output
// pixel x channel is computed exactly once, tiles fit the array and the banks, an n-tile has
// one shift, n-tiles run in serpentine order, every tile finds its weights and activations
// where the plan loaded them, and the tile count matches a count made here independently.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "bitscale/driver/tile_plan.hpp"
#include "bitscale/regmap.hpp"
#include "test_seed.hpp"

namespace {

using namespace bitscale;
using driver::HwConfig;
using driver::PlannedTile;
using driver::PreparedLayer;
using driver::ShiftMapping;
using driver::TilePlan;

int ceil_div(int a, int b) { return (a + b - 1) / b; }

/// A prepared layer without weights (the planner does not look at them).
PreparedLayer random_prepared(std::mt19937_64& rng) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  PreparedLayer pl;
  golden::Layer& l = pl.layer;
  l.mode = static_cast<golden::Mode>(u(0, 2));
  auto& s = l.shape;
  s.groups = u(0, 3) == 0 ? u(1, 4) : 1;
  s.in_c = s.groups * u(1, 12);
  s.out_c = s.groups * u(1, 40);
  s.in_h = u(1, 12);
  s.in_w = u(1, 12);
  s.k_h = std::min(u(1, 3), s.in_h);
  s.k_w = std::min(u(1, 3), s.in_w);
  s.stride_h = u(1, 2);
  s.stride_w = u(1, 2);
  s.pad_top = u(0, s.k_h - 1);
  s.pad_left = u(0, s.k_w - 1);
  if (u(0, 1)) l.bias.assign(static_cast<std::size_t>(s.out_c), 1);
  l.out.shift = u(0, 20);
  if (u(0, 2) == 0) {  // per-channel shifts, few distinct values so that runs form
    l.channel_shift.resize(static_cast<std::size_t>(s.out_c));
    for (int& sh : l.channel_shift) sh = u(3, 6);
  }
  pl.k = s.k();
  pl.kw = ceil_div(pl.k, golden::lanes(l.mode));
  pl.kw_line = ceil_div(pl.kw, 4) * 4;
  return pl;
}

HwConfig random_hw(std::mt19937_64& rng) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  HwConfig hw;
  hw.rows = u(2, 9);
  hw.cols = 4 * u(1, 4);
  hw.act_words = 1 << u(7, 10);  // small banks: several weight chunks, resident activations
  hw.wgt_words = 1 << u(7, 10);
  hw.bias_entries = 2 * u(1, 8);
  hw.acc_bits = static_cast<int>(regmap::kAccW);
  return hw;
}

/// Tiles of a layer counted from its shape alone: per group, per m-tile, per run of equal
/// shifts (channels grouped by shift), ceil(run / cols) n-tiles; with per-column shifts (`col_shift`)
/// ceil(channels / cols) n-tiles whatever the shifts.
std::size_t expected_tiles(const golden::Layer& l, const HwConfig& hw, bool col_shift = false) {
  const auto& s = l.shape;
  const int m_tiles = ceil_div(s.out_h() * s.out_w(), hw.rows);
  const int n_group = s.out_c / s.groups;
  std::size_t n = 0;
  for (int g = 0; g < s.groups; ++g) {
    std::map<int, int> per_shift;
    for (int c = 0; c < n_group; ++c) ++per_shift[col_shift ? 0 : l.shift(g * n_group + c)];
    for (const auto& [shift, count] : per_shift) n += static_cast<std::size_t>(ceil_div(count, hw.cols));
  }
  return n * static_cast<std::size_t>(m_tiles);
}

void check_plan(const PreparedLayer& pl, const HwConfig& hw, const TilePlan& plan, const std::string& what) {
  const golden::Layer& l = pl.layer;
  const auto& s = l.shape;
  const int m_total = s.out_h() * s.out_w();
  const int n_group = s.out_c / s.groups;
  const bool bias = !l.bias.empty() || plan.col_shift;  // COL_SHIFT: the shifts are in the bias entries
  const int kwl = pl.kw_line;
  ASSERT_EQ(plan.tiles.size(), expected_tiles(l, hw, plan.col_shift)) << what;
  ASSERT_EQ(plan.groups.size(), static_cast<std::size_t>(s.groups)) << what;

  // covered[g][m][n]: how often output pixel m of group channel n is computed.
  std::vector<int> covered(static_cast<std::size_t>(s.groups) * m_total * n_group, 0);
  // Resident scratchpad contents as loaded so far: n-tile per weight slot, m-tile per act base.
  std::map<int, int> wgt_slot, act_at;
  int group = -1;
  const PlannedTile* prev = nullptr;
  for (const PlannedTile& t : plan.tiles) {
    const auto& gp = plan.groups[static_cast<std::size_t>(t.group)];
    if (t.group != group) {  // a new group: nothing of the last one may be used
      ASSERT_EQ(t.group, group + 1) << what;
      group = t.group;
      wgt_slot.clear();
      act_at.clear();
      prev = nullptr;
    }
    // Geometry and banks.
    ASSERT_GE(t.rows, 1) << what;
    ASSERT_LE(t.rows, hw.rows) << what;
    ASSERT_GE(t.cols, 1) << what;
    ASSERT_LE(t.cols, hw.cols) << what;
    ASSERT_EQ(t.m0, t.m_tile * hw.rows) << what;
    ASSERT_LE(t.act_base + kwl, hw.act_words) << what;
    ASSERT_LE(t.wgt_base + kwl, hw.wgt_words) << what;
    ASSERT_TRUE(regmap::kActBaseField.fits(static_cast<std::uint64_t>(t.act_base))) << what;
    ASSERT_TRUE(regmap::kWgtBaseField.fits(static_cast<std::uint64_t>(t.wgt_base))) << what;
    ASSERT_EQ(t.wgt_base % kwl, 0) << what;
    if (bias) {
      ASSERT_LT(t.bias_base, hw.bias_entries) << what;
      ASSERT_EQ(t.bias_base, t.wgt_base / kwl) << what;  // weights and biases of a slot together
    }
    // Loads: the chunk's weights go to slots 0.., the m-tile's activations to act_base.
    if (t.load_weights) {
      ASSERT_LE(t.chunk_count * kwl, hw.wgt_words) << what;
      if (bias) {
        ASSERT_LE(t.chunk_count, hw.bias_entries) << what;
      }
      wgt_slot.clear();
      for (int j = 0; j < t.chunk_count; ++j) wgt_slot[j * kwl] = t.chunk_first + j;
    }
    if (t.load_acts) act_at[t.act_base] = t.m_tile;
    ASSERT_EQ(wgt_slot.count(t.wgt_base), 1u) << what << ": weights of n-tile " << t.n_tile << " not loaded";
    ASSERT_EQ(wgt_slot[t.wgt_base], t.n_tile) << what;
    ASSERT_EQ(act_at.count(t.act_base), 1u) << what << ": activations of m-tile " << t.m_tile << " not loaded";
    ASSERT_EQ(act_at[t.act_base], t.m_tile) << what;
    // The n-tile and its single shift.
    const auto& nt = gp.ntiles[static_cast<std::size_t>(t.n_tile)];
    ASSERT_EQ(nt.pos, t.pos) << what;
    ASSERT_EQ(nt.cols, t.cols) << what;
    ASSERT_LE(t.pos + t.cols, n_group) << what;
    for (int c = 0; c < t.cols; ++c) {
      const int n = gp.order[static_cast<std::size_t>(t.pos + c)];
      if (plan.col_shift) {
        ASSERT_EQ(n, t.pos + c) << what << ": per-column shifts keep the channel order";
      } else {
        ASSERT_EQ(l.shift(t.group * n_group + n), t.shift) << what << ": channel " << n;
      }
      for (int r = 0; r < t.rows; ++r) {
        ASSERT_LT(t.m0 + r, m_total) << what;
        ++covered[(static_cast<std::size_t>(t.group) * m_total + static_cast<std::size_t>(t.m0 + r)) * n_group +
                  static_cast<std::size_t>(n)];
      }
    }
    // Serpentine: within a chunk and m-tile, n-tiles ascend on even m-tiles, descend on odd.
    if (prev != nullptr && prev->m_tile == t.m_tile && prev->chunk_first == t.chunk_first) {
      ASSERT_EQ(t.n_tile, prev->n_tile + (t.m_tile % 2 == 0 ? 1 : -1)) << what;
    } else if (prev != nullptr && prev->chunk_first == t.chunk_first) {  // next m-tile: same end continues
      ASSERT_EQ(t.m_tile, prev->m_tile + 1) << what;
      ASSERT_EQ(t.n_tile, prev->n_tile) << what;
    }
    prev = &t;
  }
  for (std::size_t i = 0; i < covered.size(); ++i) ASSERT_EQ(covered[i], 1) << what << ": output " << i;
  // Every group's order is a permutation of its channels.
  for (const auto& gp : plan.groups) {
    std::vector<int> o = gp.order;
    std::sort(o.begin(), o.end());
    for (int n = 0; n < n_group; ++n) ASSERT_EQ(o[static_cast<std::size_t>(n)], n) << what;
  }
}

TEST(TilePlan, RandomLayersCoverEveryOutputOnceWithinTheGeometry) {
  const std::uint64_t seed = bitscale::test::test_seed(7);
  std::mt19937_64 rng(seed);
  int chunked = 0, resident = 0;
  for (int iter = 0; iter < 400; ++iter) {
    const HwConfig hw = random_hw(rng);
    PreparedLayer pl = random_prepared(rng);
    if (pl.kw_line > std::min(hw.act_words, hw.wgt_words)) continue;
    const ShiftMapping sm = iter % 2 == 0 ? ShiftMapping::kPerColumn : ShiftMapping::kPerTile;
    const TilePlan plan = driver::plan_tiles(pl, hw, driver::DepthwiseMapping::kDwMode, driver::Transfer::kSerial, sm);
    EXPECT_EQ(plan.col_shift, sm == ShiftMapping::kPerColumn && !pl.layer.channel_shift.empty());
    check_plan(pl, hw, plan,
               "iter " + std::to_string(iter) + " seed " + std::to_string(seed) + " " + pl.layer.shape.to_string() +
                   " " + std::string(driver::to_string(sm)));
    for (const auto& gp : plan.groups) {
      chunked += gp.chunk < static_cast<int>(gp.ntiles.size()) ? 1 : 0;
      resident += gp.act_resident ? 1 : 0;
    }
  }
  // The random geometries reach the interesting cases.
  EXPECT_GT(chunked, 10);
  EXPECT_GT(resident, 5);
}

TEST(TilePlan, DefaultGeometryOneChunkSerpentine) {
  // 20x20 output, 40 channels on the default 16x16 array: 25 m-tiles x 3 n-tiles, one chunk.
  HwConfig hw{static_cast<int>(regmap::kDefaultRows),        static_cast<int>(regmap::kDefaultCols),
              static_cast<int>(regmap::kDefaultActWords),    static_cast<int>(regmap::kDefaultWgtWords),
              static_cast<int>(regmap::kDefaultBiasEntries), static_cast<int>(regmap::kAccW)};
  PreparedLayer pl;
  pl.layer.mode = golden::Mode::k8;
  pl.layer.shape.in_h = pl.layer.shape.in_w = 20;
  pl.layer.shape.in_c = 8;
  pl.layer.shape.out_c = 40;
  pl.k = 8;
  pl.kw = 4;
  pl.kw_line = 4;
  const TilePlan plan = driver::plan_tiles(pl, hw);
  check_plan(pl, hw, plan, "default");
  ASSERT_EQ(plan.tiles.size(), 75u);
  ASSERT_EQ(plan.groups[0].ntiles.size(), 3u);
  EXPECT_FALSE(plan.groups[0].act_resident);  // a single chunk: activations are loaded per m-tile
  EXPECT_EQ(std::count_if(plan.tiles.begin(), plan.tiles.end(), [](const auto& t) { return t.load_weights; }), 1);
  EXPECT_EQ(std::count_if(plan.tiles.begin(), plan.tiles.end(), [](const auto& t) { return t.load_acts; }), 25);
  EXPECT_EQ(plan.tiles[2].n_tile, 2);  // m-tile 0 forward
  EXPECT_EQ(plan.tiles[3].n_tile, 2);  // m-tile 1 backward
  EXPECT_EQ(plan.tiles[5].n_tile, 0);
}

TEST(TilePlan, RefusesAVectorLargerThanTheBanks) {
  HwConfig hw{4, 4, 64, 64, 2, static_cast<int>(regmap::kAccW)};
  PreparedLayer pl;
  pl.k = 1000;
  pl.kw = 1000;
  pl.kw_line = 1000;
  EXPECT_THROW((void)driver::plan_tiles(pl, hw), std::invalid_argument);
}

}  // namespace

// ---- depthwise layers: MODE.DW tiles or one channel per tile (driver::DepthwiseMapping) ----
namespace {

PreparedLayer depthwise(int c, int out_hw, int mult, golden::Mode mode) {
  PreparedLayer pl;
  auto& s = pl.layer.shape;
  pl.layer.mode = mode;
  s.in_c = c, s.groups = c, s.out_c = c * mult;
  s.in_h = s.in_w = out_hw;
  s.k_h = s.k_w = 3;
  s.pad_top = s.pad_bottom = s.pad_left = s.pad_right = 1;
  pl.k = s.k();
  pl.kw = ceil_div(pl.k, golden::lanes(mode));
  pl.kw_line = ceil_div(pl.kw, 4) * 4;
  return pl;
}

TEST(TilePlan, DepthwiseLayersRunAsDwTilesOfRowsPixelsByColsChannels) {
  HwConfig hw{.rows = 16, .cols = 16, .act_words = 8192, .wgt_words = 8192, .bias_entries = 256, .acc_bits = 48};
  PreparedLayer pl = depthwise(40, 5, 1, golden::Mode::k8);  // 25 pixels: 2 m-tiles; 40 channels: 16 + 16 + 8
  pl.layer.channel_shift.assign(40, 4);
  for (int c = 0; c < 40; c += 3) pl.layer.channel_shift[static_cast<std::size_t>(c)] = 5;  // 14 channels of shift 5
  const TilePlan plan =
      driver::plan_tiles(pl, hw, driver::DepthwiseMapping::kDwMode, driver::Transfer::kSerial, ShiftMapping::kPerTile);
  ASSERT_TRUE(plan.dw);
  ASSERT_EQ(plan.groups.size(), 1u);
  // Channels by shift: 26 of shift 4 (16 + 10), 14 of shift 5: three n-tiles, each of one shift.
  ASSERT_EQ(plan.groups[0].ntiles.size(), 3u);
  EXPECT_EQ(plan.tiles.size(), 2u * 3u);
  std::map<std::pair<int, int>, int> computed;  // (pixel, channel) -> times
  for (const PlannedTile& t : plan.tiles) {
    EXPECT_LE(t.rows, hw.rows);
    EXPECT_LE(t.cols, hw.cols);
    EXPECT_EQ(t.act_base % hw.cols, 0) << "ACT_BASE of a DW tile is a multiple of Cols";
    EXPECT_LE(t.act_base + pl.kw * hw.cols, hw.act_words);
    EXPECT_TRUE(t.load_acts) << "each DW tile has its own activations";
    for (int c = 0; c < t.cols; ++c) {
      const int ch = plan.groups[0].order[static_cast<std::size_t>(t.pos + c)];
      EXPECT_EQ(pl.layer.shift(ch), t.shift);
      for (int r = 0; r < t.rows; ++r) ++computed[{t.m0 + r, ch}];
    }
  }
  EXPECT_EQ(computed.size(), 25u * 40u);
  for (const auto& [key, n] : computed) EXPECT_EQ(n, 1) << "pixel " << key.first << " channel " << key.second;

  // The broadcast mapping: one channel (group) per tile.
  const TilePlan cols = driver::plan_tiles(pl, hw, driver::DepthwiseMapping::kColumns);
  EXPECT_FALSE(cols.dw);
  EXPECT_EQ(cols.tiles.size(), 2u * 40u);
  for (const PlannedTile& t : cols.tiles) EXPECT_EQ(t.cols, 1);
}

TEST(TilePlan, DwModeOnlyForChannelMultiplierOneAndWhenTheRowsFit) {
  const HwConfig hw{.rows = 4, .cols = 8, .act_words = 64, .wgt_words = 64, .bias_entries = 16, .acc_bits = 48};
  EXPECT_TRUE(driver::uses_dw_mode(depthwise(8, 3, 1, golden::Mode::k8), hw, driver::DepthwiseMapping::kDwMode));
  EXPECT_FALSE(driver::uses_dw_mode(depthwise(8, 3, 1, golden::Mode::k8), hw, driver::DepthwiseMapping::kColumns));
  EXPECT_FALSE(driver::uses_dw_mode(depthwise(8, 3, 2, golden::Mode::k8), hw, driver::DepthwiseMapping::kDwMode));
  // K 9 at 16 bits: 9 rows of 8 words = 72 > 64 words of a bank; at 8 bits 5 x 8 = 40 fit.
  PreparedLayer big = depthwise(8, 3, 1, golden::Mode::k16);
  ASSERT_EQ(big.kw, 9);
  EXPECT_FALSE(driver::uses_dw_mode(big, hw, driver::DepthwiseMapping::kDwMode));
  EXPECT_FALSE(driver::plan_tiles(big, hw).dw);
  EXPECT_TRUE(driver::plan_tiles(depthwise(8, 3, 1, golden::Mode::k8), hw).dw);
  EXPECT_EQ(driver::parse_depthwise_mapping("columns"), driver::DepthwiseMapping::kColumns);
  EXPECT_EQ(driver::parse_depthwise_mapping("dw"), driver::DepthwiseMapping::kDwMode);
  EXPECT_THROW((void)driver::parse_depthwise_mapping("DW"), std::invalid_argument);
}

}  // namespace

// ---- per-channel shifts: per-column (OUT_CFG.COL_SHIFT) or per-tile (driver::ShiftMapping) ----
namespace {

TEST(TilePlan, PerColumnShiftsRunAKnownShiftDistributionInTheTilesOfOneShift) {
  // 5 x 4 = 20 output pixels, 24 channels with shift 3 + n mod 4 (4 shifts, 6 channels each).
  HwConfig hw{16, 16, 8192, 8192, 256, static_cast<int>(regmap::kAccW)};
  PreparedLayer pl;
  pl.layer.mode = golden::Mode::k8;
  pl.layer.shape.in_h = 5;
  pl.layer.shape.in_w = 4;
  pl.layer.shape.in_c = 8;
  pl.layer.shape.out_c = 24;
  pl.layer.bias.assign(24, -5);
  pl.layer.channel_shift.resize(24);
  for (int n = 0; n < 24; ++n) pl.layer.channel_shift[static_cast<std::size_t>(n)] = 3 + n % 4;
  pl.k = 8;
  pl.kw = 4;
  pl.kw_line = 4;
  const auto tiles = [&](const HwConfig& h, ShiftMapping sm) {
    const TilePlan plan = driver::plan_tiles(pl, h, driver::DepthwiseMapping::kDwMode, driver::Transfer::kSerial, sm);
    check_plan(pl, h, plan, std::string(driver::to_string(sm)));
    return plan.tiles.size();
  };
  // 16 x 16: 2 m-tiles (16 + 4 pixels). Per column: 16 + 8 channels = 2 n-tiles -> 4 tiles.
  // Per tile: 4 shifts x ceil(6 / 16) = 4 n-tiles -> 8 tiles.
  EXPECT_EQ(tiles(hw, ShiftMapping::kPerColumn), 4u);
  EXPECT_EQ(tiles(hw, ShiftMapping::kPerTile), 8u);
  // 8 x 4: 3 m-tiles (8 + 8 + 4). Per column: 24 / 4 = 6 n-tiles -> 18 tiles. Per tile: 4 shifts x
  // ceil(6 / 4) = 8 n-tiles -> 24 tiles.
  const HwConfig small{8, 4, 1024, 1024, 16, static_cast<int>(regmap::kAccW)};
  EXPECT_EQ(tiles(small, ShiftMapping::kPerColumn), 18u);
  EXPECT_EQ(tiles(small, ShiftMapping::kPerTile), 24u);
  // A bias beyond 26 signed bits cannot share its entry with a shift: the layer falls back to per-tile.
  pl.layer.bias[7] = 1 << 25;
  EXPECT_FALSE(driver::uses_column_shifts(pl, ShiftMapping::kPerColumn));
  EXPECT_EQ(tiles(hw, ShiftMapping::kPerColumn), 8u);
  pl.layer.bias[7] = (1 << 25) - 1;
  EXPECT_TRUE(driver::uses_column_shifts(pl, ShiftMapping::kPerColumn));
  // One shift per layer: nothing to do per column.
  pl.layer.channel_shift.clear();
  EXPECT_FALSE(driver::uses_column_shifts(pl, ShiftMapping::kPerColumn));
}

TEST(TilePlan, ShiftMappingNames) {
  for (const ShiftMapping m : {ShiftMapping::kPerColumn, ShiftMapping::kPerTile})
    EXPECT_EQ(driver::parse_shift_mapping(driver::to_string(m)), m);
  EXPECT_EQ(driver::to_string(ShiftMapping::kPerColumn), "per-column");
  EXPECT_THROW((void)driver::parse_shift_mapping("column"), std::invalid_argument);
}

}  // namespace
