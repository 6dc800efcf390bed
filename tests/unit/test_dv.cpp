// The verification kit: the random-layer generator (determinism per seed, the coverage it
// promises, counted here independently of its code) and the scoreboard (planted mismatches
// reported with their coordinates, equal inputs with none).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "bitscale/dv/coverage.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/reference.hpp"
#include "test_seed.hpp"

namespace bitscale::dv {
namespace {

using golden::ConvShape;
using golden::Layer;
using golden::Mode;
using golden::PackedTensor;

constexpr Mode kModes[] = {Mode::k16, Mode::k8, Mode::k4};

bool same_case(const Case& a, const Case& b) {
  const Layer &x = a.layer, &y = b.layer;
  return a.kind == b.kind && x.shape.to_string() == y.shape.to_string() && x.mode == y.mode && x.weights == y.weights &&
         x.bias == y.bias && x.channel_shift == y.channel_shift && x.out.shift == y.out.shift &&
         x.out.relu == y.out.relu && x.out.clamp == y.out.clamp && x.out.clamp_hi == y.out.clamp_hi &&
         a.input == b.input;
}

TEST(Generator, SameSeedSameLayersOtherSeedOtherLayers) {
  const std::uint64_t seed = test::test_seed();
  for (const Mode mode : kModes) {
    LayerGenerator a(seed), b(seed), c(seed + 1);
    int differ = 0;
    for (int i = 0; i < 50; ++i) {
      const Case ca = a.random_case(mode), cb = b.random_case(mode), cc = c.random_case(mode);
      ASSERT_TRUE(same_case(ca, cb)) << "layer " << i;
      differ += same_case(ca, cc) ? 0 : 1;
    }
    EXPECT_GT(differ, 40);
  }
  // Case seeds: a function of (seed, mode, index), different for each.
  std::set<std::uint64_t> seeds;
  for (const Mode mode : kModes) {
    for (std::uint64_t i = 0; i < 100; ++i) {
      EXPECT_EQ(case_seed(seed, mode, i), case_seed(seed, mode, i));
      seeds.insert(case_seed(seed, mode, i));
      seeds.insert(case_seed(seed + 1, mode, i));
    }
  }
  EXPECT_EQ(seeds.size(), 600u);
}

// What the generator promises (docs/REGRESSION.md), counted over the layers of a regression.
struct Tally {
  std::set<LayerKind> kinds;
  int k1 = 0, k_ragged = 0, m_ragged = 0, n_ragged = 0, n_wide = 0, stride2 = 0, padded = 0, asym_pad = 0;
  int depthwise = 0, grouped = 0, per_channel = 0, no_bias = 0, wide_bias = 0, relu = 0, clamp = 0;
  int shift0 = 0, shift_large = 0, w_min = 0, w_max = 0, in_min = 0, in_max = 0, extremes_only = 0;
  int layers = 0;
};

void count(Tally& t, const Case& c) {
  const Layer& l = c.layer;
  const ConvShape& s = l.shape;
  ASSERT_NO_THROW(l.validate()) << s.to_string();
  ASSERT_EQ(c.input.h, s.in_h);
  ASSERT_EQ(c.input.w, s.in_w);
  ASSERT_EQ(c.input.c, s.in_c);
  const int lanes = golden::lanes(l.mode);
  const int m = s.out_h() * s.out_w();
  ++t.layers;
  t.kinds.insert(c.kind);
  t.k1 += s.k() == 1;
  t.k_ragged += s.k() % lanes != 0;
  t.m_ragged += m > 16 && m % 16 != 0;
  t.n_ragged += s.out_c % 16 != 0;
  t.n_wide += s.out_c > 16;
  t.stride2 += s.stride_h == 2 || s.stride_w == 2;
  t.padded += s.pad_top + s.pad_bottom + s.pad_left + s.pad_right > 0;
  t.asym_pad += s.pad_top != s.pad_bottom || s.pad_left != s.pad_right;
  t.depthwise += s.groups > 1 && s.groups == s.in_c;
  t.grouped += s.groups > 1 && s.groups < s.in_c;
  const std::set<int> shifts(l.channel_shift.begin(), l.channel_shift.end());
  t.per_channel += shifts.size() >= 2;
  t.no_bias += l.bias.empty();
  t.wide_bias +=
      std::any_of(l.bias.begin(), l.bias.end(), [](std::int32_t b) { return std::abs(std::int64_t{b}) > (1 << 30); });
  t.relu += l.out.relu;
  t.clamp += l.out.clamp;
  t.shift0 += l.out.shift == 0;
  t.shift_large += l.out.shift >= 30;
  const std::int32_t lo = golden::min_value(l.mode), hi = golden::max_value(l.mode);
  t.w_min += std::count(l.weights.begin(), l.weights.end(), lo) > 0;
  t.w_max += std::count(l.weights.begin(), l.weights.end(), hi) > 0;
  const auto in = c.input.values();
  t.in_min += std::count(in.begin(), in.end(), lo) > 0;
  t.in_max += std::count(in.begin(), in.end(), hi) > 0;
  t.extremes_only +=
      in.size() > 4 && std::all_of(in.begin(), in.end(), [&](std::int32_t v) { return v == lo || v == hi; });
}

TEST(Generator, RegressLayersCoverTheEdgeCases) {
  const std::uint64_t seed = test::test_seed();
  for (const Mode mode : kModes) {
    Tally t;
    std::uint64_t at_min = 0, at_max = 0, outputs = 0;
    for (std::uint64_t i = 0; i < 600; ++i) {
      const Case c = LayerGenerator(case_seed(seed, mode, i)).random_case(mode);
      count(t, c);
      if (i < 150) {  // saturation of the output stage, on the reference
        for (const std::int32_t v : golden::conv2d(c.layer, c.input).values()) {
          at_min += v == golden::min_value(mode);
          at_max += v == golden::max_value(mode);
          ++outputs;
        }
      }
    }
    SCOPED_TRACE(golden::to_string(mode));
    EXPECT_EQ(t.kinds.size(), 4u);
    EXPECT_GT(t.k1, 0);
    if (mode != Mode::k16) {
      EXPECT_GT(t.k_ragged, 0);
    }
    for (const int n : {t.m_ragged,    t.n_ragged,    t.n_wide,  t.stride2,   t.padded, t.asym_pad,     t.depthwise,
                        t.grouped,     t.per_channel, t.no_bias, t.wide_bias, t.relu,   t.clamp,        t.shift0,
                        t.shift_large, t.w_min,       t.w_max,   t.in_min,    t.in_max, t.extremes_only}) {
      EXPECT_GT(n, 0);
      EXPECT_LT(n, t.layers);  // a bias, not a constant
    }
    EXPECT_GT(at_min, 0u);
    EXPECT_GT(at_max, 0u);
    EXPECT_GT(outputs - at_min - at_max, outputs / 4);
  }
}

TEST(Generator, OptionsBoundTheDraws) {
  const std::uint64_t seed = test::test_seed();
  LayerGenerator small(seed, {.max_k = 50});
  LayerGenerator wide(seed, {.group_out = {17, 37}, .extreme_bias = 0.2});
  int fc = 0, grouped = 0, bias_min = 0, bias_max = 0;
  for (int i = 0; i < 500; ++i) {
    const Case a = small.random_case(Mode::k8);
    if (a.kind == LayerKind::kFullyConnected) {
      ++fc;
      EXPECT_LE(a.layer.shape.in_c, 50);
    }
    const Case b = wide.random_case(Mode::k4);
    const ConvShape& s = b.layer.shape;
    if (b.kind == LayerKind::kGrouped) {
      ++grouped;
      EXPECT_GE(s.out_c / s.groups, 17);
      EXPECT_LE(s.out_c / s.groups, 37);
    }
    bias_min += std::count(b.layer.bias.begin(), b.layer.bias.end(), INT32_MIN) > 0;
    bias_max += std::count(b.layer.bias.begin(), b.layer.bias.end(), INT32_MAX) > 0;
  }
  EXPECT_GT(fc, 0);
  EXPECT_GT(grouped, 0);
  EXPECT_GT(bias_min, 0);
  EXPECT_GT(bias_max, 0);
  // A given shape keeps its shape; the layer is valid.
  ConvShape s;
  s.in_h = 5, s.in_w = 4, s.in_c = 6, s.out_c = 9, s.k_h = 3, s.groups = 3;
  const Case c = small.random_case(s, Mode::k16);
  EXPECT_EQ(c.layer.shape.to_string(), s.to_string());
  EXPECT_EQ(c.kind, LayerKind::kGrouped);
  EXPECT_NO_THROW(c.layer.validate());
  EXPECT_NO_THROW(small.layer(s, Mode::k4).validate());
}

// ---------------------------------------------------------------------------------------
// Scoreboard

PackedTensor ramp(int h, int w, int c, Mode mode) {
  std::vector<std::int32_t> v(static_cast<std::size_t>(h) * w * c);
  const int lo = golden::min_value(mode), span = golden::max_value(mode) - lo + 1;
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = lo + static_cast<int>(i * 7 % static_cast<std::size_t>(span));
  return PackedTensor::from_values(h, w, c, mode, v);
}

driver::Counters counters(std::uint64_t cycles, std::uint64_t busy, std::uint64_t tiles) {
  driver::Counters c;
  c.cycles = cycles;
  c.busy = busy;
  c.tiles = tiles;
  return c;
}

TEST(Scoreboard, EqualInputsGiveNoMismatch) {
  Scoreboard sb(7);
  const PackedTensor t = ramp(3, 4, 5, Mode::k4);
  EXPECT_TRUE(sb.compare("same", t, t));
  EXPECT_TRUE(sb.compare("counters", counters(5, 0, 2), counters(5, 0, 2)));
  EXPECT_TRUE(sb.ok());
  EXPECT_EQ(sb.mismatch_count(), 0u);
  ASSERT_EQ(sb.comparisons().size(), 2u);
  EXPECT_EQ(sb.comparisons()[0].compared, t.words.size());
  EXPECT_TRUE(sb.comparisons()[0].mismatches.empty());
  EXPECT_EQ(sb.comparisons()[1].compared, bitscale::regmap::kNumCounters);  // every counter of bsa_regs.def
  EXPECT_EQ(sb.to_json()["ok"], true);
}

TEST(Scoreboard, EveryCounterOfTheRegisterMapIsCompared) {
  // Each counter of rtl/bsa_regs.def, changed alone, is a mismatch named after it (CNT_BLK, the
  // last one added, was once missing from the scoreboard's list).
  for (const auto field : driver::Counters::kFields) {
    Scoreboard sb(7);
    driver::Counters a = counters(10, 4, 1), b = a;
    b.*field += 1;
    EXPECT_FALSE(sb.compare("counters", a, b));
    ASSERT_EQ(sb.comparisons().at(0).mismatches.size(), 1u);
  }
  Scoreboard sb(7);
  driver::Counters a = counters(10, 4, 1), b = a;
  b.blk = 3;
  EXPECT_FALSE(sb.compare("counters", a, b));
  EXPECT_EQ(sb.comparisons().at(0).mismatches.at(0).counter, "blk");
}

TEST(Scoreboard, PlantedMismatchHasItsCoordinates) {
  const Mode mode = Mode::k8;  // 2 channels per word
  const PackedTensor want = ramp(3, 4, 5, mode);
  PackedTensor got = want;
  const int y = 2, x = 1, ch = 3;
  const std::int32_t old = want.at(y, x, ch), planted = old == 5 ? 6 : 5;
  got.set(y, x, ch, planted);
  Scoreboard sb(1234);
  EXPECT_FALSE(sb.compare("layer 3", want, got, {"golden", "rtl"}));
  EXPECT_FALSE(sb.ok());
  EXPECT_EQ(sb.mismatch_count(), 1u);
  const Comparison& c = sb.comparisons().at(0);
  ASSERT_EQ(c.mismatches.size(), 1u);
  const Mismatch& m = c.mismatches[0];
  EXPECT_EQ(m.kind, MismatchKind::kWord);
  EXPECT_EQ(m.y, y);
  EXPECT_EQ(m.x, x);
  const std::size_t wpp = 3;  // ceil(5 channels / 2 lanes)
  EXPECT_EQ(m.word, static_cast<std::size_t>(y * 4 + x) * wpp + ch / 2);
  EXPECT_EQ(m.expected, want.words[m.word]);
  EXPECT_EQ(m.actual, got.words[m.word]);
  ASSERT_EQ(m.lanes.size(), 2u);  // channels 2 and 3 share the word
  EXPECT_EQ(m.lanes[0].channel, 2);
  EXPECT_EQ(m.lanes[0].expected, m.lanes[0].actual);
  EXPECT_EQ(m.lanes[1].channel, ch);
  EXPECT_EQ(m.lanes[1].expected, old);
  EXPECT_EQ(m.lanes[1].actual, planted);
  EXPECT_NE(c.summary().find("1 of 36 words differ; first at pixel (y=2, x=1) word 1"), std::string::npos)
      << c.summary();
  EXPECT_NE(sb.report().find("matched 35 of 36"), std::string::npos) << sb.report();
  const auto j = sb.to_json();
  EXPECT_EQ(j["seed"], 1234);
  EXPECT_EQ(j["comparisons"][0]["what"], "layer 3");
  EXPECT_EQ(j["comparisons"][0]["mismatches"][0]["y"], y);
  EXPECT_EQ(j["comparisons"][0]["mismatches"][0]["x"], x);
  EXPECT_EQ(j["comparisons"][0]["mismatches"][0]["lanes"][1]["channel"], ch);
  EXPECT_EQ(j["comparisons"][0]["mismatches"][0]["lanes"][1]["actual"], planted);
}

TEST(Scoreboard, CountsAllKeepsTheFirstAndSeesUnusedLanes) {
  const PackedTensor want = ramp(4, 4, 3, Mode::k4);  // 1 word per pixel, lane 3 unused
  PackedTensor got = want;
  for (auto& w : got.words) w ^= 0x8000;  // only the unused lane differs
  Scoreboard sb({}, 5);
  EXPECT_FALSE(sb.compare("unused lanes", want, got));
  const Comparison& c = sb.comparisons().at(0);
  EXPECT_EQ(c.differing, 16u);
  EXPECT_EQ(c.mismatches.size(), 5u);
  for (const Lane& l : c.mismatches[0].lanes) EXPECT_EQ(l.expected, l.actual);
  EXPECT_TRUE(sb.to_json()["seed"].is_null());
}

TEST(Scoreboard, ShapesCountersAndValues) {
  Scoreboard sb;
  EXPECT_FALSE(sb.compare("shape", ramp(2, 2, 3, Mode::k8), ramp(2, 2, 4, Mode::k8)));
  EXPECT_FALSE(sb.compare("mode", ramp(2, 2, 4, Mode::k8), ramp(2, 2, 4, Mode::k16)));
  EXPECT_EQ(sb.comparisons()[0].mismatches.at(0).kind, MismatchKind::kShape);
  EXPECT_EQ(sb.comparisons()[1].mismatches.at(0).kind, MismatchKind::kShape);
  const driver::Counters a = counters(10, 4, 1), b = counters(11, 4, 2);
  EXPECT_FALSE(sb.compare("counters", a, b, {"golden", "rtl"}));
  const Comparison& c = sb.comparisons()[2];
  ASSERT_EQ(c.mismatches.size(), 2u);
  EXPECT_EQ(c.mismatches[0].counter, "cycles");
  EXPECT_EQ(c.mismatches[0].expected, 10u);
  EXPECT_EQ(c.mismatches[0].actual, 11u);
  EXPECT_EQ(c.mismatches[1].counter, "tiles");
  EXPECT_EQ(c.summary(), "cycles rtl=11 golden=10 tiles rtl=2 golden=1");
  EXPECT_TRUE(sb.compare("value", "macs", 3, 3));
  EXPECT_FALSE(sb.compare("value", "macs", 3, 4));
  EXPECT_EQ(sb.mismatch_count(), 1u + 1u + 2u + 1u);
}

// ---------------------------------------------------------------------------------------
// Coverage

// A hand-made case: a fully-connected layer of K inputs and N outputs (one output pixel).
Case fc_case(int k, int n, Mode mode) {
  ConvShape s;
  s.in_c = k, s.out_c = n;
  LayerGenerator gen(7);
  Case c = gen.random_case(s, mode, {.bias = Draw::kNever, .channel_shifts = Draw::kNever});
  c.layer.out = {};  // shift 0, no ReLU, no clamp
  return c;
}

TEST(Coverage, BinsFollowTheLayerAndOnlySampledModesCount) {
  Coverage cov;
  EXPECT_EQ(cov.bins(), 0u);  // nothing sampled yet
  Case c = fc_case(5, 16, Mode::k4);
  // K = 5: bin 2..64, 5 mod 4 lanes = 1; one output pixel: rows in one partial tile; 16 columns:
  // whole tiles; shift 0, no ReLU, no clamp, no bias, one shift per layer; 1 tile.
  const PackedTensor ref = golden::conv2d(c.layer, c.input);
  cov.sample(c, ref, counters(10, 5, 1));
  const auto hits = [&](const std::string& point, const std::string& bin) {
    for (const CoverPoint& p : cov.points())
      if (p.mode == Mode::k4 && p.name == point)
        for (const CoverBin& b : p.bins)
          if (b.name == bin) return b.hits;
    ADD_FAILURE() << "no bin " << point << ": " << bin;
    return std::uint64_t{0};
  };
  EXPECT_EQ(hits("kind", "fc"), 1u);
  EXPECT_EQ(hits("k", "2..64"), 1u);
  EXPECT_EQ(hits("k_mod_lanes", "1"), 1u);
  EXPECT_EQ(hits("rows", "one_partial_tile"), 1u);
  EXPECT_EQ(hits("cols", "whole_tiles"), 1u);
  EXPECT_EQ(hits("shift", "0"), 1u);
  EXPECT_EQ(hits("relu", "off"), 1u);
  EXPECT_EQ(hits("clamp", "off"), 1u);
  EXPECT_EQ(hits("bias", "none"), 1u);
  EXPECT_EQ(hits("shifts", "per_layer"), 1u);
  EXPECT_EQ(hits("tiles", "1"), 1u);
  // Only the 4-bit mode counts: 12 coverpoints with 4+5+4+3+3+4+2+2+3+2+2+3 = 37 bins.
  EXPECT_EQ(cov.bins(), 37u);
  const std::size_t hit_before = cov.hit();
  EXPECT_GE(hit_before, 11u);
  EXPECT_EQ(cov.holes().size(), cov.bins() - hit_before);
  const std::vector<std::string> holes = cov.holes();
  EXPECT_NE(std::find(holes.begin(), holes.end(), "4-bit k: near_bank_limit"), holes.end());
  EXPECT_NE(cov.report().find(fmt::format("coverage: {} of 37 bins", hit_before)), std::string::npos);
  // K at the bank limit of 4-bit mode (8192 words x 4 lanes), 40 columns (ragged), 20 tiles.
  cov.sample(fc_case(32768, 40, Mode::k4), ref, counters(10, 5, 20));
  EXPECT_EQ(hits("k", "near_bank_limit"), 1u);
  EXPECT_EQ(hits("k_mod_lanes", "0"), 1u);
  EXPECT_EQ(hits("cols", "ragged_last_tile"), 1u);
  EXPECT_EQ(hits("tiles", "17+"), 1u);
  EXPECT_EQ(cov.hit(), hit_before + 4);
  // A layer in 16-bit mode brings that mode's 34 bins in (one K mod lanes bin).
  cov.sample(fc_case(3, 1, Mode::k16), ref, counters(1, 1, 1));
  EXPECT_EQ(cov.bins(), 37u + 34u);
  const nlohmann::json j = cov.to_json();
  EXPECT_EQ(j.at("bins").get<std::size_t>(), cov.bins());
  EXPECT_EQ(j.at("hit").get<std::size_t>(), cov.hit());
}

// Regression layers reach K near each mode's bank limit when max_k allows it, never beyond it.
TEST(Generator, FullyConnectedKReachesTheBankLimit) {
  const std::uint64_t seed = test::test_seed();
  for (const Mode mode : kModes) {
    const int limit = bank_k_limit(mode, 8192);
    int near = 0;
    for (std::uint64_t i = 0; i < 2000; ++i) {
      const Case c = LayerGenerator(case_seed(seed, mode, i), {.max_k = INT_MAX}).random_case(mode);
      if (c.kind != LayerKind::kFullyConnected) continue;
      EXPECT_LE(c.layer.shape.k(), limit);
      near += 10 * c.layer.shape.k() > 9 * limit;
    }
    EXPECT_GT(near, 0) << golden::to_string(mode);
  }
}

}  // namespace
}  // namespace bitscale::dv
