// Exact zero-block gating estimate (quant::block_gating, docs/DPRED.md "Exact gating"): counts
// derived by hand on tiny tensors, and against a direct count over every multiply and block pair.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/quant/traffic.hpp"
#include "bitscale/study/traffic_job.hpp"

namespace bitscale::quant {
namespace {

TEST(Gating, NonZeroBlocksOfTwosComplementPatterns) {
  EXPECT_EQ(nonzero_blocks(0, 8), 0);
  EXPECT_EQ(nonzero_blocks(3, 8), 1);    // 0000 0011
  EXPECT_EQ(nonzero_blocks(16, 8), 1);   // 0001 0000
  EXPECT_EQ(nonzero_blocks(127, 8), 2);  // 0111 1111
  EXPECT_EQ(nonzero_blocks(-16, 8), 1);  // 1111 0000
  EXPECT_EQ(nonzero_blocks(-1, 8), 2);   // 1111 1111
  EXPECT_EQ(nonzero_blocks(-1, 16), 4);  // 1111 1111 1111 1111
  EXPECT_EQ(nonzero_blocks(0x0F00, 16), 1);
  EXPECT_EQ(nonzero_blocks(-256, 16), 2);  // 1111 1111 0000 0000
  EXPECT_EQ(nonzero_blocks(-8, 4), 1);     // 1000
  EXPECT_EQ(nonzero_blocks(0, 4), 0);
  EXPECT_THROW((void)nonzero_blocks(1, 12), std::invalid_argument);
}

TEST(Gating, TinyConvolutionsCountedByHand) {
  // 1x1 convolution, 2 input channels, 1 filter, 8 bits: multiplies (16, 3) and (0, 127), 2 x 2
  // block products each, 8 in all. Non-zero blocks: 16 -> 1, 0 -> 0, 3 -> 1, 127 -> 2. Both
  // blocks non-zero: 1*1 + 0*2 = 1 pair, so 7 skippable; activation blocks zero: (2-1)*2 + 2*2 = 6;
  // weight blocks zero: (2-1)*2 + (2-2)*2 = 2. One multiply has a zero operand: its 4 block products.
  golden::ConvShape s;
  s.in_c = 2;
  EXPECT_EQ(block_gating(s, std::vector<std::int32_t>{16, 0}, std::vector<std::int32_t>{3, 127}, 8),
            (BlockGating{8, 7, 6, 2, 4}));
  // 16 bits: 4 x 4 block products per multiply, 32 in all. nz: 16 -> 1, 0 -> 0, 3 -> 1, 127 -> 2.
  // Both non-zero: 1; activation zero: (4-1)*4 + 4*4 = 28; weight zero: (4-1)*4 + (4-2)*4 = 20.
  // The zero-operand multiply: 16.
  EXPECT_EQ(block_gating(s, std::vector<std::int32_t>{16, 0}, std::vector<std::int32_t>{3, 127}, 16),
            (BlockGating{32, 31, 28, 20, 16}));
  // 3x3, pad 1, on a 2x2 single-channel input, 4 bits (one block = the value): 4 outputs x 9 taps
  // = 36 multiplies; every output's window covers the 4 inputs, so with no zero value 16
  // multiplies are non-zero and the 20 padded taps are skippable (activation 0, a zero operand).
  golden::ConvShape p;
  p.in_h = p.in_w = 2;
  p.k_h = p.k_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const std::vector<std::int32_t> w9{1, 2, 3, 4, 5, 6, 7, -8, 1};
  EXPECT_EQ(block_gating(p, std::vector<std::int32_t>{1, -1, 2, 7}, w9, 4), (BlockGating{36, 20, 20, 0, 20}));
  // A zero weight at the centre tap (read by all 4 outputs, always in bounds): 4 more skippable,
  // 4 weight-zero products.
  std::vector<std::int32_t> w0 = w9;
  w0[4] = 0;
  EXPECT_EQ(block_gating(p, std::vector<std::int32_t>{1, -1, 2, 7}, w0, 4), (BlockGating{36, 24, 20, 4, 24}));
  // Depthwise 1x1, 2 channels, 8 bits: multiplies (0x10, 0x01): 1*1 pair, (0x11, 0x10): 2*1 pairs;
  // 8 block products, 3 non-zero. Activation zero: (2-1)*2 + 0 = 2; weight zero: (2-1)*2 * 2 = 4;
  // no zero operand, so none of the 5 is found by whole-value zero skipping.
  golden::ConvShape d;
  d.in_c = d.out_c = d.groups = 2;
  EXPECT_EQ(block_gating(d, std::vector<std::int32_t>{0x10, 0x11}, std::vector<std::int32_t>{0x01, 0x10}, 8),
            (BlockGating{8, 5, 2, 4, 0}));
}

// The same counts by brute force: every multiply of the layer, every pair of blocks.
BlockGating direct(const golden::ConvShape& s, const std::vector<std::int32_t>& in, const std::vector<std::int32_t>& w,
                   int bits) {
  const int nb = bits / 4, cin_g = s.in_c / s.groups, cout_g = s.out_c / s.groups;
  const auto block = [bits](std::int32_t v, int i) {
    return (static_cast<std::uint32_t>(v) & ((1u << bits) - 1u)) >> (4 * i) & 0xFu;
  };
  BlockGating g;
  for (int oy = 0; oy < s.out_h(); ++oy)
    for (int ox = 0; ox < s.out_w(); ++ox)
      for (int o = 0; o < s.out_c; ++o)
        for (int ky = 0; ky < s.k_h; ++ky)
          for (int kx = 0; kx < s.k_w; ++kx)
            for (int ic = 0; ic < cin_g; ++ic) {
              const int y = oy * s.stride_h + ky - s.pad_top, x = ox * s.stride_w + kx - s.pad_left;
              const int c = (o / cout_g) * cin_g + ic;
              const bool inside = y >= 0 && y < s.in_h && x >= 0 && x < s.in_w;
              const std::int32_t a = inside ? in[static_cast<std::size_t>((y * s.in_w + x) * s.in_c + c)] : 0;
              const std::int32_t b = w[static_cast<std::size_t>(((o * s.k_h + ky) * s.k_w + kx) * cin_g + ic)];
              for (int i = 0; i < nb; ++i)
                for (int j = 0; j < nb; ++j) {
                  ++g.block_products;
                  g.skippable += block(a, i) == 0 || block(b, j) == 0;
                  g.activation_zero += block(a, i) == 0;
                  g.weight_zero += block(b, j) == 0;
                }
              if (a == 0 || b == 0) g.zero_operand += static_cast<std::uint64_t>(nb * nb);
            }
  return g;
}

TEST(Gating, AgreesWithADirectCountOnRandomLayers) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    golden::ConvShape s;
    const int bits = trial % 3 == 0 ? 4 : trial % 3 == 1 ? 8 : 16;
    s.in_h = 1 + static_cast<int>(rng() % 5);
    s.in_w = 1 + static_cast<int>(rng() % 5);
    s.groups = trial % 4 == 0 ? 3 : 1;
    s.in_c = s.groups * (1 + static_cast<int>(rng() % 4));
    s.out_c = s.groups * (trial % 4 == 0 ? 1 : 1 + static_cast<int>(rng() % 4));
    s.k_h = s.k_w = 1 + 2 * static_cast<int>(rng() % 2);
    s.stride_h = s.stride_w = 1 + static_cast<int>(rng() % 2);
    s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = s.k_h / 2;
    const std::int32_t lo = -(1 << (bits - 1)), hi = (1 << (bits - 1)) - 1;
    // Mostly small values and zeros, so blocks of every kind occur.
    const auto draw = [&]() -> std::int32_t {
      switch (rng() % 4) {
        case 0:
          return 0;
        case 1:
          return static_cast<std::int32_t>(rng() % 16) - 8;
        default:
          return lo + static_cast<std::int32_t>(rng() % static_cast<std::uint32_t>(hi - lo + 1));
      }
    };
    std::vector<std::int32_t> in(static_cast<std::size_t>(s.in_h * s.in_w * s.in_c));
    std::vector<std::int32_t> w(static_cast<std::size_t>(s.out_c * s.k_h * s.k_w * (s.in_c / s.groups)));
    for (auto& v : in) v = draw();
    for (auto& v : w) v = draw();
    EXPECT_EQ(block_gating(s, in, w, bits), direct(s, in, w, bits)) << s.to_string() << ", " << bits << " bits";
  }
}

TEST(Gating, RefusesSizesThatDoNotFitTheShape) {
  golden::ConvShape s;
  s.in_c = 4;
  try {
    (void)block_gating(s, std::vector<std::int32_t>(3, 0), std::vector<std::int32_t>(4, 0), 8);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("3 input values"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)block_gating(s, std::vector<std::int32_t>(4, 0), std::vector<std::int32_t>(5, 0), 8),
               std::invalid_argument);
  EXPECT_THROW((void)block_gating(s, std::vector<std::int32_t>(4, 0), std::vector<std::int32_t>(4, 0), 12),
               std::invalid_argument);
}

// `bitscale traffic` on the embedded model (v1 0.25/128, 13 570 304 MACs per image, the classifier
// 256 x 1001 at 16 bits in array runs): the JSON's gating figures per image.
TEST(Gating, TrafficJobCountsEveryBlockProductOfTheNetwork) {
  const std::filesystem::path model =
      std::filesystem::path(BITSCALE_SOURCE_DIR) / "data" / "models" / "mobilenet_v1_0.25_128_quant.tflite";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "no embedded data";
  study::TrafficJob job;
  job.data.model = model.string();
  job.bits = 8;
  job.limit = 2;
  job.calib_limit = 2;
  job.factory = [](driver::Backend) { return std::make_unique<driver::Accelerator>(driver::default_hw_config()); };
  const study::TrafficOutcome r = study::run_traffic(job);
  const nlohmann::json j = nlohmann::json::parse(study::traffic_json(r));
  // 2 x 2 block products per 8-bit multiply, 4 x 4 per multiply of the 16-bit classifier.
  const model::Network net(model::load_model(model.string()));
  const double fc = 256.0 * 1001.0;
  const double expected = 4.0 * (static_cast<double>(net.macs()) - fc) + 16.0 * fc;
  const auto& g = j.at("gating");
  EXPECT_DOUBLE_EQ(g.at("block_products").get<double>(), expected);
  double sum = 0;
  for (const auto& l : j.at("layers")) {
    const auto& x = l.at("gating");
    sum += x.at("block_products").get<double>();
    const double skip = x.at("skippable").get<double>(), act = x.at("activation_zero").get<double>(),
                 wgt = x.at("weight_zero").get<double>(), zero = x.at("zero_operand").get<double>();
    // The union of the activation and the weight cases, and a superset of the zero-operand ones.
    EXPECT_LE(std::max(act, wgt), skip) << l.at("name");
    EXPECT_LE(skip, act + wgt) << l.at("name");
    EXPECT_LE(zero, skip) << l.at("name");
    EXPECT_LE(skip, x.at("block_products").get<double>()) << l.at("name");
  }
  EXPECT_DOUBLE_EQ(sum, expected);
  EXPECT_GT(g.at("skippable_fraction").get<double>(), 0.0);
  EXPECT_LT(g.at("skippable_fraction").get<double>(), 1.0);
  // The text: the width histograms per layer and the gating table with its network line.
  const std::string text = study::traffic_report(r);
  EXPECT_NE(text.find("group widths per layer"), std::string::npos);
  EXPECT_NE(text.find("exact gating estimate (from golden"), std::string::npos);
  EXPECT_NE(text.find(fmt::format("  {:<40} {:>14.0f}", "network", expected)), std::string::npos) << text;
}

}  // namespace
}  // namespace bitscale::quant
