// Lock-step co-simulation at the bus: the same random stream of accesses (legal and illegal:
// configuration, scratchpads, START/CLEAR, w1c, refused STARTs, accesses while busy, unmapped
// addresses, counter reads mid-tile) goes to the verilated RTL and to the golden device, and
// every response (data, error flag) and every wait result must be identical.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "bitscale/driver/device.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "test_seed.hpp"

namespace {

using bitscale::driver::bus_addr;
namespace rm = bitscale::regmap;
using bitscale::driver::BusOp;

std::uint64_t test_seed() { return bitscale::test::test_seed(77); }

struct Op {
  enum Kind { kAccess, kWait } kind = kAccess;
  bool write = false;
  std::uint32_t addr = 0;
  std::uint64_t data = 0;
  std::uint64_t max_cycles = 0;
  std::string text() const {
    if (kind == kWait) return fmt::format("wait({})", max_cycles);
    return fmt::format("{} {:#08x} {:#x}", write ? "write" : "read", addr, data);
  }
};

Op random_op(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  Op op;
  const int k = pick(100);
  if (k < 8) {
    op.kind = Op::kWait;
    op.max_cycles = static_cast<std::uint64_t>(pick(60));
    return op;
  }
  op.write = pick(3) != 0;
  op.data = rng();
  if (k < 45) {  // configuration, mostly legal values
    const std::uint32_t idx = static_cast<std::uint32_t>(rm::kRegIRQ_EN + static_cast<std::uint32_t>(pick(11)));
    op.addr = bus_addr(rm::kRegionCsr, 0, idx);
    if (pick(5) != 0) {
      switch (idx) {
        case rm::kRegMODE:
          op.data = static_cast<std::uint64_t>(pick(4));
          break;
        case rm::kRegK:
          op.data = static_cast<std::uint64_t>(pick(60));
          break;
        case rm::kRegROWS_ACT:
        case rm::kRegCOLS_ACT:
          op.data = static_cast<std::uint64_t>(pick(18));
          break;
        case rm::kRegACT_BASE:
        case rm::kRegWGT_BASE:
          op.data = static_cast<std::uint64_t>(pick(5) == 0 ? 8192 - pick(40) : pick(40));
          break;
        case rm::kRegBIAS_BASE:
          op.data = static_cast<std::uint64_t>(pick(5) == 0 ? 250 + pick(10) : pick(8));
          break;
        case rm::kRegSHIFT:
          op.data = static_cast<std::uint64_t>(pick(52));
          break;
        default:
          break;
      }
    }
  } else if (k < 55) {  // CTRL: START, sometimes CLEAR
    op.write = true;
    op.addr = bus_addr(rm::kRegionCsr, 0, rm::kRegCTRL);
    op.data = pick(40) == 0 ? 2u : (pick(40) == 0 ? 3u : 1u);
  } else if (k < 62) {  // STATUS: read or w1c
    op.addr = bus_addr(rm::kRegionCsr, 0, rm::kRegSTATUS);
    op.data = static_cast<std::uint64_t>(pick(8));
  } else if (k < 72) {  // any register, read-only ones and past the end included
    op.addr = bus_addr(rm::kRegionCsr, pick(20) == 0 ? 1u : 0u, static_cast<std::uint32_t>(pick(0x1c)));
  } else {  // scratchpads, a few lines per bank, sometimes out of range
    const std::uint32_t region =
        static_cast<std::uint32_t>(rm::kRegionAct + static_cast<std::uint32_t>(pick(pick(20) == 0 ? 6 : 4)));
    const std::uint32_t bank = static_cast<std::uint32_t>(pick(20) == 0 ? 16 + pick(3) : pick(16));
    const std::uint32_t line = static_cast<std::uint32_t>(pick(20) == 0 ? 4 + pick(3000) : pick(12));
    op.addr = bus_addr(region, bank, line);
    if (region == rm::kRegionOut) op.write = pick(10) == 0;
  }
  return op;
}

// A legal tile: full configuration, then START.
std::vector<Op> legal_tile(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<std::uint64_t>(rng() % static_cast<std::uint64_t>(n)); };
  auto wr = [](std::uint32_t idx, std::uint64_t v) {
    Op op;
    op.write = true;
    op.addr = bus_addr(rm::kRegionCsr, 0, idx);
    op.data = v;
    return op;
  };
  return {wr(rm::kRegMODE, pick(3)),
          wr(rm::kRegK, 1 + pick(48)),
          wr(rm::kRegROWS_ACT, 1 + pick(16)),
          wr(rm::kRegCOLS_ACT, 1 + pick(16)),
          wr(rm::kRegACT_BASE, pick(24)),
          wr(rm::kRegWGT_BASE, pick(24)),
          wr(rm::kRegBIAS_BASE, pick(256)),
          wr(rm::kRegSHIFT, pick(48)),
          wr(rm::kRegOUT_CFG, pick(8)),
          wr(rm::kRegCLAMP_HI, rng()),
          wr(rm::kRegCTRL, 1)};
}

TEST(RtlCosim, RandomBusTrafficLockStep) {
  const std::uint64_t seed = test_seed();
  std::mt19937_64 rng(seed);
  bitscale::rtl::RtlOptions ro;
  ro.random_init = false;  // the golden device starts with zeroed memories
  bitscale::rtl::RtlDevice rtl(ro);
  bitscale::golden::GoldenDevice gold;
  std::vector<std::string> history;
  int tiles = 0, errors = 0;
  std::vector<Op> pending;
  int done_waits = 0;
  for (int step = 0; step < 150000; ++step) {
    if (pending.empty()) {
      if (rng() % 12 == 0) {
        pending = legal_tile(rng);
      } else {
        pending.push_back(random_op(rng));
      }
    }
    const Op op = pending.front();
    pending.erase(pending.begin());
    history.push_back(op.text());
    if (history.size() > 8) history.erase(history.begin());
    auto context = [&] {
      std::string h;
      for (const auto& s : history) h += "\n    " + s;
      return fmt::format("seed {} step {}; last accesses:{}", seed, step, h);
    };
    if (op.kind == Op::kWait) {
      const auto a = rtl.wait(op.max_cycles), b = gold.wait(op.max_cycles);
      ASSERT_EQ(a.cycles, b.cycles) << context();
      ASSERT_EQ(a.done, b.done) << context();
      ASSERT_EQ(a.err, b.err) << context();
      done_waits += (a.done && a.cycles > 0) ? 1 : 0;
    } else {
      const auto a = rtl.access(op.write ? BusOp::kWrite : BusOp::kRead, op.addr, op.data);
      const auto b = gold.access(op.write ? BusOp::kWrite : BusOp::kRead, op.addr, op.data);
      ASSERT_EQ(a.err, b.err) << "error flag, rtl vs golden; " << context();
      ASSERT_EQ(a.rdata, b.rdata) << "read data, rtl vs golden; " << context();
      errors += a.err ? 1 : 0;
      if (op.write && op.addr == bus_addr(rm::kRegionCsr, 0, rm::kRegCTRL) && (op.data & 1)) ++tiles;
    }
  }
  // Final state: every register, counters included.
  for (std::uint32_t i = 0; i <= rm::kRegCNT_TILES; ++i) {
    EXPECT_EQ(rtl.access(BusOp::kRead, bus_addr(rm::kRegionCsr, 0, i), 0).rdata,
              gold.access(BusOp::kRead, bus_addr(rm::kRegionCsr, 0, i), 0).rdata)
        << rm::reg_name(i);
  }
  const auto done_tiles = gold.access(BusOp::kRead, bus_addr(rm::kRegionCsr, 0, rm::kRegCNT_TILES), 0).rdata;
  std::cout << fmt::format("{} START writes, {} waits that saw a tile finish, {} bus errors, CNT_TILES {}\n", tiles,
                           done_waits, errors, done_tiles);
  // The stream does exercise both the error paths and real tiles.
  EXPECT_GT(errors, 100);
  EXPECT_GT(done_waits, 100);
}

}  // namespace
