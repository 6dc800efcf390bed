// The verilated bsa_top behind the Device contract. Owns the VerilatedContext and the
// model, ticks the clock itself (no threads, no DPI) and optionally writes an FST waveform.
// This header includes no Verilator header: the model is hidden behind a pimpl.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/device.hpp"

namespace bitscale::rtl {

struct RtlOptions {
  std::string trace_fst;    ///< write an FST waveform to this file; empty = no waveform
  std::uint64_t seed = 1;   ///< seed of the random initial values (--x-initial unique)
  bool random_init = true;  ///< random initial flops and memories; false = all zero
};

class RtlDevice final : public driver::Device {
 public:
  explicit RtlDevice(const RtlOptions& opts = {});
  ~RtlDevice() override;

  [[nodiscard]] std::string_view name() const override { return "rtl"; }
  driver::BusResponse access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata) override;
  driver::WaitResult wait(std::uint64_t max_cycles) override;
  [[nodiscard]] std::uint64_t assertion_failures() const override;
  [[nodiscard]] std::vector<std::string> failed_assertions() const override;

  /// Clock edges since reset.
  [[nodiscard]] std::uint64_t cycles() const;
  /// Holds rst_ni low for 4 clock cycles, as at construction: a running tile is abandoned, the
  /// registers, STATUS and the counters return to their reset values and cycles() restarts at 0.
  /// The scratchpads (SRAM macros) keep their contents.
  void reset();
  /// The level of the interrupt pin irq_o (STATUS.DONE or ERR with its IRQ_EN bit set).
  [[nodiscard]] bool irq() const;
  /// Whether this build can write waveforms (CMake option BITSCALE_TRACE).
  static bool trace_supported();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bitscale::rtl
