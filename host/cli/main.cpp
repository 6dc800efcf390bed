// bitscale: command-line front end. Exceptions are caught here and reported with context.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench.hpp"
#include "bitscale/golden/numeric.hpp"
#include "regress.hpp"

namespace {

std::vector<bitscale::golden::Mode> parse_modes(const std::string& s) {
  using bitscale::golden::Mode;
  if (s == "all") return {Mode::k16, Mode::k8, Mode::k4};
  return {bitscale::golden::mode_from_bits(std::stoi(s))};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bitscale: a precision-reconfigurable (16/8/4-bit, subword-packed) MAC array in SystemVerilog,\n"
      "verilated, with a bit-exact golden model and a driver that runs layers on either back-end.\n"
      "Docs: docs/ARCHITECTURE.md, docs/NUMERICS.md, docs/REGISTERS.md."};
  app.require_subcommand(1);

  bitscale::host::RegressOptions ro;
  std::string mode_str = "all";
  auto* regress = app.add_subcommand(
      "regress",
      "Random layers (conv, grouped, depthwise, fully-connected; K=1, K not a multiple of the lanes,\n"
      "ragged M and N, padding, stride, extreme values, saturating outputs) on the verilated RTL and\n"
      "the golden model, compared word for word with each other and with the untiled reference,\n"
      "performance counters included. Exit status 1 on any mismatch.");
  regress->add_option("--seed", ro.seed, "Seed of the regression (printed with every mismatch)")->capture_default_str();
  regress->add_option("--count", ro.count, "Layers per mode")->capture_default_str();
  regress->add_option("--first", ro.first, "Index of the first layer (replay one failing layer)")->capture_default_str();
  regress->add_option("--mode", mode_str, "Precision: 4, 8, 16 or all")
      ->check(CLI::IsMember({"4", "8", "16", "all"}))
      ->capture_default_str();
  regress->add_option("--max-k", ro.max_k, "Largest K of fully-connected layers")->check(CLI::Range(1, 16384))->capture_default_str();
  regress->add_option("--max-report", ro.max_report, "Mismatches printed per mode")->capture_default_str();
  regress->add_option("--fst", ro.fst, "Write an FST waveform of the RTL run to this file (use with --count 1)");
  regress->add_option("--json", ro.json, "Write a JSON summary to this file");
  regress->add_flag("!--no-progress", ro.progress, "No progress line on the terminal");

  bitscale::host::BenchOptions bo;
  auto* bench = app.add_subcommand(
      "bench",
      "Simulated cycles per second of the verilated 16x16 array (array-bound tile and a whole layer through\n"
      "the driver) and MACs per second of the golden model on a fixed 3x3 convolution.");
  bench->add_option("--seconds", bo.seconds, "Minimum wall time per measurement")->capture_default_str();
  bench->add_option("--json", bo.json, "Write the figures to this JSON file");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*regress) {
      ro.modes = parse_modes(mode_str);
      const auto failed = bitscale::host::run_regress(ro);
      return failed == 0 ? 0 : 1;
    }
    if (*bench) {
      bitscale::host::run_bench(bo);
      return 0;
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "bitscale: error: {}\n", e.what());
    return 2;
  }
  return 0;
}
