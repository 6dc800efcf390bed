// The group-width detector (docs/NUMERICS.md "Group-width detector", docs/DPRED.md "Width detector
// in the RTL") on the golden back-ends: the widths the driver reads back from the header lines and
// the histogram counters CNT_GW1 .. CNT_GW16 against an independent computation, the minimal
// two's-complement widths (golden::dpred::min_width) of the reference outputs grouped as the array
// writes them (one group per output row of a tile: up to Cols consecutive channels of one pixel).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/group_code.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/quant/traffic.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/study/traffic_job.hpp"
#include "test_seed.hpp"

namespace bitscale {
namespace {

using driver::Accelerator;
using driver::Counters;
using driver::GroupWidthReadback;
using driver::LayerGroupWidths;
using golden::Layer;
using golden::Mode;
using golden::PackedTensor;

std::array<std::uint64_t, 16> gw_counters(const Counters& c) {
  std::array<std::uint64_t, 16> h{};
  for (std::size_t w = 0; w < h.size(); ++w) h[w] = c.*Counters::kFields[regmap::kCntGw1 + w];
  return h;
}

// A 3x3 convolution with padding and a bias, outputs spread over the mode's widths: random
// operands, a shift that keeps most outputs inside the range, ReLU on some layers.
Layer random_layer(std::mt19937_64& rng, Mode mode, int out_c) {
  const auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Layer l;
  l.mode = mode;
  l.shape.in_h = uni(3, 7);
  l.shape.in_w = uni(3, 7);
  l.shape.in_c = uni(1, 9);
  l.shape.out_c = out_c;
  l.shape.k_h = l.shape.k_w = 3;
  l.shape.pad_top = l.shape.pad_left = l.shape.pad_bottom = l.shape.pad_right = 1;
  l.weights.resize(static_cast<std::size_t>(l.shape.weight_count()));
  for (auto& w : l.weights) w = uni(golden::min_value(mode), golden::max_value(mode));
  l.bias.resize(static_cast<std::size_t>(out_c));
  for (auto& b : l.bias) b = uni(-1000, 1000);
  l.out.shift = std::max(0, golden::bits(mode) - 1 + uni(-3, 3));
  l.out.relu = rng() % 2 == 0;
  return l;
}

PackedTensor random_input(std::mt19937_64& rng, const Layer& l) {
  std::vector<std::int32_t> v(static_cast<std::size_t>(l.shape.in_h * l.shape.in_w * l.shape.in_c));
  // Small values on some pixels, so that narrow groups occur.
  std::uniform_int_distribution<int> full(golden::min_value(l.mode), golden::max_value(l.mode)), small(-1, 1);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = (i / 7) % 3 == 0 ? small(rng) : full(rng);
  return PackedTensor::from_values(l.shape.in_h, l.shape.in_w, l.shape.in_c, l.mode, v);
}

// The expected widths, computed from the reference outputs alone: group (pixel p, n-tile j) holds
// the channels cols * j .. cols * (j + 1) - 1 of pixel p (the last one fewer); its width is the
// largest min_width of its values.
LayerGroupWidths expected_widths(const PackedTensor& ref, int cols) {
  LayerGroupWidths e;
  e.pixels = ref.h * ref.w;
  e.groups_per_pixel = (ref.c + cols - 1) / cols;
  for (int y = 0; y < ref.h; ++y)
    for (int x = 0; x < ref.w; ++x)
      for (int j = 0; j < e.groups_per_pixel; ++j) {
        int w = 1;
        for (int ch = j * cols; ch < std::min(ref.c, (j + 1) * cols); ++ch)
          w = std::max(w, golden::dpred::min_width(ref.at(y, x, ch)));
        e.width.push_back(static_cast<std::uint8_t>(w));
      }
  return e;
}

std::array<std::uint64_t, 16> histogram_of(const LayerGroupWidths& g) {
  std::array<std::uint64_t, 16> h{};
  for (const std::uint8_t w : g.width) ++h[w - 1u];
  return h;
}

struct BackendCase {
  const char* name;
  int rows, cols;
  bool functional;
};

TEST(GroupWidthDetector, ReadBackWidthsAndCountersEqualReferenceGroups) {
  std::mt19937_64 rng(test::test_seed(20261201));
  const BackendCase cases[] = {
      {"golden-device 16x16", 16, 16, false}, {"functional 16x16", 16, 16, true}, {"golden-device 8x4", 8, 4, false}};
  for (const BackendCase& bc : cases) {
    std::unique_ptr<golden::GoldenDevice> dev;
    std::unique_ptr<Accelerator> acc;
    if (bc.functional) {
      acc = std::make_unique<Accelerator>(driver::default_hw_config());
    } else {
      dev = std::make_unique<golden::GoldenDevice>(golden::DeviceParams{.rows = bc.rows, .cols = bc.cols});
      acc = std::make_unique<Accelerator>(*dev);
    }
    acc->set_group_width_readback(GroupWidthReadback::kOn);
    for (const Mode mode : golden::kModes) {
      for (const int out_c : {5, 16, 37}) {
        const Layer l = random_layer(rng, mode, out_c);
        const PackedTensor in = random_input(rng, l);
        SCOPED_TRACE(::testing::Message() << bc.name << " " << golden::to_string(mode) << " " << l.shape.to_string());
        const PackedTensor ref = golden::conv2d(l, in);
        const Counters c0 = acc->counters();
        const PackedTensor out = acc->run(l, in);
        const Counters d = acc->counters() - c0;
        ASSERT_EQ(out, ref);
        const LayerGroupWidths expect = expected_widths(ref, bc.cols);
        EXPECT_EQ(acc->group_widths(), expect);
        EXPECT_EQ(gw_counters(d), histogram_of(expect));
        // Every group is counted once, at most B bits wide.
        std::uint64_t groups = 0;
        for (std::size_t w = 0; w < 16; ++w) {
          groups += gw_counters(d)[w];
          if (static_cast<int>(w) >= golden::bits(mode)) {
            EXPECT_EQ(gw_counters(d)[w], 0u) << "width " << w + 1;
          }
        }
        EXPECT_EQ(groups, static_cast<std::uint64_t>(expect.pixels * expect.groups_per_pixel));
      }
    }
  }
}

// Read-back off (the default) costs no bus cycle and reports nothing; on, it costs one read per
// output row of each tile (the header lines) and nothing else changes: outputs and the other
// counters are the same.
TEST(GroupWidthDetector, ReadBackIsOffByDefaultAndCostsOneReadPerGroup) {
  std::mt19937_64 rng(test::test_seed(20261202));
  const Layer l = random_layer(rng, Mode::k8, 37);
  const PackedTensor in = random_input(rng, l);
  for (const bool functional : {false, true}) {
    SCOPED_TRACE(functional ? "functional" : "golden-device");
    golden::GoldenDevice dev;
    std::unique_ptr<Accelerator> acc =
        functional ? std::make_unique<Accelerator>(driver::default_hw_config()) : std::make_unique<Accelerator>(dev);
    EXPECT_EQ(acc->group_width_readback(), GroupWidthReadback::kOff);
    Counters c0 = acc->counters();
    const PackedTensor off = acc->run(l, in);
    const Counters d_off = acc->counters() - c0;
    EXPECT_TRUE(acc->group_widths().width.empty());
    acc->set_group_width_readback(GroupWidthReadback::kOn);
    c0 = acc->counters();
    const PackedTensor on = acc->run(l, in);
    const Counters d_on = acc->counters() - c0;
    EXPECT_EQ(on, off);
    const std::uint64_t headers = static_cast<std::uint64_t>(acc->group_widths().width.size());
    EXPECT_EQ(headers, static_cast<std::uint64_t>(l.shape.out_h() * l.shape.out_w() * 3));  // 37 channels: 3 n-tiles
    EXPECT_EQ(d_on.cycles, d_off.cycles + headers);
    EXPECT_EQ(d_on.spad_rd, d_off.spad_rd + 4 * headers);
    Counters a = d_on, b = d_off;
    a.cycles = b.cycles = 0;
    a.spad_rd = b.spad_rd = 0;
    EXPECT_EQ(d_on.xfer, d_off.xfer + headers);  // one bus beat per header line (CNT_XFER)
    a.xfer = b.xfer = 0;
    EXPECT_EQ(a, b) << "the histogram counters do not depend on the read-back";
  }
}

// The functional back-end on the embedded model: with one shift per layer (no per-channel shifts,
// so an n-tile is 16 consecutive channels), the detector's histogram of every layer without conv
// groups equals DPRed's output group widths that `bitscale traffic` computes from the recorded
// output tensor (golden::dpred, groups of 16 consecutive channels per pixel).
TEST(GroupWidthDetector, EmbeddedModelHistogramEqualsTrafficGroupWidths) {
  const std::filesystem::path model =
      std::filesystem::path(BITSCALE_SOURCE_DIR) / "data" / "models" / "mobilenet_v1_0.25_128_quant.tflite";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "no embedded data";
  const model::Network net(model::load_model(model.string()));
  for (const int bits : {8, 4}) {
    study::TrafficJob job;
    job.data.model = model.string();
    job.bits = bits;
    job.limit = 1;
    job.calib_limit = 2;
    job.weight_fl = quant::WeightFl::kLayer;
    job.factory = [](driver::Backend) { return std::make_unique<Accelerator>(driver::default_hw_config()); };
    const study::TrafficOutcome r = study::run_traffic(job);
    const nlohmann::json j = nlohmann::json::parse(study::traffic_json(r));
    const auto& layers = j.at("layers");
    ASSERT_EQ(layers.size(), r.layers.size());
    int compared = 0;
    for (std::size_t i = 0; i < r.layers.size(); ++i) {
      const auto hw = layers[i].at("output").at("detector_group_widths").get<std::vector<std::uint64_t>>();
      const auto dp = layers[i].at("output").at("group_widths").get<std::vector<std::uint64_t>>();
      ASSERT_EQ(hw.size(), 16u);
      std::uint64_t n = 0;
      for (const std::uint64_t x : hw) n += x;
      EXPECT_GT(n, 0u) << r.layers[i].name;
      // Depthwise layers run one channel per conv group: one group per output value there.
      if (r.layers[i].name.find("depthwise") != std::string::npos ||
          r.layers[i].name.find("grouped") != std::string::npos)
        continue;
      EXPECT_EQ(hw, dp) << bits << "-bit " << r.layers[i].name;
      ++compared;
    }
    EXPECT_GE(compared, 10) << "the pointwise, first and classifier layers";
  }
}

}  // namespace
}  // namespace bitscale
