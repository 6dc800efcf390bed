// One-pixel layers on the whole array (driver::PixelMapping::kArray: MODE.DW tiles with the operands
// exchanged, OUT_CFG.ACC_KEEP chunks, docs/NUMERICS.md "Accumulating across tiles") on the verilated
// RTL: in every mode and transfer schedule, with and without per-channel shifts and biases, the
// outputs equal the reference and every counter is equal on the RTL, the golden device and the
// functional back-end, with no RTL assertion failing.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "test_seed.hpp"
#include "three_backends.hpp"

namespace {

using namespace bitscale;

TEST(RtlArrayFc, OnePixelLayersEqualOnRtlGoldenDeviceAndFunctional) {
  const std::uint64_t seed = test::test_seed(53);
  dv::LayerGenerator gen(seed);
  rtl::RtlDevice rd;
  golden::GoldenDevice gold;
  driver::Accelerator r(rd), g(gold), f(driver::default_hw_config());
  for (driver::Accelerator* a : {&r, &g, &f}) a->set_pixel_mapping(driver::PixelMapping::kArray);
  int array_layers = 0;
  for (int t = 0; t < 6; ++t) {
    const auto mode = static_cast<golden::Mode>(t % 3);
    golden::ConvShape s;
    // Word steps: 16 bits two chunks of 512 (serial) or three of 256 (overlapped); 8 and 4 bits two of 256.
    s.in_c = (mode == golden::Mode::k4 ? 1100 : 600) + 37 * t;
    s.out_c = 270 + 11 * t;  // two tiles of up to 256 channels
    golden::Layer l = gen.layer(s, mode, {dv::Draw::kAlways, t < 3 ? dv::Draw::kNever : dv::Draw::kAlways});
    l.approx = {};
    if (mode != golden::Mode::k16) {
      for (std::int32_t& b : l.bias) b %= mode == golden::Mode::k8 ? 100000 : 2000;  // digits that fit
    }
    const golden::PackedTensor in = gen.tensor(1, 1, s.in_c, mode);
    const driver::PreparedLayer p = r.prepare(l);
    ASSERT_TRUE(driver::plan_array(p, r.hw(), driver::Transfer::kSerial).has_value()) << s.to_string();
    ++array_layers;
    const golden::PackedTensor ref = golden::conv2d(l, in);
    for (const driver::Transfer tr : {driver::Transfer::kSerial, driver::Transfer::kOverlapped}) {
      const driver::Port po = t % 3 == 0 ? driver::Port::kWide : t % 3 == 1 ? driver::Port::kRows : driver::Port::kLine;
      for (driver::Accelerator* a : {&r, &g, &f}) {
        a->set_transfer(tr);
        a->set_port(po);
      }
      dv::Scoreboard sb(seed);
      const driver::Counters dr = test::run_on_three(sb, r, g, f, p, in, ref);
      ASSERT_TRUE(sb.ok()) << t << " " << driver::to_string(tr) << " " << s.to_string() << "\n" << sb.report();
      EXPECT_GE(dr.tiles, tr == driver::Transfer::kOverlapped || mode == golden::Mode::k16 ? 4u : 2u)
          << "two tiles, in two chunks or more";
    }
  }
  EXPECT_EQ(array_layers, 6);
  EXPECT_EQ(rd.assertion_failures(), 0u);
}

}  // namespace
