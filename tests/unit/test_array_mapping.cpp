// One-pixel layers on the whole array (driver::PixelMapping::kArray, docs/NUMERICS.md "Accumulating
// across tiles"): MODE.DW tiles with the operands exchanged, K in OUT_CFG.ACC_KEEP chunks, the bias as
// digit steps. On the golden device the outputs equal the reference, the functional back-end counts
// the same, and the array cycles and tiles are what the plan says; the plan puts every channel in
// exactly one PE, one shift per column; the bias digits reconstruct the bias exactly; the golden
// device keeps every PE's accumulator across ACC_KEEP tiles.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "test_seed.hpp"

namespace bitscale::driver {
namespace {

namespace rm = bitscale::regmap;
using golden::Mode;

constexpr Mode kModes[] = {Mode::k16, Mode::k8, Mode::k4};

golden::ConvShape fc(int k, int n) {
  golden::ConvShape s;
  s.in_h = s.in_w = 1;
  s.in_c = k;
  s.out_c = n;
  s.k_h = s.k_w = 1;
  return s;
}

/// The lanes of `words`, in order.
std::vector<std::int64_t> lanes_of(const std::vector<std::uint16_t>& words, Mode m) {
  std::vector<std::int64_t> v;
  for (const std::uint16_t w : words) {
    for (int l = 0; l < golden::lanes(m); ++l) v.push_back(golden::get_lane(w, l, m));
  }
  return v;
}

TEST(PixelMapping, BiasDigitsReconstructTheBiasExactly) {
  std::mt19937_64 rng(test::test_seed(5));
  for (const Mode m : kModes) {
    const std::int64_t low_limit = std::int64_t{1} << (golden::bits(m) - 2);
    std::vector<std::int64_t> biases = {0,
                                        1,
                                        -1,
                                        low_limit,
                                        -low_limit,
                                        std::numeric_limits<std::int32_t>::max(),
                                        std::numeric_limits<std::int32_t>::min()};
    for (int i = 0; i < 200; ++i) biases.push_back(static_cast<std::int32_t>(rng()) >> (rng() % 31));
    for (const std::int64_t b : biases) {
      bool found = false;
      for (int words = 1; words <= 64 && !found; ++words) {
        std::vector<std::uint16_t> d(static_cast<std::size_t>(words)), w(static_cast<std::size_t>(words));
        if (!array_bias_digits(b, m, d)) continue;
        found = true;
        array_bias_weights(m, w);
        const std::vector<std::int64_t> dl = lanes_of(d, m), wl = lanes_of(w, m);
        std::int64_t sum = 0;
        for (std::size_t i = 0; i < dl.size(); ++i) sum += dl[i] * wl[i];
        EXPECT_EQ(sum, b) << golden::to_string(m) << " words " << words;
        EXPECT_GE(dl[0], 0);
        EXPECT_LT(dl[0], low_limit);
        EXPECT_EQ(wl[0], 1);
      }
      // 16 bits: two words for |bias| < 2^29 (docs/NUMERICS.md), every int32 within 64 words.
      if (m == Mode::k16 && b > -(std::int64_t{1} << 29) && b < (std::int64_t{1} << 29)) {
        std::vector<std::uint16_t> d(2);
        EXPECT_TRUE(array_bias_digits(b, m, d)) << b;
      }
      if (m == Mode::k16) {
        EXPECT_TRUE(found) << b;
      }
    }
  }
}

/// Biases small enough for the digits of plan_array at 8 and 4 bits (any int32 fits at 16 bits within
/// the limit; larger ones fall back to the row mapping, PixelMapping.LayersThatDoNotFitFallBack).
void fit_biases(golden::Layer& l) {
  if (l.mode == Mode::k16) return;
  for (std::int32_t& b : l.bias) b %= l.mode == Mode::k8 ? 100000 : 2000;
}

TEST(PixelMapping, PlanPutsEveryChannelInOnePeWithOneShiftPerColumn) {
  dv::LayerGenerator gen(test::test_seed(6));
  const HwConfig hw{.rows = 4, .cols = 8, .act_words = 512, .wgt_words = 1024, .bias_entries = 16, .acc_bits = 48};
  for (const Mode m : kModes) {
    golden::Layer l = gen.layer(fc(300, 70), m, {dv::Draw::kAlways, dv::Draw::kAlways});
    l.approx = {};
    fit_biases(l);
    const PreparedLayer pl = Accelerator(hw).prepare(l);
    for (const Transfer tr : {Transfer::kSerial, Transfer::kOverlapped}) {
      const std::optional<ArrayPlan> ap = plan_array(pl, hw, tr);
      ASSERT_TRUE(ap.has_value()) << golden::to_string(m);
      EXPECT_TRUE(ap->col_shift);
      EXPECT_EQ(ap->steps, pl.kw + ap->bias_words);
      EXPECT_EQ(ap->chunk, tr == Transfer::kSerial ? 512 / 8 : 512 / 8 / 2);
      EXPECT_EQ(ap->slot, tr == Transfer::kSerial ? 0 : ap->chunk * 8);
      std::multiset<int> seen;
      for (const auto& tile : ap->tiles) {
        EXPECT_GE(tile.size(), 1u);
        EXPECT_LE(tile.size(), 8u);
        for (const auto& col : tile) {
          EXPECT_GE(col.size(), 1u);
          EXPECT_LE(col.size(), 4u);
          for (const int ch : col) {
            seen.insert(ch);
            EXPECT_EQ(l.shift(ch), l.shift(col[0])) << "one shift per column";
          }
        }
      }
      ASSERT_EQ(seen.size(), 70u);
      for (int ch = 0; ch < 70; ++ch) EXPECT_EQ(seen.count(ch), 1u) << ch;
    }
    // Not for layers with more than one pixel, or with an Ax-BxP mask (it would approximate the bias digits).
    golden::Layer approx = l;
    approx.approx.skip = 1;
    EXPECT_FALSE(plan_array(Accelerator(hw).prepare(approx), hw, Transfer::kSerial).has_value());
    golden::ConvShape two = fc(300, 70);
    two.in_w = 2;
    golden::Layer l2 = gen.layer(two, m, {dv::Draw::kAlways, dv::Draw::kNever});
    l2.approx = {};
    EXPECT_FALSE(plan_array(Accelerator(hw).prepare(l2), hw, Transfer::kSerial).has_value());
  }
}

/// Runs `l` on the golden device and the functional back-end with the array mapping (and the golden
/// device with the row mapping): outputs against the reference, counters against each other.
void check_layer(const golden::Layer& l, const golden::PackedTensor& in, const golden::DeviceParams& dp, Transfer tr,
                 Port po, const std::string& ctx) {
  const HwConfig hw{.rows = dp.rows,
                    .cols = dp.cols,
                    .act_words = dp.act_words,
                    .wgt_words = dp.wgt_words,
                    .bias_entries = dp.bias_entries,
                    .acc_bits = static_cast<int>(rm::kAccW)};
  const golden::PackedTensor want = golden::conv2d(l, in);
  golden::GoldenDevice gd(dp), gd_row(dp);
  Accelerator a(gd), f(hw), row(gd_row);
  for (Accelerator* x : {&a, &f, &row}) {
    x->set_transfer(tr);
    x->set_port(po);
    x->clear_counters();  // the device back-ends read ID and HWCFG when constructed
  }
  a.set_pixel_mapping(PixelMapping::kArray);
  f.set_pixel_mapping(PixelMapping::kArray);
  const PreparedLayer pl = a.prepare(l);
  const golden::PackedTensor out = a.run(pl, in), out_f = f.run(pl, in), out_row = row.run(pl, in);
  EXPECT_EQ(out.words, want.words) << ctx;
  EXPECT_EQ(out_f.words, want.words) << ctx;
  EXPECT_EQ(out_row.words, want.words) << ctx;
  const Counters c = a.counters(), cf = f.counters(), cr = row.counters();
  EXPECT_EQ(cf, c) << ctx << ": the functional back-end counts as the golden device";

  const std::optional<ArrayPlan> ap = plan_array(pl, hw, tr);
  ASSERT_TRUE(ap.has_value()) << ctx << ": the test's biases are chosen to fit the digits";
  const auto chunks = static_cast<std::uint64_t>((ap->steps + ap->chunk - 1) / ap->chunk);
  EXPECT_EQ(c.tiles, ap->tiles.size() * chunks) << ctx;
  EXPECT_EQ(c.array, ap->tiles.size() * static_cast<std::uint64_t>(ap->steps)) << ctx;
  // The same products as the row mapping plus the bias digits' (lanes of every PE of a tile).
  EXPECT_GE(c.macs(l.mode), cr.macs(l.mode)) << ctx;
  if (l.shape.out_c > dp.cols) {
    EXPECT_LT(c.array, cr.array) << ctx;
  }
}

TEST(PixelMapping, FullyConnectedLayersOnTheWholeArrayMatchReference) {
  dv::LayerGenerator gen(test::test_seed(7));
  const golden::DeviceParams small{.rows = 4, .cols = 8, .act_words = 512, .wgt_words = 1024, .bias_entries = 16};
  for (const Mode m : kModes) {
    for (const dv::Draw shifts : {dv::Draw::kNever, dv::Draw::kAlways}) {
      for (const dv::Draw bias : {dv::Draw::kAlways, dv::Draw::kNever}) {
        golden::Layer l = gen.layer(fc(301, 45), m, {bias, shifts});
        l.approx = {};
        fit_biases(l);
        const golden::PackedTensor in = gen.tensor(1, 1, 301, m);
        for (const Transfer tr : {Transfer::kSerial, Transfer::kOverlapped}) {
          for (const Port po : {Port::kLine, Port::kWide, Port::kRows}) {
            const std::string ctx = std::string(golden::to_string(m)) + (shifts == dv::Draw::kAlways ? " shifts" : "") +
                                    (bias == dv::Draw::kAlways ? " bias " : " ") + std::string(to_string(tr)) + " " +
                                    std::string(to_string(po));
            check_layer(l, in, small, tr, po, ctx);
          }
        }
      }
    }
    // The default geometry, more channels than one tile holds.
    golden::Layer l = gen.layer(fc(700, 300), m, {dv::Draw::kAlways, dv::Draw::kRandom});
    l.approx = {};
    fit_biases(l);
    check_layer(l, gen.tensor(1, 1, 700, m), {}, Transfer::kOverlapped, Port::kRows,
                std::string(golden::to_string(m)) + " default geometry");
  }
}

TEST(PixelMapping, LayersThatDoNotFitFallBackToTheRowMapping) {
  dv::LayerGenerator gen(test::test_seed(8));
  for (const Mode m : {Mode::k8, Mode::k4}) {
    golden::Layer l = gen.layer(fc(40, 20), m, {dv::Draw::kAlways, dv::Draw::kNever});
    l.bias[3] = std::numeric_limits<std::int32_t>::max();  // more digits than 64 words hold
    const golden::PackedTensor in = gen.tensor(1, 1, 40, m);
    golden::GoldenDevice gd, gd_row;
    Accelerator a(gd), row(gd_row);
    a.set_pixel_mapping(PixelMapping::kArray);
    EXPECT_FALSE(plan_array(a.prepare(l), a.hw(), Transfer::kSerial).has_value());
    EXPECT_EQ(a.run(l, in).words, golden::conv2d(l, in).words);
    row.run(l, in);
    EXPECT_EQ(a.counters(), row.counters()) << golden::to_string(m);
  }
}

// ACC_KEEP on the golden device, from the register definition: a tile that initialises (bias b, K = 1,
// 3 x 5) then a keep tile with one more column and row: the PEs active in both hold b + both products,
// the new column starts at 0 (its bias bank was not read), the new row at its column's bias.
TEST(PixelMapping, AccKeepContinuesEveryPeAccumulator) {
  golden::GoldenDevice d;
  const auto csr = [](std::uint32_t i) { return bus_addr(rm::kRegionCsr, 0, i); };
  const auto wr = [&](std::uint32_t a, std::uint64_t v) { ASSERT_FALSE(d.access(BusOp::kWrite, a, v).err); };
  const auto run = [&](int rows, int cols, std::uint64_t out_cfg) {
    wr(csr(rm::kRegMODE), rm::kModeField.of(golden::mode_code(Mode::k16)));
    wr(csr(rm::kRegK), 1);
    wr(csr(rm::kRegROWS_ACT), static_cast<std::uint64_t>(rows));
    wr(csr(rm::kRegCOLS_ACT), static_cast<std::uint64_t>(cols));
    wr(csr(rm::kRegOUT_CFG), out_cfg);
    wr(csr(rm::kRegBIAS_BASE), 0);
    wr(csr(rm::kRegCTRL), rm::kCtrlStartField.of(1));
    ASSERT_TRUE(d.wait(100).done);
  };
  for (std::uint32_t r = 0; r < 16; ++r) wr(bus_addr(rm::kRegionAct, r, 0), 10 + r);  // activation 10 + r
  for (std::uint32_t c = 0; c < 16; ++c) {
    wr(bus_addr(rm::kRegionWgt, c, 0), c + 1);            // weight c + 1
    wr(bus_addr(rm::kRegionBias, c, 0), 1000 * (c + 1));  // bias 1000 (c + 1)
  }
  run(3, 5, rm::kOutCfgBiasEnField.of(1));
  run(4, 6, rm::kOutCfgBiasEnField.of(1) | rm::kOutCfgAccKeepField.of(1));
  for (std::uint32_t r = 0; r < 4; ++r) {
    for (std::uint32_t c = 0; c < 6; ++c) {
      const std::uint64_t line = d.access(BusOp::kRead, bus_addr(rm::kRegionOut, r, c / 4), 0).rdata;
      const auto got = static_cast<std::int16_t>(line >> (16 * (c % 4)));
      const std::int64_t product = static_cast<std::int64_t>(10 + r) * (c + 1);
      std::int64_t want = (c < 5 ? 1000 * (c + 1) : 0) + product;
      if (r < 3 && c < 5) want += product;  // active in both tiles
      EXPECT_EQ(got, want) << "PE " << r << "," << c;
    }
  }
}

}  // namespace
}  // namespace bitscale::driver
