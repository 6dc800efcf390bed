// The group-width detector of the RTL output stage (docs/NUMERICS.md "Group-width detector"): the
// header lines of the output scratchpad and the histogram counters CNT_GW1 .. CNT_GW16 of the
// verilated array equal the golden device's, on random layers in every mode and on the embedded
// model, and the widths equal the min_width of the reference outputs grouped by output row.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/group_code.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "test_seed.hpp"

namespace {

namespace driver = bitscale::driver;
namespace golden = bitscale::golden;
namespace quant = bitscale::quant;
namespace rm = bitscale::regmap;
using driver::Accelerator;
using driver::bus_addr;
using driver::BusOp;
using driver::Counters;
using driver::GroupWidthReadback;
using golden::Mode;
using golden::PackedTensor;

std::array<std::uint64_t, 16> gw_counters(const Counters& c) {
  std::array<std::uint64_t, 16> h{};
  for (std::size_t w = 0; w < h.size(); ++w) h[w] = c.*Counters::kFields[rm::kCntGw1 + w];
  return h;
}

// The bus side of the header line: readable at line Cols / 4 of every OUT bank (0 after reset),
// read-only, and line Cols / 4 + 1 is unmapped; the same on the golden device.
TEST(RtlGroupWidth, HeaderLineDecode) {
  bitscale::rtl::RtlDevice rtl;
  golden::GoldenDevice gold;
  for (driver::Device* d : {static_cast<driver::Device*>(&rtl), static_cast<driver::Device*>(&gold)}) {
    SCOPED_TRACE(std::string(d->name()));
    for (std::uint32_t bank : {0u, 15u}) {
      const driver::BusResponse r = d->read(bus_addr(rm::kRegionOut, bank, 4));
      EXPECT_FALSE(r.err);
      EXPECT_EQ(r.rdata, 0u) << "header after reset";
    }
    EXPECT_TRUE(d->write(bus_addr(rm::kRegionOut, 3, 4), 7).err);
    const std::uint64_t status = d->read(bus_addr(rm::kRegionCsr, 0, rm::kRegSTATUS)).rdata;
    EXPECT_EQ(rm::kStatusCodeField.get(status), rm::kErrBusRo);
    EXPECT_TRUE(d->read(bus_addr(rm::kRegionOut, 0, 5)).err);
    const std::uint64_t status2 = d->read(bus_addr(rm::kRegionCsr, 0, rm::kRegSTATUS)).rdata;
    EXPECT_EQ(rm::kStatusCodeField.get(status2), rm::kErrBusAddr);
  }
}

// Random layers in every mode on the RTL and the golden device, headers read back after each tile:
// widths, histogram counters and outputs equal, and the widths are those of the reference outputs.
TEST(RtlGroupWidth, RandomLayersEqualGoldenAndReference) {
  std::mt19937_64 rng(bitscale::test::test_seed(20261203));
  const auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  bitscale::rtl::RtlDevice rtl_dev;
  golden::GoldenDevice gold_dev;
  Accelerator rtl(rtl_dev), gold(gold_dev);
  rtl.set_group_width_readback(GroupWidthReadback::kOn);
  gold.set_group_width_readback(GroupWidthReadback::kOn);
  for (const Mode mode : golden::kModes) {
    for (int i = 0; i < 6; ++i) {
      golden::Layer l;
      l.mode = mode;
      l.shape.in_h = uni(2, 6), l.shape.in_w = uni(2, 6), l.shape.in_c = uni(1, 20), l.shape.out_c = uni(1, 40);
      l.shape.k_h = l.shape.k_w = 3;
      l.shape.pad_top = l.shape.pad_left = l.shape.pad_bottom = l.shape.pad_right = 1;
      l.weights.resize(static_cast<std::size_t>(l.shape.weight_count()));
      for (auto& w : l.weights) w = uni(golden::min_value(mode), golden::max_value(mode));
      l.out.shift = std::max(0, 2 * golden::bits(mode) - 4 + uni(-4, 2));
      l.out.relu = i % 2 == 1;
      std::vector<std::int32_t> v(static_cast<std::size_t>(l.shape.in_h * l.shape.in_w * l.shape.in_c));
      for (std::size_t k = 0; k < v.size(); ++k)
        v[k] = k % 5 == 0 ? uni(-1, 1) : uni(golden::min_value(mode), golden::max_value(mode));
      const PackedTensor in = PackedTensor::from_values(l.shape.in_h, l.shape.in_w, l.shape.in_c, mode, v);
      SCOPED_TRACE(::testing::Message() << golden::to_string(mode) << " " << l.shape.to_string());
      const Counters r0 = rtl.counters(), g0 = gold.counters();
      const PackedTensor out_rtl = rtl.run(l, in), out_gold = gold.run(l, in);
      const Counters dr = rtl.counters() - r0, dg = gold.counters() - g0;
      bitscale::dv::Scoreboard sb;
      sb.compare("data", out_gold, out_rtl, {"golden", "rtl"});
      sb.compare("counters", dg, dr, {"golden", "rtl"});
      sb.compare("group widths", gold.group_widths(), rtl.group_widths(), {"golden", "rtl"});
      EXPECT_TRUE(sb.ok()) << sb.report();
      // Independent: per pixel and n-tile of 16 channels, the largest min_width of the reference.
      const PackedTensor ref = golden::conv2d(l, in);
      const driver::LayerGroupWidths& g = rtl.group_widths();
      ASSERT_EQ(g.groups_per_pixel, (l.shape.out_c + 15) / 16);
      std::array<std::uint64_t, 16> hist{};
      for (int y = 0; y < ref.h; ++y)
        for (int x = 0; x < ref.w; ++x)
          for (int j = 0; j < g.groups_per_pixel; ++j) {
            int w = 1;
            for (int ch = 16 * j; ch < std::min(ref.c, 16 * j + 16); ++ch)
              w = std::max(w, golden::dpred::min_width(ref.at(y, x, ch)));
            const std::size_t idx = static_cast<std::size_t>((y * ref.w + x) * g.groups_per_pixel + j);
            EXPECT_EQ(g.width[idx], w) << "pixel " << y << "," << x << " group " << j;
            ++hist[static_cast<std::size_t>(w - 1)];
          }
      EXPECT_EQ(gw_counters(dr), hist);
    }
  }
}

// The embedded model, one image per mode, on the RTL and the functional golden back-end: every MAC
// layer's header widths and counters (the histogram included) are equal.
TEST(RtlGroupWidth, EmbeddedModelHeadersEqualGolden) {
  const std::filesystem::path root(BITSCALE_SOURCE_DIR);
  const std::filesystem::path model = root / "data" / "models" / "mobilenet_v1_0.25_128_quant.tflite";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "no embedded data";
  const bitscale::model::Network net(bitscale::model::load_model(model.string()));
  const auto split = bitscale::data::split_even_odd(bitscale::data::list_images((root / "data" / "images").string()));
  ASSERT_FALSE(split.evaluation.empty());
  const quant::Calibration calib = quant::obtain_calibration(net, "", split.calibration, 2, 1);
  const bitscale::data::Image img =
      bitscale::data::load_for_model(split.evaluation.front(), net.input_h(), net.input_w());
  Accelerator fast(driver::default_hw_config());
  bitscale::rtl::RtlDevice rtl_dev;
  Accelerator rtl(rtl_dev);
  for (const int bits : {8, 4}) {
    SCOPED_TRACE(fmt::format("{}-bit", bits));
    const quant::QuantizedNetwork q(net, calib, bits, fast);
    const quant::QuantRunOptions opts{
        .record_mac_outputs = true, .record_layer_counters = true, .record_group_widths = true};
    const quant::QuantResult a = q.run(fast, img.rgb, opts), b = q.run(rtl, img.rgb, opts);
    ASSERT_EQ(a.group_widths.size(), q.layers().size());
    ASSERT_EQ(b.group_widths.size(), q.layers().size());
    bitscale::dv::Scoreboard sb;
    std::uint64_t groups = 0;
    for (std::size_t i = 0; i < q.layers().size(); ++i) {
      const std::string what = fmt::format("layer {}", i);
      sb.compare(what + " outputs", a.mac_outputs[i], b.mac_outputs[i], {"golden", "rtl"});
      sb.compare(what + " counters", a.layer_counters[i], b.layer_counters[i], {"golden", "rtl"});
      sb.compare(what + " group widths", a.group_widths[i], b.group_widths[i], {"golden", "rtl"});
      EXPECT_EQ(gw_counters(b.layer_counters[i]), b.group_widths[i].histogram()) << what;
      groups += b.group_widths[i].width.size();
    }
    EXPECT_TRUE(sb.ok()) << sb.report();
    EXPECT_GT(groups, 1000u);
    // The read-back is restored (off) after the run.
    EXPECT_EQ(rtl.group_width_readback(), GroupWidthReadback::kOff);
  }
}

}  // namespace
