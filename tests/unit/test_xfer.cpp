// Wide scratchpad beats and transfers overlapped with a running tile (issue 9, docs/ARCHITECTURE.md
// "Bus"): the golden register-level device against the rules written here from the documentation
// (which lines a beat moves, what it counts, which writes a running tile refuses), and the driver's
// schedules (Transfer, Port) on the golden device and the functional back-end: the same outputs as
// the reference, the same counters on both back-ends, and cycle differences between the schedules
// that the counters explain.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/driver/tile_plan.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/functional_device.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "test_seed.hpp"

namespace {

using namespace bitscale;
namespace rm = bitscale::regmap;
using driver::bus_addr;
using driver::BusOp;

std::uint32_t csr(std::uint32_t i) { return bus_addr(rm::kRegionCsr, 0, i); }

std::uint64_t cnt(driver::Device& d, std::uint32_t reg) { return d.read(csr(reg)).rdata; }

TEST(WideBeat, MovesLineLOfEveryBankAndCountsEveryWord) {
  golden::GoldenDevice dev;  // 16 x 16
  std::vector<std::uint64_t> lines(16);
  for (std::size_t b = 0; b < lines.size(); ++b) lines[b] = 0x1000 + b;
  const std::uint64_t wr0 = cnt(dev, rm::kRegCNT_SPAD_WR), x0 = cnt(dev, rm::kRegCNT_XFER);
  const std::uint64_t c0 = cnt(dev, rm::kRegCNT_CYCLES);
  EXPECT_FALSE(dev.access_wide(BusOp::kWrite, rm::kRegionAct, 5, lines).err);
  // One edge (the read of CNT_CYCLES after the one of c0 sees c0 + 1 for that read, + 1 for the beat).
  EXPECT_EQ(cnt(dev, rm::kRegCNT_CYCLES), c0 + 2);
  EXPECT_EQ(cnt(dev, rm::kRegCNT_XFER), x0 + 1);
  EXPECT_EQ(cnt(dev, rm::kRegCNT_SPAD_WR), wr0 + 4 * 16);  // 16 rows x 4 words
  for (std::uint32_t b = 0; b < 16; ++b) EXPECT_EQ(dev.read(bus_addr(rm::kRegionAct, b, 5)).rdata, 0x1000u + b);
  EXPECT_EQ(dev.read(bus_addr(rm::kRegionAct, 0, 4)).rdata, 0u) << "other lines untouched";
  // A wide read of WGT returns what narrow writes put there, 4 words per column in CNT_SPAD_RD.
  for (std::uint32_t c = 0; c < 16; ++c) EXPECT_FALSE(dev.write(bus_addr(rm::kRegionWgt, c, 7), 0x70 + c).err);
  std::vector<std::uint64_t> back(16, 0xdead);
  const std::uint64_t rd0 = cnt(dev, rm::kRegCNT_SPAD_RD);
  const driver::BusResponse r = dev.access_wide(BusOp::kRead, rm::kRegionWgt, 7, back);
  EXPECT_FALSE(r.err);
  EXPECT_EQ(r.rdata, 0u) << "the narrow data of a wide read is 0";
  for (std::uint32_t c = 0; c < 16; ++c) EXPECT_EQ(back[c], 0x70u + c);
  EXPECT_EQ(cnt(dev, rm::kRegCNT_SPAD_RD), rd0 + 4 * 16);
  // Wrong sizes are refused by the harness; the CSR region has no wide beat (bank != 0), the OUT
  // region is read-only, and lines past the bank are unmapped.
  std::vector<std::uint64_t> small(15);
  EXPECT_THROW((void)dev.access_wide(BusOp::kWrite, rm::kRegionAct, 0, small), driver::DeviceError);
  EXPECT_TRUE(dev.access_wide(BusOp::kRead, rm::kRegionCsr, 0, back).err);
  EXPECT_EQ(rm::kStatusCodeField.get(dev.read(csr(rm::kRegSTATUS)).rdata), rm::kErrBusAddr);
  EXPECT_TRUE(dev.access_wide(BusOp::kWrite, rm::kRegionOut, 0, lines).err);
  EXPECT_EQ(rm::kStatusCodeField.get(dev.read(csr(rm::kRegSTATUS)).rdata), rm::kErrBusRo);
  EXPECT_TRUE(dev.access_wide(BusOp::kWrite, rm::kRegionAct, 2048, lines).err);
  EXPECT_EQ(rm::kStatusCodeField.get(dev.read(csr(rm::kRegSTATUS)).rdata), rm::kErrBusAddr);
  // A failed wide read returns zeros.
  std::fill(back.begin(), back.end(), 1);
  EXPECT_TRUE(dev.access_wide(BusOp::kRead, rm::kRegionBias, 128, back).err);
  EXPECT_EQ(std::count(back.begin(), back.end(), 0), 16);
}

TEST(WideBeat, NonSquareGeometryMovesTheRegionsBanks) {
  golden::GoldenDevice dev({.rows = 4, .cols = 8, .act_words = 64, .wgt_words = 64, .bias_entries = 4});
  std::vector<std::uint64_t> lines(8);  // max(rows, cols)
  for (std::size_t b = 0; b < lines.size(); ++b) lines[b] = 0xA0 + b;
  const std::uint64_t wr0 = cnt(dev, rm::kRegCNT_SPAD_WR);
  EXPECT_FALSE(dev.access_wide(BusOp::kWrite, rm::kRegionAct, 1, lines).err);   // 4 rows
  EXPECT_FALSE(dev.access_wide(BusOp::kWrite, rm::kRegionBias, 1, lines).err);  // 8 columns
  EXPECT_EQ(cnt(dev, rm::kRegCNT_SPAD_WR), wr0 + 4 * 4 + 4 * 8);
  std::vector<std::uint64_t> back(8, 7);
  EXPECT_FALSE(dev.access_wide(BusOp::kRead, rm::kRegionAct, 1, back).err);
  for (std::size_t b = 0; b < 4; ++b) EXPECT_EQ(back[b], 0xA0u + b);
  for (std::size_t b = 4; b < 8; ++b) EXPECT_EQ(back[b], 0u) << "past the region's banks";
  EXPECT_FALSE(dev.access_wide(BusOp::kRead, rm::kRegionBias, 1, back).err);
  for (std::size_t b = 0; b < 8; ++b) EXPECT_EQ(back[b], 0xA0u + b);
  std::vector<std::uint64_t> four(4);
  EXPECT_THROW((void)dev.access_wide(BusOp::kRead, rm::kRegionAct, 1, four), driver::DeviceError);
}

// Configures and starts a 16-bit tile; its read windows by the rule of docs/ARCHITECTURE.md "Bus".
void start_tile(driver::Device& d, int k, int act_base, int wgt_base, bool dw, bool bias_en, int bias_base) {
  EXPECT_FALSE(d.write(csr(rm::kRegMODE), rm::kModeField.of(rm::kMode16) | rm::kModeDwField.of(dw ? 1 : 0)).err);
  EXPECT_FALSE(d.write(csr(rm::kRegK), static_cast<std::uint64_t>(k)).err);
  EXPECT_FALSE(d.write(csr(rm::kRegROWS_ACT), 16).err);
  EXPECT_FALSE(d.write(csr(rm::kRegCOLS_ACT), 16).err);
  EXPECT_FALSE(d.write(csr(rm::kRegACT_BASE), static_cast<std::uint64_t>(act_base)).err);
  EXPECT_FALSE(d.write(csr(rm::kRegWGT_BASE), static_cast<std::uint64_t>(wgt_base)).err);
  EXPECT_FALSE(d.write(csr(rm::kRegBIAS_BASE), static_cast<std::uint64_t>(bias_base)).err);
  EXPECT_FALSE(d.write(csr(rm::kRegOUT_CFG), rm::kOutCfgBiasEnField.of(bias_en ? 1 : 0)).err);
  EXPECT_FALSE(d.write(csr(rm::kRegCTRL), rm::kCtrlStartField.of(1)).err);
}

std::uint32_t code(driver::Device& d) {
  const std::uint64_t st = d.read(csr(rm::kRegSTATUS)).rdata;
  (void)d.write(csr(rm::kRegSTATUS), rm::kStatusErrField.of(1));
  return static_cast<std::uint32_t>(rm::kStatusCodeField.get(st));
}

TEST(Overlap, WritesOutsideTheTilesReadWindowsGoAheadWhileBusy) {
  golden::GoldenDevice dev;
  // 16-bit K = 64 from ACT_BASE 10: words 10 .. 73 = lines 2 .. 18; WGT_BASE 0: lines 0 .. 15; BIAS_EN
  // with BIAS_BASE 5: bias line 2. 66 busy edges: room for every access below.
  start_tile(dev, 64, 10, 0, false, true, 5);
  const std::uint64_t ov0 = cnt(dev, rm::kRegCNT_OVERLAP), x0 = cnt(dev, rm::kRegCNT_XFER);
  struct Case {
    std::uint32_t region, bank, line;
    bool refused;
  };
  const Case cases[] = {
      {rm::kRegionAct, 0, 1, false},  {rm::kRegionAct, 3, 2, true},   {rm::kRegionAct, 15, 18, true},
      {rm::kRegionAct, 9, 19, false}, {rm::kRegionWgt, 0, 15, true},  {rm::kRegionWgt, 15, 16, false},
      {rm::kRegionBias, 4, 2, true},  {rm::kRegionBias, 4, 1, false}, {rm::kRegionBias, 4, 3, false},
  };
  int accepted = 0;
  for (const Case& c : cases) {
    const bool err = dev.write(bus_addr(c.region, c.bank, c.line), 0xBEEF).err;
    EXPECT_EQ(err, c.refused) << c.region << "/" << c.bank << "/" << c.line;
    if (err) {
      EXPECT_EQ(code(dev), rm::kErrBusHazard) << c.region << "/" << c.line;
    }
    accepted += err ? 0 : 1;
  }
  // A wide write into the window is refused too (any bank is in it); a read while busy stays refused.
  std::vector<std::uint64_t> lines(16, 1);
  EXPECT_TRUE(dev.access_wide(BusOp::kWrite, rm::kRegionAct, 4, lines).err);
  EXPECT_EQ(code(dev), rm::kErrBusHazard);
  EXPECT_FALSE(dev.access_wide(BusOp::kWrite, rm::kRegionAct, 19, lines).err);  // first line past the window
  ++accepted;
  EXPECT_TRUE(dev.read(bus_addr(rm::kRegionAct, 0, 100)).err);
  EXPECT_EQ(code(dev), rm::kErrBusBusy);
  EXPECT_EQ(cnt(dev, rm::kRegCNT_XFER) - x0, static_cast<std::uint64_t>(accepted));
  EXPECT_EQ(cnt(dev, rm::kRegCNT_OVERLAP) - ov0, static_cast<std::uint64_t>(accepted)) << "all while busy";
  EXPECT_TRUE(dev.wait(100).done);
  // Idle again: the same writes go ahead and are not overlapped.
  const std::uint64_t ov1 = cnt(dev, rm::kRegCNT_OVERLAP);
  EXPECT_FALSE(dev.write(bus_addr(rm::kRegionAct, 3, 2), 1).err);
  EXPECT_EQ(cnt(dev, rm::kRegCNT_OVERLAP), ov1);
}

TEST(Overlap, DwWindowSpansKwRowsOfColsWords) {
  golden::GoldenDevice dev;
  // MODE.DW, K = 8 (16-bit: 8 words), ACT_BASE 32: words 32 .. 32 + 8 x 16 - 1 = 159 = lines 8 .. 39; 10
  // busy edges for the 9 accesses below.
  start_tile(dev, 8, 32, 100, true, false, 0);
  EXPECT_FALSE(dev.write(bus_addr(rm::kRegionAct, 0, 7), 1).err);
  EXPECT_TRUE(dev.write(bus_addr(rm::kRegionAct, 0, 8), 1).err);
  EXPECT_EQ(code(dev), rm::kErrBusHazard);
  EXPECT_TRUE(dev.write(bus_addr(rm::kRegionAct, 5, 39), 1).err);
  EXPECT_EQ(code(dev), rm::kErrBusHazard);
  EXPECT_FALSE(dev.write(bus_addr(rm::kRegionAct, 5, 40), 1).err);
  // No BIAS_EN: every bias line is free.
  EXPECT_FALSE(dev.write(bus_addr(rm::kRegionBias, 0, 0), 1).err);
  EXPECT_TRUE(dev.wait(100).done);
}

TEST(Overlap, AcceptedWritesDoNotChangeTheRunningTilesOutputs) {
  // Two devices, the same operands and tile; one gets writes outside the windows while busy.
  const std::uint64_t seed = test::test_seed(41);
  std::mt19937_64 rng(seed);
  golden::GoldenDevice a, b;
  for (golden::GoldenDevice* d : {&a, &b}) {
    std::mt19937_64 r(seed);
    for (std::uint32_t bank = 0; bank < 16; ++bank) {
      for (std::uint32_t line = 0; line < 8; ++line) {
        (void)d->write(bus_addr(rm::kRegionAct, bank, line), r());
        (void)d->write(bus_addr(rm::kRegionWgt, bank, line), r());
      }
      (void)d->write(bus_addr(rm::kRegionBias, bank, 0), r());
    }
    start_tile(*d, 20, 0, 4, false, true, 1);  // ACT lines 0 .. 4, WGT lines 1 .. 5, bias line 0
  }
  std::vector<std::uint64_t> lines(16);
  for (auto& x : lines) x = rng();
  EXPECT_FALSE(b.access_wide(BusOp::kWrite, rm::kRegionAct, 5, lines).err);
  EXPECT_FALSE(b.access_wide(BusOp::kWrite, rm::kRegionWgt, 0, lines).err);
  EXPECT_FALSE(b.access_wide(BusOp::kWrite, rm::kRegionBias, 1, lines).err);
  EXPECT_TRUE(a.wait(100).done);
  EXPECT_TRUE(b.wait(100).done);
  for (std::uint32_t r = 0; r < 16; ++r)
    for (std::uint32_t l = 0; l <= 4; ++l)
      EXPECT_EQ(a.read(bus_addr(rm::kRegionOut, r, l)).rdata, b.read(bus_addr(rm::kRegionOut, r, l)).rdata);
}

TEST(Schedules, SameOutputsOnEveryScheduleAndCyclesExplainedByTheCounters) {
  const std::uint64_t seed = test::test_seed(43);
  dv::LayerGenerator gen(seed, {.max_k = 300, .group_out = {1, 30}});
  // Default geometry and a small non-square one (many m-tiles: the ping-pong halves alternate).
  const golden::DeviceParams geometries[] = {{}, {4, 8, 1024, 1024, 16}};
  int overlapped_layers = 0;
  for (const auto& gp : geometries) {
    golden::GoldenDevice dev(gp);
    driver::Accelerator acc(dev);
    driver::Accelerator fast(acc.hw());
    for (int t = 0; t < 24; ++t) {
      const auto mode = static_cast<golden::Mode>(t % 3);
      const dv::Case c = gen.random_case(mode);
      driver::PreparedLayer p;
      try {
        p = acc.prepare(c.layer);
      } catch (const std::invalid_argument&) {
        continue;  // K does not fit the small banks
      }
      const golden::PackedTensor ref = golden::conv2d(c.layer, c.input);
      driver::Counters by[2][2];  // [transfer][port], golden device
      for (const driver::Transfer tr : {driver::Transfer::kSerial, driver::Transfer::kOverlapped}) {
        for (const driver::Port po : {driver::Port::kLine, driver::Port::kWide}) {
          for (driver::Accelerator* x : {&acc, &fast}) {
            x->set_transfer(tr);
            x->set_port(po);
          }
          const auto d0 = acc.counters(), f0 = fast.counters();
          const golden::PackedTensor out_d = acc.run(p, c.input), out_f = fast.run(p, c.input);
          const auto dd = acc.counters() - d0, df = fast.counters() - f0;
          dv::Scoreboard sb(seed);
          sb.compare("golden device", ref, out_d, {"reference", "golden device"});
          sb.compare("functional", ref, out_f, {"reference", "functional"});
          sb.compare("counters", dd, df, {"golden device", "functional"});
          ASSERT_TRUE(sb.ok()) << t << " " << driver::to_string(tr) << " " << driver::to_string(po) << " "
                               << c.layer.shape.to_string() << "\n"
                               << sb.report();
          by[static_cast<int>(tr)][static_cast<int>(po)] = dd;
        }
      }
      for (int po = 0; po < 2; ++po) {
        const driver::Counters& s = by[0][po];
        const driver::Counters& o = by[1][po];
        // The same beats, tiles and array work; serial transfers never overlap.
        EXPECT_EQ(s.overlap, 0u);
        EXPECT_EQ(o.xfer, s.xfer);
        EXPECT_EQ(o.spad_wr, s.spad_wr);
        EXPECT_EQ(o.spad_rd, s.spad_rd);
        EXPECT_EQ(o.array, s.array);
        EXPECT_EQ(o.tiles, s.tiles);
        // A tile started in the last read of the one before shares two busy edges with it (its DRAIN
        // and output edges), one started later fewer: at most two per tile after the first.
        EXPECT_LE(o.busy, s.busy);
        EXPECT_GE(o.busy + 2 * o.tiles, s.busy + 2) << c.layer.shape.to_string();
        // Every overlapped access takes an edge the serial run spent idle: at least the overlapped
        // beats are saved (and the STARTs that went in while the tile before was busy).
        EXPECT_LE(static_cast<std::int64_t>(o.cycles),
                  static_cast<std::int64_t>(s.cycles) - static_cast<std::int64_t>(o.overlap))
            << c.layer.shape.to_string();
        overlapped_layers += o.overlap > 0 ? 1 : 0;
      }
      for (int tr = 0; tr < 2; ++tr) {
        const driver::Counters& l = by[tr][0];
        const driver::Counters& w = by[tr][1];
        // A wide beat replaces up to rows (or cols) narrow ones and moves a line of every bank.
        EXPECT_LE(w.xfer, l.xfer);
        EXPECT_GE(w.spad_wr, l.spad_wr);
        EXPECT_EQ(w.array, l.array);
        if (tr == 0) {  // serial: the tiles never overlap, one cycle saved per beat
          EXPECT_EQ(w.busy, l.busy);
          EXPECT_EQ(l.cycles - w.cycles, l.xfer - w.xfer) << "serial: one cycle per beat saved";
        }
      }
    }
  }
  EXPECT_GT(overlapped_layers, 4) << "the stimulus overlapped hardly any transfers";
}

TEST(Schedules, PingPongBasesAlternateWhereTwoSlotsFit) {
  driver::HwConfig hw = driver::default_hw_config();
  dv::LayerGenerator gen(3);
  golden::ConvShape s;
  s.in_h = s.in_w = 9, s.in_c = 8, s.out_c = 20, s.k_h = s.k_w = 3, s.pad_top = s.pad_left = 1, s.pad_bottom = 1,
  s.pad_right = 1;
  const golden::Layer l =
      gen.layer(s, golden::Mode::k8, {.bias = dv::Draw::kNever, .channel_shifts = dv::Draw::kNever});
  driver::Accelerator acc(hw);
  const driver::PreparedLayer p = acc.prepare(l);
  // K = 72 8-bit values = 36 words = 9 lines: kw_line 36. 81 pixels: 6 m-tiles of 16 rows, 2 n-tiles.
  ASSERT_EQ(p.kw_line, 36);
  const driver::TilePlan serial =
      driver::plan_tiles(p, hw, driver::DepthwiseMapping::kDwMode, driver::Transfer::kSerial);
  const driver::TilePlan over =
      driver::plan_tiles(p, hw, driver::DepthwiseMapping::kDwMode, driver::Transfer::kOverlapped);
  ASSERT_EQ(serial.tiles.size(), over.tiles.size());
  for (std::size_t i = 0; i < over.tiles.size(); ++i) {
    EXPECT_EQ(serial.tiles[i].act_base, 0);
    EXPECT_EQ(over.tiles[i].act_base, (over.tiles[i].m_tile % 2) * 36) << i;
  }
  // Depthwise (MODE.DW tiles): the halves alternate tile by tile, a slot of kw x Cols words.
  golden::ConvShape d;
  d.in_h = d.in_w = 5, d.in_c = d.out_c = d.groups = 40, d.k_h = d.k_w = 3, d.pad_top = d.pad_left = 1;
  d.pad_bottom = d.pad_right = 1;
  const golden::Layer dl =
      gen.layer(d, golden::Mode::k8, {.bias = dv::Draw::kNever, .channel_shifts = dv::Draw::kNever});
  const driver::PreparedLayer dp = acc.prepare(dl);
  const driver::TilePlan dw =
      driver::plan_tiles(dp, hw, driver::DepthwiseMapping::kDwMode, driver::Transfer::kOverlapped);
  ASSERT_TRUE(dw.dw);
  const int slot = dp.kw * hw.cols;  // 5 words x 16 (K = 9 8-bit taps)
  for (std::size_t i = 0; i < dw.tiles.size(); ++i) EXPECT_EQ(dw.tiles[i].act_base, static_cast<int>(i % 2) * slot);
  // No room for two slots: ACT_BASE 0 as in serial transfers.
  driver::HwConfig tiny = hw;
  tiny.act_words = 64;
  const driver::TilePlan t =
      driver::plan_tiles(p, tiny, driver::DepthwiseMapping::kDwMode, driver::Transfer::kOverlapped);
  for (const auto& x : t.tiles) EXPECT_EQ(x.act_base, 0);
}

TEST(Schedules, NamesRoundTripAndUnknownOnesAreRefused) {
  for (const driver::Transfer t : {driver::Transfer::kSerial, driver::Transfer::kOverlapped})
    EXPECT_EQ(driver::parse_transfer(driver::to_string(t)), t);
  for (const driver::Port p : {driver::Port::kLine, driver::Port::kWide})
    EXPECT_EQ(driver::parse_port(driver::to_string(p)), p);
  EXPECT_THROW((void)driver::parse_transfer("dma"), std::invalid_argument);
  EXPECT_THROW((void)driver::parse_port("burst"), std::invalid_argument);
}

}  // namespace
