// The device contract: what the driver needs from an accelerator back-end.
//
// Implemented by the verilated RTL (bitscale::rtl::RtlDevice) and by the golden
// register-level model (bitscale::golden::GoldenDevice). Everything above this
// contract (tiling, packing, counters) is portable; everything below is
// "implemented by the port" (NVDLA's split).
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/regmap.hpp"

namespace bitscale::driver {

/// Direction of a bus access.
enum class BusOp : std::uint8_t { kRead, kWrite };

/// Response of one bus access (one clock edge).
struct BusResponse {
  std::uint64_t rdata = 0;  ///< read data (0 for writes and failed accesses)
  bool err = false;         ///< the access failed; STATUS.ERR_CODE says why
};

/// Result of waiting for a tile.
struct WaitResult {
  std::uint64_t cycles = 0;  ///< clock edges waited
  bool done = false;         ///< done_o was set
  bool err = false;          ///< err_o was set
};

/// Raised by back-ends for failures of the simulation itself (e.g. an RTL assertion).
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Register-level accelerator back-end. One call = one bus access = one clock edge,
/// exactly as described in docs/ARCHITECTURE.md, so both back-ends keep identical
/// cycle and scratchpad counters.
class Device {
 public:
  virtual ~Device() = default;
  Device() = default;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  /// Back-end name ("rtl", "golden", "golden-functional").
  [[nodiscard]] virtual std::string_view name() const = 0;
  /// One bus access at the next rising edge. `addr` is a line address (see bus_addr());
  /// `wdata` is ignored for reads.
  virtual BusResponse access(BusOp op, std::uint32_t addr, std::uint64_t wdata) = 0;
  /// access() of a read / a write.
  BusResponse read(std::uint32_t addr) { return access(BusOp::kRead, addr, 0); }
  BusResponse write(std::uint32_t addr, std::uint64_t wdata) { return access(BusOp::kWrite, addr, wdata); }
  /// One wide beat at the next rising edge (docs/ARCHITECTURE.md "Bus"): line `line` of every bank
  /// of scratchpad `region` at once, bus address bus_addr(region, ADDR_BANK_ALL, line). `lines` has
  /// one entry per bank of the wider side, max(Rows, Cols): bank b at lines[b]; a write takes the
  /// region's banks (Rows for ACT, Cols for WGT and BIAS) from it, a read fills it (entries past the
  /// region's banks, and all of them for a failed access, read 0). The same cycle and counter
  /// effects as access(): one edge, one CNT_XFER beat, 4 words per bank in CNT_SPAD_WR / _RD.
  /// Throws DeviceError when `lines` has the wrong size or the back-end has no wide port.
  virtual BusResponse access_wide(BusOp op, std::uint32_t region, std::uint32_t line, std::span<std::uint64_t> lines);
  /// One row beat at the next rising edge (docs/ARCHITECTURE.md "Bus"): activation lines `line` ..
  /// `line` + Cols/4 - 1 of every row's bank at once (`line` a multiple of Cols/4), bus address
  /// bus_addr(REGION_ACT, ADDR_BANK_ROWS, line). `lines` has Rows x Cols/4 entries: bank r, line
  /// `line` + s at lines[r x Cols/4 + s]. A write only; one edge, one CNT_XFER beat, Rows x Cols words
  /// in CNT_SPAD_WR. Throws DeviceError when `lines` has the wrong size or the back-end has no row port.
  virtual BusResponse write_rows(std::uint32_t line, std::span<const std::uint64_t> lines);
  /// Clock idle edges until done_o or err_o is set (checked before each edge), at most
  /// `max_cycles` edges. Neither flag set in the result means the watchdog expired.
  virtual WaitResult wait(std::uint64_t max_cycles) = 0;
  /// Rising edges clocked so far (accesses and waits alike; an RTL reset restarts the count): the
  /// driver's clock for placing a START in the last busy cycles of the running tile.
  [[nodiscard]] virtual std::uint64_t edges() const = 0;
  /// Simulation assertions that failed so far (RTL back-end; 0 for models without any).
  [[nodiscard]] virtual std::uint64_t assertion_failures() const { return 0; }
  /// The names of the assertions that failed so far, oldest first (as many as assertion_failures()
  /// where the back-end knows them; the RTL reports the SystemVerilog assertion labels).
  [[nodiscard]] virtual std::vector<std::string> failed_assertions() const { return {}; }
};

/// Line address of (region, bank, line), as decoded by bsa_top.
constexpr std::uint32_t bus_addr(std::uint32_t region, std::uint32_t bank, std::uint32_t line) {
  return (region << regmap::kAddrRegionLsb) | (bank << regmap::kAddrBankLsb) | line;
}

inline BusResponse Device::access_wide(BusOp, std::uint32_t region, std::uint32_t line, std::span<std::uint64_t>) {
  throw DeviceError(std::string(name()) + ": no wide scratchpad port (region " + std::to_string(region) + ", line " +
                    std::to_string(line) + ")");
}

inline BusResponse Device::write_rows(std::uint32_t line, std::span<const std::uint64_t>) {
  throw DeviceError(std::string(name()) + ": no row scratchpad port (line " + std::to_string(line) + ")");
}

}  // namespace bitscale::driver
