#include "bitscale/golden/functional_device.hpp"

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

driver::BusResponse FunctionalDevice::access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata) {
  const bool write = op == driver::BusOp::kWrite;
  driver::BusResponse r;
  // The edge's increments go into cnt_ after the branches below (a counter read returns the value
  // before the edge; CLEAR drops them); only the counters an access can change are touched.
  bool spad = false, start = false;
  const std::uint32_t region = addr >> rm::kAddrRegionLsb;
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
      tile_.mode =
          mode_of_code(static_cast<std::uint32_t>(rm::kModeField.get(regs_[rm::kRegMODE]))).value_or(Mode::k16);
      tile_.k = static_cast<int>(regs_[rm::kRegK]);
      tile_.rows = static_cast<int>(regs_[rm::kRegROWS_ACT]);
      tile_.cols = static_cast<int>(regs_[rm::kRegCOLS_ACT]);
      tile_.bias_en = rm::kOutCfgBiasEnField.get(regs_[rm::kRegOUT_CFG]) != 0;
      tile_.approx = Approx{static_cast<std::uint16_t>(rm::kModeBlkskipField.get(regs_[rm::kRegMODE]))};
      tile_.dw = rm::kModeDwField.get(regs_[rm::kRegMODE]) != 0;
      tile_.zgate = rm::kModeZgateField.get(regs_[rm::kRegMODE]) != 0 && !tile_.dw;  // none in DW mode
      tile_.array_cols = p_.cols;
      tile_pending_ = true;
      start = true;
    }
    if (rm::kCtrlClearField.get(wdata) != 0) {
      cnt_ = CounterValues{};  // CLEAR drops the increments of its own edge
      return r;
    }
  } else if (index < regs_.size() && rm::reg_access(index) == rm::Access::kRw) {  // configuration
    regs_[index] = wdata & rm::reg_mask(index);
  }
  count_edge(cnt_, false);  // a tile completes within wait(): never busy at an access
  if (spad) count_spad_lines(cnt_, write);
  if (start) count_tile_start(cnt_, tile_);
  return r;
}

driver::WaitResult FunctionalDevice::wait(std::uint64_t max_cycles) {
  driver::WaitResult w;
  if (!tile_pending_) {
    w.cycles = max_cycles;
    return w;
  }
  tile_pending_ = false;
  CounterValues inc = count_tile(tile_);
  if (tile_.zgate) count_zero_gating(inc, tile_.mode, tile_zskip_);
  tile_zskip_ = 0;
  count_group_widths(inc, tile_widths_);
  tile_widths_.clear();
  for (std::size_t i = 0; i < cnt_.size(); ++i) cnt_[i] += inc[i];
  w.cycles = inc[rm::kCntCycles];
  w.done = true;
  return w;
}

void FunctionalDevice::count_lines(driver::BusOp op, std::uint64_t lines) {
  cnt_[rm::kCntCycles] += lines;
  count_spad_lines(cnt_, op == driver::BusOp::kWrite, lines);
}

}  // namespace bitscale::golden

namespace bitscale::golden {

void FunctionalDevice::set_group_widths(std::span<const std::uint8_t> widths) {
  tile_widths_.assign(widths.begin(), widths.end());
}

}  // namespace bitscale::golden
