// `bitscale regress` and `bitscale bench`: options, then the verification kit (bitscale::dv).
#include <fmt/format.h>

#include <fstream>

#include "bitscale/dv/bench.hpp"
#include "bitscale/dv/regress.hpp"
#include "bitscale/golden/numeric.hpp"
#include "command.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

std::ofstream open_output(const std::string& path) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error(fmt::format("cannot write '{}'", path));
  return f;
}

struct RegressCli {
  dv::RegressOptions opts;
  std::string mode = "all";
  std::string json;  ///< summary file
  bool progress = true;
};

int regress(const RegressCli& o) {
  // Open the summary file first: a long run must not end unable to write its results.
  std::ofstream json;
  if (!o.json.empty()) json = open_output(o.json);
  dv::RegressOptions opts = o.opts;
  using golden::Mode;
  opts.modes = o.mode == "all" ? std::vector<Mode>{Mode::k16, Mode::k8, Mode::k4}
                               : std::vector<Mode>{golden::mode_from_bits(std::stoi(o.mode))};
  Progress progress(o.progress);
  dv::RegressObserver observer;
  observer.mismatch = [&](const std::string& line) {
    progress.finish();
    fmt::print("{}\n", line);
  };
  observer.progress = [&](const std::string& status) { progress.update(status); };
  observer.mode_done = [&](const dv::ModeSummary& s) {
    progress.finish();
    fmt::print("{}\n", dv::summary_line(s));
  };
  const dv::RegressResult result = dv::run_regress(opts, observer);
  if (json.is_open()) json << dv::summary_json(opts, result);
  return result.failed() == 0 ? 0 : 1;
}

const RegisterCommand kRegress([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<RegressCli>();
  auto* cmd = app.add_subcommand(
      "regress",
      "Random layers (conv, grouped, depthwise, fully-connected; K=1, K not a multiple of the lanes,\n"
      "ragged M and N, padding, stride, extreme values, saturating outputs) on the verilated RTL and\n"
      "the golden model, compared word for word with each other and with the untiled reference,\n"
      "performance counters included. Exit status 1 on any mismatch.");
  cmd->add_option("--seed", o->opts.seed, "Seed of the regression (printed with every mismatch)")
      ->capture_default_str();
  cmd->add_option("--count", o->opts.count, "Layers per mode")->capture_default_str();
  cmd->add_option("--first", o->opts.first, "Index of the first layer (replay one failing layer)")
      ->capture_default_str();
  cmd->add_option("--mode", o->mode, "Precision: 4, 8, 16 or all")
      ->check(CLI::IsMember({"4", "8", "16", "all"}))
      ->capture_default_str();
  cmd->add_option("--max-k", o->opts.max_k, "Largest K of fully-connected layers")
      ->check(CLI::Range(1, 16384))
      ->capture_default_str();
  cmd->add_option("--max-report", o->opts.max_report, "Mismatches printed per mode")->capture_default_str();
  cmd->add_option("--fst", o->opts.fst, "Write an FST waveform of the RTL run to this file (use with --count 1)");
  cmd->add_option("--json", o->json, "Write a JSON summary to this file");
  cmd->add_flag("!--no-progress", o->progress, "No progress line on the terminal");
  return [o]() { return regress(*o); };
});

struct BenchCli {
  double seconds = 2.0;  ///< minimum wall time per measurement
  std::string json;      ///< write the figures here too
};

int bench(const BenchCli& o) {
  const dv::BenchLayer b = dv::bench_layer();
  fmt::print("bench layer: conv {} (8-bit), {:.2f} M MACs\n", b.layer.shape.to_string(),
             static_cast<double>(b.layer.shape.macs()) / 1e6);
  const dv::BenchResult r = dv::run_bench(o.seconds);
  fmt::print("{}", dv::bench_report(r));
  if (!o.json.empty()) open_output(o.json) << dv::bench_json(r);
  return 0;
}

const RegisterCommand kBench([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<BenchCli>();
  auto* cmd = app.add_subcommand(
      "bench",
      "Simulated cycles per second of the verilated 16x16 array (array-bound tile and a whole layer through\n"
      "the driver) and MACs per second of the golden model on a fixed 3x3 convolution.");
  cmd->add_option("--seconds", o->seconds, "Minimum wall time per measurement")->capture_default_str();
  cmd->add_option("--json", o->json, "Write the figures to this JSON file");
  return [o]() { return bench(*o); };
});

}  // namespace
}  // namespace bitscale::cli
