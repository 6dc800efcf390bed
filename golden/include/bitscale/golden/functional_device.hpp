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
  /// accesses. An edge while a started tile is busy counts as one of its busy edges (CNT_BUSY, and
  /// CNT_OVERLAP for a scratchpad beat); the tile's other increments are added at its completion
  /// edge, so the counters equal the RTL's whenever no tile runs (not in the middle of one).
  driver::BusResponse access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata) override;
  /// A wide beat, counted as access() counts it (the region's banks in CNT_SPAD_*); reads return 0.
  driver::BusResponse access_wide(driver::BusOp op, std::uint32_t region, std::uint32_t line,
                                  std::span<std::uint64_t> lines) override;
  /// Runs a started tile to completion at once (its remaining busy edges, at most `max_cycles`);
  /// returns at once, done, when it completed during the accesses since its START (DONE stays set
  /// until the next START or a w1c of STATUS.DONE); without one, waits `max_cycles` without
  /// counting them (the watchdog of the caller expires).
  driver::WaitResult wait(std::uint64_t max_cycles) override;
  [[nodiscard]] std::uint64_t edges() const override { return edges_; }
  /// `lines` scratchpad beats at once, as many edges, each moving a line of `banks` banks (1:
  /// narrow accesses, the region's banks: wide beats).
  void count_lines(driver::BusOp op, std::uint64_t lines, std::uint64_t banks = 1);
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
  /// `edges` edges (a scratchpad beat each when `spad`): the running tile's busy edges first.
  void advance(std::uint64_t edges, bool spad);
  /// The START edge's follow-up: busy edges and the increments of the tile just started. A START
  /// from the running tile's last read on (docs/ARCHITECTURE.md "A tile, cycle by cycle") leaves that
  /// tile's last busy edges to come as the first edges of the new one.
  void begin_tile();
  [[nodiscard]] std::uint64_t region_banks(std::uint32_t region) const;

  std::uint64_t busy_left_ = 0;  ///< busy edges of the started tile still to come
  bool done_ = false;            ///< STATUS.DONE
  CounterValues tile_inc_{};     ///< the started tile's increments other than CYCLES and BUSY
  std::uint64_t tail_left_ = 0;  ///< busy edges still to come of the tile before it (0 .. 2)
  CounterValues tail_inc_{};     ///< that tile's increments
  std::uint64_t edges_ = 0;      ///< edges since construction
  TileCounts tile_;
  std::uint64_t tile_zskip_ = 0;
  std::vector<std::uint8_t> tile_widths_;  ///< group widths of the pending tile
};

}  // namespace bitscale::golden
