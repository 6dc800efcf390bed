// GoldenDevice against docs/ARCHITECTURE.md: registers, bus errors, START checks, tile timing,
// counters, and tiles computed through raw bus accesses checked with the reference convolution.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/group_code.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "dw_tile_check.hpp"
#include "test_seed.hpp"

namespace bitscale::golden {
namespace {

namespace rm = bitscale::regmap;
using driver::bus_addr;
using driver::BusOp;

constexpr Mode kModes[] = {Mode::k16, Mode::k8, Mode::k4};

using bitscale::test::test_seed;

std::uint64_t bit(std::uint32_t b) { return std::uint64_t{1} << b; }

/// Bus helper that counts edges and scratchpad line accesses.
struct Bus {
  explicit Bus(const DeviceParams& p = {}) : params(p), dev(p) {}
  DeviceParams params;
  GoldenDevice dev;
  std::uint64_t edges = 0;        ///< edges so far
  std::uint64_t line_reads = 0;   ///< successful scratchpad line reads
  std::uint64_t line_writes = 0;  ///< successful scratchpad line writes

  driver::BusResponse access(BusOp op, std::uint32_t addr, std::uint64_t data) {
    const bool write = op == BusOp::kWrite;
    ++edges;
    const driver::BusResponse r = dev.access(op, addr, data);
    if (!r.err && (addr >> rm::kAddrRegionLsb) != rm::kRegionCsr) ++(write ? line_writes : line_reads);
    return r;
  }
  std::uint64_t rd(std::uint32_t index) {
    const driver::BusResponse r = access(BusOp::kRead, bus_addr(rm::kRegionCsr, 0, index), 0);
    EXPECT_FALSE(r.err) << "read " << rm::reg_name(index);
    return r.rdata;
  }
  void wr(std::uint32_t index, std::uint64_t v) {
    const driver::BusResponse r = access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, index), v);
    EXPECT_FALSE(r.err) << "write " << rm::reg_name(index);
  }
  std::uint64_t status() { return rd(rm::kRegSTATUS); }
  std::uint64_t line_rd(std::uint32_t region, int bank, int line) {
    const driver::BusResponse r =
        access(BusOp::kRead, bus_addr(region, static_cast<std::uint32_t>(bank), static_cast<std::uint32_t>(line)), 0);
    EXPECT_FALSE(r.err) << "read line " << region << "/" << bank << "/" << line;
    return r.rdata;
  }
  void line_wr(std::uint32_t region, int bank, int line, std::uint64_t v) {
    const driver::BusResponse r =
        access(BusOp::kWrite, bus_addr(region, static_cast<std::uint32_t>(bank), static_cast<std::uint32_t>(line)), v);
    EXPECT_FALSE(r.err) << "write line " << region << "/" << bank << "/" << line;
  }
  driver::WaitResult wait(std::uint64_t max) {
    const driver::WaitResult r = dev.wait(max);
    edges += r.cycles;
    return r;
  }
};

std::uint32_t code_of(std::uint64_t status) {
  return static_cast<std::uint32_t>((status >> rm::kStatusCodeLsb) & 0xFF);
}
bool busy_of(std::uint64_t status) { return (status & bit(rm::kStatusBusy)) != 0; }
bool done_of(std::uint64_t status) { return (status & bit(rm::kStatusDone)) != 0; }
bool err_of(std::uint64_t status) { return (status & bit(rm::kStatusErr)) != 0; }

struct TileCfg {
  Mode mode = Mode::k16;
  int k = 1, rows = 1, cols = 1;
  int act_base = 0, wgt_base = 0, bias_base = 0;
  bool bias_en = false, relu = false, clamp = false;
  int shift = 0;
  std::int16_t clamp_hi = 0;
  [[nodiscard]] int kw() const { return (k + lanes(mode) - 1) / lanes(mode); }
};

void configure(Bus& bus, const TileCfg& t) {
  bus.wr(rm::kRegMODE, static_cast<std::uint64_t>(t.mode));
  bus.wr(rm::kRegK, static_cast<std::uint64_t>(t.k));
  bus.wr(rm::kRegROWS_ACT, static_cast<std::uint64_t>(t.rows));
  bus.wr(rm::kRegCOLS_ACT, static_cast<std::uint64_t>(t.cols));
  bus.wr(rm::kRegACT_BASE, static_cast<std::uint64_t>(t.act_base));
  bus.wr(rm::kRegWGT_BASE, static_cast<std::uint64_t>(t.wgt_base));
  bus.wr(rm::kRegBIAS_BASE, static_cast<std::uint64_t>(t.bias_base));
  bus.wr(rm::kRegSHIFT, static_cast<std::uint64_t>(t.shift));
  bus.wr(rm::kRegOUT_CFG, (t.bias_en ? bit(rm::kOutCfgBiasEn) : 0) | (t.relu ? bit(rm::kOutCfgRelu) : 0) |
                              (t.clamp ? bit(rm::kOutCfgClampEn) : 0));
  bus.wr(rm::kRegCLAMP_HI, static_cast<std::uint16_t>(t.clamp_hi));
}

void start(Bus& bus, bool clear = false) {
  bus.wr(rm::kRegCTRL, bit(rm::kCtrlStart) | (clear ? bit(rm::kCtrlClear) : 0));
}

/// Runs a legal tile to completion (checks the wait result).
void run(Bus& bus) {
  start(bus);
  const driver::WaitResult w = bus.wait(1'000'000);
  ASSERT_TRUE(w.done);
  ASSERT_FALSE(w.err);
}

/// Host-side mirror of the 16-bit words of one bank.
struct BankImage {
  std::vector<std::uint16_t> words;
  /// Writes the lines covering words [first, first + n) over the bus.
  void write_lines(Bus& bus, std::uint32_t region, int bank, int first, int n) const {
    for (int l = first / 4; l <= (first + n - 1) / 4; ++l) {
      std::uint64_t v = 0;
      for (int i = 0; i < 4; ++i) v |= std::uint64_t{words[static_cast<std::size_t>(4 * l + i)]} << (16 * i);
      bus.line_wr(region, bank, l, v);
    }
  }
};

std::int32_t rand_value(std::mt19937_64& rng, Mode m) {
  switch (rng() % 6) {
    case 0:
      return min_value(m);
    case 1:
      return max_value(m);
    default:
      return std::uniform_int_distribution<std::int32_t>(min_value(m), max_value(m))(rng);
  }
}

/// Every 64-bit line of the output scratchpad.
std::vector<std::uint64_t> read_out(Bus& bus) {
  std::vector<std::uint64_t> v;
  for (int r = 0; r < bus.params.rows; ++r)
    for (int l = 0; l < bus.params.cols / 4; ++l) v.push_back(bus.line_rd(rm::kRegionOut, r, l));
  return v;
}

TEST(GoldenDevice, IdAndHwcfg) {
  Bus bus;
  EXPECT_EQ(bus.dev.name(), "golden");
  EXPECT_EQ(bus.rd(rm::kRegID), 0xB5A10001u);
  EXPECT_EQ(bus.rd(rm::kRegHWCFG), 16u | 16u << 8 | 13u << 16 | 13u << 24);
  EXPECT_EQ(bus.rd(rm::kRegHWCFG2), 256u | 48u << 16);
  Bus small(DeviceParams{.rows = 4, .cols = 8, .act_words = 1024, .wgt_words = 2048, .bias_entries = 64});
  EXPECT_EQ(small.rd(rm::kRegID), rm::kIdValue);
  EXPECT_EQ(small.rd(rm::kRegHWCFG), 4u | 8u << 8 | 10u << 16 | 11u << 24);
  EXPECT_EQ(small.rd(rm::kRegHWCFG2), 64u | 48u << 16);
  EXPECT_EQ(small.rd(rm::kRegCTRL), 0u);
  EXPECT_EQ(small.rd(rm::kRegSTATUS), 0u);
  EXPECT_THROW(GoldenDevice(DeviceParams{.cols = 6}), std::invalid_argument);
  EXPECT_THROW(GoldenDevice(DeviceParams{.rows = 0}), std::invalid_argument);
  EXPECT_THROW(GoldenDevice(DeviceParams{.act_words = 1000}), std::invalid_argument);
  EXPECT_THROW(GoldenDevice(DeviceParams{.bias_entries = 3}), std::invalid_argument);
}

TEST(GoldenDevice, ConfigRegistersKeepDocumentedBits) {
  Bus bus;
  const std::pair<std::uint32_t, std::uint64_t> masks[] = {
      {rm::kRegIRQ_EN, 0x3},     {rm::kRegMODE, 0xFFFF000F}, {rm::kRegK, 0xFFFF},        {rm::kRegROWS_ACT, 0x1FF},
      {rm::kRegCOLS_ACT, 0x1FF}, {rm::kRegACT_BASE, 0xFFFF}, {rm::kRegWGT_BASE, 0xFFFF}, {rm::kRegBIAS_BASE, 0xFFFF},
      {rm::kRegSHIFT, 0x3F},     {rm::kRegOUT_CFG, 0x1F},    {rm::kRegCLAMP_HI, 0xFFFF}};
  for (const auto& [index, mask] : masks) {
    EXPECT_EQ(bus.rd(index), 0u) << rm::reg_name(index) << " resets to 0";
    bus.wr(index, ~std::uint64_t{0});
    EXPECT_EQ(bus.rd(index), mask) << rm::reg_name(index);
    bus.wr(index, 0x5555'5555'5555'5555u);
    EXPECT_EQ(bus.rd(index), 0x5555'5555'5555'5555u & mask) << rm::reg_name(index);
  }
  bus.wr(rm::kRegCTRL, 0);  // neither START nor CLEAR: nothing happens
  EXPECT_EQ(bus.rd(rm::kRegCTRL), 0u);
  EXPECT_EQ(bus.status(), 0u);
}

/// Expects `resp` to be a failed access with `code`, then clears STATUS.ERR.
void expect_bus_error(Bus& bus, const driver::BusResponse& resp, std::uint32_t code, const std::string& what) {
  EXPECT_TRUE(resp.err) << what;
  EXPECT_EQ(resp.rdata, 0u) << what;
  const std::uint64_t st = bus.status();
  EXPECT_TRUE(err_of(st)) << what;
  EXPECT_EQ(code_of(st), code) << what << ": " << rm::err_text(code_of(st));
  bus.wr(rm::kRegSTATUS, bit(rm::kStatusErr));
  EXPECT_FALSE(err_of(bus.status())) << what;
}

TEST(GoldenDevice, BusErrorsWhileIdle) {
  Bus bus;  // 16x16, 2048 act/wgt lines, 128 bias lines, 4 output lines per row
  struct Case {
    bool write;
    std::uint32_t addr;
    std::uint32_t code;
    const char* what;
  };
  const Case cases[] = {
      {false, bus_addr(5, 0, 0), rm::kErrBusAddr, "read region 5"},
      {true, bus_addr(15, 0, 0), rm::kErrBusAddr, "write region 15"},
      {false, bus_addr(rm::kRegionCsr, 1, 0), rm::kErrBusAddr, "CSR bank 1"},
      {false, bus_addr(rm::kRegionCsr, 0, rm::kRegCntLast + 1), rm::kErrBusAddr, "CSR index past the last counter"},
      {true, bus_addr(rm::kRegionCsr, 0, 0xFFF), rm::kErrBusAddr, "CSR write index 0xFFF"},
      {true, bus_addr(rm::kRegionCsr, 1, rm::kRegID), rm::kErrBusAddr, "write ID in CSR bank 1 (address first)"},
      {false, bus_addr(rm::kRegionAct, 16, 0), rm::kErrBusAddr, "ACT bank 16"},
      {true, bus_addr(rm::kRegionAct, 0, 2048), rm::kErrBusAddr, "ACT line 2048"},
      {false, bus_addr(rm::kRegionWgt, 16, 0), rm::kErrBusAddr, "WGT bank 16"},
      {true, bus_addr(rm::kRegionWgt, 3, 2048), rm::kErrBusAddr, "WGT line 2048"},
      {false, bus_addr(rm::kRegionBias, 16, 0), rm::kErrBusAddr, "BIAS bank 16"},
      {true, bus_addr(rm::kRegionBias, 0, 128), rm::kErrBusAddr, "BIAS line 128"},
      {false, bus_addr(rm::kRegionOut, 16, 0), rm::kErrBusAddr, "OUT bank 16"},
      {false, bus_addr(rm::kRegionOut, 0, 5), rm::kErrBusAddr, "OUT line 5 (past the header line 4)"},
      {true, bus_addr(rm::kRegionOut, 0, 5), rm::kErrBusAddr, "OUT write line 5 (address first)"},
      {true, bus_addr(rm::kRegionOut, 0, 4), rm::kErrBusRo, "OUT write of the header line"},
      {true, bus_addr(rm::kRegionOut, 0, 0), rm::kErrBusRo, "OUT write"},
      {true, bus_addr(rm::kRegionCsr, 0, rm::kRegID), rm::kErrBusRo, "write ID"},
      {true, bus_addr(rm::kRegionCsr, 0, rm::kRegHWCFG), rm::kErrBusRo, "write HWCFG"},
      {true, bus_addr(rm::kRegionCsr, 0, rm::kRegHWCFG2), rm::kErrBusRo, "write HWCFG2"},
  };
  for (const Case& c : cases)
    expect_bus_error(bus, bus.access(c.write ? BusOp::kWrite : BusOp::kRead, c.addr, ~std::uint64_t{0}), c.code,
                     c.what);
  for (std::uint32_t i = rm::kRegCNT_CYCLES; i <= rm::kRegCntLast; ++i) {
    expect_bus_error(bus, bus.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, i), 0), rm::kErrBusRo,
                     std::string("write ") + std::string(rm::reg_name(i)));
  }
  // The last line of every region is mapped.
  for (std::uint32_t region : {rm::kRegionAct, rm::kRegionWgt, rm::kRegionBias, rm::kRegionOut}) {
    const int last = region == rm::kRegionBias ? 127 : region == rm::kRegionOut ? 4 : 2047;  // OUT: the header line
    EXPECT_FALSE(bus.access(BusOp::kRead, bus_addr(region, 15, static_cast<std::uint32_t>(last)), 0).err) << region;
  }
  EXPECT_FALSE(err_of(bus.status()));
  // A failed access changes nothing else: the OUT line and the registers keep their values.
  EXPECT_EQ(bus.line_rd(rm::kRegionOut, 0, 0), 0u);
  EXPECT_EQ(bus.rd(rm::kRegID), rm::kIdValue);
  EXPECT_EQ(bus.rd(rm::kRegCNT_TILES), 0u);
  // A failed read returns 0 even where a register would answer (ID at bank 1).
  expect_bus_error(bus, bus.access(BusOp::kRead, bus_addr(rm::kRegionCsr, 1, rm::kRegID), 0), rm::kErrBusAddr,
                   "ID bank 1");
}

TEST(GoldenDevice, BusErrorsWhileBusy) {
  Bus bus;
  bus.line_wr(rm::kRegionAct, 0, 0, 0x1111);
  bus.line_wr(rm::kRegionWgt, 0, 0, 0x2222);
  TileCfg t;
  t.k = 3000;  // 16-bit: busy for 3002 edges
  t.rows = 2, t.cols = 3;
  configure(bus, t);
  start(bus);
  ASSERT_TRUE(busy_of(bus.status()));
  struct Case {
    bool write;
    std::uint32_t addr;
    std::uint32_t code;
    const char* what;
  };
  const Case cases[] = {
      {false, bus_addr(rm::kRegionAct, 0, 0), rm::kErrBusBusy, "ACT read while busy"},
      // K = 3000 16-bit words from base 0: the tile reads ACT and WGT lines 0 .. 749 (3000 / 4 - 1), in any
      // bank; a write there is a hazard, one line further goes ahead (below).
      {true, bus_addr(rm::kRegionAct, 0, 0), rm::kErrBusHazard, "ACT write into the tile's window"},
      {true, bus_addr(rm::kRegionAct, 15, 749), rm::kErrBusHazard, "ACT write, last line of the window, other bank"},
      {true, bus_addr(rm::kRegionWgt, 0, 0), rm::kErrBusHazard, "WGT write into the tile's window"},
      {true, bus_addr(rm::kRegionWgt, 7, 749), rm::kErrBusHazard, "WGT write, last line of the window"},
      {false, bus_addr(rm::kRegionBias, 2, 5), rm::kErrBusBusy, "BIAS read while busy"},
      {true, bus_addr(rm::kRegionOut, 0, 0), rm::kErrBusRo, "OUT write while busy (read-only first)"},
      {true, bus_addr(rm::kRegionOut, 0, 9), rm::kErrBusAddr, "OUT bad line while busy (address first)"},
      {false, bus_addr(rm::kRegionAct, 200, 0), rm::kErrBusAddr, "ACT bad bank while busy (address first)"},
      {true, bus_addr(rm::kRegionCsr, 0, rm::kRegID), rm::kErrBusRo, "write ID while busy"},
  };
  for (const Case& c : cases)
    expect_bus_error(bus, bus.access(c.write ? BusOp::kWrite : BusOp::kRead, c.addr, 0xFFFF), c.code, c.what);
  // Every register by its access type  // Writes outside the windows go ahead while busy (overlapped transfers): the
  // next line of ACT and WGT, and BIAS (no BIAS_EN: the tile reads no bias).
  EXPECT_FALSE(bus.access(BusOp::kWrite, bus_addr(rm::kRegionAct, 3, 750), 0x3333).err);
  EXPECT_FALSE(bus.access(BusOp::kWrite, bus_addr(rm::kRegionWgt, 3, 750), 0x4444).err);
  EXPECT_FALSE(bus.access(BusOp::kWrite, bus_addr(rm::kRegionBias, 0, 0), 0x5555).err);
  EXPECT_FALSE(err_of(bus.status()));
  // Every register by its access type in rtl/bsa_regs.def: ro refuses writes (busy or not),
  // rw (configuration) refuses writes while busy; the map has no holes up to the counters.
  int ro = 0, rw = 0;
  for (std::uint32_t i = 0; i <= rm::kRegCntLast; ++i) {
    ASSERT_NE(rm::reg_access(i), rm::Access::kNone) << "register " << i;
    if (rm::reg_access(i) != rm::Access::kRo) continue;
    ++ro;
    expect_bus_error(bus, bus.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, i), 0), rm::kErrBusRo,
                     std::string("write ") + std::string(rm::reg_name(i)) + " (ro) while busy");
  }
  EXPECT_EQ(ro, 3 + static_cast<int>(rm::kNumCounters));  // ID, HWCFG, HWCFG2 and the counters
  for (std::uint32_t i = 0; i <= rm::kRegCntLast; ++i) {
    if (rm::reg_access(i) != rm::Access::kRw) continue;
    ++rw;
    const std::uint64_t before = bus.rd(i);  // reading a register while busy is fine
    expect_bus_error(bus, bus.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, i), before ^ 1), rm::kErrBusBusy,
                     std::string("write ") + std::string(rm::reg_name(i)) + " while busy");
    EXPECT_EQ(bus.rd(i), before) << rm::reg_name(i) << " changed by a refused write";
  }
  EXPECT_EQ(rw, static_cast<int>(rm::kRegCLAMP_HI - rm::kRegIRQ_EN + 1));  // IRQ_EN .. CLAMP_HI
  // CTRL and STATUS are not configuration registers: writing them while busy is legal.
  EXPECT_FALSE(bus.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, rm::kRegCTRL), 0).err);
  EXPECT_FALSE(bus.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, rm::kRegSTATUS), bit(rm::kStatusBusy)).err);
  EXPECT_TRUE(busy_of(bus.status())) << "BUSY is read-only";
  EXPECT_FALSE(bus.access(BusOp::kRead, bus_addr(rm::kRegionCsr, 0, rm::kRegCNT_CYCLES), 0).err);
  const driver::WaitResult w = bus.wait(10'000);
  EXPECT_TRUE(w.done);
  // The refused scratchpad writes changed nothing.
  EXPECT_EQ(bus.line_rd(rm::kRegionAct, 0, 0), 0x1111u);
  EXPECT_EQ(bus.line_rd(rm::kRegionWgt, 0, 0), 0x2222u);
  EXPECT_EQ(bus.line_rd(rm::kRegionAct, 15, 749), 0u);
  // The ones that went ahead landed.
  EXPECT_EQ(bus.line_rd(rm::kRegionAct, 3, 750), 0x3333u);
  EXPECT_EQ(bus.line_rd(rm::kRegionWgt, 3, 750), 0x4444u);
  EXPECT_EQ(bus.line_rd(rm::kRegionBias, 0, 0), 0x5555u);
}

TEST(GoldenDevice, StartRefusalsInOrder) {
  Bus bus;
  TileCfg t;
  t.k = 10, t.rows = 16, t.cols = 16;
  configure(bus, t);
  start(bus);
  // START while busy: refused without a bus error; the running tile goes on.
  const driver::BusResponse again =
      bus.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, rm::kRegCTRL), bit(rm::kCtrlStart));
  EXPECT_FALSE(again.err);
  std::uint64_t st = bus.status();
  EXPECT_TRUE(busy_of(st));
  EXPECT_TRUE(err_of(st));
  EXPECT_EQ(code_of(st), rm::kErrStartBusy);
  EXPECT_TRUE(bus.wait(1000).err);  // ERR is already set: wait returns at once
  bus.wr(rm::kRegSTATUS, bit(rm::kStatusErr));
  const driver::WaitResult w = bus.wait(1000);
  EXPECT_TRUE(w.done);
  EXPECT_EQ(bus.rd(rm::kRegCNT_TILES), 1u);

  // Every check fails at once; fixing them one by one walks the documented order.
  bus.wr(rm::kRegMODE, 3);
  bus.wr(rm::kRegK, 0);
  bus.wr(rm::kRegROWS_ACT, 0);
  bus.wr(rm::kRegSHIFT, 48);
  bus.wr(rm::kRegOUT_CFG, bit(rm::kOutCfgBiasEn));
  bus.wr(rm::kRegBIAS_BASE, 256);
  const auto expect_refused = [&](std::uint32_t code, const char* what) {
    const std::uint64_t rd_before = bus.rd(rm::kRegCNT_SPAD_RD);
    const driver::BusResponse r =
        bus.access(BusOp::kWrite, bus_addr(rm::kRegionCsr, 0, rm::kRegCTRL), bit(rm::kCtrlStart));
    EXPECT_FALSE(r.err) << what;
    const std::uint64_t s = bus.status();
    EXPECT_FALSE(busy_of(s)) << what;
    EXPECT_TRUE(done_of(s)) << what << ": DONE of the previous tile unchanged";
    EXPECT_TRUE(err_of(s)) << what;
    EXPECT_EQ(code_of(s), code) << what;
    EXPECT_EQ(bus.rd(rm::kRegCNT_SPAD_RD), rd_before) << what << ": no bias read";
    EXPECT_EQ(bus.rd(rm::kRegCNT_TILES), 1u) << what;
  };
  expect_refused(rm::kErrBadMode, "MODE 3");
  bus.wr(rm::kRegMODE, rm::kMode4 | (std::uint64_t{0x2} << 16));  // BLKSKIP bit 1: outside the 4-bit grid
  expect_refused(rm::kErrBadK, "K 0");
  bus.wr(rm::kRegK, 4 * 8192 + 1);  // KW = 8193 words > 8192
  expect_refused(rm::kErrBadK, "K too long");
  bus.wr(rm::kRegK, 4 * 100);
  bus.wr(rm::kRegACT_BASE, 8192 - 99);  // 8093 + 100 > 8192
  expect_refused(rm::kErrBadK, "ACT_BASE + KW past the bank");
  bus.wr(rm::kRegACT_BASE, 8192 - 100);  // exactly fits
  bus.wr(rm::kRegWGT_BASE, 8192 - 99);
  expect_refused(rm::kErrBadK, "WGT_BASE + KW past the bank");
  bus.wr(rm::kRegWGT_BASE, 8192 - 100);
  expect_refused(rm::kErrBadShape, "ROWS_ACT 0");
  bus.wr(rm::kRegROWS_ACT, 17);
  expect_refused(rm::kErrBadShape, "ROWS_ACT 17");
  bus.wr(rm::kRegROWS_ACT, 16);
  bus.wr(rm::kRegCOLS_ACT, 0);
  expect_refused(rm::kErrBadShape, "COLS_ACT 0");
  bus.wr(rm::kRegCOLS_ACT, 17);
  expect_refused(rm::kErrBadShape, "COLS_ACT 17");
  bus.wr(rm::kRegCOLS_ACT, 16);
  expect_refused(rm::kErrBadShift, "SHIFT 48");
  bus.wr(rm::kRegSHIFT, 63);
  expect_refused(rm::kErrBadShift, "SHIFT 63");
  bus.wr(rm::kRegSHIFT, 47);
  expect_refused(rm::kErrBadBias, "BIAS_BASE 256");
  bus.wr(rm::kRegOUT_CFG, 0);  // BIAS_BASE is only checked with BIAS_EN
  expect_refused(rm::kErrBadApprox, "BLKSKIP 0x2 in 4-bit mode");
  bus.wr(rm::kRegMODE, rm::kMode4 | (std::uint64_t{0x1} << 16));  // skipping the only block pair is legal
  start(bus);
  st = bus.status();
  EXPECT_TRUE(busy_of(st));
  EXPECT_FALSE(done_of(st)) << "a legal START clears DONE";
  EXPECT_FALSE(err_of(st)) << "a legal START clears ERR";
  EXPECT_EQ(code_of(st), rm::kErrNone) << "a legal START clears ERR_CODE";
  EXPECT_TRUE(bus.wait(1000).done);
  bus.wr(rm::kRegOUT_CFG, bit(rm::kOutCfgBiasEn));
  bus.wr(rm::kRegBIAS_BASE, 255);
  start(bus);
  EXPECT_TRUE(bus.wait(1000).done);
  EXPECT_EQ(bus.rd(rm::kRegCNT_TILES), 3u);
}

TEST(GoldenDevice, TileTiming) {
  for (Mode m : kModes) {
    for (int k : {1, 2, 3, 4, 5, 7, 8, 9, 33, 100}) {
      Bus bus;
      TileCfg t;
      t.mode = m, t.k = k, t.rows = 3, t.cols = 5;
      configure(bus, t);
      start(bus);
      // STATUS reads see BUSY for KW + 2 edges after the START edge, then DONE.
      int busy_reads = 0;
      std::uint64_t st = 0;
      while (busy_of(st = bus.status())) {
        EXPECT_FALSE(done_of(st));
        ++busy_reads;
        ASSERT_LT(busy_reads, 100000);
      }
      EXPECT_EQ(busy_reads, t.kw() + 2) << to_string(m) << " K " << k;
      EXPECT_TRUE(done_of(st));
      EXPECT_FALSE(err_of(st));
      EXPECT_EQ(bus.rd(rm::kRegCNT_BUSY), static_cast<std::uint64_t>(t.kw() + 2));
      EXPECT_EQ(bus.rd(rm::kRegCNT_ARRAY), static_cast<std::uint64_t>(t.kw()));
      // wait() right after START takes exactly KW + 2 edges.
      start(bus);
      const driver::WaitResult w = bus.wait(100000);
      EXPECT_EQ(w.cycles, static_cast<std::uint64_t>(t.kw() + 2));
      EXPECT_TRUE(w.done);
      EXPECT_FALSE(w.err);
    }
  }
}

// docs/ARCHITECTURE.md "A tile, cycle by cycle", back-to-back tiles: a second START, carrying its
// bases (CTRL.LOAD), at edge e_j of a running tile of KW words is refused before its last read
// (j < KW) and accepted from it on; the first tile's outputs are written at its e(KW+2) and stay
// readable until the second's output edge, DONE waits for the second, and the busy edges overlap.
// Two one-PE 16-bit tiles of K = 4: activations 1 2 3 4, then 5 6 7 8, weights 1: outputs 10 and 26.
TEST(GoldenDevice, BackToBackTilesFromTheLastRead) {
  constexpr int kw = 4;
  for (int j = kw - 1; j <= kw + 2; ++j) {
    SCOPED_TRACE(fmt::format("second START at e{}", j));
    Bus bus;
    TileCfg t;
    t.k = kw;
    configure(bus, t);
    bus.line_wr(rm::kRegionAct, 0, 0, 0x0004'0003'0002'0001ull);
    bus.line_wr(rm::kRegionAct, 0, 1, 0x0008'0007'0006'0005ull);
    bus.line_wr(rm::kRegionWgt, 0, 0, 0x0001'0001'0001'0001ull);
    bus.wr(rm::kRegCTRL, bit(rm::kCtrlStart) | bit(rm::kCtrlClear));  // e0, the counters cleared
    const std::uint64_t e0 = bus.edges;
    const driver::WaitResult w1 = bus.wait(static_cast<std::uint64_t>(j - 1));
    ASSERT_EQ(w1.cycles, static_cast<std::uint64_t>(j - 1));
    ASSERT_FALSE(w1.done || w1.err);
    bus.wr(rm::kRegCTRL, bit(rm::kCtrlStart) | bit(rm::kCtrlLoad) | rm::kCtrlActBaseField.of(4));  // e_j
    const std::uint64_t st = bus.status();
    EXPECT_TRUE(busy_of(st));
    EXPECT_FALSE(done_of(st));
    if (j < kw) {
      EXPECT_TRUE(err_of(st));
      EXPECT_EQ(code_of(st), rm::kErrStartBusy);
      EXPECT_EQ(bus.rd(rm::kRegACT_BASE), 0u) << "the bases of a refused START are not kept";
      continue;
    }
    EXPECT_FALSE(err_of(st));
    EXPECT_EQ(bus.rd(rm::kRegACT_BASE), 4u);
    // Edge e(j+3) >= e(KW+3): the first tile's output.
    EXPECT_EQ(bus.line_rd(rm::kRegionOut, 0, 0) & 0xFFFF, 10u);
    const driver::WaitResult w2 = bus.wait(1000);
    EXPECT_TRUE(w2.done);
    EXPECT_EQ(bus.edges, e0 + static_cast<std::uint64_t>(j + kw + 2)) << "the second tile ends at e(j+KW+2)";
    EXPECT_EQ(bus.line_rd(rm::kRegionOut, 0, 0) & 0xFFFF, 26u);
    EXPECT_EQ(bus.rd(rm::kRegCNT_TILES), 2u);
    EXPECT_EQ(bus.rd(rm::kRegCNT_ARRAY), static_cast<std::uint64_t>(2 * kw));
    EXPECT_EQ(bus.rd(rm::kRegCNT_BUSY), static_cast<std::uint64_t>(j + kw + 2)) << "e1 .. e(j+KW+2)";
  }
}

TEST(GoldenDevice, WaitSemantics) {
  Bus bus;
  driver::WaitResult w = bus.wait(17);  // idle, no flag: the watchdog expires
  EXPECT_EQ(w.cycles, 17u);
  EXPECT_FALSE(w.done);
  EXPECT_FALSE(w.err);
  EXPECT_EQ(bus.rd(rm::kRegCNT_CYCLES), 17u);  // wait cycles are edges
  EXPECT_EQ(bus.wait(0).cycles, 0u);
  TileCfg t;
  t.k = 20, t.rows = 1, t.cols = 1;
  configure(bus, t);
  start(bus);
  w = bus.wait(5);
  EXPECT_EQ(w.cycles, 5u);
  EXPECT_FALSE(w.done);
  EXPECT_FALSE(w.err);
  w = bus.wait(1000);
  EXPECT_EQ(w.cycles, 22u - 5u);
  EXPECT_TRUE(w.done);
  w = bus.wait(1000);  // DONE already set: returns at once
  EXPECT_EQ(w.cycles, 0u);
  EXPECT_TRUE(w.done);
  // Tile ending exactly at the last allowed edge.
  start(bus);
  w = bus.wait(22);
  EXPECT_EQ(w.cycles, 22u);
  EXPECT_TRUE(w.done);
}

TEST(GoldenDevice, StatusWriteOneToClear) {
  Bus bus;
  TileCfg t;
  t.k = 4, t.rows = 2, t.cols = 2;
  configure(bus, t);
  run(bus);
  expect_bus_error(bus, bus.access(BusOp::kWrite, bus_addr(rm::kRegionOut, 0, 0), 0), rm::kErrBusRo, "make an error");
  bus.access(BusOp::kWrite, bus_addr(rm::kRegionOut, 0, 0), 0);  // ERR again, code BUS_RO
  std::uint64_t st = bus.status();
  ASSERT_TRUE(done_of(st));
  ASSERT_TRUE(err_of(st));
  bus.wr(rm::kRegSTATUS, 0);  // writing 0s clears nothing
  EXPECT_EQ(bus.status(), st);
  bus.wr(rm::kRegSTATUS, bit(rm::kStatusErr));
  st = bus.status();
  EXPECT_TRUE(done_of(st));
  EXPECT_FALSE(err_of(st));
  // ERR_CODE is read-only "code of the last error": w1c of ERR leaves it.
  EXPECT_EQ(code_of(st), rm::kErrBusRo);
  bus.wr(rm::kRegSTATUS, bit(rm::kStatusDone) | 0xFF00u);  // code bits are read-only
  st = bus.status();
  EXPECT_FALSE(done_of(st));
  EXPECT_EQ(code_of(st), rm::kErrBusRo);
  // A legal START clears the code.
  start(bus);
  EXPECT_EQ(code_of(bus.status()), rm::kErrNone);
  EXPECT_TRUE(bus.wait(100).done);
}

TEST(GoldenDevice, ClearCounters) {
  Bus bus;
  for (int i = 0; i < 10; ++i) (void)bus.rd(rm::kRegID);
  EXPECT_EQ(bus.rd(rm::kRegCNT_CYCLES), 10u);  // the value before its own edge
  bus.wr(rm::kRegCTRL, bit(rm::kCtrlClear));
  EXPECT_EQ(bus.rd(rm::kRegCNT_CYCLES), 0u);  // the CLEAR edge's increment is dropped
  EXPECT_EQ(bus.rd(rm::kRegCNT_CYCLES), 1u);
  EXPECT_EQ(bus.rd(rm::kRegCNT_CYCLES), 2u);

  // CLEAR together with a START that reads bias entries: they are read with the first word (e1), after
  // the CLEAR edge, and counted (2 words per active column).
  TileCfg t;
  t.mode = Mode::k8, t.k = 9, t.rows = 3, t.cols = 7, t.bias_en = true, t.bias_base = 5;
  configure(bus, t);
  bus.line_wr(rm::kRegionAct, 0, 0, 1);
  start(bus, /*clear=*/true);
  const std::uint64_t clear_edge = bus.edges;
  EXPECT_TRUE(bus.wait(1000).done);
  const std::uint64_t kw = 5;
  const std::uint64_t cycles = bus.edges - clear_edge;  // edges after the CLEAR edge, before the read
  EXPECT_EQ(bus.rd(rm::kRegCNT_CYCLES), cycles);
  EXPECT_EQ(bus.rd(rm::kRegCNT_BUSY), kw + 2);
  EXPECT_EQ(bus.rd(rm::kRegCNT_SPAD_RD), kw * (3 + 7) + 2 * 7) << "the bias reads, no bus line read since CLEAR";
  EXPECT_EQ(bus.rd(rm::kRegCNT_SPAD_WR), 3u * 4u) << "no bus line write since CLEAR";
  EXPECT_EQ(bus.rd(rm::kRegCNT_MAC8), 3u * 7u * 9u);
  EXPECT_EQ(bus.rd(rm::kRegCNT_TILES), 1u);

  // CLEAR in the middle of a tile: only the busy edges after it count.
  start(bus);
  (void)bus.status();
  (void)bus.status();
  bus.wr(rm::kRegCTRL, bit(rm::kCtrlClear));  // third edge after START
  EXPECT_TRUE(bus.wait(1000).done);
  EXPECT_EQ(bus.rd(rm::kRegCNT_BUSY), kw + 2 - 3);
  EXPECT_EQ(bus.rd(rm::kRegCNT_TILES), 1u);
  for (std::uint32_t i = rm::kRegCNT_CYCLES; i <= rm::kRegCntLast; ++i) (void)bus.rd(i);
  bus.wr(rm::kRegCTRL, bit(rm::kCtrlClear));
  for (std::uint32_t i = rm::kRegCNT_BUSY; i <= rm::kRegCntLast; ++i) {
    EXPECT_EQ(bus.rd(i), 0u) << rm::reg_name(i) << " after CLEAR";
  }
}

TEST(GoldenDevice, OutputRowsAndLanes) {
  Bus bus;
  // Tile 1: every row and column, 8-bit, all products 1 * 1 per lane pair: acc = K = 3.
  for (int r = 0; r < 16; ++r) bus.line_wr(rm::kRegionAct, r, 0, 0x0101'0101'0101'0101u);
  for (int c = 0; c < 16; ++c) bus.line_wr(rm::kRegionWgt, c, 0, 0x0101'0101'0101'0101u);
  TileCfg t;
  t.mode = Mode::k8, t.k = 3, t.rows = 16, t.cols = 16;
  configure(bus, t);
  run(bus);
  for (int r = 0; r < 16; ++r)
    for (int l = 0; l < 4; ++l) {
      // 16 outputs of 8 bits fill 8 words (2 lines); the other words of the row are 0.
      ASSERT_EQ(bus.line_rd(rm::kRegionOut, r, l), l < 2 ? 0x0303'0303'0303'0303u : 0u) << r << "/" << l;
    }
  // Header lines (line Cols / 4 = 4): every row holds 16 outputs 3 = 0b011, width 3.
  for (int r = 0; r < 16; ++r) ASSERT_EQ(bus.line_rd(rm::kRegionOut, r, 4), 3u) << "header of row " << r;
  // Tile 2: rows 0..1 and 3 columns, with bias entry 3 (line 1, upper half): acc = 3 - 5 = -2.
  for (int c = 0; c < 16; ++c) bus.line_wr(rm::kRegionBias, c, 1, 0xFFFF'FFFB'FFFF'FFFBu);
  bus.line_wr(rm::kRegionBias, 0, 1, std::uint64_t{0xFFFF'FFFB} << 32 | 1000);
  t.rows = 2, t.cols = 3, t.bias_en = true, t.bias_base = 3;
  configure(bus, t);
  run(bus);
  for (int r = 0; r < 16; ++r) {
    for (int l = 0; l < 4; ++l) {
      const std::uint64_t v = bus.line_rd(rm::kRegionOut, r, l);
      if (r >= 2) {
        EXPECT_EQ(v, l < 2 ? 0x0303'0303'0303'0303u : 0u) << "row " << r << " >= ROWS_ACT keeps its contents";
      } else if (l == 0) {
        EXPECT_EQ(v, 0x0000'00FE'FEFEu) << "3 lanes of -2, lane 3 and the rest 0";
      } else {
        EXPECT_EQ(v, 0u) << "row " << r << " is rewritten whole";
      }
    }
    // -2 = 0b10 needs 2 bits; rows the tile did not write have header 0.
    EXPECT_EQ(bus.line_rd(rm::kRegionOut, r, 4), r < 2 ? 2u : 0u) << "header of row " << r;
  }
  // RELU + CLAMP with CLAMP_HI below the 4-bit range: y = CLAMP_HI, its low 4 bits are packed.
  t.mode = Mode::k4, t.k = 4, t.rows = 1, t.cols = 6, t.bias_en = false, t.relu = true, t.clamp = true;
  t.clamp_hi = -100;  // 0xFF9C: low nibble 0xC
  configure(bus, t);
  run(bus);
  EXPECT_EQ(bus.line_rd(rm::kRegionOut, 0, 0), 0x00CC'CCCCu);
  EXPECT_EQ(bus.line_rd(rm::kRegionOut, 0, 4), 3u) << "0xC as written is -4: 3 bits (not -100)";
  // ... and with CLAMP_HI < 0 inside the range every output is CLAMP_HI (docs example).
  t.clamp_hi = -3;
  configure(bus, t);
  run(bus);
  EXPECT_EQ(bus.line_rd(rm::kRegionOut, 0, 0), 0x00DD'DDDDu);
  EXPECT_EQ(bus.line_rd(rm::kRegionOut, 0, 4), 3u) << "-3 = 0b101: 3 bits";
  // Histogram counters: 16 rows of width 3, 2 of width 2, then 2 single rows of width 3.
  for (std::uint32_t w = 1; w <= 16; ++w) {
    const std::uint64_t expect = w == 3 ? 18u : w == 2 ? 2u : 0u;
    EXPECT_EQ(bus.rd(rm::kRegCNT_GW1 + w - 1), expect) << "CNT_GW" << w;
  }
}

/// One random tile through raw bus accesses, checked against the reference convolution (a
/// ROWS_ACT x COLS_ACT GEMM is a 1x1 convolution of a 1 x ROWS_ACT x K input) and against the
/// documented counter formulas.
void random_tile(Bus& bus, std::mt19937_64& rng, std::vector<BankImage>& act, std::vector<BankImage>& wgt, int iter) {
  const DeviceParams& p = bus.params;
  const auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  TileCfg t;
  t.mode = kModes[uni(0, 2)];
  const int np = lanes(t.mode);
  const int max_kw = std::min({p.act_words, p.wgt_words, rng() % 8 == 0 ? 2000 : 40});
  const int kw = rng() % 10 == 0 ? max_kw : uni(1, max_kw);
  t.k = (kw - 1) * np + uni(1, np);
  t.rows = rng() % 4 == 0 ? p.rows : uni(1, p.rows);
  t.cols = rng() % 4 == 0 ? p.cols : uni(1, p.cols);
  t.act_base = rng() % 6 == 0 ? p.act_words - kw : uni(0, p.act_words - kw);
  t.wgt_base = rng() % 6 == 0 ? p.wgt_words - kw : uni(0, p.wgt_words - kw);
  t.bias_en = rng() % 3 != 0;
  t.bias_base = uni(0, p.bias_entries - 1);
  t.relu = rng() % 2 == 0;
  t.clamp = rng() % 3 == 0;
  t.clamp_hi = static_cast<std::int16_t>(rng() % 5 == 0 ? uni(max_value(t.mode), 32767)
                                                        : uni(min_value(t.mode), max_value(t.mode)));
  const int typical = 2 * bits(t.mode) - 2 + (std::bit_width(static_cast<unsigned>(t.k)) + 1) / 2;
  t.shift = rng() % 8 == 0 ? 0 : std::clamp(typical - bits(t.mode) + 1 + uni(-4, 4), 0, kAccBits - 1);
  SCOPED_TRACE(::testing::Message() << "iter " << iter << " " << to_string(t.mode) << " K " << t.k << " rows " << t.rows
                                    << " cols " << t.cols << " act_base " << t.act_base << " wgt_base " << t.wgt_base
                                    << " bias " << t.bias_en << "@" << t.bias_base << " shift " << t.shift << " relu "
                                    << t.relu << " clamp " << t.clamp << "@" << t.clamp_hi);

  // Values, packed by hand with random bits in the lanes past K and around the tile's words.
  std::vector<std::int32_t> a(static_cast<std::size_t>(t.rows * t.k)), w(static_cast<std::size_t>(t.cols * t.k));
  const auto fill = [&](BankImage& bank, std::int32_t* v, int base) {
    for (int i = base - base % 4; i < ((base + kw + 3) / 4) * 4; ++i) {
      bank.words[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(rng());
    }
    for (int e = 0; e < t.k; ++e) {
      v[e] = rand_value(rng, t.mode);
      std::uint16_t& word = bank.words[static_cast<std::size_t>(base + e / np)];
      const int sh = bits(t.mode) * (e % np);
      const std::uint32_t mask = ((1u << bits(t.mode)) - 1u) << sh;
      word = static_cast<std::uint16_t>((word & ~mask) | ((static_cast<std::uint32_t>(v[e]) << sh) & mask));
    }
  };
  for (int r = 0; r < t.rows; ++r) {
    fill(act[static_cast<std::size_t>(r)], &a[static_cast<std::size_t>(r * t.k)], t.act_base);
    act[static_cast<std::size_t>(r)].write_lines(bus, rm::kRegionAct, r, t.act_base, kw);
  }
  for (int c = 0; c < t.cols; ++c) {
    fill(wgt[static_cast<std::size_t>(c)], &w[static_cast<std::size_t>(c * t.k)], t.wgt_base);
    wgt[static_cast<std::size_t>(c)].write_lines(bus, rm::kRegionWgt, c, t.wgt_base, kw);
  }
  std::vector<std::int32_t> bias(static_cast<std::size_t>(t.cols));
  for (int c = 0; c < t.cols; ++c) {
    std::uint32_t entries[2] = {static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())};
    const std::int32_t b = rng() % 4 == 0 ? static_cast<std::int32_t>(rng()) : uni(-100000, 100000);
    entries[t.bias_base % 2] = static_cast<std::uint32_t>(b);
    bias[static_cast<std::size_t>(c)] = b;
    bus.line_wr(rm::kRegionBias, c, t.bias_base / 2, std::uint64_t{entries[1]} << 32 | entries[0]);
  }
  configure(bus, t);
  const std::vector<std::uint64_t> out_before = read_out(bus);

  bus.wr(rm::kRegCTRL, bit(rm::kCtrlClear));
  const std::uint64_t clear_edge = bus.edges;
  const std::uint64_t reads0 = bus.line_reads, writes0 = bus.line_writes;
  bus.line_wr(rm::kRegionAct, 0, t.act_base / 4, [&] {  // rewrite one line: a counted bus write
    std::uint64_t v = 0;
    for (int i = 0; i < 4; ++i)
      v |= std::uint64_t{act[0].words[static_cast<std::size_t>(t.act_base / 4 * 4 + i)]} << (16 * i);
    return v;
  }());
  run(bus);
  const std::vector<std::uint64_t> out = read_out(bus);

  // Expected outputs from the reference convolution.
  Layer l;
  l.mode = t.mode;
  l.shape.in_w = t.rows, l.shape.in_c = t.k, l.shape.out_c = t.cols;
  l.weights = w;
  if (t.bias_en) l.bias = bias;
  l.out = {.shift = t.shift, .relu = t.relu, .clamp = t.clamp, .clamp_hi = t.clamp_hi};
  const PackedTensor ref = conv2d(l, PackedTensor::from_values(1, t.rows, t.k, t.mode, a));
  const int lines = p.cols / 4;
  int mismatches = 0;
  for (int r = 0; r < p.rows; ++r) {
    for (int li = 0; li < lines; ++li) {
      const std::size_t idx = static_cast<std::size_t>(r * lines + li);
      std::uint64_t want = out_before[idx];
      if (r < t.rows) {
        want = 0;
        for (int i = 0; i < 4; ++i) {
          const std::size_t wi = static_cast<std::size_t>(li * 4 + i);
          if (wi < ref.words_per_pixel())
            want |= std::uint64_t{ref.words[static_cast<std::size_t>(r) * ref.words_per_pixel() + wi]} << (16 * i);
        }
      }
      if (out[idx] != want && ++mismatches <= 5) {
        ADD_FAILURE() << "OUT row " << r << " line " << li << ": got 0x" << std::hex << out[idx] << " want 0x" << want;
      }
    }
  }
  EXPECT_EQ(mismatches, 0);

  // Counters since the CLEAR (each read returns the value before its own edge).
  const auto rows = static_cast<std::uint64_t>(t.rows), cols = static_cast<std::uint64_t>(t.cols);
  const auto ukw = static_cast<std::uint64_t>(kw), k = static_cast<std::uint64_t>(t.k);
  const std::uint64_t line_reads = bus.line_reads - reads0, line_writes = bus.line_writes - writes0;
  const std::uint64_t cycles = bus.edges - clear_edge;  // edges after the CLEAR edge, before the read
  EXPECT_EQ(bus.rd(rm::kRegCNT_CYCLES), cycles);
  EXPECT_EQ(bus.rd(rm::kRegCNT_BUSY), ukw + 2);
  EXPECT_EQ(bus.rd(rm::kRegCNT_ARRAY), ukw);
  for (Mode m : kModes) {
    EXPECT_EQ(bus.rd(rm::kRegCNT_MAC16 + static_cast<std::uint32_t>(m)), m == t.mode ? rows * cols * k : 0)
        << to_string(m);
  }
  EXPECT_EQ(bus.rd(rm::kRegCNT_SPAD_RD), 4 * line_reads + ukw * (rows + cols) + (t.bias_en ? 2 * cols : 0));
  EXPECT_EQ(bus.rd(rm::kRegCNT_SPAD_WR),
            4 * line_writes + rows * ((cols + static_cast<std::uint64_t>(np) - 1) / static_cast<std::uint64_t>(np)));
  EXPECT_EQ(bus.rd(rm::kRegCNT_TILES), 1u);
  EXPECT_EQ(line_writes, 1u);
  EXPECT_EQ(line_reads, static_cast<std::uint64_t>(p.rows * lines));

  // Group-width headers (line Cols / 4 of each OUT bank) and histogram counters, expected from the
  // reference outputs: per row, the largest dpred::min_width of its COLS_ACT values; 0 for rows at
  // or above ROWS_ACT.
  std::vector<std::uint64_t> hist(17, 0);
  for (int r = 0; r < p.rows; ++r) {
    int want = 0;
    if (r < t.rows) {
      want = 1;
      for (int c = 0; c < t.cols; ++c) want = std::max(want, dpred::min_width(ref.at(0, r, c)));
      ++hist[static_cast<std::size_t>(want)];
    }
    EXPECT_EQ(bus.line_rd(rm::kRegionOut, r, static_cast<std::uint32_t>(lines)), static_cast<std::uint64_t>(want))
        << "header of row " << r;
  }
  for (std::uint32_t gw = 1; gw <= 16; ++gw) EXPECT_EQ(bus.rd(rm::kRegCNT_GW1 + gw - 1), hist[gw]) << "CNT_GW" << gw;
}

TEST(GoldenDevice, RandomTilesMatchReference) {
  std::mt19937_64 rng(test_seed());
  for (int dev = 0; dev < 24; ++dev) {
    DeviceParams p;
    if (dev % 2 == 1) {  // a smaller instance
      p.rows = std::uniform_int_distribution<int>(1, 9)(rng);
      p.cols = 4 * std::uniform_int_distribution<int>(1, 5)(rng);
      p.act_words = 1 << std::uniform_int_distribution<int>(3, 10)(rng);
      p.wgt_words = 1 << std::uniform_int_distribution<int>(3, 10)(rng);
      p.bias_entries = 2 * std::uniform_int_distribution<int>(1, 40)(rng);
    }
    Bus bus(p);
    std::vector<BankImage> act(static_cast<std::size_t>(p.rows),
                               {std::vector<std::uint16_t>(static_cast<std::size_t>(p.act_words))});
    std::vector<BankImage> wgt(static_cast<std::size_t>(p.cols),
                               {std::vector<std::uint16_t>(static_cast<std::size_t>(p.wgt_words))});
    for (int i = 0; i < 5; ++i) {
      SCOPED_TRACE(::testing::Message() << "device " << dev << " rows " << p.rows << " cols " << p.cols << " words "
                                        << p.act_words << "/" << p.wgt_words << " bias " << p.bias_entries);
      random_tile(bus, rng, act, wgt, dev * 5 + i);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace bitscale::golden

// ---- MODE.DW (docs/NUMERICS.md "Depthwise mode") ----

namespace bitscale::golden {
namespace {

TEST(GoldenDevice, DwTileGivesEachColumnItsOwnActivations) {
  struct ModeCase {
    std::uint32_t code;
    int bits, lanes;
  };
  for (const ModeCase m : {ModeCase{rm::kMode16, 16, 1}, ModeCase{rm::kMode8, 8, 2}, ModeCase{rm::kMode4, 4, 4}}) {
    for (const auto& [rows, cols] : {std::pair{16, 16}, std::pair{4, 8}}) {
      GoldenDevice dev(DeviceParams{.rows = rows, .cols = cols});
      for (const int k : {1, 2, 9, 25, 37}) {
        test::DwTileCase t;
        t.array_rows = rows, t.array_cols = cols;
        t.mode_code = m.code, t.bits = m.bits, t.lanes = m.lanes;
        t.k = k;
        t.rows = k % 2 ? rows : rows - 1;  // whole and partial tiles
        t.cols = k % 3 ? cols : cols - 3;
        t.act_base = cols * (k + 1);
        t.seed = static_cast<std::uint32_t>(k * 7 + m.bits);
        SCOPED_TRACE(::testing::Message() << m.bits << "-bit, " << rows << "x" << cols << ", K " << k);
        test::check_dw_tile(dev, t);
      }
    }
  }
}

TEST(GoldenDevice, DwStartRefusals) {
  GoldenDevice dev;
  test::check_dw_refusals(dev, 16, 8192);
  GoldenDevice small(DeviceParams{.rows = 2, .cols = 8, .act_words = 1024});
  test::check_dw_refusals(small, 8, 1024);
}

// OUT_CFG.COL_SHIFT (docs/NUMERICS.md "Per-column shifts"), 16-bit, K = 1, activation 100, weights
// 1, -1, 5, 2 in columns 0..3; expected outputs worked out by hand.
TEST(GoldenDevice, ColumnShiftsComeFromTheBiasEntries) {
  Bus bus;
  bus.line_wr(rm::kRegionAct, 0, 0, 100);
  const std::int16_t w[4] = {1, -1, 5, 2};
  for (int c = 0; c < 4; ++c) bus.line_wr(rm::kRegionWgt, c, 0, static_cast<std::uint16_t>(w[c]));
  const std::uint32_t entries[4] = {column_entry(27, 3),           // 27 + 100 = 127 >> 3, rounded: 16
                                    column_entry(-(1 << 25), 20),  // -2^25 - 100 >> 20, rounded: floor(-31.50009) = -32
                                    63u << kColumnBiasBits,        // shift field 63 reads as 47, bias 0: 500 >> 47 = 0
                                    column_entry(-7, 0)};          // -7 + 200 = 193
  for (int c = 0; c < 4; ++c) bus.line_wr(rm::kRegionBias, c, 0, entries[c]);
  TileCfg t;
  t.mode = Mode::k16;
  t.cols = 4;
  t.bias_en = true;
  t.shift = 1;
  configure(bus, t);
  const auto out_words = [&] {
    const std::uint64_t line = bus.line_rd(rm::kRegionOut, 0, 0);
    std::vector<std::int16_t> v;
    for (int c = 0; c < 4; ++c) v.push_back(static_cast<std::int16_t>(line >> (16 * c)));
    return v;
  };
  bus.wr(rm::kRegOUT_CFG, bit(rm::kOutCfgBiasEn) | bit(rm::kOutCfgColShift));
  run(bus);
  EXPECT_EQ(out_words(), (std::vector<std::int16_t>{16, -32, 0, 193}));
  // Without BIAS_EN, COL_SHIFT does nothing: SHIFT = 1 and no bias: 100 w / 2 rounded half up.
  bus.wr(rm::kRegOUT_CFG, bit(rm::kOutCfgColShift));
  run(bus);
  EXPECT_EQ(out_words(), (std::vector<std::int16_t>{50, -50, 250, 100}));
  // Without COL_SHIFT the entries are 32-bit biases: (-7 & 0x3FFFFFF) + 200 >> 1 saturates.
  bus.wr(rm::kRegOUT_CFG, bit(rm::kOutCfgBiasEn));
  run(bus);
  EXPECT_EQ(out_words()[3], 32767);
  EXPECT_EQ(split_column_entry(column_entry(-5, 9)).bias, -5);
  EXPECT_EQ(split_column_entry(column_entry(-5, 9)).shift, 9);
  EXPECT_THROW((void)column_entry(1 << 25, 0), std::invalid_argument);
  EXPECT_THROW((void)column_entry(0, 48), std::invalid_argument);
}

}  // namespace
}  // namespace bitscale::golden
