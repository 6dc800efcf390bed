// Lock-step co-simulation at the bus: the same stream of accesses goes to the verilated RTL and
// to the golden device, and every response (data, error flag), every wait result and the level of
// irq_o (against STATUS and IRQ_EN) must be identical or as documented.
//
// The stream is mostly legal, driver-like transactions: configure a tile with random legal
// geometry, mode, Ax-BxP mask, shift, output stage and bases (aligned, unaligned, high, ending at
// the bank end), load part of its scratchpad lines, START, read STATUS, read counters and poll
// while it runs, wait (sometimes with a watchdog that expires first), read outputs, scratchpads
// and counters, clear DONE. Errors are injected mid-stream at a controlled rate: refused STARTs
// of every kind (the configuration corrupted, then repaired and started again), bus errors of
// every kind (unmapped, read-only, accesses while busy), START while busy, CLEAR, and now and then
// a burst of unconstrained random accesses. As the driver does, STATUS is read after every failed
// access and every START. dv::BusCoverage samples the stream; the test fails on a coverage hole.
//
// BITSCALE_SEED replays a seed; BITSCALE_COSIM_TRANSACTIONS sets the number of transactions
// (default 5000, a few thousand tiles, well under a minute; `make regress` runs a longer one).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <deque>
#include <random>
#include <stdexcept>
#include <vector>

#include "bitscale/driver/device.hpp"
#include "bitscale/dv/coverage.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/rtl/rtl_device.hpp"
#include "test_seed.hpp"

namespace {

using bitscale::driver::bus_addr;
namespace rm = bitscale::regmap;
namespace golden = bitscale::golden;
using bitscale::driver::BusOp;
using bitscale::driver::BusResponse;
using bitscale::driver::WaitResult;

constexpr int kWords = static_cast<int>(rm::kDefaultActWords);  // act and wgt banks alike
constexpr int kBiasEntries = static_cast<int>(rm::kDefaultBiasEntries);
constexpr int kRows = static_cast<int>(rm::kDefaultRows), kCols = static_cast<int>(rm::kDefaultCols);
constexpr std::size_t kWideLines = static_cast<std::size_t>(kRows > kCols ? kRows : kCols);  // lines of a wide beat

std::uint32_t csr(std::uint32_t idx) { return bus_addr(rm::kRegionCsr, 0, idx); }

struct Divergence : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Both devices in lock step, the coverage sampler and the tallies.
class LockStep {
 public:
  explicit LockStep(std::uint64_t seed) : seed_(seed), rtl_(options()) {}

  bitscale::dv::BusCoverage cov;
  std::uint64_t accesses = 0, bus_errors = 0, starts = 0, waits = 0, wide_beats = 0, row_beats = 0;

  // One access on both devices; STATUS is read after a failed access and after a START.
  BusResponse access(bool write, std::uint32_t addr, std::uint64_t data) {
    note(fmt::format("{} {:#08x} {:#x}", write ? "write" : "read", addr, data));
    const BusOp op = write ? BusOp::kWrite : BusOp::kRead;
    const BusResponse a = rtl_.access(op, addr, data), b = gold_.access(op, addr, data);
    if (a.err != b.err) fail(fmt::format("error flag: rtl {} golden {}", a.err, b.err));
    if (a.rdata != b.rdata) fail(fmt::format("read data: rtl {:#x} golden {:#x}", a.rdata, b.rdata));
    cov.sample_access(op, addr, data, b);
    ++accesses;
    bus_errors += b.err ? 1 : 0;
    if (write && addr == csr(rm::kRegIRQ_EN) && !b.err) irq_en_ = data & 3;
    const bool start = write && addr == csr(rm::kRegCTRL) && rm::kCtrlStartField.get(data) != 0;
    starts += start ? 1 : 0;
    if (b.err || start) status();
    return b;
  }
  // One wide beat (bank ADDR_BANK_ALL) on both devices: every line read must agree.
  BusResponse wide(bool write, std::uint32_t region, std::uint32_t line, std::vector<std::uint64_t> data) {
    note(fmt::format("wide {} region {} line {:#x}", write ? "write" : "read", region, line));
    const BusOp op = write ? BusOp::kWrite : BusOp::kRead;
    std::vector<std::uint64_t> a = data, b = data;
    const BusResponse ra = rtl_.access_wide(op, region, line, a), rb = gold_.access_wide(op, region, line, b);
    if (ra.err != rb.err) fail(fmt::format("wide error flag: rtl {} golden {}", ra.err, rb.err));
    if (ra.rdata != rb.rdata) fail(fmt::format("wide narrow data: rtl {:#x} golden {:#x}", ra.rdata, rb.rdata));
    if (!write && a != b) {
      for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) fail(fmt::format("wide read bank {}: rtl {:#x} golden {:#x}", i, a[i], b[i]));
    }
    cov.sample_access(op, bus_addr(region, rm::kAddrBankAll, line), 0, rb);
    ++accesses;
    wide_beats += 1;
    bus_errors += rb.err ? 1 : 0;
    if (rb.err) status();
    return rb;
  }
  // One row beat (bank ADDR_BANK_ROWS: Cols/4 activation lines of every row) on both devices.
  BusResponse rows(std::uint32_t line, const std::vector<std::uint64_t>& data) {
    note(fmt::format("rows write line {:#x}", line));
    const BusResponse ra = rtl_.write_rows(line, data), rb = gold_.write_rows(line, data);
    if (ra.err != rb.err) fail(fmt::format("row beat error flag: rtl {} golden {}", ra.err, rb.err));
    cov.sample_access(BusOp::kWrite, bus_addr(rm::kRegionAct, rm::kAddrBankRows, line), 0, rb);
    ++accesses;
    row_beats += 1;
    bus_errors += rb.err ? 1 : 0;
    if (rb.err) status();
    return rb;
  }
  BusResponse write(std::uint32_t addr, std::uint64_t data) { return access(true, addr, data); }
  BusResponse read(std::uint32_t addr) { return access(false, addr, 0); }

  // STATUS on both devices; BUSY must be what the tile timing law predicts (a tile is busy for
  // ceil(K / lanes) + BUSY_OVERHEAD edges after its START) and irq_o what STATUS and IRQ_EN say.
  std::uint64_t status() {
    const bool predicted = !cov.start_pending(), busy = cov.busy();
    const std::uint64_t st = read(csr(rm::kRegSTATUS)).rdata;
    const bool st_busy = rm::kStatusBusyField.get(st) != 0;
    if (predicted && st_busy != busy) fail(fmt::format("STATUS.BUSY {} where the tile timing says {}", st_busy, busy));
    if (!st_busy) {
      const bool want = (rm::kStatusDoneField.get(st) != 0 && (irq_en_ & 1) != 0) ||
                        (rm::kStatusErrField.get(st) != 0 && (irq_en_ & 2) != 0);
      if (rtl_.irq() != want) fail(fmt::format("irq_o {} with STATUS {:#x} and IRQ_EN {}", rtl_.irq(), st, irq_en_));
      cov.sample_irq(rtl_.irq());
    }
    return st;
  }

  WaitResult wait(std::uint64_t max_cycles) {
    note(fmt::format("wait({})", max_cycles));
    const WaitResult a = rtl_.wait(max_cycles), b = gold_.wait(max_cycles);
    if (a.cycles != b.cycles || a.done != b.done || a.err != b.err) {
      fail(fmt::format("wait: rtl {} cycles done {} err {}, golden {} cycles done {} err {}", a.cycles, a.done, a.err,
                       b.cycles, b.done, b.err));
    }
    cov.sample_wait(max_cycles, b);
    ++waits;
    return b;
  }

  // Until the running tile is done: wait, clearing a sticky ERR (a failed access mid-tile) first.
  void drain() {
    for (int i = 0; cov.busy(); ++i) {
      if (i > 8) fail("the tile does not finish");
      const WaitResult r = wait(100000);
      if (r.err) write(csr(rm::kRegSTATUS), rm::kStatusErrField.of(1));
    }
  }

  // Every register, counters included, on both devices.
  void compare_registers() {
    for (std::uint32_t i = 0; i <= rm::kRegCntLast; ++i) read(csr(i));
  }

 private:
  static bitscale::rtl::RtlOptions options() {
    bitscale::rtl::RtlOptions ro;
    ro.random_init = false;  // the golden device starts with zeroed memories
    return ro;
  }
  void note(std::string s) {
    history_.push_back(std::move(s));
    if (history_.size() > 12) history_.pop_front();
  }
  [[noreturn]] void fail(const std::string& what) {
    std::string h;
    for (const auto& s : history_) h += "\n    " + s;
    throw Divergence(fmt::format("{} (BITSCALE_SEED={}, access {}); last accesses:{}", what, seed_, accesses, h));
  }

  std::uint64_t seed_;
  bitscale::rtl::RtlDevice rtl_;
  golden::GoldenDevice gold_;
  std::uint64_t irq_en_ = 0;
  std::deque<std::string> history_;
};

// The stimulus: legal tiles with errors injected at a controlled rate.
class Stimulus {
 public:
  Stimulus(LockStep& bus, std::uint64_t seed) : bus_(bus), rng_(seed) {}

  // One transaction: mostly a legal tile, sometimes with an injected error and its recovery.
  void transaction() {
    bus_.drain();
    const int r = pick(1000);
    if (r < 8) {
      random_burst();
    } else if (r < 40) {
      bus_.write(csr(rm::kRegIRQ_EN), static_cast<std::uint64_t>(pick(4)));
    } else if (r < 50) {
      bus_.write(csr(rm::kRegCTRL), rm::kCtrlClearField.of(1) | (pick(4) == 0 ? rm::kCtrlStartField.of(1) : 0));
      bus_.drain();
    }
    tile(pick(100) < 6 ? Inject::kRefusedStart : pick(100) < 6 ? Inject::kBusError : Inject::kNone);
  }

 private:
  enum class Inject { kNone, kRefusedStart, kBusError };

  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }

  // A base of `kw` words in a bank of kWords: small, near the end, exactly at the end, anywhere.
  int base(int kw) {
    const int room = kWords - kw;
    switch (pick(8)) {
      case 0:
      case 1:
        return std::min(room, pick(64));
      case 2:
        return std::max(0, room - pick(16));
      case 3:
        return room;
      default:
        return pick(room + 1);
    }
  }

  // START, with CTRL.LOAD carrying the legal bases.
  std::uint64_t start_word(bool load) const {
    return rm::kCtrlStartField.of(1) |
           (load ? rm::kCtrlLoadField.of(1) | rm::kCtrlActBaseField.of(legal_[rm::kRegACT_BASE]) |
                       rm::kCtrlWgtBaseField.of(legal_[rm::kRegWGT_BASE]) |
                       rm::kCtrlBiasBaseField.of(legal_[rm::kRegBIAS_BASE])
                 : 0);
  }

  // A legal configuration register write, remembered so that a corrupted register can be repaired.
  void config(std::uint32_t reg, std::uint64_t value) {
    legal_[reg] = value;
    bus_.write(csr(reg), value);
  }

  void tile(Inject inject) {
    const golden::Mode mode = golden::kModes[static_cast<std::size_t>(pick(3))];
    const int p = golden::lanes(mode);
    // K: mostly short tiles (the bus is the subject here), some long ones up to the bank limit.
    const int kcap = pick(100) < 55 ? 16 : pick(100) < 75 ? 128 : pick(100) < 90 ? 1024 : kWords * p;
    const int k = 1 + pick(std::min(kcap, kWords * p));
    const int kw = (k + p - 1) / p;
    // MODE.DW now and then: ACT_BASE a multiple of Cols with kw rows of Cols words from there.
    const bool dw = pick(4) == 0 && kw * kCols <= kWords;
    const int act_span = dw ? kw * kCols : kw;  // activation words the tile reads
    const int act_base = dw ? kCols * (base(act_span) / kCols) : base(kw), wgt_base = base(kw);
    const std::uint64_t skip = pick(5) == 0 ? (rng_() & golden::approx_grid(mode)) : 0;
    // The geometry always; the output stage now and then (a previous legal value stays legal),
    // always after unconstrained accesses may have left anything there.
    config(rm::kRegMODE, rm::kModeField.of(golden::mode_code(mode)) | rm::kModeBlkskipField.of(skip) |
                             rm::kModeDwField.of(dw ? 1 : 0));
    config(rm::kRegK, static_cast<std::uint64_t>(k));
    // Half the tiles carry their bases in the START (CTRL.LOAD) instead of the base registers.
    const bool load_bases = pick(2) == 0;
    if (!load_bases) {
      config(rm::kRegACT_BASE, static_cast<std::uint64_t>(act_base));
      config(rm::kRegWGT_BASE, static_cast<std::uint64_t>(wgt_base));
    }
    const bool full = dirty_ || pick(2) == 0;
    dirty_ = false;
    if (full || pick(2) == 0) config(rm::kRegROWS_ACT, static_cast<std::uint64_t>(1 + pick(kRows)));
    if (full || pick(2) == 0) config(rm::kRegCOLS_ACT, static_cast<std::uint64_t>(1 + pick(kCols)));
    if (full || pick(2) == 0) config(rm::kRegBIAS_BASE, static_cast<std::uint64_t>(pick(kBiasEntries)));
    if (full || pick(2) == 0) config(rm::kRegSHIFT, static_cast<std::uint64_t>(pick(static_cast<int>(rm::kAccW))));
    if (full || pick(2) == 0) config(rm::kRegOUT_CFG, static_cast<std::uint64_t>(pick(32)));  // ACC_KEEP half the time
    if (full || pick(2) == 0) config(rm::kRegCLAMP_HI, rng_() & 0xffff);
    // Part of the tile's scratchpad lines (the rest holds what earlier tiles left): activations,
    // weights, a bias line.
    const auto load = [&](std::uint32_t region, int banks, int b, int span) {
      const int first = b / 4, last = (b + span - 1) / 4;
      if (pick(4) == 0) {  // a wide beat: a line of every bank
        bus_.wide(true, region, static_cast<std::uint32_t>(first + pick(last - first + 1)), random_lines());
        return;
      }
      if (region == rm::kRegionAct && pick(4) == 0) {  // a row beat: Cols/4 lines of every row, aligned
        bus_.rows(static_cast<std::uint32_t>((first + pick(last - first + 1)) / (kCols / 4) * (kCols / 4)),
                  random_row_lines());
        return;
      }
      for (int i = pick(4); i >= 0; --i)
        bus_.write(bus_addr(region, static_cast<std::uint32_t>(pick(banks)),
                            static_cast<std::uint32_t>(first + pick(last - first + 1))),
                   rng_());
    };
    load(rm::kRegionAct, kRows, act_base, act_span);
    load(rm::kRegionWgt, kCols, wgt_base, kw);
    if (pick(2) == 0) {
      bus_.write(bus_addr(rm::kRegionBias, static_cast<std::uint32_t>(pick(kCols)),
                          static_cast<std::uint32_t>(legal_[rm::kRegBIAS_BASE] / 2)),
                 rng_());
    }
    if (load_bases) {  // the registers take them with the START
      legal_[rm::kRegACT_BASE] = static_cast<std::uint64_t>(act_base);
      legal_[rm::kRegWGT_BASE] = static_cast<std::uint64_t>(wgt_base);
    }
    if (inject == Inject::kRefusedStart) refused_start(mode, kw, dw);
    if (inject == Inject::kBusError) bus_error_idle();
    const std::uint64_t start = start_word(load_bases);
    bus_.write(csr(rm::kRegCTRL), start);  // STATUS read follows
    // Now and then the same tile again, back to back: a START near the end of this one (before its
    // last read: refused; in its last read, DRAIN or output cycle: accepted and overlapped; or just
    // after it).
    if (pick(3) == 0 && bus_.cov.busy()) {
      bus_.wait(static_cast<std::uint64_t>(std::max(0, kw - 3 + pick(5))));
      bus_.write(csr(rm::kRegCTRL), start);
    }

    // While it runs: counter reads, STATUS polls, injected accesses while busy, CLEAR, a watchdog.
    while (bus_.cov.busy() && pick(3) != 0) {
      const int a = pick(100);
      if (a < 40) {
        bus_.read(csr(rm::kRegCntFirst + static_cast<std::uint32_t>(pick(rm::kRegCntLast - rm::kRegCntFirst + 1))));
      } else if (a < 80) {
        bus_.status();
      } else if (a < 84) {
        busy_error();
      } else if (a < 94) {
        overlap_write(act_base, act_span, wgt_base, kw);
      } else if (a < 96) {
        bus_.write(csr(rm::kRegCTRL), rm::kCtrlClearField.of(1));
      } else {
        bus_.wait(static_cast<std::uint64_t>(1 + pick(8)));  // may expire before the tile ends
      }
    }
    bus_.drain();
    // After it: STATUS, outputs, now and then scratchpads and counters, DONE cleared.
    bus_.status();
    for (int i = pick(3); i >= 0; --i) {
      bus_.read(bus_addr(rm::kRegionOut, static_cast<std::uint32_t>(pick(kRows)),
                         static_cast<std::uint32_t>(pick(kCols / 4))));
    }
    bus_.read(bus_addr(rm::kRegionOut, 0, static_cast<std::uint32_t>(kCols / 4)));  // row 0's width header
    if (pick(4) == 0) {
      const std::uint32_t region = rm::kRegionAct + static_cast<std::uint32_t>(pick(3));
      const int banks = region == rm::kRegionAct ? kRows : kCols;
      const int lines = region == rm::kRegionBias ? kBiasEntries / 2 : kWords / 4;
      bus_.read(bus_addr(region, static_cast<std::uint32_t>(pick(banks)), static_cast<std::uint32_t>(pick(lines))));
    }
    if (pick(4) == 0) {  // a wide read: an output line of every row, or a line of every bank of a region
      const std::uint32_t region = rm::kRegionAct + static_cast<std::uint32_t>(pick(4));
      const int lines = region == rm::kRegionOut    ? kCols / 4 + 1
                        : region == rm::kRegionBias ? kBiasEntries / 2
                                                    : kWords / 4;
      bus_.wide(false, region, static_cast<std::uint32_t>(pick(lines)), std::vector<std::uint64_t>(kWideLines, 0));
    }
    if (pick(4) == 0) bus_.read(csr(rm::kRegCNT_TILES));
    if (pick(16) == 0) bus_.wait(static_cast<std::uint64_t>(1 + pick(8)));  // DONE still set: returns at once
    if (pick(2) == 0) bus_.write(csr(rm::kRegSTATUS), rm::kStatusDoneField.of(1));
  }

  // One register made illegal, START (refused), the register repaired, STATUS.ERR sometimes
  // cleared; the caller then starts the legal tile (the recovery).
  void refused_start(golden::Mode mode, int kw, bool dw) {
    const std::uint64_t mode_reg = legal_[rm::kRegMODE];
    std::vector<std::pair<std::uint32_t, std::uint64_t>> bad = {
        {rm::kRegMODE, rm::kModeField.of(rm::kModeBAD)},
        {rm::kRegK, 0},
        {rm::kRegK, static_cast<std::uint64_t>(kWords * golden::lanes(mode) + 1 + pick(100))},
        {rm::kRegACT_BASE, static_cast<std::uint64_t>(kWords - kw + 1 + pick(kw))},  // runs past the bank end
        {rm::kRegWGT_BASE, static_cast<std::uint64_t>(kWords - kw + 1 + pick(kw))},
        {rm::kRegROWS_ACT, pick(2) == 0 ? 0u : static_cast<std::uint64_t>(kRows + 1 + pick(8))},
        {rm::kRegCOLS_ACT, pick(2) == 0 ? 0u : static_cast<std::uint64_t>(kCols + 1 + pick(8))},
        {rm::kRegSHIFT, static_cast<std::uint64_t>(rm::kAccW) + static_cast<std::uint64_t>(pick(16))},
        {rm::kRegOUT_CFG,
         rm::kOutCfgAccKeepField.put(legal_[rm::kRegOUT_CFG], 0) | rm::kOutCfgBiasEnField.of(1)},  // BIAS_BASE below
    };
    if (golden::approx_grid(mode) != 0xffff) {  // a skip bit outside the mode's block grid
      const std::uint64_t outside = ~std::uint64_t{golden::approx_grid(mode)} & 0xffffu;
      std::uint64_t bits = rng_() & outside;
      if (bits == 0) bits = outside & (~outside + 1);  // the lowest bit outside
      bad.emplace_back(rm::kRegMODE, mode_reg | rm::kModeBlkskipField.of(bits));
    }
    if (dw) {  // DW: ACT_BASE not a multiple of Cols (ERR_BAD_DW), or Cols-word rows past the bank end (ERR_BAD_K)
      const std::uint64_t base = legal_[rm::kRegACT_BASE];
      bad.emplace_back(rm::kRegACT_BASE, base + 1 + static_cast<std::uint64_t>(pick(kCols - 1)));
      bad.emplace_back(rm::kRegACT_BASE,
                       static_cast<std::uint64_t>(kWords - kw * kCols + kCols * (1 + pick(std::min(kw, 8)))));
    }
    const auto [reg, value] = bad[static_cast<std::size_t>(pick(static_cast<int>(bad.size())))];
    if ((reg == rm::kRegACT_BASE || reg == rm::kRegWGT_BASE) && pick(2) == 0) {
      // The illegal base carried by the START (CTRL.LOAD): refused, the base registers unchanged.
      const std::uint64_t act = reg == rm::kRegACT_BASE ? value : legal_[rm::kRegACT_BASE];
      const std::uint64_t wgt = reg == rm::kRegWGT_BASE ? value : legal_[rm::kRegWGT_BASE];
      bus_.write(csr(rm::kRegCTRL), rm::kCtrlStartField.of(1) | rm::kCtrlLoadField.of(1) |
                                        rm::kCtrlActBaseField.of(act) | rm::kCtrlWgtBaseField.of(wgt) |
                                        rm::kCtrlBiasBaseField.of(legal_[rm::kRegBIAS_BASE]));
      if (pick(2) == 0) bus_.write(csr(rm::kRegSTATUS), rm::kStatusErrField.of(1));
      return;
    }
    if (reg == rm::kRegOUT_CFG) {  // BIAS_EN with BIAS_BASE past the bias bank
      bus_.write(csr(rm::kRegBIAS_BASE), static_cast<std::uint64_t>(kBiasEntries + pick(1000)));
    }
    bus_.write(csr(reg), value);
    bus_.write(csr(rm::kRegCTRL), rm::kCtrlStartField.of(1));  // refused; STATUS read follows
    bus_.write(csr(reg), legal_[reg]);
    if (reg == rm::kRegOUT_CFG) bus_.write(csr(rm::kRegBIAS_BASE), legal_[rm::kRegBIAS_BASE]);
    if (pick(2) == 0) bus_.write(csr(rm::kRegSTATUS), rm::kStatusErrField.of(1));
  }
  // A failed access while idle: unmapped, read-only.
  void bus_error_idle() {
    switch (pick(7)) {
      case 0:
        bus_.read(bus_addr(5 + static_cast<std::uint32_t>(pick(11)), static_cast<std::uint32_t>(pick(16)),
                           static_cast<std::uint32_t>(pick(4096))));
        break;
      case 1:
        bus_.write(bus_addr(rm::kRegionAct + static_cast<std::uint32_t>(pick(2)),
                            static_cast<std::uint32_t>(16 + pick(240)), 0),
                   rng_());
        break;
      case 2:
        bus_.read(csr(rm::kRegCntLast + 1 + static_cast<std::uint32_t>(pick(100))));
        break;
      case 3:
        bus_.write(bus_addr(rm::kRegionBias, 0, static_cast<std::uint32_t>(kBiasEntries / 2 + pick(1000))), rng_());
        break;
      case 4:
        bus_.write(bus_addr(rm::kRegionOut, static_cast<std::uint32_t>(pick(kRows)), 0), rng_());
        break;
      case 5:
        bus_.write(csr(static_cast<std::uint32_t>(pick(3))), rng_());  // ID, HWCFG, HWCFG2
        break;
      default:
        bus_.write(csr(rm::kRegCntFirst + static_cast<std::uint32_t>(pick(10))), rng_());
        break;
    }
  }

  std::vector<std::uint64_t> random_row_lines() {
    std::vector<std::uint64_t> v(static_cast<std::size_t>(kRows * kCols / 4));
    for (auto& x : v) x = rng_();
    return v;
  }
  std::vector<std::uint64_t> random_lines() {
    std::vector<std::uint64_t> v(kWideLines);
    for (auto& x : v) x = rng_();
    return v;
  }

  // A scratchpad write while the tile runs (overlapped transfer), narrow or wide, at a line near the
  // tile's read windows (inside: ERR_BUS_HAZARD; outside: it goes ahead), or anywhere.
  void overlap_write(int act_base, int act_span, int wgt_base, int kw) {
    const int r = pick(3);
    const std::uint32_t region = rm::kRegionAct + static_cast<std::uint32_t>(r);
    const int lines = r == 2 ? kBiasEntries / 2 : kWords / 4;
    int lo = 0, hi = 0;
    if (r == 0) lo = act_base / 4, hi = (act_base + act_span - 1) / 4;
    if (r == 1) lo = wgt_base / 4, hi = (wgt_base + kw - 1) / 4;
    if (r == 2) lo = hi = static_cast<int>(legal_[rm::kRegBIAS_BASE] / 2);
    int line = 0;
    switch (pick(4)) {
      case 0:
        line = lo + pick(hi - lo + 1);  // inside
        break;
      case 1:
        line = lo - 1;  // just below
        break;
      case 2:
        line = hi + 1;  // just above
        break;
      default:
        line = pick(lines);
        break;
    }
    line = std::clamp(line, 0, lines - 1);
    if (r == 0 && pick(3) == 0) {  // a row beat over the aligned lines around `line`
      bus_.rows(static_cast<std::uint32_t>(line / (kCols / 4) * (kCols / 4)), random_row_lines());
    } else if (pick(2) == 0) {
      bus_.wide(true, region, static_cast<std::uint32_t>(line), random_lines());
    } else {
      bus_.write(
          bus_addr(region, static_cast<std::uint32_t>(pick(r == 0 ? kRows : kCols)), static_cast<std::uint32_t>(line)),
          rng_());
    }
  }

  // A failed access while a tile runs: configuration or scratchpad write, scratchpad read, START.
  void busy_error() {
    switch (pick(5)) {
      case 0:
        bus_.write(csr(rm::kRegIRQ_EN + 1 + static_cast<std::uint32_t>(pick(10))), rng_());  // MODE .. CLAMP_HI
        break;
      case 1:
        bus_.write(bus_addr(rm::kRegionAct + static_cast<std::uint32_t>(pick(3)), static_cast<std::uint32_t>(pick(16)),
                            static_cast<std::uint32_t>(pick(128))),
                   rng_());
        break;
      case 2:
        bus_.read(bus_addr(rm::kRegionAct + static_cast<std::uint32_t>(pick(4)), static_cast<std::uint32_t>(pick(16)),
                           static_cast<std::uint32_t>(pick(4))));
        break;
      case 3:  // refused while the tile reads operands (its bases ignored); accepted in its last two cycles
        bus_.write(csr(rm::kRegCTRL), rm::kCtrlStartField.of(1) | (rng_() & ~std::uint64_t{3}));
        break;
      default:
        bus_.write(csr(rm::kRegIRQ_EN), rng_() & 3);  // IRQ_EN is configuration too
        break;
    }
  }

  // Unconstrained accesses (any register, value, region, bank, line), as the stream was before.
  void random_burst() {
    for (int i = 1 + pick(6); i > 0; --i) {
      const int k = pick(100);
      if (k < 10) {
        bus_.wait(static_cast<std::uint64_t>(pick(60)));
      } else if (k < 50) {
        bus_.write(csr(rm::kRegIRQ_EN + static_cast<std::uint32_t>(pick(11))), rng_() >> pick(64));
      } else if (k < 60) {
        bus_.write(csr(rm::kRegCTRL), static_cast<std::uint64_t>(pick(4)));
      } else if (k < 75) {
        bus_.access(pick(2) == 0,
                    bus_addr(rm::kRegionCsr, pick(20) == 0 ? 1u : 0u, static_cast<std::uint32_t>(pick(0x1c))), rng_());
      } else {
        bus_.access(pick(3) == 0,
                    bus_addr(rm::kRegionAct + static_cast<std::uint32_t>(pick(5)),
                             pick(8) == 0 ? rm::kAddrBankAll : static_cast<std::uint32_t>(pick(18)),
                             static_cast<std::uint32_t>(pick(2100))),
                    rng_());
      }
    }
    dirty_ = true;
  }

  LockStep& bus_;
  std::mt19937_64 rng_;
  bool dirty_ = true;                                    ///< registers may hold anything: write the whole configuration
  std::array<std::uint64_t, rm::kRegCntFirst> legal_{};  ///< the last legal value written per register
};

std::uint64_t transactions() {
  const char* env = std::getenv("BITSCALE_COSIM_TRANSACTIONS");
  if (env == nullptr || *env == '\0') return 5000;
  return std::stoull(env, nullptr, 0);
}

TEST(RtlCosim, MostlyLegalBusTrafficLockStep) {
  const std::uint64_t seed = bitscale::test::test_seed(77);
  const std::uint64_t n = transactions();
  LockStep bus(seed);
  Stimulus stim(bus, seed);
  try {
    for (std::uint64_t t = 0; t < n; ++t) stim.transaction();
    bus.drain();
    bus.compare_registers();
  } catch (const Divergence& e) {
    FAIL() << e.what();
  }
  const auto& cov = bus.cov;
  const auto& errs = cov.errors_by_code();
  std::uint64_t refused = 0;
  for (const std::uint32_t c : {rm::kErrStartBusy, rm::kErrBadMode, rm::kErrBadK, rm::kErrBadShape, rm::kErrBadShift,
                                rm::kErrBadBias, rm::kErrBadApprox, rm::kErrBadDw})
    refused += errs[c];
  const std::uint64_t ok = bus.accesses - bus.bus_errors - refused;
  // The ERR_* names of rtl/bsa_regs.def, by code.
  static constexpr const char* kErrName[] = {"NONE",       "START_BUSY", "BAD_MODE",  "BAD_K",    "BAD_SHAPE",
                                             "BAD_SHIFT",  "BAD_BIAS",   "BUS_ADDR",  "BUS_BUSY", "BUS_RO",
                                             "BAD_APPROX", "BAD_DW",     "BUS_HAZARD"};
  std::string by_kind;
  for (std::uint32_t c = 1; c < errs.size(); ++c) {
    if (errs[c] != 0) by_kind += fmt::format(" {} {}", c < std::size(kErrName) ? kErrName[c] : "?", errs[c]);
  }
  std::cout << fmt::format(
      "{} transactions, {} bus accesses ({:.1f} % successful), {} waits; {} START writes, {} tiles completed; "
      "{} failed accesses, {} refused STARTs; errors by kind:{}\n{}",
      n, bus.accesses, 100.0 * static_cast<double>(ok) / static_cast<double>(bus.accesses), bus.waits, bus.starts,
      cov.tiles_completed(), bus.bus_errors, refused, by_kind, cov.report());
  std::vector<std::pair<std::uint64_t, std::string>> rare;
  for (const auto& p : cov.points())
    for (const auto& b : p.bins) rare.emplace_back(b.hits, p.name + ": " + b.name);
  std::sort(rare.begin(), rare.end());
  std::string rarest;
  for (std::size_t i = 0; i < std::min<std::size_t>(6, rare.size()); ++i)
    rarest += fmt::format("{}{} ({})", i ? "; " : "", rare[i].second, rare[i].first);
  std::cout << "rarest bins: " << rarest << "\n";
  EXPECT_EQ(cov.hit(), cov.bins()) << cov.report();
  // Every failed access was followed by a STATUS read naming a bus error, and every START either began
  // a tile or was refused with a code.
  EXPECT_EQ(bus.bus_errors,
            errs[rm::kErrBusAddr] + errs[rm::kErrBusBusy] + errs[rm::kErrBusRo] + errs[rm::kErrBusHazard]);
  EXPECT_GT(bus.wide_beats, 0u);
  EXPECT_GT(bus.row_beats, 0u);
  EXPECT_EQ(bus.starts, bus.cov.tiles_completed() + refused);
  EXPECT_GE(10 * ok, 9 * bus.accesses) << "at least 90 % of the accesses succeed";
  EXPECT_GE(cov.tiles_completed(), n * 8 / 10) << "a tile per transaction, nearly";
}

}  // namespace
