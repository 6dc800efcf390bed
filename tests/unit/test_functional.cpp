// The functional golden back-end (Accelerator without a device) against the register-level
// golden device: same outputs and the same performance counters, also on small geometries
// that force several weight chunks, resident activations and many m-tiles.
#include <gtest/gtest.h>

#include <cstdlib>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/functional_device.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/reference.hpp"

namespace {

using namespace bitscale;

TEST(FunctionalBackend, SameOutputsAndCountersAsTheGoldenDevice) {
  const char* env = std::getenv("BITSCALE_SEED");
  const std::uint64_t seed = env ? std::strtoull(env, nullptr, 0) : 99;
  std::cout << "BITSCALE_SEED=" << seed << "\n";
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
      } catch (const std::invalid_argument&) {
        continue;  // K does not fit this small geometry
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
