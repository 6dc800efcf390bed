// Private to the RTL harness: the members of RtlDeviceOf<Rows, Cols> on the verilated model
// detail::Model<Rows, Cols>::type. verilator/CMakeLists.txt generates one translation unit per
// verilated geometry that includes this file and the model's header, specializes detail::Model for
// its geometry and instantiates RtlDeviceOf there, so every clock edge calls the model's eval()
// directly.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bitscale/rtl/rtl_device.hpp"
#include "rtl_context.hpp"
#include "verilated.h"
#if VM_TRACE_FST
#include "verilated_fst_c.h"
#endif

namespace bitscale::rtl {

namespace detail {
/// The verilated class of geometry Rows x Cols (specialized by the translation unit of that instance).
template <int Rows, int Cols>
struct Model;
}  // namespace detail

template <int Rows, int Cols>
struct RtlDeviceOf<Rows, Cols>::Impl {
  using Top = typename detail::Model<Rows, Cols>::type;
  using Root = typename detail::Model<Rows, Cols>::root;
  std::unique_ptr<detail::Context> ctx;
  std::unique_ptr<Top> top;
#if VM_TRACE_FST
  std::unique_ptr<VerilatedFstC> fst;
#endif
  std::uint64_t edges = 0;
  std::uint64_t evals = 0;
  Clocking clocking = Clocking::kPosedge;
  // The inputs changed since the last eval(): the combinational logic of the new inputs is not
  // settled yet (Verilator settles it at the start of the next eval(), after sampling the
  // assertions' operands).
  bool inputs_changed = true;

  // A rising edge in one eval(): the model compares clk_i with its copy of the value at the last
  // eval() (Verilator 5's trigger computation), so clk_i stays 1 and that copy is set to 0. Only
  // with the copy's name of the Verilator versions named here; with another, kPosedge falls back
  // to both edges.
  static constexpr bool kRisingInOneEval = requires(Root & r) { r.__Vtrigrprev__TOP__clk_i = 0; }
  ||  // Verilator 5.006 .. 5.01x
      requires(Root& r) {
    r.__Vtrigprevexpr___TOP__clk_i__0 = 0;
  };  // later 5.x
#if BITSCALE_RTL_FAST
  // No assertions: nothing samples the combinational logic before an edge.
  static constexpr bool kSamplesBeforeEdge = false;
#else
  static constexpr bool kSamplesBeforeEdge = true;
#endif

  void dump() {
#if VM_TRACE_FST
    if (fst) fst->dump(ctx->time());
#endif
  }

  bool tracing() const {
#if VM_TRACE_FST
    return fst != nullptr;
#else
    return false;
#endif
  }

  // Verilator keeps a per-thread "current context" (assertion counts, scope registry). With
  // several devices in one thread it must be this device's whenever its model runs or dies.
  void select() const { Verilated::threadContextp(ctx.get()); }

  void eval() {
    top->eval();
    ++evals;
  }

  // One clock cycle: inputs were set by the caller. Both edges (falling, then rising) where the
  // falling one matters: waveforms, Clocking::kBothEdges, and new inputs in a build whose assertions
  // sample the combinational logic before the edge; otherwise the rising edge alone (bsa_top has
  // no logic on the falling edge, and the inputs' combinational logic settles in the same eval()
  // before the edge's flops take it, as in the falling edge's eval()).
  void tick() {
    if constexpr (kRisingInOneEval) {
      if (clocking == Clocking::kPosedge && !tracing() && !(kSamplesBeforeEdge && inputs_changed)) {
        top->clk_i = 1;
        Root& r = *top->rootp;
        if constexpr (requires { r.__Vtrigrprev__TOP__clk_i = 0; }) {
          r.__Vtrigrprev__TOP__clk_i = 0;
        } else {
          r.__Vtrigprevexpr___TOP__clk_i__0 = 0;
        }
        eval();
        ctx->timeInc(2);
        ++edges;
        inputs_changed = false;
        return;
      }
    }
    top->clk_i = 0;
    eval();
    ctx->timeInc(1);
    dump();
    top->clk_i = 1;
    eval();
    ctx->timeInc(1);
    dump();
    ++edges;
    inputs_changed = false;
  }

  void set_inputs(std::uint8_t req, std::uint8_t we, std::uint32_t addr, std::uint64_t wdata) {
    if (top->bus_req_i != req || top->bus_we_i != we || top->bus_addr_i != addr || top->bus_wdata_i != wdata) {
      top->bus_req_i = req;
      top->bus_we_i = we;
      top->bus_addr_i = addr;
      top->bus_wdata_i = wdata;
      inputs_changed = true;
    }
  }

  void idle_inputs() { set_inputs(0, 0, 0, 0); }

  // A wide input port from 64-bit lines (line i at bits [64i +: 64]), 32-bit words of the verilated port.
  void set_lines(WData* port, std::span<const std::uint64_t> lines) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      for (std::size_t h = 0; h < 2; ++h) {
        const auto w = static_cast<std::uint32_t>(lines[i] >> (32 * h));
        if (port[2 * i + h] != w) {
          port[2 * i + h] = w;
          inputs_changed = true;
        }
      }
    }
  }
  // The wide write data (bank b at bits [64b +: 64]).
  void set_wide(std::span<const std::uint64_t> lines) { set_lines(top->bus_wide_wdata_i.data(), lines); }
  // The row write data (bank r, line L + s at bits [64(r Cols/4 + s) +: 64]).
  void set_rows(std::span<const std::uint64_t> lines) { set_lines(top->bus_row_wdata_i.data(), lines); }

  // Reset: a few cycles with rst_ni low, released while the clock is low, so the first
  // access after it is the first counted edge (as in the golden device).
  void reset() {
    idle_inputs();
    // The held row port starts at 0, as the golden device's.
    std::fill_n(top->bus_row_wdata_i.data(), sizeof(top->bus_row_wdata_i) / sizeof(WData), WData{0});
    top->clk_i = 0;
    top->rst_ni = 1;
    eval();
    top->rst_ni = 0;
    inputs_changed = true;
    for (int i = 0; i < 4; ++i) tick();
    top->rst_ni = 1;
    eval();
    edges = 0;
  }
};

template <int Rows, int Cols>
RtlDeviceOf<Rows, Cols>::RtlDeviceOf(const RtlOptions& opts) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.ctx = std::make_unique<detail::Context>();
  m.clocking = opts.clocking;
  m.ctx->randReset(opts.random_init ? 2 : 0);  // random: X-dependence shows up as mismatches
  m.ctx->randSeed(static_cast<int>(opts.seed & 0x7fffffff));
  // A failing assertion ($error) must not stop the process: the context counts it
  // (errorCount) and the driver turns a change of the count into an exception.
  m.ctx->fatalOnError(false);
  m.ctx->errorLimit(std::numeric_limits<int>::max());
  if (!opts.trace_fst.empty()) {
#if VM_TRACE_FST
    m.ctx->traceEverOn(true);
#else
    throw driver::DeviceError(rtl_build() == RtlBuild::kFast
                                  ? "waveforms are not available in the fast RTL build (BITSCALE_RTL_BUILD=fast)"
                                  : "waveforms are not available: build with -DBITSCALE_TRACE=ON");
#endif
  }
  m.select();
  m.top = std::make_unique<typename Impl::Top>(m.ctx.get(), "bsa");
#if VM_TRACE_FST
  if (!opts.trace_fst.empty()) {
    m.fst = std::make_unique<VerilatedFstC>();
    m.top->trace(m.fst.get(), 99);
    m.fst->open(opts.trace_fst.c_str());
    if (!m.fst->isOpen()) {
      throw driver::DeviceError(fmt::format("cannot open waveform file '{}'", opts.trace_fst));
    }
  }
#endif
  m.reset();
}

template <int Rows, int Cols>
void RtlDeviceOf<Rows, Cols>::reset() {
  impl_->select();
  impl_->reset();
}

template <int Rows, int Cols>
bool RtlDeviceOf<Rows, Cols>::irq() const {
  impl_->select();
  return impl_->top->irq_o != 0;
}

template <int Rows, int Cols>
RtlDeviceOf<Rows, Cols>::~RtlDeviceOf() {
  if (!impl_ || !impl_->top) return;
  impl_->select();
  impl_->top->final();
#if VM_TRACE_FST
  if (impl_->fst) impl_->fst->close();
#endif
}

template <int Rows, int Cols>
driver::BusResponse RtlDeviceOf<Rows, Cols>::access(driver::BusOp op, std::uint32_t addr, std::uint64_t wdata) {
  if ((addr >> regmap::kAddrW) != 0) {
    throw driver::DeviceError(fmt::format("rtl: bus address {:#x} does not fit the {}-bit bus", addr, regmap::kAddrW));
  }
  auto& m = *impl_;
  m.select();
  m.set_inputs(1, op == driver::BusOp::kWrite ? 1 : 0, addr, wdata);
  m.tick();
  driver::BusResponse rsp;
  if (!m.top->bus_rvalid_o) {
    throw driver::DeviceError(fmt::format("rtl: no bus response for address {:#08x}", addr));
  }
  rsp.err = m.top->bus_err_o != 0;
  rsp.rdata = m.top->bus_rdata_o;
  m.idle_inputs();
  return rsp;
}

template <int Rows, int Cols>
driver::BusResponse RtlDeviceOf<Rows, Cols>::access_wide(driver::BusOp op, std::uint32_t region, std::uint32_t line,
                                                         std::span<std::uint64_t> lines) {
  constexpr std::size_t kBanks = Rows > Cols ? Rows : Cols;
  if (lines.size() != kBanks) {
    throw driver::DeviceError(
        fmt::format("rtl: a wide beat moves {} lines (max(Rows, Cols)), not {}", kBanks, lines.size()));
  }
  const std::uint32_t addr = driver::bus_addr(region, regmap::kAddrBankAll, line);
  if ((addr >> regmap::kAddrW) != 0 || line >= (1u << regmap::kAddrBankLsb)) {
    throw driver::DeviceError(
        fmt::format("rtl: wide beat region {} line {} does not fit the {}-bit bus", region, line, regmap::kAddrW));
  }
  auto& m = *impl_;
  m.select();
  const bool write = op == driver::BusOp::kWrite;
  if (write) m.set_wide(lines);
  m.set_inputs(1, write ? 1 : 0, addr, 0);
  m.tick();
  if (!m.top->bus_rvalid_o) {
    throw driver::DeviceError(fmt::format("rtl: no bus response for wide beat {:#08x}", addr));
  }
  driver::BusResponse rsp;
  rsp.err = m.top->bus_err_o != 0;
  if (!write) {
    for (std::size_t b = 0; b < kBanks; ++b) {
      lines[b] =
          std::uint64_t{m.top->bus_wide_rdata_o[2 * b]} | (std::uint64_t{m.top->bus_wide_rdata_o[2 * b + 1]} << 32);
    }
  }
  m.idle_inputs();
  return rsp;
}

template <int Rows, int Cols>
driver::BusResponse RtlDeviceOf<Rows, Cols>::write_rows(std::uint32_t line, std::span<const std::uint64_t> lines) {
  constexpr std::size_t kLines = static_cast<std::size_t>(Rows) * (Cols / regmap::kLineWords);
  if (lines.size() != kLines) {
    throw driver::DeviceError(
        fmt::format("rtl: a row beat moves {} lines (Rows x Cols/4), not {}", kLines, lines.size()));
  }
  const std::uint32_t addr = driver::bus_addr(regmap::kRegionAct, regmap::kAddrBankRows, line);
  if ((addr >> regmap::kAddrW) != 0 || line >= (1u << regmap::kAddrBankLsb)) {
    throw driver::DeviceError(fmt::format("rtl: row beat line {} does not fit the {}-bit bus", line, regmap::kAddrW));
  }
  auto& m = *impl_;
  m.select();
  m.set_rows(lines);
  m.set_inputs(1, 1, addr, 0);
  m.tick();
  if (!m.top->bus_rvalid_o) throw driver::DeviceError(fmt::format("rtl: no bus response for row beat {:#08x}", addr));
  driver::BusResponse rsp;
  rsp.err = m.top->bus_err_o != 0;
  m.idle_inputs();
  return rsp;
}

template <int Rows, int Cols>
driver::WaitResult RtlDeviceOf<Rows, Cols>::wait(std::uint64_t max_cycles) {
  auto& m = *impl_;
  m.select();
  driver::WaitResult r;
  m.idle_inputs();
  while (!m.top->done_o && !m.top->err_o && r.cycles < max_cycles) {
    m.tick();
    ++r.cycles;
  }
  r.done = m.top->done_o != 0;
  r.err = m.top->err_o != 0;
  return r;
}

template <int Rows, int Cols>
std::uint64_t RtlDeviceOf<Rows, Cols>::assertion_failures() const {
  return static_cast<std::uint64_t>(impl_->ctx->errorCount());
}

template <int Rows, int Cols>
std::vector<std::string> RtlDeviceOf<Rows, Cols>::failed_assertions() const {
  return impl_->ctx->assertion_log;
}

template <int Rows, int Cols>
std::uint64_t RtlDeviceOf<Rows, Cols>::cycles() const {
  return impl_->edges;
}
template <int Rows, int Cols>
std::uint64_t RtlDeviceOf<Rows, Cols>::evals() const {
  return impl_->evals;
}

template <int Rows, int Cols>
Clocking RtlDeviceOf<Rows, Cols>::clocking() const {
  return impl_->clocking;
}

}  // namespace bitscale::rtl
