// Ax-BxP on the verilated array (docs/NUMERICS.md, "Approximate block products"): the
// regression over every member of each mode's family and over random masks, and every operand
// pair of each lane of the 8- and 4-bit modes under a set of masks, RTL against the golden
// device (block twin) and the reference (block planes), block-product counter included.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/regress.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "test_seed.hpp"

namespace bitscale::dv {
namespace {

using golden::Approx;
using golden::Layer;
using golden::Mode;
using golden::PackedTensor;

void expect_clean(const RegressResult& r, std::uint64_t per_run, std::size_t runs) {
  EXPECT_EQ(r.failed(), 0u);
  ASSERT_EQ(r.modes.size(), runs);
  for (const ModeSummary& s : r.modes) {
    EXPECT_EQ(s.layers, per_run) << summary_line(s);
    EXPECT_EQ(s.exact, per_run) << summary_line(s);
    for (const std::string& rep : s.reports) ADD_FAILURE() << rep;
  }
}

TEST(RtlAxBxP, RegressEveryFamilyMember) {
  RegressOptions opts;
  opts.seed = test::test_seed(17);
  opts.count = 15;
  opts.max_k = 500;
  opts.approx = "family";
  const RegressResult r = run_regress(opts);
  expect_clean(r, opts.count, 7 + 3 + 1);  // c0 .. c6, c0 .. c2, c0
  // Block products computed: c0 keeps all of them, and each later member fewer on the same layers.
  for (std::size_t i = 1; i < 7; ++i) EXPECT_LT(r.modes[i].blocks, r.modes[i - 1].blocks) << summary_line(r.modes[i]);
  EXPECT_EQ(r.modes[0].blocks, 16 * r.modes[0].macs);
  EXPECT_EQ(r.modes[6].blocks, r.modes[6].macs);  // c6: a_3 * w_3 only
  EXPECT_EQ(r.modes[7].blocks, 4 * r.modes[7].macs);
  EXPECT_EQ(r.modes[10].blocks, r.modes[10].macs);
  EXPECT_NE(summary_line(r.modes[9]).find("Ax-BxP c2"), std::string::npos) << summary_line(r.modes[9]);
}

TEST(RtlAxBxP, RegressRandomMasks) {
  RegressOptions opts;
  opts.seed = test::test_seed(19);
  opts.count = 40;
  opts.max_k = 500;
  opts.approx = "random";
  expect_clean(run_regress(opts), opts.count, 3);
}

TEST(RtlAxBxP, OneConfigurationMustBeLegalInEveryMode) {
  RegressOptions opts;
  opts.count = 1;
  opts.approx = "skip=0x13";  // legal in 16- and 8-bit mode, not in 4-bit mode
  EXPECT_THROW((void)run_regress(opts), std::invalid_argument);
  opts.modes = {Mode::k16, Mode::k8};
  expect_clean(run_regress(opts), 1, 2);
}

// A 1x1 convolution on a column of 16 pixels with `lanes` input channels of which only channel
// `lane` is non-zero: PE (r, c) computes a_r (x) w_c of that lane alone (the other lanes hold 0,
// whose block products are all 0 in every configuration).
struct LaneTile {
  Layer layer;
  PackedTensor in;
};
LaneTile lane_tile(Mode m, int lane, const std::vector<std::int32_t>& a, const std::vector<std::int32_t>& w, Approx x,
                   int shift) {
  const int p = golden::lanes(m);
  LaneTile t;
  t.layer.mode = m;
  t.layer.approx = x;
  t.layer.shape.in_h = 16;
  t.layer.shape.in_c = p;
  t.layer.shape.out_c = 16;
  t.layer.out.shift = shift;
  t.layer.weights.assign(static_cast<std::size_t>(16 * p), 0);
  std::vector<std::int32_t> in(static_cast<std::size_t>(16 * p), 0);
  for (int i = 0; i < 16; ++i) {
    t.layer.weights[static_cast<std::size_t>(i * p + lane)] = w[static_cast<std::size_t>(i)];
    in[static_cast<std::size_t>(i * p + lane)] = a[static_cast<std::size_t>(i)];
  }
  t.in = PackedTensor::from_values(16, 1, p, m, in);
  return t;
}

struct Pair {
  rtl::RtlDevice rtl;
  golden::GoldenDevice gold;
  driver::Accelerator rtl_acc{rtl};
  driver::Accelerator gold_acc{gold};

  void check(const LaneTile& t, const std::string& what) {
    const auto p = rtl_acc.prepare(t.layer);
    const auto r0 = rtl_acc.counters(), g0 = gold_acc.counters();
    const auto a = rtl_acc.run(p, t.in);
    const auto b = gold_acc.run(p, t.in);
    Scoreboard sb;
    sb.compare("rtl vs golden device", b, a, {"golden device", "rtl"});
    sb.compare("golden device vs reference", golden::conv2d(t.layer, t.in), b, {"reference", "golden device"});
    sb.compare("counters", gold_acc.counters() - g0, rtl_acc.counters() - r0, {"golden device", "rtl"});
    ASSERT_TRUE(sb.ok()) << what << "\n" << sb.report();
    ASSERT_EQ(rtl.assertion_failures(), 0u) << what;
  }
};

TEST(RtlAxBxP, Exhaustive8BitPairsPerLaneUnderMasks) {
  // 256 x 256 operand pairs in each lane, for masks of the family and two irregular ones; the
  // shift walks 0..15 so that every approximate product is seen through several output windows.
  Pair p;
  for (const std::uint16_t skip :
       {std::uint16_t{0x0001}, std::uint16_t{0x0013}, std::uint16_t{0x0022}, std::uint16_t{0x0030}}) {
    for (int lane = 0; lane < 2; ++lane) {
      for (int ab = 0; ab < 16; ++ab) {
        std::vector<std::int32_t> a(16);
        for (int i = 0; i < 16; ++i) a[static_cast<std::size_t>(i)] = ab * 16 + i - 128;
        for (int wb = 0; wb < 16; ++wb) {
          std::vector<std::int32_t> w(16);
          for (int i = 0; i < 16; ++i) w[static_cast<std::size_t>(i)] = wb * 16 + i - 128;
          p.check(lane_tile(Mode::k8, lane, a, w, Approx{skip}, (ab + wb + skip) % 16),
                  fmt::format("8-bit skip {:#x} lane {} blocks {},{}", skip, lane, ab, wb));
        }
      }
    }
  }
}

TEST(RtlAxBxP, Exhaustive4BitPairsPerLane) {
  Pair p;
  std::vector<std::int32_t> v(16);
  for (int i = 0; i < 16; ++i) v[static_cast<std::size_t>(i)] = i - 8;
  for (const std::uint16_t skip : {std::uint16_t{0}, std::uint16_t{1}}) {
    for (int lane = 0; lane < 4; ++lane) {
      for (int shift = 0; shift <= 3; ++shift) {
        p.check(lane_tile(Mode::k4, lane, v, v, Approx{skip}, shift),
                fmt::format("4-bit skip {} lane {} shift {}", skip, lane, shift));
      }
    }
  }
}

TEST(RtlAxBxP, Random16BitPairsUnderFamilyAndRandomMasks) {
  const std::uint64_t seed = test::test_seed(23);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> val(-32768, 32767);
  Pair p;
  for (int t = 0; t < 48; ++t) {
    std::vector<std::int32_t> a(16), w(16);
    for (auto* v : {&a, &w})
      for (auto& x : *v) x = (rng() % 4 == 0) ? ((rng() & 1) ? -32768 : 32767) : val(rng);
    const Approx x = t < 7 ? golden::approx_family(Mode::k16, t) : Approx{static_cast<std::uint16_t>(rng())};
    p.check(lane_tile(Mode::k16, 0, a, w, x, static_cast<int>(rng() % 32)),
            fmt::format("seed {} tile {} {}", seed, t, golden::to_string(x)));
  }
}

}  // namespace
}  // namespace bitscale::dv
