// Ax-BxP approximate block products (docs/NUMERICS.md, "Approximate block products"): the
// block-product twin against an independent arithmetic formula, the documented family, the text
// form, the layer paths (block planes vs the per-MAC twin), the golden device and the counters.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/counter_model.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "test_seed.hpp"

namespace bitscale::golden {
namespace {

/// floor(x / d) for d > 0.
std::int64_t floor_div(std::int64_t x, std::int64_t d) { return x >= 0 ? x / d : -((-x + d - 1) / d); }

/// Block i of a B-bit value by arithmetic, not by bit extraction: with t = 16^(nb-1), the top
/// block is floor(x / t) and the rest r = x - top * t (0 <= r < t) gives the lower blocks as
/// base-16 digits.
std::int64_t block_arith(std::int64_t x, int i, int nb) {
  std::int64_t t = 1;
  for (int k = 0; k < nb - 1; ++k) t *= 16;
  const std::int64_t top = floor_div(x, t);
  if (i == nb - 1) return top;
  std::int64_t r = x - top * t, p = 1;
  for (int k = 0; k < i; ++k) p *= 16;
  return (r / p) % 16;
}

/// The approximate product as the exact one minus the skipped block products.
std::int64_t approx_formula(std::int64_t a, std::int64_t w, int nb, std::uint16_t skip) {
  std::int64_t v = a * w;
  for (int i = 0; i < nb; ++i)
    for (int j = 0; j < nb; ++j)
      if ((skip >> (4 * i + j)) & 1u)
        v -= block_arith(a, i, nb) * block_arith(w, j, nb) * (std::int64_t{1} << (4 * (i + j)));
  return v;
}

TEST(AxBxP, BlocksRecomposeTheValue) {
  for (const Mode m : kModes) {
    for (std::int32_t x = min_value(m); x <= max_value(m); x += (m == Mode::k16 ? 7 : 1)) {
      std::int64_t sum = 0;
      for (int i = 0; i < blocks(m); ++i) {
        ASSERT_EQ(block_of(x, i, m), block_arith(x, i, blocks(m))) << to_string(m) << " x " << x << " block " << i;
        sum += std::int64_t{block_of(x, i, m)} << (4 * i);
      }
      ASSERT_EQ(sum, x) << to_string(m);
    }
  }
  EXPECT_EQ(block_of(-3, 1, Mode::k8), -1);  // 0xFD: top nibble 0xF signed
  EXPECT_EQ(block_of(-3, 0, Mode::k8), 13);  // low nibble unsigned
}

TEST(AxBxP, TwinEqualsFormulaExhaustive8And4Bit) {
  // Every operand pair of the 8-bit mode under every one of its 16 masks, and of the 4-bit mode
  // under both of its masks.
  for (std::uint16_t bits4 = 0; bits4 < 16; ++bits4) {
    const auto skip = static_cast<std::uint16_t>((bits4 & 3u) | ((bits4 & 12u) << 2));  // bits 0, 1, 4, 5
    const Approx x{skip};
    ASSERT_TRUE(approx_legal(x, Mode::k8));
    for (int a = -128; a < 128; ++a)
      for (int w = -128; w < 128; ++w)
        ASSERT_EQ(approx_product(a, w, Mode::k8, x), approx_formula(a, w, 2, skip))
            << "8-bit " << a << " x " << w << " skip " << skip;
  }
  for (const std::uint16_t skip : {std::uint16_t{0}, std::uint16_t{1}}) {
    for (int a = -8; a < 8; ++a)
      for (int w = -8; w < 8; ++w)
        ASSERT_EQ(approx_product(a, w, Mode::k4, Approx{skip}), skip ? 0 : a * w) << a << " x " << w;
  }
}

TEST(AxBxP, TwinEqualsFormulaRandom16Bit) {
  const std::uint64_t seed = test::test_seed(5);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int32_t> val(-32768, 32767);
  for (int t = 0; t < 200000; ++t) {
    const std::int32_t a = (t % 17 == 0) ? -32768 : val(rng), w = (t % 13 == 0) ? 32767 : val(rng);
    const auto skip = static_cast<std::uint16_t>(rng());
    ASSERT_EQ(approx_product(a, w, Mode::k16, Approx{skip}), approx_formula(a, w, 4, skip))
        << a << " x " << w << " skip " << skip << " seed " << seed;
  }
  EXPECT_EQ(approx_product(-32768, -32768, Mode::k16, Approx{}), std::int64_t{1} << 30);
  EXPECT_EQ(approx_product(-32768, 12345, Mode::k16, Approx{0xFFFF}), 0);
}

TEST(AxBxP, FamilyIsTheDocumentedTable) {
  // Skip the pairs with i + j < c (docs/NUMERICS.md table), worked out by hand.
  const std::uint16_t m16[] = {0x0000, 0x0001, 0x0013, 0x0137, 0x137F, 0x37FF, 0x7FFF};
  const int kept16[] = {16, 15, 13, 10, 6, 3, 1};
  ASSERT_EQ(approx_family_max(Mode::k16), 6);
  for (int c = 0; c <= 6; ++c) {
    EXPECT_EQ(approx_family(Mode::k16, c).skip, m16[c]) << "c" << c;
    EXPECT_EQ(kept_blocks(approx_family(Mode::k16, c), Mode::k16), kept16[c]) << "c" << c;
  }
  ASSERT_EQ(approx_family_max(Mode::k8), 2);
  EXPECT_EQ(approx_family(Mode::k8, 1).skip, 0x0001);
  EXPECT_EQ(approx_family(Mode::k8, 2).skip, 0x0013);
  EXPECT_EQ(kept_blocks(approx_family(Mode::k8, 2), Mode::k8), 1);
  ASSERT_EQ(approx_family_max(Mode::k4), 0);
  EXPECT_TRUE(approx_family(Mode::k4, 0).exact());
  EXPECT_THROW((void)approx_family(Mode::k8, 3), std::invalid_argument);
  EXPECT_THROW((void)approx_family(Mode::k16, -1), std::invalid_argument);
  EXPECT_EQ(approx_grid(Mode::k16), 0xFFFF);
  EXPECT_EQ(approx_grid(Mode::k8), 0x0033);
  EXPECT_EQ(approx_grid(Mode::k4), 0x0001);
  // Each family member drops less than the one after it: |a*w - a(x)w| grows with c on average.
  for (int c = 1; c <= 2; ++c) {
    const Approx lo = approx_family(Mode::k8, c - 1), hi = approx_family(Mode::k8, c);
    EXPECT_EQ(lo.skip & ~hi.skip, 0) << "member c" << c - 1 << " skips a subset of c" << c;
  }
}

TEST(AxBxP, ParseAndPrint) {
  EXPECT_TRUE(parse_approx("exact", Mode::k8).exact());
  EXPECT_EQ(parse_approx("c2", Mode::k8).skip, 0x0013);
  EXPECT_EQ(parse_approx("c6", Mode::k16).skip, 0x7FFF);
  EXPECT_EQ(parse_approx("skip=0x22", Mode::k8).skip, 0x0022);
  EXPECT_EQ(parse_approx("skip=17", Mode::k16).skip, 0x0011);
  EXPECT_EQ(parse_approx("keep=0x30", Mode::k8).skip, 0x0003);  // keep (1,0), (1,1)
  EXPECT_EQ(parse_approx("keep=0", Mode::k4).skip, 0x0001);
  EXPECT_EQ(to_string(Approx{}), "exact");
  EXPECT_EQ(to_string(Approx{0x13}), "skip=0x0013");
  EXPECT_EQ(parse_approx(to_string(Approx{0x137F}), Mode::k16).skip, 0x137F);
  for (const char* bad : {"c3", "skip=0x100", "keep=0x4", "skip=", "skip=0x1g", "c", "fast", "c-1"}) {
    try {
      (void)parse_approx(bad, Mode::k8);
      ADD_FAILURE() << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW((void)parse_approx("skip=0x2", Mode::k4), std::invalid_argument);
}

TEST(AxBxP, LayerRefusesIllegalMasks) {
  Layer l;
  l.mode = Mode::k8;
  l.weights = {1};
  l.approx = Approx{0x0100};
  EXPECT_THROW(l.validate(), std::invalid_argument);
  l.approx = Approx{0x0033};
  EXPECT_NO_THROW(l.validate());
  l.mode = Mode::k4;
  l.approx = Approx{0x0002};
  EXPECT_THROW(l.validate(), std::invalid_argument);
}

/// A random legal mask of the mode.
Approx random_approx(std::mt19937_64& rng, Mode m) {
  if (rng() % 3 == 0)
    return approx_family(m, static_cast<int>(rng() % static_cast<std::uint64_t>(approx_family_max(m) + 1)));
  return Approx{static_cast<std::uint16_t>(rng() & approx_grid(m))};
}

TEST(AxBxP, BlockPlanePathEqualsPerMacTwin) {
  // conv2d_acc (block planes through the depthwise, dot and GEMM paths) against conv2d_acc_naive
  // (approx_product per MAC) on random layers of every kind.
  const std::uint64_t seed = test::test_seed(11);
  std::mt19937_64 rng(seed);
  int approximate = 0;
  for (const Mode m : kModes) {
    for (int t = 0; t < 40; ++t) {
      dv::Case c = dv::LayerGenerator(rng(), {.max_k = 300}).random_case(m);
      c.layer.approx = random_approx(rng, m);
      approximate += c.layer.approx.exact() ? 0 : 1;
      ASSERT_EQ(conv2d_acc(c.layer, c.input), conv2d_acc_naive(c.layer, c.input))
          << to_string(m) << " case " << t << " " << c.layer.shape.to_string() << " " << to_string(c.layer.approx)
          << " seed " << seed;
    }
  }
  EXPECT_GE(approximate, 60);
}

TEST(AxBxP, SkippingEverythingLeavesTheBias) {
  dv::Case c = dv::LayerGenerator(test::test_seed(2)).random_case(Mode::k16);
  c.layer.approx = Approx{0xFFFF};
  const std::vector<std::int64_t> acc = conv2d_acc(c.layer, c.input);
  const auto n = static_cast<std::size_t>(c.layer.shape.out_c);
  for (std::size_t i = 0; i < acc.size(); ++i) ASSERT_EQ(acc[i], c.layer.bias.empty() ? 0 : c.layer.bias[i % n]) << i;
}

TEST(AxBxP, DevicesMatchReferenceAndCountBlockProducts) {
  // The driver on the register-level golden device (block twin per product, MODE.BLKSKIP) and on
  // the functional back-end (block planes) against the reference; CNT_BLK = MACs x kept pairs.
  const std::uint64_t seed = test::test_seed(13);
  std::mt19937_64 rng(seed);
  GoldenDevice dev;
  driver::Accelerator acc(dev);
  driver::Accelerator fast(driver::default_hw_config());
  for (const Mode m : kModes) {
    for (int t = 0; t < 12; ++t) {
      dv::Case c = dv::LayerGenerator(rng(), {.max_k = 200}).random_case(m);
      c.layer.approx = random_approx(rng, m);
      const auto p = acc.prepare(c.layer);
      const auto d0 = acc.counters(), f0 = fast.counters();
      const PackedTensor a = acc.run(p, c.input);
      const PackedTensor b = fast.run(p, c.input);
      const auto d = acc.counters() - d0, f = fast.counters() - f0;
      dv::Scoreboard sb(seed);
      sb.compare("golden device vs reference", conv2d(c.layer, c.input), a, {"reference", "golden device"});
      sb.compare("functional vs golden device", a, b, {"golden device", "functional"});
      ASSERT_TRUE(sb.ok()) << to_string(m) << " " << to_string(c.layer.approx) << "\n" << sb.report();
      const auto macs = static_cast<std::uint64_t>(c.layer.shape.macs());
      EXPECT_EQ(d.macs(m), macs);
      EXPECT_EQ(d.blk, macs * static_cast<std::uint64_t>(kept_blocks(c.layer.approx, m)))
          << to_string(m) << " " << to_string(c.layer.approx);
      EXPECT_EQ(f.blk, d.blk);
    }
  }
}

TEST(AxBxP, DriverWritesTheMaskWithTheMode) {
  GoldenDevice dev;
  driver::Accelerator acc(dev);
  dv::Case c = dv::LayerGenerator(test::test_seed(3)).random_case(Mode::k8);
  c.layer.approx = Approx{0x0022};
  (void)acc.run(c.layer, c.input);
  const std::uint64_t mode = acc.read_reg(regmap::kRegMODE);
  EXPECT_EQ(regmap::kModeField.get(mode), regmap::kMode8);
  EXPECT_EQ(regmap::kModeBlkskipField.get(mode), 0x0022u);
  c.layer.approx = Approx{};
  (void)acc.run(c.layer, c.input);
  EXPECT_EQ(acc.read_reg(regmap::kRegMODE), regmap::kMode8) << "an exact layer clears the mask";
}

TEST(AxBxP, CounterClosedFormEqualsEdgesWithMasks) {
  for (const Mode m : kModes) {
    for (const std::uint16_t skip : {std::uint16_t{0}, std::uint16_t{1}, std::uint16_t{0x13}, std::uint16_t{0x7FFF}}) {
      const Approx x{static_cast<std::uint16_t>(skip & approx_grid(m))};
      for (const int k : {1, 2, 3, 5, 64, 67}) {
        const TileCounts t{m, k, 7, 13, true, x};
        const CounterValues a = count_tile(t), b = count_tile_edges(t);
        EXPECT_EQ(a, b) << to_string(m) << " K " << k;
        EXPECT_EQ(a[regmap::kCntBlk], 7u * 13u * static_cast<std::uint64_t>(k) * kept_blocks(x, m));
      }
    }
  }
}

}  // namespace
}  // namespace bitscale::golden
