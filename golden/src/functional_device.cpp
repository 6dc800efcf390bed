#include "bitscale/golden/functional_device.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>

namespace bitscale::golden {

namespace rm = bitscale::regmap;

FunctionalDevice::FunctionalDevice(const DeviceParams& params) : p_(params) {
  // Read-only identification and geometry (bit_width(v - 1): log2, rounded up).
  regs_[rm::kRegID] = rm::kIdValue;
  regs_[rm::kRegHWCFG] = rm::kHwcfgRowsField.of(static_cast<std::uint64_t>(p_.rows)) |
                         rm::kHwcfgColsField.of(static_cast<std::uint64_t>(p_.cols)) |
                         rm::kHwcfgActLog2Field.of(std::bit_width(static_cast<unsigned>(p_.act_words) - 1u)) |
                         rm::kHwcfgWgtLog2Field.of(std::bit_width(static_cast<unsigned>(p_.wgt_words) - 1u));
  regs_[rm::kRegHWCFG2] =
      rm::kHwcfg2BiasEntriesField.of(static_cast<std::uint64_t>(p_.bias_entries)) | rm::kHwcfg2AccWField.of(rm::kAccW);
}

std::uint64_t FunctionalDevice::region_banks(std::uint32_t region) const {
  return static_cast<std::uint64_t>(region == rm::kRegionWgt || region == rm::kRegionBias ? p_.cols : p_.rows);
}

void FunctionalDevice::advance(std::uint64_t edges, bool spad) {
  cnt_[rm::kCntCycles] += edges;
  edges_ += edges;
  const std::uint64_t busy = std::min(edges, std::max(busy_left_, tail_left_));
  if (busy == 0) return;
  cnt_[rm::kCntBusy] += busy;
  if (spad) count_overlap(cnt_, busy);
  // The last edges of the tile before (it ends before the started tile: tail_left_ <= 2 < busy_left_).
  if (tail_left_ > 0) {
    const std::uint64_t tail = std::min(edges, tail_left_);
    tail_left_ -= tail;
    if (tail_left_ == 0) {
      for (std::size_t i = 0; i < cnt_.size(); ++i) cnt_[i] += tail_inc_[i];
    }
  }
  const std::uint64_t mine = std::min(edges, busy_left_);
  if (mine == 0) return;
  busy_left_ -= mine;
  if (busy_left_ == 0) {  // the completion edge: the tile's totals (docs/ARCHITECTURE.md edge table)
    for (std::size_t i = 0; i < cnt_.size(); ++i) cnt_[i] += tile_inc_[i];
    done_ = true;
  }
}

driver::BusResponse FunctionalDevice::access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata) {
  const bool write = op == driver::BusOp::kWrite;
  driver::BusResponse r;
  // The edge's increments go into cnt_ after the branches below (a counter read returns the value
  // before the edge; CLEAR drops them); only the counters an access can change are touched.
  bool spad = false, start = false;
  const std::uint32_t region = addr >> rm::kAddrRegionLsb;
  const std::uint32_t bank = (addr >> rm::kAddrBankLsb) & ((1u << (rm::kAddrRegionLsb - rm::kAddrBankLsb)) - 1u);
  const std::uint32_t index = addr & ((1u << rm::kAddrBankLsb) - 1u);
  if (region != rm::kRegionCsr) {
    spad = true;
  } else if (!write) {
    if (index >= rm::kRegCntFirst && index <= rm::kRegCntLast) {
      r.rdata = cnt_[index - rm::kRegCntFirst];                                     // the value before this edge
    } else if (index < regs_.size() && rm::reg_access(index) != rm::Access::kWo) {  // wo reads 0
      r.rdata = regs_[index];
    }
  } else if (index == rm::kRegCTRL) {
    if (rm::kCtrlStartField.get(wdata) != 0) {
      if (rm::kCtrlLoadField.get(wdata) != 0) {  // CTRL.LOAD: the tile's bases come with the START
        regs_[rm::kRegACT_BASE] = rm::kCtrlActBaseField.get(wdata);
        regs_[rm::kRegWGT_BASE] = rm::kCtrlWgtBaseField.get(wdata);
        regs_[rm::kRegBIAS_BASE] = rm::kCtrlBiasBaseField.get(wdata);
      }
      tile_.mode =
          mode_of_code(static_cast<std::uint32_t>(rm::kModeField.get(regs_[rm::kRegMODE]))).value_or(Mode::k16);
      tile_.k = static_cast<int>(regs_[rm::kRegK]);
      tile_.rows = static_cast<int>(regs_[rm::kRegROWS_ACT]);
      tile_.cols = static_cast<int>(regs_[rm::kRegCOLS_ACT]);
      // The bias entries are read unless OUT_CFG.ACC_KEEP keeps the accumulators.
      tile_.bias_en = rm::kOutCfgBiasEnField.get(regs_[rm::kRegOUT_CFG]) != 0 &&
                      rm::kOutCfgAccKeepField.get(regs_[rm::kRegOUT_CFG]) == 0;
      tile_.approx = Approx{static_cast<std::uint16_t>(rm::kModeBlkskipField.get(regs_[rm::kRegMODE]))};
      tile_.dw = rm::kModeDwField.get(regs_[rm::kRegMODE]) != 0;
      tile_.zgate = rm::kModeZgateField.get(regs_[rm::kRegMODE]) != 0 && !tile_.dw;  // none in DW mode
      tile_.array_cols = p_.cols;
      start = true;
    }
    if (rm::kCtrlClearField.get(wdata) != 0) {
      advance(1, false);
      cnt_ = CounterValues{};  // CLEAR drops the increments of its own edge
      if (start) begin_tile();
      return r;
    }
  } else if (index == rm::kRegSTATUS) {
    if (rm::kStatusDoneField.get(wdata) != 0) done_ = false;
  } else if (index < regs_.size() && rm::reg_access(index) == rm::Access::kRw) {  // configuration
    regs_[index] = wdata & rm::reg_mask(index);
  }
  advance(1, spad);
  if (spad) {
    const std::uint64_t rows_beat = static_cast<std::uint64_t>(p_.rows) * static_cast<std::uint64_t>(p_.cols / 4);
    count_spad_lines(cnt_, write, 1,
                     bank == rm::kAddrBankAll    ? region_banks(region)
                     : bank == rm::kAddrBankRows ? rows_beat
                                                 : 1);
  }
  if (start) begin_tile();
  return r;
}

void FunctionalDevice::begin_tile() {
  // A START from the running tile's last read on: its DRAIN and output edges (at most two) are still
  // to come. Earlier, the hardware refuses the START (ERR_START_BUSY), which this model does not check.
  if (busy_left_ > 2) {
    throw driver::DeviceError(
        fmt::format("golden-functional: START while the running tile reads operands ({} busy edges left)", busy_left_));
  }
  tail_left_ = busy_left_;
  tail_inc_ = tile_inc_;
  // Busy edges e1 .. e(last) follow; their increments other than CYCLES and BUSY (which advance()
  // counts edge by edge) are added at the completion edge.
  tile_inc_ = count_tile(tile_);
  busy_left_ = tile_inc_[rm::kCntCycles];
  tile_inc_[rm::kCntCycles] = 0;
  tile_inc_[rm::kCntBusy] = 0;
  if (tile_.zgate) count_zero_gating(tile_inc_, tile_.mode, tile_zskip_);
  tile_zskip_ = 0;
  count_group_widths(tile_inc_, tile_widths_);
  tile_widths_.clear();
  done_ = false;
}

driver::BusResponse FunctionalDevice::access_wide(driver::BusOp op, std::uint32_t region, std::uint32_t line,
                                                  std::span<std::uint64_t> lines) {
  const auto n = static_cast<std::size_t>(std::max(p_.rows, p_.cols));
  if (lines.size() != n) {
    throw driver::DeviceError(
        fmt::format("golden-functional: a wide beat moves {} lines (max(rows, cols)), not {}", n, lines.size()));
  }
  if (op == driver::BusOp::kRead) std::fill(lines.begin(), lines.end(), std::uint64_t{0});  // no data kept
  return access(op, driver::bus_addr(region, rm::kAddrBankAll, line), 0);
}

driver::WaitResult FunctionalDevice::wait(std::uint64_t max_cycles) {
  driver::WaitResult w;
  if (busy_left_ > 0) {
    w.cycles = std::min(busy_left_, max_cycles);
    advance(w.cycles, false);
    w.done = busy_left_ == 0;
    return w;
  } else if (!done_) {
    w.cycles = max_cycles;  // nothing runs: the caller's watchdog expires
    return w;
  }
  w.done = true;
  return w;
}

void FunctionalDevice::count_lines(driver::BusOp op, std::uint64_t lines, std::uint64_t banks) {
  advance(lines, true);
  count_spad_lines(cnt_, op == driver::BusOp::kWrite, lines, banks);
}

}  // namespace bitscale::golden

namespace bitscale::golden {

void FunctionalDevice::set_group_widths(std::span<const std::uint8_t> widths) {
  tile_widths_.assign(widths.begin(), widths.end());
}

}  // namespace bitscale::golden
