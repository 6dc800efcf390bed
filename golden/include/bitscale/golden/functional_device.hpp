// The device of the functional golden back-end: the registers and performance counters of
// bsa_top without scratchpads, arithmetic or timing of its own. The driver computes the data
// with the golden reference kernels and tells this device how many scratchpad lines it would
// have moved (count_lines), so the counters follow the rules of golden/counter_model.hpp
// exactly as GoldenDevice and the RTL do for the same sequence of calls.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bitscale/driver/device.hpp"
#include "bitscale/golden/counter_model.hpp"
#include "bitscale/golden/golden_device.hpp"

namespace bitscale::golden {

class FunctionalDevice final : public driver::Device {
 public:
  explicit FunctionalDevice(const DeviceParams& params = {});

  [[nodiscard]] std::string_view name() const override { return "golden-functional"; }
  /// One edge: registers and counters. Scratchpad accesses are counted; their data is not
  /// kept (reads return 0). No bus errors and no START checks: the driver only issues legal
  /// accesses.
  driver::BusResponse access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata) override;
  /// Completes a started tile at once (all its busy edges); without one, waits `max_cycles`
  /// without counting them (the watchdog of the caller expires).
  driver::WaitResult wait(std::uint64_t max_cycles) override;
  /// `lines` scratchpad line accesses at once, as many edges.
  void count_lines(driver::BusOp op, std::uint64_t lines);
  /// CNT_ZSKIP of the next tile to complete when it runs with MODE.ZGATE (the device keeps no
  /// operands: the caller counts them, golden::tile_zero_skips); ignored for a tile without ZGATE.
  void set_tile_zero_skips(std::uint64_t zskip) { tile_zskip_ = zskip; }
  /// The group widths of the started tile's active rows (computed by the driver from the outputs
  /// it already has, golden::output_group_width): counted in CNT_GW* when the tile completes.
  void set_group_widths(std::span<const std::uint8_t> widths);

 private:
  DeviceParams p_;
  std::array<std::uint64_t, regmap::kRegCntFirst> regs_{};  ///< registers below the counters
  CounterValues cnt_{};
  bool tile_pending_ = false;
  TileCounts tile_;
  std::uint64_t tile_zskip_ = 0;
  std::vector<std::uint8_t> tile_widths_;  ///< group widths of the pending tile
};

}  // namespace bitscale::golden
