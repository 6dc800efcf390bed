// The verilated array against the golden model through the driver: every operand pair in every
// lane of the 4- and 8-bit modes, the block-corner pairs of the 16-bit mode, random tiles with
// garbage in the don't-care lanes, and the performance counters (1, 2, 4 MACs per PE per array
// cycle on a layer that fills the array).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "test_seed.hpp"

namespace {

using bitscale::driver::Accelerator;
using bitscale::driver::bus_addr;
using bitscale::golden::Layer;
using bitscale::golden::Mode;
using bitscale::golden::PackedTensor;
namespace golden = bitscale::golden;
namespace rm = bitscale::regmap;
using bitscale::driver::BusOp;

std::uint64_t test_seed() { return bitscale::test::test_seed(20261123); }

// A 1x1 convolution on a column of 16 pixels with one input channel: PE (r, c) computes
// pixel r times weight c, so one tile covers 16 x 16 operand pairs.
Layer pairs_layer(Mode mode, std::span<const std::int32_t> w, int shift) {
  Layer l;
  l.mode = mode;
  l.shape.in_h = 16;
  l.shape.in_w = 1;
  l.shape.in_c = 1;
  l.shape.out_c = 16;
  l.weights.assign(w.begin(), w.end());
  l.out.shift = shift;
  return l;
}

// A 1x1 convolution on a column of 16 pixels with K = lanes input channels, one per lane of the
// packed word: PE (r, c) computes the sum over lanes l of a[l][r] x w[l][c], so one tile holds
// 16 x 16 operand pairs in every lane at once. a[l] and w[l] are the 16 activations and weights
// of lane l.
struct LanePairs {
  Layer layer;
  PackedTensor in;
};
LanePairs lanes_layer(Mode mode, const std::vector<std::vector<std::int32_t>>& a,
                      const std::vector<std::vector<std::int32_t>>& w, int shift) {
  const int p = golden::lanes(mode);
  Layer l;
  l.mode = mode;
  l.shape.in_h = 16;
  l.shape.in_w = 1;
  l.shape.in_c = p;
  l.shape.out_c = 16;
  l.out.shift = shift;
  l.weights.assign(static_cast<std::size_t>(16 * p), 0);
  std::vector<std::int32_t> in(static_cast<std::size_t>(16 * p), 0);
  for (int lane = 0; lane < p; ++lane) {
    for (int i = 0; i < 16; ++i) {
      l.weights[static_cast<std::size_t>(i * p + lane)] =
          w[static_cast<std::size_t>(lane)][static_cast<std::size_t>(i)];
      in[static_cast<std::size_t>(i * p + lane)] = a[static_cast<std::size_t>(lane)][static_cast<std::size_t>(i)];
    }
  }
  return {std::move(l), PackedTensor::from_values(16, 1, p, mode, in)};
}

struct Pair {
  bitscale::rtl::RtlDevice rtl;
  golden::GoldenDevice gold;
  Accelerator rtl_acc{rtl};
  Accelerator gold_acc{gold};

  // Runs on both back-ends and the reference, compared word for word on the scoreboard.
  void check(const Layer& l, const PackedTensor& in, const std::string& what) {
    const auto p = rtl_acc.prepare(l);
    const auto a = rtl_acc.run(p, in);
    const auto b = gold_acc.run(p, in);
    bitscale::dv::Scoreboard sb;
    sb.compare("rtl vs golden device", b, a, {"golden device", "rtl"});
    sb.compare("golden device vs reference", golden::conv2d(l, in), b, {"reference", "golden device"});
    ASSERT_TRUE(sb.ok()) << what << "\n" << sb.report();
    ASSERT_EQ(rtl.assertion_failures(), 0u) << what;
  }
};

// Every lane sees all 256 pairs of 4-bit operands in every tile: lane l holds the 16 values in its
// own order (rotated by 5l for activations, 7l for weights), so the four products summed in a PE
// differ; then each lane alone (the others 0), under the shifts 0..7.
TEST(RtlVsGolden, Exhaustive4BitPairsEveryLaneAllShifts) {
  Pair p;
  const auto values = [](int rot) {
    std::vector<std::int32_t> v(16);
    for (int i = 0; i < 16; ++i) v[static_cast<std::size_t>(i)] = (i + rot) % 16 - 8;
    return v;
  };
  std::vector<std::vector<std::int32_t>> a(4), w(4);
  for (std::size_t lane = 0; lane < 4; ++lane)
    a[lane] = values(5 * static_cast<int>(lane)), w[lane] = values(7 * static_cast<int>(lane));
  for (int shift = 0; shift <= 7; ++shift) {
    const auto t = lanes_layer(Mode::k4, a, w, shift);
    p.check(t.layer, t.in, fmt::format("4-bit pairs, all lanes, shift {}", shift));
    for (int lane = 0; lane < 4; ++lane) {
      std::vector<std::vector<std::int32_t>> a1(4, std::vector<std::int32_t>(16, 0)), w1 = a1;
      a1[static_cast<std::size_t>(lane)] = a[static_cast<std::size_t>(lane)];
      w1[static_cast<std::size_t>(lane)] = w[static_cast<std::size_t>(lane)];
      const auto t1 = lanes_layer(Mode::k4, a1, w1, shift);
      p.check(t1.layer, t1.in, fmt::format("4-bit pairs, lane {} alone, shift {}", lane, shift));
    }
  }
}

// All 65 536 pairs of 8-bit operands in each of the two lanes: 16 x 16 tiles, tile (ab, wb) puts
// activation block ab and weight block wb (16 consecutive values each) into lane 0, and blocks
// (ab + 7) mod 16 and (wb + 3) mod 16, rotated within the block, into lane 1, so both lanes go
// through every block pair while a PE sums two different products. The shift walks 0..15 so that
// every sum is seen through several output windows.
TEST(RtlVsGolden, Exhaustive8BitPairsEveryLane) {
  Pair p;
  const auto block = [](int b, int rot) {
    std::vector<std::int32_t> v(16);
    for (int i = 0; i < 16; ++i) v[static_cast<std::size_t>(i)] = b * 16 + (i + rot) % 16 - 128;
    return v;
  };
  for (int ab = 0; ab < 16; ++ab) {
    for (int wb = 0; wb < 16; ++wb) {
      const std::vector<std::vector<std::int32_t>> a = {block(ab, 0), block((ab + 7) % 16, 5)};
      const std::vector<std::vector<std::int32_t>> w = {block(wb, 0), block((wb + 3) % 16, 11)};
      const auto t = lanes_layer(Mode::k8, a, w, (ab + wb) % 16);
      p.check(t.layer, t.in,
              fmt::format("8-bit pairs, blocks {},{} (lane 1: {},{})", ab, wb, (ab + 7) % 16, (wb + 3) % 16));
    }
  }
}

// 16-bit mode has one lane; all 2^32 pairs do not fit a test (2^24 tiles). Instead every pair of
// the 256 operands whose four 4-bit blocks are each 0x0, 0x7, 0x8 or 0xF (the multiplier works on
// 4-bit blocks: zero, largest and smallest block, all ones; 0x8000 = -32768, 0x7FFF, 0xFFFF = -1,
// 0 among them): 65 536 pairs in 256 tiles, the shift walking 0..30.
// Every product in full, not through an output window: lane x holds (a, w) and lane x + 1 holds
// (a, w'), w' = -w (127 for the smallest w, which has no negation), the other lanes 0, shift 0.
// Each output is a x (w + w'): 0, or -a for the smallest w (saturated to the largest output for
// the smallest a), so an error in either product shows in every bit instead of being shifted out
// or saturated. Expected outputs from that formula, and the golden device and reference as above.
// Every 8-bit pair (a, w) with w > -128 is seen this way in lane 0 and in lane 1 (512 tiles),
// every 4-bit pair in each of the four lanes (4 tiles).
TEST(RtlVsGolden, ComplementLanesShowEveryProductInFull) {
  Pair p;
  for (const Mode mode : {Mode::k8, Mode::k4}) {
    const int lanes = golden::lanes(mode), n = 1 << golden::bits(mode), lo = golden::min_value(mode);
    const int blocks = n / 16;  // 16 values per block
    for (int x = 0; x < lanes; ++x) {
      for (int ab = 0; ab < blocks; ++ab) {
        for (int wb = 0; wb < blocks; ++wb) {
          std::vector<std::vector<std::int32_t>> a(static_cast<std::size_t>(lanes), std::vector<std::int32_t>(16, 0));
          auto w = a;
          const auto xs = static_cast<std::size_t>(x), ys = static_cast<std::size_t>((x + 1) % lanes);
          for (std::size_t i = 0; i < 16; ++i) {
            a[xs][i] = a[ys][i] = ab * 16 + static_cast<int>(i) + lo;
            w[xs][i] = wb * 16 + static_cast<int>(i) + lo;
            w[ys][i] = w[xs][i] == lo ? -lo - 1 : -w[xs][i];
          }
          const auto t = lanes_layer(mode, a, w, 0);
          const std::string what =
              fmt::format("{} lanes {},{} blocks {},{}", golden::to_string(mode), x, (x + 1) % lanes, ab, wb);
          const PackedTensor out = p.rtl_acc.run(p.rtl_acc.prepare(t.layer), t.in);
          const std::vector<std::int32_t> y = out.values();  // [pixel r][channel c]
          ASSERT_EQ(y.size(), 256u) << what;
          for (std::size_t r = 0; r < 16; ++r) {
            for (std::size_t c = 0; c < 16; ++c) {
              const std::int32_t want = std::min(a[xs][r] * (w[xs][c] + w[ys][c]), golden::max_value(mode));
              ASSERT_EQ(y[r * 16 + c], want) << what << ": a " << a[xs][r] << ", w " << w[xs][c] << " and " << w[ys][c];
            }
          }
          p.check(t.layer, t.in, what);
        }
      }
    }
  }
}

TEST(RtlVsGolden, Exhaustive16BitBlockCornerPairs) {
  Pair p;
  static constexpr int kNibble[4] = {0x0, 0x7, 0x8, 0xF};
  std::vector<std::int32_t> corner(256);
  for (int i = 0; i < 256; ++i) {
    const int u =
        kNibble[i & 3] | kNibble[(i >> 2) & 3] << 4 | kNibble[(i >> 4) & 3] << 8 | kNibble[(i >> 6) & 3] << 12;
    corner[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(static_cast<std::uint16_t>(u));
  }
  for (int ab = 0; ab < 16; ++ab) {
    std::vector<std::int32_t> a(corner.begin() + 16 * ab, corner.begin() + 16 * (ab + 1));
    for (int wb = 0; wb < 16; ++wb) {
      std::vector<std::int32_t> w(corner.begin() + 16 * wb, corner.begin() + 16 * (wb + 1));
      const auto t = lanes_layer(Mode::k16, {a}, {w}, ab + wb);
      p.check(t.layer, t.in, fmt::format("16-bit corner pairs, blocks {},{}", ab, wb));
    }
  }
}
TEST(RtlVsGolden, Random16BitPairsWithExtremes) {
  const std::uint64_t seed = test_seed();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> val(-32768, 32767);
  Pair p;
  for (int t = 0; t < 64; ++t) {
    std::vector<std::int32_t> a(16), w(16);
    for (auto* v : {&a, &w}) {
      for (auto& x : *v) x = (rng() % 4 == 0) ? ((rng() & 1) ? -32768 : 32767) : val(rng);
    }
    const auto in = PackedTensor::from_values(16, 1, 1, Mode::k16, a);
    p.check(pairs_layer(Mode::k16, w, static_cast<int>(rng() % 32)), in, fmt::format("seed {} tile {}", seed, t));
  }
}

// Raw tiles through the bus with random bits in the lanes past K: both back-ends ignore them.
TEST(RtlVsGolden, DontCareLanesAreIgnored) {
  const std::uint64_t seed = test_seed();
  std::mt19937_64 rng(seed);
  bitscale::rtl::RtlDevice rtl;
  golden::GoldenDevice gold;
  for (int t = 0; t < 48; ++t) {
    const Mode mode = static_cast<Mode>(t % 3);
    const int P = golden::lanes(mode);
    const int k = 1 + static_cast<int>(rng() % 40);
    const int kw = (k + P - 1) / P;
    const int rows = 1 + static_cast<int>(rng() % 16), cols = 1 + static_cast<int>(rng() % 16);
    const int shift = static_cast<int>(rng() % (2 * golden::bits(mode)));
    std::vector<std::uint32_t> cfg = {rm::kRegMODE,     static_cast<std::uint32_t>(mode),
                                      rm::kRegK,        static_cast<std::uint32_t>(k),
                                      rm::kRegROWS_ACT, static_cast<std::uint32_t>(rows),
                                      rm::kRegCOLS_ACT, static_cast<std::uint32_t>(cols),
                                      rm::kRegSHIFT,    static_cast<std::uint32_t>(shift),
                                      rm::kRegACT_BASE, 0,
                                      rm::kRegWGT_BASE, 0,
                                      rm::kRegOUT_CFG,  0};
    // Random lines everywhere (garbage included); the expected outputs use only lanes < K.
    std::vector<std::vector<std::uint64_t>> act(16), wgt(16);
    const int lines = (kw + 3) / 4;
    for (auto* m : {&act, &wgt}) {
      for (auto& bank : *m) {
        bank.resize(static_cast<std::size_t>(lines));
        for (auto& l : bank) l = rng();
      }
    }
    std::array<bitscale::driver::Device*, 2> devs{&rtl, &gold};
    std::array<std::vector<std::uint64_t>, 2> outs;
    for (std::size_t d = 0; d < 2; ++d) {
      auto& dev = *devs[d];
      for (std::size_t i = 0; i < cfg.size(); i += 2) {
        ASSERT_FALSE(dev.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, cfg[i]), cfg[i + 1]).err);
      }
      for (int b = 0; b < 16; ++b) {
        for (int l = 0; l < lines; ++l) {
          dev.access(BusOp::kWrite,
                     bus_addr(rm::kRegionAct, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(l)),
                     act[static_cast<std::size_t>(b)][static_cast<std::size_t>(l)]);
          dev.access(BusOp::kWrite,
                     bus_addr(rm::kRegionWgt, static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(l)),
                     wgt[static_cast<std::size_t>(b)][static_cast<std::size_t>(l)]);
        }
      }
      dev.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, rm::kRegCTRL), 1u << rm::kCtrlStart);
      const auto w = dev.wait(1000);
      ASSERT_TRUE(w.done) << dev.name();
      ASSERT_EQ(w.cycles, static_cast<std::uint64_t>(kw) + rm::kBusyOverhead) << dev.name();
      for (int r = 0; r < rows; ++r) {
        for (int l = 0; l < 4; ++l) {
          outs[d].push_back(
              dev.access(BusOp::kRead,
                         bus_addr(rm::kRegionOut, static_cast<std::uint32_t>(r), static_cast<std::uint32_t>(l)), 0)
                  .rdata);
        }
      }
    }
    ASSERT_EQ(outs[0], outs[1]) << "seed " << seed << " tile " << t;
    // Independent check of one row through the numeric spec.
    auto word = [&](const std::vector<std::uint64_t>& bank, int wi) {
      return static_cast<std::uint16_t>(bank[static_cast<std::size_t>(wi / 4)] >> (16 * (wi % 4)));
    };
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < 16; ++c) {
        std::int64_t acc = 0;
        for (int e = 0; e < k && c < cols; ++e) {
          acc +=
              static_cast<std::int64_t>(golden::get_lane(word(act[static_cast<std::size_t>(r)], e / P), e % P, mode)) *
              golden::get_lane(word(wgt[static_cast<std::size_t>(c)], e / P), e % P, mode);
        }
        const std::int32_t expect = c < cols ? golden::output_value(acc, mode, {shift}) : 0;
        const int wi = c / P;
        const std::uint16_t got_word =
            static_cast<std::uint16_t>(outs[0][static_cast<std::size_t>(r * 4 + wi / 4)] >> (16 * (wi % 4)));
        ASSERT_EQ(golden::get_lane(got_word, c % P, mode), expect)
            << "seed " << seed << " tile " << t << " r " << r << " c " << c;
      }
    }
  }
  EXPECT_EQ(rtl.assertion_failures(), 0u);
}

// A layer that fills the array: M = 64 pixels, N = 32 channels, K a multiple of the lanes.
TEST(RtlVsGolden, CountersShowLanesPerPePerArrayCycle) {
  for (Mode mode : {Mode::k16, Mode::k8, Mode::k4}) {
    Pair p;
    Layer l;
    l.mode = mode;
    l.shape.in_h = 8;
    l.shape.in_w = 8;
    l.shape.in_c = 64;
    l.shape.out_c = 32;
    l.shape.k_h = l.shape.k_w = 3;
    l.shape.pad_top = l.shape.pad_left = l.shape.pad_bottom = l.shape.pad_right = 1;
    std::mt19937_64 rng(test_seed());
    std::uniform_int_distribution<int> v(golden::min_value(mode), golden::max_value(mode));
    l.weights.resize(static_cast<std::size_t>(l.shape.weight_count()));
    for (auto& w : l.weights) w = v(rng);
    l.out.shift = golden::bits(mode) + 2;
    std::vector<std::int32_t> in(8 * 8 * 64);
    for (auto& x : in) x = v(rng);
    const auto input = PackedTensor::from_values(8, 8, 64, mode, in);
    const auto r0 = p.rtl_acc.counters(), g0 = p.gold_acc.counters();
    p.check(l, input, golden::to_string(mode));
    const auto rtl = p.rtl_acc.counters() - r0;
    const auto gold = p.gold_acc.counters() - g0;
    EXPECT_EQ(rtl, gold) << "hardware counters differ from the golden device's";
    const int P = golden::lanes(mode);
    const std::uint64_t kw = static_cast<std::uint64_t>(l.shape.k() / P);
    EXPECT_EQ(rtl.tiles, 4u * 2u);
    EXPECT_EQ(rtl.array, rtl.tiles * kw);
    EXPECT_EQ(rtl.busy, rtl.tiles * (kw + rm::kBusyOverhead));
    EXPECT_EQ(rtl.macs(mode), static_cast<std::uint64_t>(l.shape.macs()));
    EXPECT_EQ(rtl.macs_total(), rtl.macs(mode));
    // MACs per PE per array cycle = lanes, exactly; per busy cycle = lanes * KW / (KW + 2).
    const double per_array = static_cast<double>(rtl.macs(mode)) / (256.0 * static_cast<double>(rtl.array));
    const double per_busy = static_cast<double>(rtl.macs(mode)) / (256.0 * static_cast<double>(rtl.busy));
    EXPECT_DOUBLE_EQ(per_array, P);
    EXPECT_NEAR(per_busy, P * static_cast<double>(kw) / static_cast<double>(kw + rm::kBusyOverhead), 1e-12);
    std::cout << fmt::format(
        "{}: {} MACs, {} array cycles, {} busy cycles: {:.3f} MACs/PE/array cycle, "
        "{:.3f} MACs/PE/busy cycle\n",
        golden::to_string(mode), rtl.macs(mode), rtl.array, rtl.busy, per_array, per_busy);
  }
}

}  // namespace
