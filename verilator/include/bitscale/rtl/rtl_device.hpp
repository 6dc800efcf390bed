// The verilated bsa_top behind the Device contract. Owns the VerilatedContext and the
// model, ticks the clock itself (no threads, no DPI) and optionally writes an FST waveform.
// This header includes no Verilator header: the model is hidden behind a pimpl.
//
// bsa_top is verilated once per geometry (Rows x Cols) listed in verilator/CMakeLists.txt:
// RtlDeviceOf<Rows, Cols> is the device of one of them (compiled once per verilated instance,
// so that every clock edge calls its model directly), RtlDevice that of the default geometry
// (rtl/bsa_regs.def), and make_rtl_device() chooses one at run time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/device.hpp"
#include "bitscale/regmap.hpp"

namespace bitscale::rtl {

/// How the harness evaluates one clock cycle of the model (bsa_top has only posedge clk_i flops and
/// the asynchronous reset).
enum class Clocking {
  /// One eval() per cycle, the rising edge only, wherever the result is the same as kBothEdges:
  /// always in the fast build; in the checking build for every cycle whose inputs did not change
  /// since the last eval() (wait()), while a cycle with new bus inputs (access()) also evaluates
  /// the falling edge, so that the assertions sample the combinational logic of the new inputs.
  /// Waveforms (RtlOptions::trace_fst) always get both edges.
  kPosedge,
  /// Two eval()s per cycle, falling then rising edge (the harness before issue 9).
  kBothEdges,
};
/// "posedge" / "both-edges".
std::string_view to_string(Clocking c);
/// The clocking of the environment variable BITSCALE_RTL_CLOCKING ("posedge" or "both-edges"; unset or
/// empty: kPosedge). Throws driver::DeviceError naming the variable and its value for anything else.
Clocking default_clocking();

struct RtlOptions {
  std::string trace_fst;                   ///< write an FST waveform to this file; empty = no waveform
  std::uint64_t seed = 1;                  ///< seed of the random initial values (--x-initial unique)
  bool random_init = true;                 ///< random initial flops and memories; false = all zero
  Clocking clocking = default_clocking();  ///< evaluations per clock cycle
};

/// The kind of verilated model in this build (CMake cache variable BITSCALE_RTL_BUILD).
enum class RtlBuild {
  kCheck,  ///< assertions (rtl/bsa_assert.svh), unique X values, FST support: every test uses it
  kFast,   ///< benchmarks only: no assertions, --x-assign/--x-initial fast, no tracing
};
/// "check" / "fast".
std::string_view to_string(RtlBuild b);
/// The kind of this build.
RtlBuild rtl_build();

/// The size of the PE array of a verilated bsa_top (its parameters Rows and Cols).
struct Geometry {
  int rows = 0, cols = 0;
  friend bool operator==(const Geometry&, const Geometry&) = default;
};

/// "16x16".
std::string to_string(Geometry g);
/// The default geometry (rtl/bsa_regs.def DEFAULT_ROWS x DEFAULT_COLS).
inline constexpr Geometry kDefaultGeometry{static_cast<int>(regmap::kDefaultRows),
                                           static_cast<int>(regmap::kDefaultCols)};

/// What every verilated instance offers beyond the Device contract.
class RtlDeviceBase : public driver::Device {
 public:
  [[nodiscard]] std::string_view name() const override { return "rtl"; }
  /// The verilated parameters Rows x Cols.
  [[nodiscard]] virtual Geometry geometry() const = 0;
  /// Clock edges since reset.
  [[nodiscard]] virtual std::uint64_t cycles() const = 0;
  [[nodiscard]] std::uint64_t edges() const override { return cycles(); }
  /// Holds rst_ni low for 4 clock cycles, as at construction: a running tile is abandoned, the
  /// registers, STATUS and the counters return to their reset values and cycles() restarts at 0.
  /// The scratchpads (SRAM macros) keep their contents.
  virtual void reset() = 0;
  /// The level of the interrupt pin irq_o (STATUS.DONE or ERR with its IRQ_EN bit set).
  [[nodiscard]] virtual bool irq() const = 0;
  /// eval() calls of the model since construction (simulation cost: one per cycle with
  /// Clocking::kPosedge where possible, two with kBothEdges).
  [[nodiscard]] virtual std::uint64_t evals() const = 0;
  /// The clocking this device uses.
  [[nodiscard]] virtual Clocking clocking() const = 0;
  /// Whether this build can write waveforms (CMake option BITSCALE_TRACE), at the default geometry only.
  static bool trace_supported();
};

/// The bsa_top verilated with Rows x Cols PEs. Only the geometries of rtl_geometries() are
/// compiled; naming another one fails to link.
template <int Rows, int Cols>
class RtlDeviceOf final : public RtlDeviceBase {
 public:
  explicit RtlDeviceOf(const RtlOptions& opts = {});
  ~RtlDeviceOf() override;
  RtlDeviceOf(const RtlDeviceOf&) = delete;
  RtlDeviceOf& operator=(const RtlDeviceOf&) = delete;

  driver::BusResponse access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata) override;
  driver::BusResponse access_wide(driver::BusOp op, std::uint32_t region, std::uint32_t line,
                                  std::span<std::uint64_t> lines) override;
  driver::BusResponse write_rows(std::uint32_t line, std::span<const std::uint64_t> lines) override;
  driver::WaitResult wait(std::uint64_t max_cycles) override;
  [[nodiscard]] std::uint64_t assertion_failures() const override;
  [[nodiscard]] std::vector<std::string> failed_assertions() const override;
  [[nodiscard]] Geometry geometry() const override { return {Rows, Cols}; }
  [[nodiscard]] std::uint64_t cycles() const override;
  void reset() override;
  [[nodiscard]] bool irq() const override;
  [[nodiscard]] std::uint64_t evals() const override;
  [[nodiscard]] Clocking clocking() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The device of the default geometry (the one every command uses).
using RtlDevice = RtlDeviceOf<kDefaultGeometry.rows, kDefaultGeometry.cols>;
extern template class RtlDeviceOf<kDefaultGeometry.rows, kDefaultGeometry.cols>;

/// The geometries verilated in this build, the default first.
const std::vector<Geometry>& rtl_geometries();
/// A device of geometry `g`; throws std::invalid_argument naming the geometries of this build
/// when `g` is not one of them.
std::unique_ptr<RtlDeviceBase> make_rtl_device(Geometry g, const RtlOptions& opts = {});

}  // namespace bitscale::rtl
