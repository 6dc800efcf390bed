// `bitscale regress` and `bitscale bench`.
#include "bench.hpp"
#include "bitscale/golden/numeric.hpp"
#include "command.hpp"
#include "regress.hpp"

namespace bitscale::cli {
namespace {

const RegisterCommand kRegress([](CLI::App& app) -> std::function<int()> {
  auto ro = std::make_shared<RegressOptions>();
  auto mode = std::make_shared<std::string>("all");
  auto* cmd = app.add_subcommand(
      "regress",
      "Random layers (conv, grouped, depthwise, fully-connected; K=1, K not a multiple of the lanes,\n"
      "ragged M and N, padding, stride, extreme values, saturating outputs) on the verilated RTL and\n"
      "the golden model, compared word for word with each other and with the untiled reference,\n"
      "performance counters included. Exit status 1 on any mismatch.");
  cmd->add_option("--seed", ro->seed, "Seed of the regression (printed with every mismatch)")->capture_default_str();
  cmd->add_option("--count", ro->count, "Layers per mode")->capture_default_str();
  cmd->add_option("--first", ro->first, "Index of the first layer (replay one failing layer)")->capture_default_str();
  cmd->add_option("--mode", *mode, "Precision: 4, 8, 16 or all")
      ->check(CLI::IsMember({"4", "8", "16", "all"}))
      ->capture_default_str();
  cmd->add_option("--max-k", ro->max_k, "Largest K of fully-connected layers")
      ->check(CLI::Range(1, 16384))
      ->capture_default_str();
  cmd->add_option("--max-report", ro->max_report, "Mismatches printed per mode")->capture_default_str();
  cmd->add_option("--fst", ro->fst, "Write an FST waveform of the RTL run to this file (use with --count 1)");
  cmd->add_option("--json", ro->json, "Write a JSON summary to this file");
  cmd->add_flag("!--no-progress", ro->progress, "No progress line on the terminal");
  return [ro, mode]() {
    using golden::Mode;
    ro->modes = *mode == "all" ? std::vector<Mode>{Mode::k16, Mode::k8, Mode::k4}
                               : std::vector<Mode>{golden::mode_from_bits(std::stoi(*mode))};
    return run_regress(*ro) == 0 ? 0 : 1;
  };
});

const RegisterCommand kBench([](CLI::App& app) -> std::function<int()> {
  auto bo = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand(
      "bench",
      "Simulated cycles per second of the verilated 16x16 array (array-bound tile and a whole layer through\n"
      "the driver) and MACs per second of the golden model on a fixed 3x3 convolution.");
  cmd->add_option("--seconds", bo->seconds, "Minimum wall time per measurement")->capture_default_str();
  cmd->add_option("--json", bo->json, "Write the figures to this JSON file");
  return [bo]() {
    run_bench(*bo);
    return 0;
  };
});

}  // namespace
}  // namespace bitscale::cli
