// Register-level functional model of bsa_top (docs/ARCHITECTURE.md, docs/NUMERICS.md):
// registers, scratchpads, START checks, bus errors, tile timing and performance counters,
// computed with the golden numeric functions, never by translating the RTL.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "bitscale/driver/device.hpp"
#include "bitscale/regmap.hpp"

namespace bitscale::golden {

/// Hardware parameters of the modelled instance (defaults = those of rtl/bsa_regs.def, the
/// verilated bsa_top).
struct DeviceParams {
  int rows = static_cast<int>(regmap::kDefaultRows);
  int cols = static_cast<int>(regmap::kDefaultCols);           ///< multiple of 4
  int act_words = static_cast<int>(regmap::kDefaultActWords);  ///< 16-bit words per activation bank (power of two)
  int wgt_words = static_cast<int>(regmap::kDefaultWgtWords);  ///< 16-bit words per weight bank (power of two)
  int bias_entries = static_cast<int>(regmap::kDefaultBiasEntries);  ///< 32-bit entries per bias bank (even)
};

class GoldenDevice final : public driver::Device {
 public:
  explicit GoldenDevice(const DeviceParams& params = {});
  ~GoldenDevice() override;
  [[nodiscard]] std::string_view name() const override { return "golden"; }
  driver::BusResponse access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata) override;
  driver::BusResponse write_rows(std::uint32_t line, std::span<const std::uint64_t> lines) override;
  driver::BusResponse access_wide(driver::BusOp op, std::uint32_t region, std::uint32_t line,
                                  std::span<std::uint64_t> lines) override;
  driver::WaitResult wait(std::uint64_t max_cycles) override;
  [[nodiscard]] std::uint64_t edges() const override;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace bitscale::golden
