// The functional golden back-end (Accelerator without a device) against the register-level
// golden device: same outputs and the same performance counters, also on small geometries
// that force several weight chunks, resident activations and many m-tiles.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/functional_device.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/reference.hpp"

namespace {

using namespace bitscale;

golden::Layer random_layer(std::mt19937_64& rng, golden::Mode mode) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  golden::Layer l;
  l.mode = mode;
  auto& s = l.shape;
  s.groups = u(0, 3) == 0 ? u(1, 3) : 1;
  s.in_c = s.groups * u(1, 9);
  s.out_c = s.groups * u(1, 30);
  s.in_h = u(1, 9);
  s.in_w = u(1, 9);
  s.k_h = std::min(u(1, 3), s.in_h);
  s.k_w = std::min(u(1, 3), s.in_w);
  s.stride_h = u(1, 2);
  s.stride_w = u(1, 2);
  s.pad_top = u(0, s.k_h - 1);
  s.pad_left = u(0, s.k_w - 1);
  std::uniform_int_distribution<int> v(golden::min_value(mode), golden::max_value(mode));
  l.weights.resize(static_cast<std::size_t>(s.weight_count()));
  for (auto& w : l.weights) w = v(rng);
  if (u(0, 1)) {
    l.bias.resize(static_cast<std::size_t>(s.out_c));
    for (auto& b : l.bias) b = u(-100000, 100000);
  }
  l.out.shift = u(0, golden::bits(mode) + 4);
  l.out.relu = u(0, 1);
  l.out.clamp = u(0, 2) == 0;
  l.out.clamp_hi = static_cast<std::int16_t>(u(0, golden::max_value(mode)));
  return l;
}

TEST(FunctionalBackend, SameOutputsAndCountersAsTheGoldenDevice) {
  const char* env = std::getenv("BITSCALE_SEED");
  const std::uint64_t seed = env ? std::strtoull(env, nullptr, 0) : 99;
  std::cout << "BITSCALE_SEED=" << seed << "\n";
  std::mt19937_64 rng(seed);
  // Default geometry and small ones (several weight chunks, resident activations, 4-row arrays).
  const golden::DeviceParams geometries[] = {{}, {4, 8, 64, 64, 4}, {8, 4, 256, 32, 2}, {3, 12, 128, 128, 8}};
  for (const auto& gp : geometries) {
    golden::GoldenDevice dev(gp);
    driver::Accelerator dev_acc(dev);
    driver::Accelerator fast(dev_acc.hw());
    for (int t = 0; t < 60; ++t) {
      const auto mode = static_cast<golden::Mode>(t % 3);
      const auto layer = random_layer(rng, mode);
      std::vector<std::int32_t> in(static_cast<std::size_t>(layer.shape.in_h) * layer.shape.in_w * layer.shape.in_c);
      std::uniform_int_distribution<int> v(golden::min_value(mode), golden::max_value(mode));
      for (auto& x : in) x = v(rng);
      const auto input =
          golden::PackedTensor::from_values(layer.shape.in_h, layer.shape.in_w, layer.shape.in_c, mode, in);
      driver::PreparedLayer p;
      try {
        p = dev_acc.prepare(layer);
      } catch (const std::invalid_argument&) {
        continue;  // K does not fit this small geometry
      }
      const auto d0 = dev_acc.counters(), f0 = fast.counters();
      const auto a = dev_acc.run(p, input);
      const auto b = fast.run(p, input);
      const auto d1 = dev_acc.counters(), f1 = fast.counters();
      ASSERT_EQ(a, b) << "seed " << seed << " layer " << t << " " << layer.shape.to_string();
      ASSERT_EQ(a, golden::conv2d(layer, input));
      ASSERT_EQ(d1 - d0, f1 - f0) << "counters, seed " << seed << " layer " << t << " " << layer.shape.to_string();
      // Absolute values agree but for the 3 identification reads of the device constructor.
      ASSERT_EQ(d1.cycles, f1.cycles + 3);
      ASSERT_EQ(d1.macs_total(), f1.macs_total());
    }
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
