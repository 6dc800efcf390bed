// Driver tests: the Accelerator tiling random layers onto the golden device, compared word
// for word with the untiled reference (golden::conv2d); counters; bus-access economy;
// errors (invalid layers, refused tiles, bus errors, watchdog, wrong ID) on a fake device.
//
// Random tests print their seed; replay with BITSCALE_SEED=<seed>.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/driver/device.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/golden/tensor.hpp"
#include "bitscale/regmap.hpp"
#include "test_seed.hpp"

namespace bitscale::driver {
namespace {

using driver::BusOp;
using golden::ConvShape;
using golden::DeviceParams;
using golden::GoldenDevice;
using golden::Layer;
using golden::Mode;
using golden::PackedTensor;

constexpr Mode kModes[] = {Mode::k16, Mode::k8, Mode::k4};

// ---------------------------------------------------------------------------------------
// Seeds and random layers (bitscale::dv)

using test::test_rng;

/// The stage of the layers whose bus accesses and tiles the tests count: a bias, one shift.
constexpr dv::StageOptions kPlain{dv::Draw::kAlways, dv::Draw::kNever};

ConvShape conv(int h, int w, int c, int oc, int kh, int kw, int sh = 1, int sw = 1, int pt = 0, int pl = 0, int pb = 0,
               int pr = 0, int groups = 1) {
  ConvShape s;
  s.in_h = h;
  s.in_w = w;
  s.in_c = c;
  s.out_c = oc;
  s.k_h = kh;
  s.k_w = kw;
  s.stride_h = sh;
  s.stride_w = sw;
  s.pad_top = pt;
  s.pad_left = pl;
  s.pad_bottom = pb;
  s.pad_right = pr;
  s.groups = groups;
  return s;
}

ConvShape fc(int k, int n) { return conv(1, 1, k, n, 1, 1); }

// Comparison: the scoreboard, first mismatches with coordinates and "matched N of M".
::testing::AssertionResult same_tensor(const PackedTensor& got, const PackedTensor& want, const std::string& what) {
  dv::Scoreboard sb;
  if (sb.compare(what, want, got)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << sb.report();
}

// ---------------------------------------------------------------------------------------
// Devices for the tests

/// Forwards to another device and counts the bus accesses by region.
class CountingDevice final : public Device {
 public:
  explicit CountingDevice(Device& inner) : inner_(inner) {}
  [[nodiscard]] std::string_view name() const override { return inner_.name(); }
  BusResponse access(BusOp op, std::uint32_t addr, std::uint64_t wdata) override {
    const bool write = op == BusOp::kWrite;
    const std::uint32_t region = addr >> regmap::kAddrRegionLsb;
    std::uint64_t* counts = write ? writes : reads;
    ++counts[std::min<std::uint32_t>(region, 7u)];
    if (write && region == regmap::kRegionCsr && (addr & 0xFFF) == regmap::kRegCTRL &&
        (wdata & (1u << regmap::kCtrlStart)) != 0) {
      ++starts;
    }
    return inner_.access(op, addr, wdata);
  }
  WaitResult wait(std::uint64_t max_cycles) override {
    ++waits;
    return inner_.wait(max_cycles);
  }
  [[nodiscard]] std::uint64_t edges() const override { return inner_.edges(); }
  [[nodiscard]] std::uint64_t total() const {
    std::uint64_t t = 0;
    for (int i = 0; i < 8; ++i) t += reads[i] + writes[i];
    return t;
  }
  void reset() {
    std::fill(std::begin(reads), std::end(reads), 0);
    std::fill(std::begin(writes), std::end(writes), 0);
    starts = waits = 0;
  }

  std::uint64_t reads[8] = {}, writes[8] = {};
  std::uint64_t starts = 0, waits = 0;

 private:
  Device& inner_;
};

/// A minimal scripted device: answers ID/HWCFG/HWCFG2, accepts everything else, and lets a
/// test choose what wait() and STATUS report, and which region fails on the bus.
class FakeDevice final : public Device {
 public:
  std::uint64_t id = regmap::kIdValue;
  std::uint64_t hwcfg = regmap::kHwcfgRowsField.of(16) | regmap::kHwcfgColsField.of(16) |
                        regmap::kHwcfgActLog2Field.of(13) | regmap::kHwcfgWgtLog2Field.of(13);  // 8192-word banks
  std::uint64_t hwcfg2 = regmap::kHwcfg2BiasEntriesField.of(256) | regmap::kHwcfg2AccWField.of(48);
  bool finish = false;         ///< wait() reports done
  bool refuse = false;         ///< wait() reports err (a refused START)
  std::uint32_t err_code = 0;  ///< STATUS.ERR_CODE
  int fail_region = -1;        ///< bus writes to this region fail
  std::vector<std::uint64_t> wait_limits;

  [[nodiscard]] std::string_view name() const override { return "fake"; }
  BusResponse access(BusOp op, std::uint32_t addr, std::uint64_t /*wdata*/) override {
    ++edges_;
    const bool write = op == BusOp::kWrite;
    const std::uint32_t region = addr >> regmap::kAddrRegionLsb;
    if (write && static_cast<int>(region) == fail_region) return {0, true};
    if (write || region != regmap::kRegionCsr) return {};
    switch (addr & 0xFFF) {
      case regmap::kRegID:
        return {id, false};
      case regmap::kRegHWCFG:
        return {hwcfg, false};
      case regmap::kRegHWCFG2:
        return {hwcfg2, false};
      case regmap::kRegSTATUS:
        return {regmap::kStatusCodeField.of(err_code), false};
      default:
        return {};
    }
  }
  WaitResult wait(std::uint64_t max_cycles) override {
    wait_limits.push_back(max_cycles);
    if (refuse) return {0, false, true};
    if (finish) return {1, true, false};
    return {max_cycles, false, false};
  }
  [[nodiscard]] std::uint64_t edges() const override { return edges_; }

 private:
  std::uint64_t edges_ = 0;
};

/// Expected number of tiles of a layer on an array of rows x cols: per group, each distinct
/// shift takes ceil(channels with it / cols) n-tiles (one shift per tile). MODE.DW tiles (`dw`: a depthwise
/// layer in the depthwise dataflow) put Cols channels of all groups side by side: one group of out_c. With
/// per-column shifts (`col_shift`: OUT_CFG.COL_SHIFT) the shifts do not cut n-tiles: ceil(channels / cols) per group.
std::uint64_t expected_tiles(const Layer& l, int rows, int cols, bool dw = false, bool col_shift = false) {
  const ConvShape& s = l.shape;
  const std::uint64_t m = static_cast<std::uint64_t>(s.out_h()) * s.out_w();
  const int groups = dw ? 1 : s.groups;
  const int ng = s.out_c / groups;
  std::uint64_t n_tiles = 0;
  for (int g = 0; g < groups; ++g) {
    std::map<int, int> per_shift;
    for (int c = 0; c < ng; ++c) ++per_shift[col_shift ? 0 : l.shift(g * ng + c)];
    for (const auto& [shift, count] : per_shift) n_tiles += static_cast<std::uint64_t>((count + cols - 1) / cols);
  }
  return ((m + rows - 1) / rows) * n_tiles;
}

/// How often reference outputs hit the ends of the range (random data must saturate).
struct Coverage {
  std::uint64_t at_min = 0, at_max = 0, total = 0;
};
Coverage g_coverage;

/// Runs `layer` on a golden device with `params` and checks data and counters against the
/// reference. Returns the counters of the run.
Counters check_layer(const Layer& layer, const PackedTensor& in, const DeviceParams& params, const std::string& what,
                     ShiftMapping shifts = ShiftMapping::kPerColumn) {
  GoldenDevice dev(params);
  Accelerator acc(dev);
  acc.set_shift_mapping(shifts);
  acc.clear_counters();
  const Counters before = acc.counters();
  const PackedTensor got = acc.run(layer, in);
  const Counters d = acc.counters() - before;
  const PackedTensor want = golden::conv2d(layer, in);
  const std::string ctx =
      fmt::format("{} [{}; {}; shift {} relu {} clamp {}({}) bias {}; array {}x{}]", what, layer.shape.to_string(),
                  golden::to_string(layer.mode), layer.out.shift, layer.out.relu, layer.out.clamp, layer.out.clamp_hi,
                  !layer.bias.empty(), params.rows, params.cols);
  EXPECT_TRUE(same_tensor(got, want, ctx));
  for (const std::int32_t v : want.values()) {
    g_coverage.at_min += v == golden::min_value(layer.mode) ? 1 : 0;
    g_coverage.at_max += v == golden::max_value(layer.mode) ? 1 : 0;
    ++g_coverage.total;
  }
  const bool dw = driver::uses_dw_mode(acc.prepare(layer), acc.hw(), acc.depthwise_mapping());
  const bool col_shift = driver::uses_column_shifts(acc.prepare(layer), shifts);
  const auto tiles = expected_tiles(layer, params.rows, params.cols, dw, col_shift);
  const int kw = static_cast<int>(golden::packed_words(static_cast<std::size_t>(layer.shape.k()), layer.mode));
  EXPECT_EQ(d.macs(layer.mode), static_cast<std::uint64_t>(layer.shape.macs())) << ctx;
  EXPECT_EQ(d.macs_total(), static_cast<std::uint64_t>(layer.shape.macs())) << ctx;
  EXPECT_EQ(d.tiles, tiles) << ctx;
  EXPECT_EQ(d.array, tiles * kw) << ctx;
  EXPECT_EQ(d.busy, tiles * (kw + regmap::kBusyOverhead)) << ctx;
  return d;
}

void check_random_layer(dv::LayerGenerator& gen, const ConvShape& shape, Mode mode, const DeviceParams& params,
                        const std::string& what, bool bias = true) {
  const dv::Case c = gen.random_case(shape, mode, {.bias = bias ? dv::Draw::kAlways : dv::Draw::kNever});
  check_layer(c.layer, c.input, params, what);
}

// ---------------------------------------------------------------------------------------
// Against the reference

TEST(Counters, OneFieldPerRegisterCounterInOrder) {
  // Counters::kFields maps position i of regmap::kCounters to a distinct field; the named
  // fields sit where rtl/bsa_regs.def puts their counters.
  Counters c;
  for (std::size_t i = 0; i < regmap::kNumCounters; ++i) {
    ASSERT_NE(Counters::kFields[i], nullptr) << regmap::kCounters[i].name;
    c.*Counters::kFields[i] = i + 1;
    EXPECT_EQ(regmap::kCounters[i].reg, regmap::kRegCntFirst + i);
  }
  const std::uint64_t by_name[] = {c.cycles, c.busy, c.array, c.mac16, c.mac8,    c.mac4,  c.spad_rd, c.spad_wr,
                                   c.tiles,  c.blk,  c.zskip, c.gw1,   c.gw2,     c.gw3,   c.gw4,     c.gw5,
                                   c.gw6,    c.gw7,  c.gw8,   c.gw9,   c.gw10,    c.gw11,  c.gw12,    c.gw13,
                                   c.gw14,   c.gw15, c.gw16,  c.xfer,  c.overlap, c.blk16, c.blk8,    c.blk4};
  const std::string_view names[] = {"cycles", "busy", "array", "mac16", "mac8",    "mac4",  "spad_rd", "spad_wr",
                                    "tiles",  "blk",  "zskip", "gw1",   "gw2",     "gw3",   "gw4",     "gw5",
                                    "gw6",    "gw7",  "gw8",   "gw9",   "gw10",    "gw11",  "gw12",    "gw13",
                                    "gw14",   "gw15", "gw16",  "xfer",  "overlap", "blk16", "blk8",    "blk4"};
  ASSERT_EQ(std::size(by_name), regmap::kNumCounters);
  for (std::size_t i = 0; i < regmap::kNumCounters; ++i) {
    EXPECT_EQ(by_name[i], i + 1) << names[i];
    EXPECT_EQ(regmap::kCounters[i].name, names[i]);
  }
  EXPECT_EQ(c.macs(golden::Mode::k8), c.mac8);
  EXPECT_EQ((c - c), Counters{});
}

TEST(Accelerator, ConvShapesAllModesMatchReference) {
  dv::LayerGenerator gen(test_rng());
  const ConvShape shapes[] = {
      conv(9, 7, 5, 19, 3, 3, 1, 1, 1, 1, 1, 1),       // K = 45 (odd), N = 19, M = 63
      conv(11, 10, 3, 33, 3, 2, 2, 1, 0, 1, 2, 0),     // stride, asymmetric padding, N = 33
      conv(6, 6, 6, 8, 3, 3, 1, 1, 1, 1, 1, 1, 2),     // groups 2
      conv(7, 9, 12, 12, 3, 3, 2, 2, 1, 0, 1, 1, 12),  // depthwise, K = 9
      conv(5, 5, 7, 20, 1, 1),                         // 1x1, K = 7
      conv(4, 4, 1, 3, 1, 1),                          // K = 1
      conv(3, 3, 2, 17, 3, 3),                         // M = 1, K = 18
  };
  for (const Mode mode : kModes) {
    for (const auto& s : shapes) check_random_layer(gen, s, mode, {}, "conv");
  }
}

TEST(Accelerator, ClampOutsideTheModeRangeMatchesReference) {
  // CLAMP_HI below the mode's range would leak out-of-range values; the driver saturates it.
  dv::LayerGenerator gen(test_rng());
  for (const Mode mode : kModes) {
    for (const std::int16_t hi :
         {std::int16_t{-32768}, std::int16_t{-200}, std::int16_t{-1}, std::int16_t{300}, std::int16_t{32767}}) {
      Layer l = gen.layer(conv(5, 5, 6, 20, 3, 3, 1, 1, 1, 1, 1, 1), mode, kPlain);
      l.out.clamp = true;
      l.out.relu = hi == -1;
      l.out.clamp_hi = hi;
      check_layer(l, gen.tensor(5, 5, 6, mode), {}, fmt::format("clamp_hi {}", hi));
    }
  }
}

TEST(Accelerator, FullyConnectedMatchesReference) {
  dv::LayerGenerator gen(test_rng());
  for (const Mode mode : kModes) {
    check_random_layer(gen, fc(1, 1), mode, {}, "fc K=1 N=1");
    check_random_layer(gen, fc(1, 40), mode, {}, "fc K=1");
    check_random_layer(gen, fc(3, 5), mode, {}, "fc K=3");
    check_random_layer(gen, fc(130, 50), mode, {}, "fc K=130");
    check_random_layer(gen, fc(257, 16), mode, {}, "fc K=257", false);
  }
}

TEST(Accelerator, WithoutBiasMatchesReference) {
  dv::LayerGenerator gen(test_rng());
  for (const Mode mode : kModes)
    check_random_layer(gen, conv(6, 5, 4, 21, 3, 3, 1, 1, 1, 1, 1, 1), mode, {}, "no bias", false);
}

TEST(Accelerator, RandomLayersMatchReference) {
  // The regression's layers, with several n-tiles per group and biases at the ends of the range.
  dv::LayerGenerator gen(test_rng(), {.max_k = 300, .group_out = {1, 37}, .extreme_bias = 0.1});
  g_coverage = {};
  for (int i = 0; i < 60; ++i) {
    const dv::Case c = gen.random_case(kModes[gen.uniform(0, 2)]);
    check_layer(c.layer, c.input, {}, fmt::format("random layer {} ({})", i, dv::to_string(c.kind)));
    if (::testing::Test::HasFailure()) break;
  }
  // The data reaches both ends of the output range (saturation, clamps), but not only those:
  // at least a quarter of the outputs lie strictly inside (over 300 seeds: 42-91%).
  EXPECT_GT(g_coverage.at_min, 0u);
  EXPECT_GT(g_coverage.at_max, 0u);
  EXPECT_GT(g_coverage.total - g_coverage.at_min - g_coverage.at_max, g_coverage.total / 4);
  fmt::print("[ info     ] outputs at the minimum {}, at the maximum {}, of {}\n", g_coverage.at_min, g_coverage.at_max,
             g_coverage.total);
}

TEST(Accelerator, SmallDeviceForcesWeightChunksAndManyTiles) {
  // 256-word weight banks and 4 bias entries: a few n-tiles per chunk, several chunks.
  dv::LayerGenerator gen(test_rng());
  DeviceParams small;
  small.act_words = 256;
  small.wgt_words = 256;
  small.bias_entries = 4;
  for (const Mode mode : kModes) {
    check_random_layer(gen, fc(200, 150), mode, small, "fc, chunks limited by weights and biases");
    check_random_layer(gen, conv(8, 9, 10, 90, 3, 3, 1, 1, 1, 1, 1, 1), mode, small, "conv, bias-limited chunks");
    check_random_layer(gen, conv(8, 9, 10, 90, 3, 3, 1, 1, 1, 1, 1, 1), mode, small, "conv, no bias", false);
    check_random_layer(gen, conv(20, 20, 4, 40, 3, 3, 2, 2, 1, 1, 1, 1, 2), mode, small, "conv, groups");
    // 800 pixels do not fit the activation banks: activations reloaded per chunk.
    check_random_layer(gen, conv(40, 20, 3, 70, 3, 3, 1, 1, 1, 1, 1, 1), mode, small, "conv, act reload");
  }
}

TEST(Accelerator, PerChannelShiftsCutNTilesAtShiftChanges) {
  // ShiftMapping::kPerTile: SHIFT is one register per tile: the driver orders a group's channels by shift and cuts
  // n-tiles where the shift changes. 40 channels alternating 5 and 9: 20 + 20 channels, 2 + 2
  // n-tiles (3 without per-channel shifts); 8x8 outputs = 4 m-tiles of 16 pixels.
  dv::LayerGenerator gen(test_rng());
  for (const Mode mode : kModes) {
    Layer l = gen.layer(conv(8, 8, 6, 40, 3, 3, 1, 1, 1, 1, 1, 1), mode, kPlain);
    l.channel_shift.resize(40);
    for (int n = 0; n < 40; ++n) l.channel_shift[static_cast<std::size_t>(n)] = n % 2 == 0 ? 5 : 9;
    const Counters d = check_layer(l, gen.tensor(8, 8, 6, mode), {}, "alternating shifts", ShiftMapping::kPerTile);
    EXPECT_EQ(d.tiles, 4u * 4u);
    // Small bias and weight banks: chunks of 4 tiles (bias lines pair tiles, 3 tiles in the last chunk).
    DeviceParams small;
    small.wgt_words = 256;
    small.bias_entries = 4;
    for (int& c : l.channel_shift) c = gen.uniform(0, 3);
    check_layer(l, gen.tensor(8, 8, 6, mode), small, "random shifts, small device", ShiftMapping::kPerTile);
    // Depthwise: one channel per group, every channel its own shift.
    Layer dw = gen.layer(conv(9, 9, 20, 20, 3, 3, 2, 2, 1, 1, 1, 1, 20), mode, kPlain);
    dw.channel_shift.resize(20);
    for (int& c : dw.channel_shift) c = gen.uniform(0, 19);
    const Counters dd =
        check_layer(dw, gen.tensor(9, 9, 20, mode), {}, "depthwise, per-channel shifts", ShiftMapping::kPerTile);
    // 5x5 outputs = 2 m-tiles; MODE.DW tiles put the channels of one shift side by side, up to 16.
    std::map<int, std::uint64_t> per_shift;
    for (const int c : dw.channel_shift) ++per_shift[c];
    std::uint64_t n_tiles = 0;
    for (const auto& [shift, count] : per_shift) n_tiles += (count + 15) / 16;
    EXPECT_EQ(dd.tiles, 2u * n_tiles);
  }
}

TEST(Accelerator, OtherArraySizes) {
  dv::LayerGenerator gen(test_rng());
  DeviceParams p;
  p.rows = 4;
  p.cols = 8;
  p.act_words = 512;
  p.wgt_words = 128;
  p.bias_entries = 2;
  for (const Mode mode : kModes) {
    check_random_layer(gen, conv(7, 6, 5, 23, 3, 3, 1, 2, 1, 1, 0, 1), mode, p, "4x8 array");
    check_random_layer(gen, fc(70, 33), mode, p, "4x8 array fc");
  }
  DeviceParams wide;
  wide.rows = 3;
  wide.cols = 20;
  for (const Mode mode : kModes)
    check_random_layer(gen, conv(5, 5, 6, 45, 3, 3, 1, 1, 1, 1, 1, 1, 3), mode, wide, "3x20 array");
}

TEST(Accelerator, LargestKFitsTheBanks) {
  dv::LayerGenerator gen(test_rng());
  DeviceParams small;
  small.act_words = 64;
  small.wgt_words = 64;
  for (const Mode mode : kModes) {
    const int k = 64 * golden::lanes(mode);
    check_random_layer(gen, fc(k, 20), mode, small, "K = lanes * bank words");
  }
}

TEST(Accelerator, OutputOfOneLayerFeedsTheNext) {
  dv::LayerGenerator gen(test_rng());
  GoldenDevice dev;
  Accelerator acc(dev);
  for (const Mode mode : kModes) {
    const Layer l1 = gen.layer(conv(8, 8, 3, 10, 3, 3, 1, 1, 1, 1, 1, 1), mode, kPlain);
    const Layer l2 = gen.layer(conv(8, 8, 10, 10, 3, 3, 2, 2, 1, 1, 1, 1, 5), mode, kPlain);
    const Layer l3 = gen.layer(fc(4 * 4 * 10, 7), mode, kPlain);
    const PackedTensor in = gen.tensor(8, 8, 3, mode);
    const PackedTensor a1 = acc.run(l1, in);
    const PackedTensor a2 = acc.run(l2, a1);
    // Flatten 4x4x10 HWC to 1x1x160 (same values, same order).
    const PackedTensor flat = PackedTensor::from_values(1, 1, 160, mode, a2.values());
    const PackedTensor a3 = acc.run(l3, flat);
    const PackedTensor r1 = golden::conv2d(l1, in);
    const PackedTensor r2 = golden::conv2d(l2, r1);
    const PackedTensor r3 = golden::conv2d(l3, PackedTensor::from_values(1, 1, 160, mode, r2.values()));
    EXPECT_TRUE(same_tensor(a1, r1, "layer 1"));
    EXPECT_TRUE(same_tensor(a2, r2, "layer 2"));
    EXPECT_TRUE(same_tensor(a3, r3, "layer 3"));
  }
}

// ---------------------------------------------------------------------------------------
// Counters and bus economy

TEST(Accelerator, CountersClearAndSubtract) {
  dv::LayerGenerator gen(test_rng());
  GoldenDevice dev;
  Accelerator acc(dev);
  const Layer l = gen.layer(conv(6, 6, 4, 20, 3, 3, 1, 1, 1, 1, 1, 1), Mode::k8, kPlain);
  (void)acc.run(l, gen.tensor(6, 6, 4, Mode::k8));
  EXPECT_GT(acc.counters().tiles, 0u);
  acc.clear_counters();
  const Counters c = acc.counters();
  EXPECT_EQ(c.tiles, 0u);
  EXPECT_EQ(c.macs_total(), 0u);
  EXPECT_EQ(c.busy, 0u);
  EXPECT_LT(c.cycles, 20u);  // only the reads of the counters themselves
  (void)acc.run(l, gen.tensor(6, 6, 4, Mode::k8));
  const Counters d = acc.counters() - c;
  EXPECT_EQ(d.mac8, static_cast<std::uint64_t>(l.shape.macs()));
  EXPECT_EQ(d.mac16 + d.mac4, 0u);
  EXPECT_EQ(d.tiles, expected_tiles(l, 16, 16));
}

TEST(Accelerator, CountersFollowTheDocumentedRules) {
  // Every counter of docs/ARCHITECTURE.md recomputed from the bus accesses the driver made.
  dv::LayerGenerator gen(test_rng());
  for (const Mode mode : kModes) {
    GoldenDevice golden_dev;
    CountingDevice dev(golden_dev);
    Accelerator acc(dev);
    const ConvShape s = conv(9, 7, 6, 40, 3, 3, 1, 1, 1, 1, 1, 1);  // M 63 (16,16,16,15), N 40 (16,16,8)
    const Layer l = gen.layer(s, mode, kPlain);
    const PackedTensor in = gen.tensor(9, 7, 6, mode);
    acc.clear_counters();
    dev.reset();
    (void)acc.run(l, in);
    const std::uint64_t accesses = dev.total();
    const Counters c = acc.counters();

    const std::uint64_t p = golden::lanes(mode);
    const std::uint64_t kw = (s.k() + p - 1) / p;
    std::uint64_t tiles = 0, busy = 0, array = 0, macs = 0, rd = 0, wr = 0;
    for (const std::uint64_t rows : {16u, 16u, 16u, 15u}) {
      for (const std::uint64_t cols : {16u, 16u, 8u}) {
        ++tiles;
        busy += kw + regmap::kBusyOverhead;
        array += kw;
        macs += rows * cols * s.k();
        rd += (rows + cols) * kw + 2 * cols;  // operands, biases at START
        wr += rows * ((cols + p - 1) / p);    // outputs
      }
    }
    rd += 4 * dev.reads[regmap::kRegionOut];
    wr += 4 * (dev.writes[regmap::kRegionAct] + dev.writes[regmap::kRegionWgt] + dev.writes[regmap::kRegionBias]);
    const std::string ctx = golden::to_string(mode);
    EXPECT_EQ(c.cycles, accesses + busy) << ctx;  // every access is an edge; waits last the busy edges
    EXPECT_EQ(c.tiles, tiles) << ctx;
    EXPECT_EQ(c.busy, busy) << ctx;
    EXPECT_EQ(c.array, array) << ctx;
    EXPECT_EQ(c.macs(mode), macs) << ctx;
    EXPECT_EQ(c.macs_total(), macs) << ctx;
    EXPECT_EQ(c.spad_rd, rd) << ctx;
    EXPECT_EQ(c.spad_wr, wr) << ctx;
  }
}

/// Bus accesses of one run, by kind, against what the tiling needs at least.
TEST(Accelerator, BusAccessesAreMinimal) {
  dv::LayerGenerator gen(test_rng());
  for (const Mode mode : kModes) {
    GoldenDevice golden_dev;
    CountingDevice dev(golden_dev);
    Accelerator acc(dev);
    const ConvShape s = conv(16, 16, 16, 40, 3, 3, 1, 1, 1, 1, 1, 1);  // M 256, N 40, K 144
    const Layer l = gen.layer(s, mode, kPlain);
    const PackedTensor in = gen.tensor(16, 16, 16, mode);
    dev.reset();
    const PackedTensor got = acc.run(l, in);
    EXPECT_TRUE(same_tensor(got, golden::conv2d(l, in), "bus economy layer"));

    const int p = golden::lanes(mode);
    const std::uint64_t lines_per_vec = (s.k() + 4 * p - 1) / (4 * p);
    const std::uint64_t m_tiles = 16, n_tiles = 3, tiles = m_tiles * n_tiles;
    const std::uint64_t out_lines = 16 * m_tiles * (2 * ((16 + 4 * p - 1) / (4 * p)) + (8 + 4 * p - 1) / (4 * p));
    EXPECT_EQ(dev.starts, tiles);
    EXPECT_EQ(dev.waits, tiles);
    EXPECT_EQ(dev.writes[regmap::kRegionWgt], 40 * lines_per_vec);  // each weight once
    EXPECT_EQ(dev.writes[regmap::kRegionBias],
              8 * 2u + 8 * 1u);  // columns 0..7: 3 entries (2 lines), 8..15: 2 (1 line)
    EXPECT_EQ(dev.writes[regmap::kRegionAct], 256 * lines_per_vec);  // each im2col row once
    EXPECT_EQ(dev.reads[regmap::kRegionOut], out_lines);             // only lines holding outputs
    EXPECT_EQ(dev.reads[regmap::kRegionCsr], 0u);                    // no STATUS polling
    // START per tile; WGT_BASE and BIAS_BASE per n-tile change (serpentine: 2 per m-tile);
    // COLS_ACT twice per m-tile; a few per-layer registers.
    const std::uint64_t csr = dev.writes[regmap::kRegionCsr];
    EXPECT_LE(csr, tiles + m_tiles * 2 * 3 + 10);
    fmt::print(
        "[ info     ] {} mode, 48 tiles of K {}: {} bus accesses ({:.1f} per tile; csr writes {}, act {}, "
        "wgt {}, bias {}, out {})\n",
        golden::to_string(mode), s.k(), dev.total(), static_cast<double>(dev.total()) / tiles, csr,
        dev.writes[regmap::kRegionAct], dev.writes[regmap::kRegionWgt], dev.writes[regmap::kRegionBias],
        dev.reads[regmap::kRegionOut]);

    // A second run costs the same (the shadow is rebuilt, not trusted across runs).
    const std::uint64_t first = dev.total();
    dev.reset();
    (void)acc.run(l, in);
    EXPECT_EQ(dev.total(), first);
  }
}

TEST(Accelerator, SingleNTileNeedsOnlyStartPerTile) {
  dv::LayerGenerator gen(test_rng());
  GoldenDevice golden_dev;
  CountingDevice dev(golden_dev);
  Accelerator acc(dev);
  const ConvShape s = conv(12, 12, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1);  // 9 m-tiles of 16 pixels, 1 n-tile
  const Layer l = gen.layer(s, Mode::k16, kPlain);
  const PackedTensor in = gen.tensor(12, 12, 8, Mode::k16);
  dev.reset();
  (void)acc.run(l, in);
  // MODE K SHIFT OUT_CFG [CLAMP_HI] ROWS_ACT COLS_ACT ACT_BASE WGT_BASE BIAS_BASE, then START only.
  EXPECT_LE(dev.writes[regmap::kRegionCsr], 9u + 10u);
  EXPECT_EQ(dev.reads[regmap::kRegionOut], 144u * 4u);
}

TEST(Accelerator, ActivationsStayResidentAcrossWeightChunks) {
  dv::LayerGenerator gen(test_rng());
  DeviceParams small;
  small.wgt_words = 256;  // 16-bit K 72 -> 72-word vectors, 3 n-tiles per chunk
  GoldenDevice golden_dev(small);
  CountingDevice dev(golden_dev);
  Accelerator acc(dev);
  const ConvShape s = conv(6, 6, 8, 100, 3, 3, 1, 1, 1, 1, 1, 1);  // M 36 (3 m-tiles), N 100 (7 n-tiles)
  const Layer l = gen.layer(s, Mode::k16, kPlain);
  const PackedTensor in = gen.tensor(6, 6, 8, Mode::k16);
  dev.reset();
  const PackedTensor got = acc.run(l, in);
  EXPECT_TRUE(same_tensor(got, golden::conv2d(l, in), "resident activations"));
  EXPECT_EQ(dev.writes[regmap::kRegionAct], 36u * 18u);   // each im2col row once, not once per chunk
  EXPECT_EQ(dev.writes[regmap::kRegionWgt], 100u * 18u);  // each weight vector once
  EXPECT_EQ(dev.starts, 3u * 7u);
}

// ---------------------------------------------------------------------------------------
// Invalid layers

TEST(Accelerator, RejectsKLargerThanABank) {
  DeviceParams small;
  small.act_words = 64;
  small.wgt_words = 128;
  GoldenDevice dev(small);
  Accelerator acc(dev);
  for (const Mode mode : kModes) {
    Layer l;
    l.mode = mode;
    l.shape = fc(64 * golden::lanes(mode) + 1, 3);
    l.weights.assign(static_cast<std::size_t>(l.shape.weight_count()), 1);
    try {
      (void)acc.prepare(l);
      ADD_FAILURE() << "K too large accepted in " << golden::to_string(mode);
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(fmt::format("K = {}", l.shape.k())), std::string::npos) << msg;
      EXPECT_NE(msg.find(fmt::format("at most {}", 64 * golden::lanes(mode))), std::string::npos) << msg;
      EXPECT_NE(msg.find(golden::to_string(mode)), std::string::npos) << msg;
    }
    // run(layer, ...) validates as well, before touching the device.
    EXPECT_THROW((void)acc.run(l, PackedTensor(1, 1, l.shape.in_c, mode)), std::invalid_argument);
  }
}

TEST(Accelerator, RejectsWrongInput) {
  GoldenDevice dev;
  Accelerator acc(dev);
  Layer l;
  l.mode = Mode::k8;
  l.shape = conv(5, 5, 3, 4, 3, 3);
  l.weights.assign(static_cast<std::size_t>(l.shape.weight_count()), 1);
  const PreparedLayer pl = acc.prepare(l);
  const auto expect_msg = [&](const PackedTensor& in, const std::string& part) {
    try {
      (void)acc.run(pl, in);
      ADD_FAILURE() << "accepted input " << part;
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("input tensor is"), std::string::npos) << msg;
      EXPECT_NE(msg.find(part), std::string::npos) << msg;
    }
  };
  expect_msg(PackedTensor(5, 4, 3, Mode::k8), "5x4x3");
  expect_msg(PackedTensor(5, 5, 2, Mode::k8), "5x5x2");
  expect_msg(PackedTensor(5, 5, 3, Mode::k16), "16-bit");
  PackedTensor bad(5, 5, 3, Mode::k8);
  bad.words.pop_back();
  expect_msg(bad, "words");
}

TEST(Accelerator, RejectsInvalidLayer) {
  GoldenDevice dev;
  Accelerator acc(dev);
  Layer l;
  l.shape = conv(5, 5, 3, 4, 3, 3, 1, 1, 0, 0, 0, 0, 2);  // channels not divisible by groups
  l.weights.assign(64, 1);
  EXPECT_THROW((void)acc.prepare(l), std::invalid_argument);
  l.shape = conv(5, 5, 3, 4, 3, 3);
  l.weights.assign(static_cast<std::size_t>(l.shape.weight_count()) - 1, 1);  // wrong weight count
  EXPECT_THROW((void)acc.prepare(l), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------
// Device errors on a fake device

Layer small_layer() {
  Layer l;
  l.mode = Mode::k16;
  l.shape = conv(4, 4, 3, 5, 3, 3, 1, 1, 1, 1, 1, 1);
  l.weights.assign(static_cast<std::size_t>(l.shape.weight_count()), 1);
  return l;
}

TEST(Accelerator, RejectsWrongId) {
  FakeDevice dev;
  dev.id = 0xDEADBEEF;
  try {
    Accelerator acc(dev);
    ADD_FAILURE() << "wrong ID accepted";
  } catch (const AcceleratorError& e) {
    EXPECT_NE(std::string(e.what()).find("0xDEADBEEF"), std::string::npos) << e.what();
  }
}

TEST(Accelerator, ReadsGeometry) {
  FakeDevice dev;
  dev.hwcfg = 8 | (12 << 8) | (10 << 16) | (11u << 24);
  dev.hwcfg2 = 64 | (48 << 16);
  Accelerator acc(dev);
  EXPECT_EQ(acc.hw().rows, 8);
  EXPECT_EQ(acc.hw().cols, 12);
  EXPECT_EQ(acc.hw().act_words, 1024);
  EXPECT_EQ(acc.hw().wgt_words, 2048);
  EXPECT_EQ(acc.hw().bias_entries, 64);
  EXPECT_EQ(acc.hw().acc_bits, 48);
  GoldenDevice golden_dev;
  Accelerator g(golden_dev);
  EXPECT_EQ(g.hw().rows, 16);
  EXPECT_EQ(g.hw().cols, 16);
  EXPECT_EQ(g.hw().act_words, 8192);
  EXPECT_EQ(g.hw().wgt_words, 8192);
  EXPECT_EQ(g.hw().bias_entries, 256);
  EXPECT_EQ(g.hw().acc_bits, 48);
}

TEST(Accelerator, WatchdogStopsATileThatNeverFinishes) {
  FakeDevice dev;
  Accelerator acc(dev);
  acc.set_watchdog_slack(10);
  const Layer l = small_layer();
  try {
    (void)acc.run(l, PackedTensor(4, 4, 3, Mode::k16));
    ADD_FAILURE() << "no watchdog error";
  } catch (const AcceleratorError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("watchdog"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not done after 39 cycles"), std::string::npos) << msg;  // 27 + 2 + 10
    EXPECT_NE(msg.find("m-tile 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find(l.shape.to_string()), std::string::npos) << msg;
  }
  ASSERT_EQ(dev.wait_limits.size(), 1u);
  EXPECT_EQ(dev.wait_limits[0], 27u + regmap::kBusyOverhead + 10u);
}

TEST(Accelerator, RefusedTileReportsTheErrorCode) {
  FakeDevice dev;
  dev.refuse = true;
  dev.err_code = regmap::kErrBadK;
  Accelerator acc(dev);
  try {
    (void)acc.run(small_layer(), PackedTensor(4, 4, 3, Mode::k16));
    ADD_FAILURE() << "refused tile not reported";
  } catch (const AcceleratorError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(regmap::err_text(regmap::kErrBadK)), std::string::npos) << msg;
    EXPECT_NE(msg.find("n-tile 0"), std::string::npos) << msg;
  }
}

TEST(Accelerator, BusErrorsNameTheAddress) {
  FakeDevice dev;
  dev.finish = true;
  dev.fail_region = static_cast<int>(regmap::kRegionWgt);
  dev.err_code = regmap::kErrBusAddr;
  Accelerator acc(dev);
  try {
    (void)acc.run(small_layer(), PackedTensor(4, 4, 3, Mode::k16));
    ADD_FAILURE() << "bus error not reported";
  } catch (const AcceleratorError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("WGT scratchpad bank 0 line 0"), std::string::npos) << msg;
    EXPECT_NE(msg.find(regmap::err_text(regmap::kErrBusAddr)), std::string::npos) << msg;
    EXPECT_NE(msg.find("loading weights"), std::string::npos) << msg;
  }
  dev.fail_region = static_cast<int>(regmap::kRegionCsr);
  dev.err_code = regmap::kErrBusRo;
  try {
    acc.write_reg(regmap::kRegHWCFG, 1);
    ADD_FAILURE() << "register bus error not reported";
  } catch (const AcceleratorError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("HWCFG"), std::string::npos) << msg;
    EXPECT_NE(msg.find(regmap::err_text(regmap::kErrBusRo)), std::string::npos) << msg;
  }
}

TEST(Accelerator, GoldenDeviceBusErrorsAreReported) {
  GoldenDevice dev;
  Accelerator acc(dev);
  try {
    acc.write_reg(regmap::kRegID, 0);
    ADD_FAILURE() << "write to ID accepted";
  } catch (const AcceleratorError& e) {
    EXPECT_NE(std::string(e.what()).find("ERR_BUS_RO"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------
// Recovery after an error

// A golden device behind a wrapper that changes how it waits.
class WrappedGolden : public Device {
 public:
  std::string_view name() const override { return "golden"; }
  BusResponse access(BusOp op, std::uint32_t addr, std::uint64_t wdata) override { return dev.access(op, addr, wdata); }
  [[nodiscard]] std::uint64_t edges() const override { return dev.edges(); }
  GoldenDevice dev;
};

// Before its n-th wait, writes an activation line the running tile reads: refused with
// ERR_BUS_HAZARD ("... while busy ..."), STATUS.ERR set and sticky, the tile still running.
class BusyIntruder : public WrappedGolden {
 public:
  explicit BusyIntruder(int nth_wait) : nth_(nth_wait) {}
  WaitResult wait(std::uint64_t max_cycles) override {
    if (++waits_ == nth_) intruded = dev.write(bus_addr(regmap::kRegionAct, 0, 0), 0).err;
    return dev.wait(max_cycles);
  }
  bool intruded = false;

 private:
  int nth_;
  int waits_ = 0;
};

// Its clock stops: wait() never reports anything, so a started tile never ends.
class StuckDevice : public WrappedGolden {
 public:
  WaitResult wait(std::uint64_t max_cycles) override { return {max_cycles, false, false}; }
};

// A 1x1 convolution of 32 output channels: two tiles on the 16-column array.
Layer two_tile_layer() {
  dv::LayerGenerator gen(5);
  ConvShape s;
  s.in_h = s.in_w = 4, s.in_c = 8, s.out_c = 32;
  return gen.layer(s, Mode::k8, {.bias = dv::Draw::kNever, .channel_shifts = dv::Draw::kNever});
}

TEST(AcceleratorRecovery, AnErrorDuringATileLeavesTheDeviceUsable) {
  BusyIntruder dev(2);  // during the second tile
  Accelerator acc(dev);
  const Layer l = two_tile_layer();
  const PreparedLayer p = acc.prepare(l);
  const PackedTensor in = dv::LayerGenerator(6).tensor(4, 4, 8, Mode::k8);
  try {
    (void)acc.run(p, in);
    ADD_FAILURE() << "no error";
  } catch (const AcceleratorError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tile failed"), std::string::npos) << what;
    EXPECT_NE(what.find("while busy"), std::string::npos) << what;
    EXPECT_EQ(what.find("could not be recovered"), std::string::npos) << what;
  }
  ASSERT_TRUE(dev.intruded);
  // Recovered: idle, no error, and the same layer runs to the reference's outputs.
  const std::uint64_t status = dev.read(bus_addr(regmap::kRegionCsr, 0, regmap::kRegSTATUS)).rdata;
  EXPECT_EQ(regmap::kStatusBusyField.get(status), 0u);
  EXPECT_EQ(regmap::kStatusErrField.get(status), 0u);
  EXPECT_EQ(acc.run(p, in), golden::conv2d(l, in));
}

TEST(AcceleratorRecovery, ADeviceThatCannotRecoverIsRefusedSayingWhy) {
  StuckDevice dev;
  Accelerator acc(dev);
  const Layer l = two_tile_layer();
  const PreparedLayer p = acc.prepare(l);
  const PackedTensor in = dv::LayerGenerator(6).tensor(4, 4, 8, Mode::k8);
  try {
    (void)acc.run(p, in);
    ADD_FAILURE() << "no error";
  } catch (const AcceleratorError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("watchdog"), std::string::npos) << what;
    EXPECT_NE(what.find("the device could not be recovered: a tile still runs"), std::string::npos) << what;
  }
  try {
    (void)acc.run(p, in);
    ADD_FAILURE() << "a device that could not be recovered was used again";
  } catch (const AcceleratorError& e) {
    EXPECT_NE(std::string(e.what()).find("unusable since an earlier error (a tile still runs"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace bitscale::driver

// ---------------------------------------------------------------------------------------
// Depthwise layers: MODE.DW tiles (default) and one channel per tile (DepthwiseMapping::kColumns)

namespace bitscale::driver {
namespace {

TEST(Accelerator, DepthwiseLayersInDwModeMatchReferenceAndCountTheirTiles) {
  dv::LayerGenerator gen(test_rng());
  for (const Mode mode : kModes) {
    // M 63 = 16 + 16 + 16 + 15 pixels, 40 channels = 16 + 16 + 8, K 9.
    const ConvShape s = conv(9, 7, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 40);
    const Layer l = gen.layer(s, mode, kPlain);
    const PackedTensor in = gen.tensor(9, 7, 40, mode);
    const PackedTensor want = golden::conv2d(l, in);
    const std::string ctx = golden::to_string(mode);
    std::map<DepthwiseMapping, Counters> by_mapping;
    for (const DepthwiseMapping m : {DepthwiseMapping::kDwMode, DepthwiseMapping::kColumns}) {
      GoldenDevice golden_dev;
      CountingDevice dev(golden_dev);
      Accelerator acc(dev);
      acc.set_depthwise_mapping(m);
      acc.clear_counters();
      dev.reset();
      EXPECT_TRUE(same_tensor(acc.run(l, in), want, ctx + " " + std::string(to_string(m))));
      const Counters c = acc.counters();
      // The functional back-end counts the same.
      Accelerator functional(default_hw_config());
      functional.set_depthwise_mapping(m);
      functional.clear_counters();
      EXPECT_TRUE(same_tensor(functional.run(l, in), want, ctx + " functional"));
      EXPECT_EQ(functional.counters(), c) << ctx << " " << to_string(m);
      by_mapping[m] = c;
      if (m != DepthwiseMapping::kDwMode) continue;
      // The documented rules, recomputed: 12 tiles, each row reading Cols = 16 words per word step.
      const std::uint64_t p = golden::lanes(mode), kw = (9 + p - 1) / p;
      std::uint64_t rd = 0, act_lines = 0;
      for (const std::uint64_t rows : {16u, 16u, 16u, 15u}) {
        for (const std::uint64_t cols : {16u, 16u, 8u}) {
          rd += (rows * 16 + cols) * kw + 2 * cols;
          act_lines += rows * kw * ((cols + 3) / 4);
        }
      }
      EXPECT_EQ(c.tiles, 12u) << ctx;
      EXPECT_EQ(c.array, 12 * kw) << ctx;
      EXPECT_EQ(c.macs(mode), 63u * 40u * 9u) << ctx;
      EXPECT_EQ(dev.writes[regmap::kRegionAct], act_lines) << ctx;
      EXPECT_EQ(c.spad_rd, rd + 4 * dev.reads[regmap::kRegionOut]) << ctx;
    }
    // Same MACs; the broadcast mapping needs one tile per channel and m-tile.
    EXPECT_EQ(by_mapping[DepthwiseMapping::kColumns].macs_total(), by_mapping[DepthwiseMapping::kDwMode].macs_total());
    EXPECT_EQ(by_mapping[DepthwiseMapping::kColumns].tiles, 4u * 40u) << ctx;
    EXPECT_LT(by_mapping[DepthwiseMapping::kDwMode].cycles, by_mapping[DepthwiseMapping::kColumns].cycles) << ctx;
  }
}

TEST(Accelerator, DepthwiseWithPerChannelShiftsAndMultiplierTwo) {
  dv::LayerGenerator gen(test_rng());
  for (const Mode mode : kModes) {
    GoldenDevice golden_dev(DeviceParams{.rows = 4, .cols = 8});
    Accelerator acc(golden_dev);
    // Multiplier 1 with per-channel shifts (DW tiles cut at shift changes), stride 2, then
    // multiplier 2 (not a DW layer: the broadcast mapping).
    Layer l = gen.layer(conv(7, 6, 19, 19, 3, 3, 2, 2, 1, 1, 1, 1, 19), mode, kPlain);
    l.channel_shift.resize(19);
    for (int c = 0; c < 19; ++c) l.channel_shift[static_cast<std::size_t>(c)] = 2 + (c * 7) % 3;
    const PackedTensor in = gen.tensor(7, 6, 19, mode);
    EXPECT_TRUE(same_tensor(acc.run(l, in), golden::conv2d(l, in), "per-channel shifts"));
    const Layer l2 = gen.layer(conv(5, 5, 6, 12, 3, 3, 1, 1, 1, 1, 1, 1, 6), mode, kPlain);
    const PackedTensor in2 = gen.tensor(5, 5, 6, mode);
    EXPECT_TRUE(same_tensor(acc.run(l2, in2), golden::conv2d(l2, in2), "multiplier 2"));
  }
}

// Per-column shifts (OUT_CFG.COL_SHIFT, docs/NUMERICS.md "Per-column shifts"): layers with mixed
// per-channel shifts equal the reference on the golden device at the default and a small geometry, in
// the tiles of one shift per layer; the functional back-end counts exactly what the golden device does.
TEST(Accelerator, PerColumnShiftsMatchReferenceInTheTilesOfOneShift) {
  dv::LayerGenerator gen(test_rng());
  const std::vector<DeviceParams> geometries{DeviceParams{}, DeviceParams{.rows = 8, .cols = 4}};
  for (const Mode mode : kModes) {
    for (const DeviceParams& p : geometries) {
      // 5 x 4 outputs, 24 channels with shift 3 + n mod 4 (+ 8 on half of them: wide spread).
      Layer l = gen.layer(conv(5, 4, 6, 24, 3, 3, 1, 1, 1, 1, 1, 1), mode, kPlain);
      l.channel_shift.resize(24);
      for (int n = 0; n < 24; ++n) l.channel_shift[static_cast<std::size_t>(n)] = 3 + n % 4 + (n % 3 == 0 ? 8 : 0);
      for (std::int32_t& b : l.bias) b >>= 7;  // random 32-bit biases into 25 bits: they fit the entries
      ASSERT_TRUE(driver::uses_column_shifts(PreparedLayer{l, 0, 0, 0, {}}, ShiftMapping::kPerColumn));
      const PackedTensor in = gen.tensor(5, 4, 6, mode);
      const std::string what = fmt::format("mixed shifts {}x{}", p.rows, p.cols);
      const Counters col = check_layer(l, in, p, what);
      const Counters tile = check_layer(l, in, p, what + " per tile", ShiftMapping::kPerTile);
      // By hand: 16 x 16: 2 m-tiles x 2 n-tiles (per tile: 2 x 8 shifts); 8 x 4: 3 x 6 (per tile: 3 x 8).
      const bool big = p.rows == 16;
      EXPECT_EQ(col.tiles, big ? 4u : 18u) << what;
      EXPECT_EQ(tile.tiles, big ? 16u : 24u) << what;
      // Without a bias: BIAS_EN with bias 0 in every entry.
      Layer nb = l;
      nb.bias.clear();
      check_layer(nb, in, p, what + " no bias");
      // A bias beyond 26 bits: the layer falls back to per-tile shifts, still exact.
      Layer wide = l;
      wide.bias.assign(24, 0);
      wide.bias[5] = -(1 << 27);
      EXPECT_EQ(check_layer(wide, in, p, what + " wide bias").tiles, big ? 16u : 24u);
      // The functional back-end: same outputs, same counters as the golden device.
      GoldenDevice dev(p);
      Accelerator dacc(dev);
      Accelerator facc(dacc.hw());
      for (Accelerator* a : {&dacc, &facc}) a->clear_counters();
      const PackedTensor d_out = dacc.run(l, in);
      const PackedTensor f_out = facc.run(l, in);
      EXPECT_TRUE(same_tensor(f_out, d_out, what + " functional"));
      EXPECT_EQ(facc.counters(), dacc.counters()) << what;
    }
    // Depthwise (MODE.DW tiles): 20 channels, each its own shift: 2 n-tiles (16 + 4) per m-tile.
    Layer dw = gen.layer(conv(9, 9, 20, 20, 3, 3, 2, 2, 1, 1, 1, 1, 20), mode, kPlain);
    dw.channel_shift.resize(20);
    for (int c = 0; c < 20; ++c) dw.channel_shift[static_cast<std::size_t>(c)] = c;
    for (std::int32_t& b : dw.bias) b >>= 7;
    EXPECT_EQ(check_layer(dw, gen.tensor(9, 9, 20, mode), {}, "depthwise, 20 shifts").tiles, 2u * 2u);
  }
}

}  // namespace
}  // namespace bitscale::driver
