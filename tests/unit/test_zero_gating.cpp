// Exact zero-block gating (MODE.ZGATE, docs/NUMERICS.md "Exact zero-block gating"): the counter
// rule of one lane product worked out by hand; the per-tile factorisation of the functional
// back-end against the definition; the register-level golden device against the functional
// back-end on random layers rich in zero blocks; and CNT_ZSKIP of every layer of the embedded
// network against an independent count, quant::block_gating (docs/DPRED.md).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/regress.hpp"
#include "bitscale/golden/counter_model.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/quant/traffic.hpp"
#include "bitscale/study/engine.hpp"
#include "test_seed.hpp"

namespace bitscale {
namespace {

using golden::Approx;
using golden::Mode;

TEST(ZeroGating, LaneProductsCountedByHand) {
  using golden::zero_gated_blocks;
  // 8 bits: 5 = 0000 0101 (a0 = 5, a1 = 0), 48 = 0011 0000 (w0 = 0, w1 = 3). Of the pairs (i, j)
  // only (0, 1) has two non-zero blocks: 3 gated.
  EXPECT_EQ(zero_gated_blocks(5, 48, Mode::k8, {}), 3);
  // The mask skips (0, 1) (bit 1): the other three are still gated, (0, 1) is the mask's.
  EXPECT_EQ(zero_gated_blocks(5, 48, Mode::k8, Approx{0x0002}), 3);
  // The mask skips (0, 0) (bit 0): (1, 0) and (1, 1) are left to gate.
  EXPECT_EQ(zero_gated_blocks(5, 48, Mode::k8, Approx{0x0001}), 2);
  // -16 = 1111 0000: a0 = 0, a1 = -1 (signed top block); -1 = 1111 1111: both blocks non-zero.
  EXPECT_EQ(zero_gated_blocks(-16, -1, Mode::k8, {}), 2);
  // 16 bits: 256 = 0x0100 has block 2 only; -1 has four non-zero blocks: 3 x 4 pairs gated.
  EXPECT_EQ(zero_gated_blocks(256, -1, Mode::k16, {}), 12);
  // 0x1001 (blocks 0, 3) x 0x0110 (blocks 1, 2): 2 x 2 computed, 12 gated.
  EXPECT_EQ(zero_gated_blocks(0x1001, 0x0110, Mode::k16, {}), 12);
  // 4 bits: the block is the value.
  EXPECT_EQ(zero_gated_blocks(0, 7, Mode::k4, {}), 1);
  EXPECT_EQ(zero_gated_blocks(-8, 3, Mode::k4, {}), 0);
  EXPECT_EQ(zero_gated_blocks(0, 0, Mode::k4, Approx{0x0001}), 0);  // the mask's, not the gating's
}

// A packed word whose nibbles are each 0 with probability p, else random.
std::uint16_t zero_rich_word(std::mt19937_64& rng, double p) {
  std::bernoulli_distribution zero(p);
  std::uint16_t w = 0;
  for (int b = 0; b < 4; ++b) {
    if (!zero(rng)) w = static_cast<std::uint16_t>(w | ((rng() & 0xFu) << (4 * b)));
  }
  return w;
}

TEST(ZeroGating, TileFactorisationEqualsTheDefinition) {
  std::mt19937_64 rng = test::test_rng();
  for (int iter = 0; iter < 400; ++iter) {
    const Mode m = golden::kModes[rng() % golden::kModes.size()];
    const int p = golden::lanes(m);
    golden::TileCounts t;
    t.mode = m;
    t.k = 1 + static_cast<int>(rng() % 50);
    t.rows = 1 + static_cast<int>(rng() % 7);
    t.cols = 1 + static_cast<int>(rng() % 7);
    t.approx = rng() % 3 == 0 ? Approx{} : Approx{static_cast<std::uint16_t>(rng() & golden::approx_grid(m))};
    t.zgate = true;
    const int kw = (t.k + p - 1) / p;
    const double pz = 0.2 + 0.3 * static_cast<double>(rng() % 3);
    std::vector<std::vector<std::uint16_t>> a(static_cast<std::size_t>(t.rows)), w(static_cast<std::size_t>(t.cols));
    std::vector<const std::uint16_t*> ap, wp;
    for (auto& v : a) {
      for (int i = 0; i < kw; ++i) v.push_back(zero_rich_word(rng, pz));
      ap.push_back(v.data());
    }
    for (auto& v : w) {
      for (int i = 0; i < kw; ++i) v.push_back(zero_rich_word(rng, pz));
      wp.push_back(v.data());
    }
    // The definition: every valid lane product of every PE (lanes past K in the last word are not
    // counted, whatever their words hold).
    std::uint64_t direct = 0;
    for (int i = 0; i < kw; ++i) {
      const int valid = std::min(p, t.k - i * p);
      for (int r = 0; r < t.rows; ++r) {
        for (int c = 0; c < t.cols; ++c) {
          for (int l = 0; l < valid; ++l) {
            direct += static_cast<std::uint64_t>(golden::zero_gated_blocks(
                golden::get_lane(a[static_cast<std::size_t>(r)][static_cast<std::size_t>(i)], l, m),
                golden::get_lane(w[static_cast<std::size_t>(c)][static_cast<std::size_t>(i)], l, m), m, t.approx));
          }
        }
      }
    }
    ASSERT_EQ(golden::tile_zero_skips(t, ap, wp), direct)
        << golden::to_string(m) << " K " << t.k << " " << t.rows << "x" << t.cols << " " << golden::to_string(t.approx);
    // Without ZGATE nothing is skipped, and the tile's CNT_BLK keeps every kept pair.
    t.zgate = false;
    ASSERT_EQ(golden::tile_zero_skips(t, ap, wp), 0u);
  }
}

TEST(ZeroGating, GoldenDeviceEqualsFunctionalAndOutputsAreExact) {
  std::mt19937_64 rng = test::test_rng();
  driver::DeviceOptions gated;
  gated.gating = driver::Gating::kZeroBlocks;
  const auto dev = driver::make_accelerator(driver::Backend::kGoldenDevice, gated);
  const auto fast = driver::make_accelerator(driver::Backend::kGolden, gated);
  const auto plain = driver::make_accelerator(driver::Backend::kGolden);
  ASSERT_EQ(dev->gating(), driver::Gating::kZeroBlocks);
  dv::GeneratorOptions gen;
  gen.max_k = 300;
  std::uint64_t skipped = 0;
  for (int i = 0; i < 24; ++i) {
    const Mode m = golden::kModes[static_cast<std::size_t>(i) % golden::kModes.size()];
    dv::Case rc = dv::LayerGenerator(rng(), gen).random_case(m);
    dv::clear_blocks(rc, rng, 0.25 * static_cast<double>(1 + i % 3));
    if (i % 4 == 3) rc.layer.approx = Approx{static_cast<std::uint16_t>(rng() & golden::approx_grid(m))};
    const golden::PackedTensor ref = golden::conv2d(rc.layer, rc.input);
    const auto prepared = dev->prepare(rc.layer);
    const auto d0 = dev->counters(), f0 = fast->counters(), p0 = plain->counters();
    EXPECT_EQ(dev->run(prepared, rc.input).words, ref.words) << i;
    EXPECT_EQ(fast->run(prepared, rc.input).words, ref.words) << i;
    EXPECT_EQ(plain->run(prepared, rc.input).words, ref.words) << i;
    const driver::Counters d = dev->counters() - d0, f = fast->counters() - f0, u = plain->counters() - p0;
    // Every counter but CYCLES (the functional device completes a tile in one wait()) is equal.
    driver::Counters d_cmp = d, f_cmp = f;
    d_cmp.cycles = f_cmp.cycles = 0;
    EXPECT_EQ(d_cmp, f_cmp) << i << ": golden device zskip " << d.zskip << " blk " << d.blk << ", functional zskip "
                            << f.zskip << " blk " << f.blk;
    // Gating moves block products from CNT_BLK to CNT_ZSKIP; the ungated run skips none.
    EXPECT_EQ(d.blk + d.zskip, u.blk) << i;
    EXPECT_EQ(u.zskip, 0u) << i;
    skipped += d.zskip;
  }
  EXPECT_GT(skipped, 0u) << "operands with many zero blocks must gate some block products";
}

// The embedded network (MobileNet v1 0.25/128, 8-bit, 16-bit classifier) on one image with gating:
// every layer's CNT_ZSKIP equals quant::block_gating's skippable count of its input and weights
// (the tile plan covers each multiply once, padded taps included: their activation is 0), CNT_BLK
// the rest, and the outputs equal those of the ungated run.
TEST(ZeroGating, EmbeddedNetworkSkipsWhatBlockGatingCounts) {
  const std::filesystem::path root(BITSCALE_SOURCE_DIR);
  const std::filesystem::path model_path = root / "data" / "models" / "mobilenet_v1_0.25_128_quant.tflite";
  if (!std::filesystem::exists(model_path)) GTEST_SKIP() << "no embedded data";
  const model::Model model = model::load_model(model_path.string());
  const model::Network net(model);
  const auto files = data::list_images((root / "data" / "images").string());
  ASSERT_GE(files.size(), 3u);
  const quant::Calibration calib = quant::calibrate_files(net, {files[0], files[2]}, 1);
  driver::Accelerator gated(driver::default_hw_config()), plain(driver::default_hw_config());
  gated.set_gating(driver::Gating::kZeroBlocks);
  // Depthwise layers as broadcast tiles: ZGATE has no effect on MODE.DW tiles (docs/NUMERICS.md).
  gated.set_depthwise_mapping(driver::DepthwiseMapping::kColumns);
  plain.set_depthwise_mapping(driver::DepthwiseMapping::kColumns);
  const quant::QuantizedNetwork q(net, calib, 8, gated, quant::WeightFl::kChannel, study::kArrayQuantDefaults);
  const auto rgb = data::load_for_model(files[1], net.input_h(), net.input_w()).rgb;
  const quant::QuantResult g =
      q.run(gated, rgb, {.record_mac_outputs = true, .record_layer_counters = true, .record_mac_io = true});
  const quant::QuantResult u = q.run(plain, rgb, {.record_mac_outputs = true, .record_layer_counters = true});
  EXPECT_EQ(g.probabilities, u.probabilities);
  ASSERT_EQ(g.layer_counters.size(), q.layers().size());
  std::uint64_t skipped = 0, all = 0;
  for (std::size_t i = 0; i < q.layers().size(); ++i) {
    const golden::Layer& l = q.layers()[i].prepared.layer;
    EXPECT_EQ(g.mac_outputs[i].words, u.mac_outputs[i].words) << "layer " << i;
    const quant::BlockGating want = quant::block_gating(l.shape, g.mac_io[i].input, l.weights, golden::bits(l.mode));
    const driver::Counters& c = g.layer_counters[i];
    EXPECT_EQ(c.zskip, want.skippable) << "layer " << i << " " << l.shape.to_string();
    EXPECT_EQ(c.blk, want.block_products - want.skippable) << "layer " << i;
    EXPECT_EQ(u.layer_counters[i].blk, want.block_products) << "layer " << i;
    EXPECT_EQ(u.layer_counters[i].zskip, 0u) << "layer " << i;
    skipped += c.zskip;
    all += want.block_products;
  }
  EXPECT_GT(skipped, 0u);
  EXPECT_LT(skipped, all);
}

}  // namespace
}  // namespace bitscale
