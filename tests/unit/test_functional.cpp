// The functional golden back-end (Accelerator without a device) against the register-level
// golden device: same outputs and the same performance counters, also on small geometries
// that force several weight chunks, resident activations and many m-tiles.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/counter_model.hpp"
#include "bitscale/golden/functional_device.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/reference.hpp"
#include "test_seed.hpp"

namespace {

using namespace bitscale;

TEST(FunctionalBackend, SameOutputsAndCountersAsTheGoldenDevice) {
  const std::uint64_t seed = test::test_seed(99);
  // The regression's layers (extreme values, per-channel shifts, several n-tiles per group),
  // K small enough for most of them to fit the small geometries.
  dv::LayerGenerator gen(seed, {.max_k = 300, .group_out = {1, 30}});
  // Default geometry and small ones (several weight chunks, resident activations, 4-row arrays).
  const golden::DeviceParams geometries[] = {{}, {4, 8, 64, 64, 4}, {8, 4, 256, 32, 2}, {3, 12, 128, 128, 8}};
  for (const auto& gp : geometries) {
    golden::GoldenDevice dev(gp);
    driver::Accelerator dev_acc(dev);
    driver::Accelerator fast(dev_acc.hw());
    int run = 0;
    for (int t = 0; t < 60; ++t) {
      const auto mode = static_cast<golden::Mode>(t % 3);
      const dv::Case c = gen.random_case(mode);
      const auto& layer = c.layer;
      driver::PreparedLayer p;
      try {
        p = dev_acc.prepare(layer);
      } catch (const std::invalid_argument& e) {
        // Refused only when K does not fit this small geometry (its K-vector, in words, is
        // longer than a bank: computed here from the shape, not from the driver).
        const int kw = (layer.shape.k() + golden::lanes(mode) - 1) / golden::lanes(mode);
        ASSERT_GT(kw, std::min(gp.act_words, gp.wgt_words)) << e.what();
        continue;
      }
      ++run;
      const auto d0 = dev_acc.counters(), f0 = fast.counters();
      const auto a = dev_acc.run(p, c.input);
      const auto b = fast.run(p, c.input);
      const auto d1 = dev_acc.counters(), f1 = fast.counters();
      dv::Scoreboard sb(seed);
      sb.compare("functional vs golden device", a, b, {"golden device", "functional"});
      sb.compare("golden device vs reference", golden::conv2d(layer, c.input), a, {"reference", "golden device"});
      sb.compare("counters", d1 - d0, f1 - f0, {"golden device", "functional"});
      ASSERT_TRUE(sb.ok()) << "layer " << t << " " << layer.shape.to_string() << "\n" << sb.report();
      // Absolute values agree but for the 3 identification reads of the device constructor.
      ASSERT_EQ(d1.cycles, f1.cycles + 3);
      ASSERT_EQ(d1.macs_total(), f1.macs_total());
    }
    EXPECT_GE(run, 20) << "too few layers fit geometry " << gp.rows << "x" << gp.cols;
  }
}

TEST(FunctionalBackend, ClearAndNoDevice) {
  driver::Accelerator fast(driver::default_hw_config());
  EXPECT_EQ(fast.backend(), "golden");
  EXPECT_THROW((void)fast.device(), std::logic_error);
  fast.clear_counters();
  const auto c = fast.counters();
  EXPECT_EQ(c.cycles, 0u);  // CLEAR zeroed everything; the first counter read sees 0 cycles
  EXPECT_EQ(c.tiles, 0u);
}

TEST(FunctionalBackend, IdentifiesLikeTheGoldenDevice) {
  // Both encode ID, HWCFG and HWCFG2 from the generated fields; the driver decodes them back.
  const golden::DeviceParams geometries[] = {{}, {4, 8, 64, 64, 4}, {8, 4, 256, 32, 2}, {3, 12, 128, 4096, 8}};
  for (const auto& gp : geometries) {
    golden::GoldenDevice dev(gp);
    golden::FunctionalDevice fdev(gp);
    for (const std::uint32_t reg : {regmap::kRegID, regmap::kRegHWCFG, regmap::kRegHWCFG2}) {
      const auto addr = driver::bus_addr(regmap::kRegionCsr, 0, reg);
      EXPECT_EQ(dev.read(addr).rdata, fdev.read(addr).rdata) << regmap::reg_name(reg);
    }
    const driver::Accelerator acc(fdev);
    EXPECT_EQ(acc.hw().rows, gp.rows);
    EXPECT_EQ(acc.hw().cols, gp.cols);
    EXPECT_EQ(acc.hw().act_words, gp.act_words);
    EXPECT_EQ(acc.hw().wgt_words, gp.wgt_words);
    EXPECT_EQ(acc.hw().bias_entries, gp.bias_entries);
    EXPECT_EQ(acc.hw().acc_bits, golden::kAccBits);
  }
}

TEST(CounterModel, ClosedFormTileEqualsTheEdgeRules) {
  // count_tile (closed form, used by the functional back-end) must give exactly the sums of
  // the per-edge rules (count_edge + count_tile_edge over every busy edge) that GoldenDevice
  // applies: on edge cases of K around the lane count and on random tiles of every mode.
  const std::uint64_t seed = test::test_seed(7);
  std::mt19937_64 rng(seed);
  const auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int checked = 0;
  for (const golden::Mode m : {golden::Mode::k16, golden::Mode::k8, golden::Mode::k4}) {
    for (const int k : {0, 1, 2, 3, 4, 5, 7, 8, 9, 65535}) {
      const golden::TileCounts t{m, k, 1 + (k % 16), 4 + (k % 13), (k % 2) != 0};
      ASSERT_EQ(golden::count_tile(t), golden::count_tile_edges(t)) << "mode " << golden::mode_code(m) << " K " << k;
      ++checked;
    }
  }
  for (int i = 0; i < 2000; ++i) {
    const golden::TileCounts t{static_cast<golden::Mode>(pick(0, 2)), pick(1, i % 10 == 0 ? 65535 : 600), pick(1, 255),
                               pick(1, 252), pick(0, 1) != 0};
    const auto closed = golden::count_tile(t);
    ASSERT_EQ(closed, golden::count_tile_edges(t))
        << "seed " << seed << " mode " << golden::mode_code(t.mode) << " K " << t.k << " " << t.rows << "x" << t.cols;
    // A real tile: one TILES, busy on every cycle, K x rows x cols products in its own mode.
    ASSERT_EQ(closed[regmap::kCntTiles], 1u);
    ASSERT_EQ(closed[regmap::kCntCycles], closed[regmap::kCntBusy]);
    ASSERT_EQ(
        closed[golden::mac_counter(t.mode)],
        static_cast<std::uint64_t>(t.k) * static_cast<std::uint64_t>(t.rows) * static_cast<std::uint64_t>(t.cols));
    ++checked;
  }
  EXPECT_EQ(checked, 2030);
  // Hand-computed: 8-bit, K = 5 (3 words), 2 x 4 active: 3 + BUSY_OVERHEAD edges, 3 x (2 + 4)
  // operand words read, 2 rows x 2 output words written.
  const auto h = golden::count_tile({golden::Mode::k8, 5, 2, 4, false});
  EXPECT_EQ(h[regmap::kCntCycles], 3u + regmap::kBusyOverhead);
  EXPECT_EQ(h[regmap::kCntArray], 3u);
  EXPECT_EQ(h[regmap::kCntMac8], 40u);
  EXPECT_EQ(h[regmap::kCntMac16] + h[regmap::kCntMac4], 0u);
  EXPECT_EQ(h[regmap::kCntSpadRd], 18u);
  EXPECT_EQ(h[regmap::kCntSpadWr], 4u);
}

TEST(Backends, NamesRoundTripAndUnknownNamesAreRefused) {
  for (const auto b : {driver::Backend::kRtl, driver::Backend::kGoldenDevice, driver::Backend::kGolden}) {
    EXPECT_EQ(driver::parse_backend(driver::to_string(b)), b);
  }
  EXPECT_EQ(driver::to_string(driver::Backend::kGolden), "golden");
  EXPECT_EQ(driver::to_string(driver::Backend::kGoldenDevice), "golden-device");
  EXPECT_EQ(driver::to_string(driver::Backend::kRtl), "rtl");
  try {
    (void)driver::parse_backend("verilator");
    FAIL() << "parse_backend accepted 'verilator'";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    for (const char* part : {"verilator", "rtl", "golden", "golden-device"}) {
      EXPECT_NE(msg.find(part), std::string::npos) << msg;
    }
  }
}

}  // namespace

namespace {

// Accelerator::run into a caller's tensor (reused across layers, as QuantizedNetwork::run does):
// every layer's output equals the reference's, whatever the tensor held before (a larger
// output, another mode), on both back-ends; the input cannot be the output.
TEST(FunctionalBackend, RunIntoAReusedTensor) {
  dv::LayerGenerator gen(7, {.max_k = 300, .group_out = {1, 30}});
  golden::GoldenDevice dev;
  driver::Accelerator dev_acc(dev);
  driver::Accelerator fast(dev_acc.hw());
  golden::PackedTensor out_fast, out_dev;
  for (int t = 0; t < 30; ++t) {
    const dv::Case c = gen.random_case(static_cast<golden::Mode>(t % 3));
    const driver::PreparedLayer p = fast.prepare(c.layer);
    const golden::PackedTensor want = golden::conv2d(c.layer, c.input);
    fast.run(p, c.input, out_fast);
    dev_acc.run(p, c.input, out_dev);
    ASSERT_TRUE(out_fast == want) << "functional, layer " << t << " " << c.layer.shape.to_string();
    ASSERT_TRUE(out_dev == want) << "golden device, layer " << t << " " << c.layer.shape.to_string();
  }
  const dv::Case c = gen.random_case(golden::Mode::k8);
  const driver::PreparedLayer p = fast.prepare(c.layer);
  golden::PackedTensor in = c.input;
  EXPECT_THROW(fast.run(p, in, in), std::invalid_argument);
}

}  // namespace
