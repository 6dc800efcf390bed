// Bus-level tests of the verilated bsa_top: identification, register access rules,
// refused STARTs and bus errors, each with the matching simulation assertion.
#include <gtest/gtest.h>

#include "bitscale/driver/device.hpp"
#include "bitscale/dv/coverage.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "dw_tile_check.hpp"

namespace {

using bitscale::driver::bus_addr;
namespace rm = bitscale::regmap;
using bitscale::driver::BusOp;

std::uint32_t csr(std::uint32_t idx) { return bus_addr(rm::kRegionCsr, 0, idx); }

std::uint64_t err_code(bitscale::rtl::RtlDevice& dev) {
  auto st = dev.access(BusOp::kRead, csr(rm::kRegSTATUS), 0);
  EXPECT_FALSE(st.err);
  return (st.rdata >> rm::kStatusCodeLsb) & 0xff;
}

TEST(RtlBus, IdentificationAndGeometry) {
  bitscale::rtl::RtlDevice dev;
  auto id = dev.access(BusOp::kRead, csr(rm::kRegID), 0);
  EXPECT_FALSE(id.err);
  EXPECT_EQ(id.rdata, rm::kIdValue);
  auto hw = dev.access(BusOp::kRead, csr(rm::kRegHWCFG), 0);
  EXPECT_EQ(hw.rdata & 0xff, 16u);          // rows
  EXPECT_EQ((hw.rdata >> 8) & 0xff, 16u);   // cols
  EXPECT_EQ((hw.rdata >> 16) & 0xff, 13u);  // 8192 act words
  EXPECT_EQ((hw.rdata >> 24) & 0xff, 13u);  // 8192 wgt words
  auto hw2 = dev.access(BusOp::kRead, csr(rm::kRegHWCFG2), 0);
  EXPECT_EQ(hw2.rdata & 0xffff, 256u);
  EXPECT_EQ((hw2.rdata >> 16) & 0xff, rm::kAccW);
  EXPECT_EQ(dev.assertion_failures(), 0u);
}

TEST(RtlBus, ConfigRegistersKeepDocumentedBits) {
  bitscale::rtl::RtlDevice dev;
  const std::uint64_t all = ~0ull;
  struct R {
    std::uint32_t idx;
    std::uint64_t mask;
  };
  for (R r : {R{rm::kRegMODE, 0xFFFF000F} /* MODE [1:0], ZGATE 2, DW 3, BLKSKIP [31:16] */, R{rm::kRegK, 0xffff},
              R{rm::kRegROWS_ACT, 0x1ff}, R{rm::kRegCOLS_ACT, 0x1ff}, R{rm::kRegACT_BASE, 0xffff},
              R{rm::kRegSHIFT, 0x3f}, R{rm::kRegOUT_CFG, 0x1f}, R{rm::kRegCLAMP_HI, 0xffff}, R{rm::kRegIRQ_EN, 0x3}}) {
    EXPECT_FALSE(dev.access(BusOp::kWrite, csr(r.idx), all).err) << rm::reg_name(r.idx);
    EXPECT_EQ(dev.access(BusOp::kRead, csr(r.idx), 0).rdata, r.mask) << rm::reg_name(r.idx);
  }
  EXPECT_EQ(dev.access(BusOp::kRead, csr(rm::kRegCTRL), 0).rdata, 0u);  // write-only reads 0
  EXPECT_EQ(dev.assertion_failures(), 0u);
}

TEST(RtlBus, BusErrorsRaiseErrAndAssertion) {
  bitscale::rtl::RtlDevice dev;
  struct Case {
    bool write;
    std::uint32_t addr;
    std::uint64_t code;
  };
  const Case cases[] = {
      {false, csr(rm::kRegCntLast + 1), rm::kErrBusAddr},          // past the last register
      {false, bus_addr(rm::kRegionCsr, 1, 0), rm::kErrBusAddr},    // CSR region, bank 1
      {true, bus_addr(7, 0, 0), rm::kErrBusAddr},                  // unmapped region
      {true, bus_addr(rm::kRegionAct, 16, 0), rm::kErrBusAddr},    // row 16 of 16
      {true, bus_addr(rm::kRegionAct, 0, 2048), rm::kErrBusAddr},  // line past 8192 words
      {true, bus_addr(rm::kRegionBias, 0, 128), rm::kErrBusAddr},  // line past 256 entries
      {false, bus_addr(rm::kRegionOut, 0, 5), rm::kErrBusAddr},    // 16 cols = 4 lines + the header line
      {true, bus_addr(rm::kRegionOut, 0, 0), rm::kErrBusRo},
      {true, csr(rm::kRegID), rm::kErrBusRo},
      {true, csr(rm::kRegCNT_CYCLES), rm::kErrBusRo},
  };
  std::uint64_t asserts = 0;
  for (const auto& c : cases) {
    auto rsp = dev.access(c.write ? BusOp::kWrite : BusOp::kRead, c.addr, 0x1234);
    EXPECT_TRUE(rsp.err) << std::hex << c.addr;
    EXPECT_EQ(rsp.rdata, 0u);
    EXPECT_EQ(err_code(dev), c.code) << std::hex << c.addr;
    EXPECT_GT(dev.assertion_failures(), asserts) << "no assertion for " << std::hex << c.addr;
    asserts = dev.assertion_failures();
    // w1c clears ERR; the code of the last error stays until a legal START.
    EXPECT_FALSE(dev.access(BusOp::kWrite, csr(rm::kRegSTATUS), 1u << rm::kStatusErr).err);
    EXPECT_EQ(dev.access(BusOp::kRead, csr(rm::kRegSTATUS), 0).rdata, c.code << rm::kStatusCodeLsb);
  }
}

TEST(RtlBus, RefusedStartsSetCodeInDocumentedOrder) {
  bitscale::rtl::RtlDevice dev;
  auto wr = [&](std::uint32_t idx, std::uint64_t v) { ASSERT_FALSE(dev.access(BusOp::kWrite, csr(idx), v).err); };
  auto start_code = [&]() {
    wr(rm::kRegSTATUS, 1u << rm::kStatusErr);
    wr(rm::kRegCTRL, 1u << rm::kCtrlStart);
    auto w = dev.wait(100);
    EXPECT_TRUE(w.err);
    EXPECT_FALSE(w.done);
    return err_code(dev);
  };
  // Everything wrong at once; fix one cause after the other.
  wr(rm::kRegMODE, 3);
  wr(rm::kRegK, 0);
  wr(rm::kRegROWS_ACT, 0);
  wr(rm::kRegCOLS_ACT, 17);
  wr(rm::kRegSHIFT, 48);
  wr(rm::kRegOUT_CFG, 1u << rm::kOutCfgBiasEn);
  wr(rm::kRegBIAS_BASE, 256);
  auto a0 = dev.assertion_failures();
  EXPECT_EQ(start_code(), rm::kErrBadMode);
  wr(rm::kRegMODE, rm::kMode8 | (std::uint64_t{0x0100} << 16));  // BLKSKIP pair (2,0): outside the 8-bit grid
  EXPECT_EQ(start_code(), rm::kErrBadK);
  wr(rm::kRegK, 2 * 8192 + 1);  // one word too many in 8-bit mode
  EXPECT_EQ(start_code(), rm::kErrBadK);
  wr(rm::kRegK, 100);
  wr(rm::kRegACT_BASE, 8192 - 49);  // 50 words from here run past the bank
  EXPECT_EQ(start_code(), rm::kErrBadK);
  wr(rm::kRegACT_BASE, 8192 - 50);
  EXPECT_EQ(start_code(), rm::kErrBadShape);
  wr(rm::kRegROWS_ACT, 16);
  EXPECT_EQ(start_code(), rm::kErrBadShape);
  wr(rm::kRegCOLS_ACT, 16);
  EXPECT_EQ(start_code(), rm::kErrBadShift);
  wr(rm::kRegSHIFT, 47);
  EXPECT_EQ(start_code(), rm::kErrBadBias);
  wr(rm::kRegBIAS_BASE, 255);
  EXPECT_EQ(start_code(), rm::kErrBadApprox);
  EXPECT_GE(dev.assertion_failures(), a0 + 9);
  wr(rm::kRegMODE, rm::kMode8 | (std::uint64_t{0x0033} << 16));  // every 8-bit block pair skipped: legal
  auto a1 = dev.assertion_failures();
  wr(rm::kRegCTRL, 1u << rm::kCtrlStart);
  auto w = dev.wait(1000);
  EXPECT_TRUE(w.done);
  EXPECT_FALSE(w.err);
  EXPECT_EQ(w.cycles, 50u + rm::kBusyOverhead);
  EXPECT_EQ(dev.assertion_failures(), a1);
}

TEST(RtlBus, StartWhileBusyIsRefusedAndTileCompletes) {
  bitscale::rtl::RtlDevice dev;
  auto wr = [&](std::uint32_t idx, std::uint64_t v) { return dev.access(BusOp::kWrite, csr(idx), v); };
  wr(rm::kRegMODE, rm::kMode16);
  wr(rm::kRegK, 64);
  wr(rm::kRegROWS_ACT, 16);
  wr(rm::kRegCOLS_ACT, 16);
  ASSERT_FALSE(wr(rm::kRegCTRL, 1u << rm::kCtrlStart).err);
  auto st = dev.access(BusOp::kRead, csr(rm::kRegSTATUS), 0);
  EXPECT_EQ(st.rdata & 1u, 1u);  // busy
  auto a0 = dev.assertion_failures();
  EXPECT_FALSE(wr(rm::kRegCTRL, 1u << rm::kCtrlStart).err);  // refused, not a bus error
  EXPECT_GT(dev.assertion_failures(), a0);
  EXPECT_TRUE(wr(rm::kRegK, 5).err);                                             // config write while busy
  EXPECT_TRUE(dev.access(BusOp::kRead, bus_addr(rm::kRegionAct, 0, 0), 0).err);  // spad while busy
  // The refusal set ERR; wait returns at once, the tile still completes.
  auto w = dev.wait(1000);
  EXPECT_TRUE(w.err);
  wr(rm::kRegSTATUS, 1u << rm::kStatusErr);
  w = dev.wait(1000);
  EXPECT_TRUE(w.done);
  EXPECT_EQ(dev.access(BusOp::kRead, csr(rm::kRegK), 0).rdata, 64u);
}

}  // namespace

namespace {

TEST(RtlBus, AddressBeyondTheBusIsRefusedByBothBackends) {
  bitscale::rtl::RtlDevice rtl;
  bitscale::golden::GoldenDevice gold;
  EXPECT_THROW(rtl.access(BusOp::kRead, 1u << 24, 0), bitscale::driver::DeviceError);
  EXPECT_THROW(gold.access(BusOp::kRead, 1u << 24, 0), bitscale::driver::DeviceError);
}

}  // namespace

namespace {

// Verilator keeps a per-thread current context: with several devices alive in one thread,
// each must still count its own assertions, and destroying them in any order must not hang.
TEST(RtlBus, SeveralDevicesInOneThread) {
  auto a = std::make_unique<bitscale::rtl::RtlDevice>();
  auto b = std::make_unique<bitscale::rtl::RtlDevice>();
  auto c = std::make_unique<bitscale::rtl::RtlDevice>();
  EXPECT_TRUE(a->access(BusOp::kRead, bus_addr(rm::kRegionAct, 0, 4095), 0).err);  // unmapped line, on a only
  EXPECT_EQ(a->assertion_failures(), 1u);
  EXPECT_EQ(b->assertion_failures(), 0u);
  EXPECT_EQ(c->assertion_failures(), 0u);
  b.reset();  // destroyed while a and c live (and c was constructed last)
  EXPECT_EQ(c->access(BusOp::kRead, csr(rm::kRegID), 0).rdata, rm::kIdValue);
  a.reset();
  EXPECT_EQ(c->access(BusOp::kRead, csr(rm::kRegID), 0).rdata, rm::kIdValue);
  EXPECT_EQ(c->assertion_failures(), 0u);
}

}  // namespace

namespace {

// The bus coverage model (dv::BusCoverage) attributes what crosses the bus as documented: a
// directed sequence on the RTL, every expected hit counted by hand from the register map and the
// tile timing law (a tile is busy ceil(K / lanes) + BUSY_OVERHEAD edges after its START).
TEST(RtlBus, BusCoverageAttributesEachEvent) {
  bitscale::rtl::RtlDevice dev;
  bitscale::dv::BusCoverage cov;
  auto acc = [&](BusOp op, std::uint32_t addr, std::uint64_t v) {
    const auto r = dev.access(op, addr, v);
    cov.sample_access(op, addr, v, r);
    return r;
  };
  auto wr = [&](std::uint32_t idx, std::uint64_t v) { return acc(BusOp::kWrite, csr(idx), v); };
  auto rd = [&](std::uint32_t idx) { return acc(BusOp::kRead, csr(idx), 0); };
  auto wait = [&](std::uint64_t n) {
    const auto r = dev.wait(n);
    cov.sample_wait(n, r);
    return r;
  };
  auto hits = [&](std::string_view point, std::string_view bin) -> std::uint64_t {
    for (const auto& p : cov.points())
      if (p.name == point)
        for (const auto& b : p.bins)
          if (b.name == bin) return b.hits;
    ADD_FAILURE() << "no bin " << point << ": " << bin;
    return 0;
  };
  wr(rm::kRegIRQ_EN, 2);
  wr(rm::kRegMODE, rm::kModeBAD);
  wr(rm::kRegCTRL, 1u << rm::kCtrlStart);  // refused: bad mode
  const auto st0 = rd(rm::kRegSTATUS).rdata;
  EXPECT_EQ(st0 >> rm::kStatusCodeLsb, rm::kErrBadMode);
  cov.sample_irq(dev.irq());
  EXPECT_TRUE(dev.irq());  // ERR with IRQ_EN.ERR
  EXPECT_EQ(hits("start_refused", "mode"), 1u);
  EXPECT_EQ(hits("irq", "err"), 1u);
  EXPECT_EQ(hits("irq_en", "err"), 1u);
  // 8-bit, K = 5: 3 words, busy for 3 + 2 edges after START; the activations end at the bank end,
  // the weights start at word 4097 = 2^12 + 1.
  wr(rm::kRegMODE, rm::kMode8);
  wr(rm::kRegK, 5);
  wr(rm::kRegROWS_ACT, 16);
  wr(rm::kRegCOLS_ACT, 16);
  wr(rm::kRegACT_BASE, 8189);
  wr(rm::kRegWGT_BASE, 4097);
  wr(rm::kRegCTRL, 1u << rm::kCtrlStart);        // edge e0
  EXPECT_FALSE(cov.busy());                      // not known before its STATUS read
  EXPECT_EQ(rd(rm::kRegSTATUS).rdata & 1u, 1u);  // e1: busy
  EXPECT_TRUE(cov.busy());
  EXPECT_FALSE(rd(rm::kRegCNT_CYCLES).err);                                    // e2: a counter mid-tile
  EXPECT_TRUE(wr(rm::kRegK, 7).err);                                           // e3: configuration while busy
  EXPECT_EQ(rd(rm::kRegSTATUS).rdata >> rm::kStatusCodeLsb, rm::kErrBusBusy);  // e4
  EXPECT_TRUE(wait(100).err);                                                  // ERR set: at once
  wr(rm::kRegSTATUS, 1u << rm::kStatusErr);                                    // e5: the last busy edge
  EXPECT_FALSE(cov.busy());
  EXPECT_EQ(cov.tiles_completed(), 1u);
  const auto w = wait(100);
  EXPECT_TRUE(w.done);
  EXPECT_EQ(w.cycles, 0u);                       // the tile ended on e5
  EXPECT_EQ(rd(rm::kRegSTATUS).rdata & 7u, 2u);  // DONE only
  EXPECT_EQ(hits("while_busy", "status_read"), 2u);
  EXPECT_EQ(hits("while_busy", "counter_read"), 1u);
  EXPECT_EQ(hits("while_busy", "config_write"), 1u);
  EXPECT_EQ(hits("bus_error", "busy"), 1u);
  EXPECT_EQ(hits("wait", "err"), 1u);
  EXPECT_EQ(hits("wait", "already_set"), 1u);
  EXPECT_EQ(hits("status_w1c", "err"), 1u);
  EXPECT_EQ(hits("tile_mode", "8-bit"), 1u);
  EXPECT_EQ(hits("recovery", "after_refused_start"), 1u);
  EXPECT_EQ(hits("act_base_align", "ends_at_bank_end"), 1u);
  EXPECT_EQ(hits("wgt_base_align", "1"), 1u);
  EXPECT_EQ(hits("wgt_base_bit", "12"), 1u);
  EXPECT_EQ(hits("wgt_base_bit", "11"), 0u);
  EXPECT_EQ(hits("act_base_bit", "1"), 0u);  // 8189 = 0b1111111111101
  EXPECT_EQ(hits("act_base_bit", "12"), 1u);
  const auto errs = cov.errors_by_code();
  EXPECT_EQ(errs[rm::kErrBadMode], 1u);
  EXPECT_EQ(errs[rm::kErrBusBusy], 1u);
  // The bins above, act_base_bit 0 and 2..12, wgt_base_bit 0 and 12, and no other: 28.
  EXPECT_EQ(cov.hit(), 28u) << cov.report();
}

}  // namespace

// ---- MODE.DW (docs/NUMERICS.md "Depthwise mode") ----

TEST(RtlBus, DwStartRefusals) {
  bitscale::rtl::RtlDevice dev;
  bitscale::test::check_dw_refusals(dev, 16, 8192);
  bitscale::golden::GoldenDevice golden;
  bitscale::test::check_dw_refusals(golden, 16, 8192);
}

// A DW tile on the RTL equals the spec's formula and the golden device, outputs and counters, in
// every mode, at the default geometry and at every other verilated one.
TEST(RtlBus, DwTileEqualsSpecAndGolden) {
  struct ModeCase {
    std::uint32_t code;
    int bits, lanes;
  };
  for (const auto& g : bitscale::rtl::rtl_geometries()) {
    auto rtl = bitscale::rtl::make_rtl_device(g);
    bitscale::golden::GoldenDevice golden(bitscale::golden::DeviceParams{.rows = g.rows, .cols = g.cols});
    for (const ModeCase m : {ModeCase{rm::kMode16, 16, 1}, ModeCase{rm::kMode8, 8, 2}, ModeCase{rm::kMode4, 4, 4}}) {
      for (const int k : {1, 3, 9, 25}) {
        bitscale::test::DwTileCase t;
        t.array_rows = g.rows, t.array_cols = g.cols;
        t.mode_code = m.code, t.bits = m.bits, t.lanes = m.lanes;
        t.k = k;
        t.rows = k % 2 ? g.rows : g.rows - 1;
        t.cols = k == 9 ? g.cols - 1 : g.cols;
        t.act_base = g.cols * (k + 2);
        t.seed = static_cast<std::uint32_t>(31 * k + m.bits);
        SCOPED_TRACE(::testing::Message() << m.bits << "-bit, " << g.rows << "x" << g.cols << ", K " << k);
        const auto out_rtl = bitscale::test::check_dw_tile(*rtl, t);
        const auto out_golden = bitscale::test::check_dw_tile(golden, t);
        EXPECT_EQ(out_rtl, out_golden);
      }
    }
    for (std::uint32_t i = rm::kRegCntFirst; i <= rm::kRegCntLast; ++i) {
      if (i == rm::kRegCNT_CYCLES) continue;  // both saw the same accesses, but construction differs
      EXPECT_EQ(rtl->access(BusOp::kRead, csr(i), 0).rdata, golden.access(BusOp::kRead, csr(i), 0).rdata)
          << rm::reg_name(i);
    }
    EXPECT_EQ(rtl->assertion_failures(), 0u);
  }
}
