// `bitscale regress` and `bitscale bench`: options, then the verification kit (bitscale::dv).
#include <fmt/format.h>

#include <charconv>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "bitscale/dv/bench.hpp"
#include "bitscale/dv/regress.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/util/file.hpp"
#include "command.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

struct RegressCli {
  dv::RegressOptions opts;
  std::string json;  ///< summary file
  bool progress = true;
  bool coverage = false;  ///< print the functional coverage (and add it to the JSON)
};

// --mode: "all" or one bit-width.
std::vector<golden::Mode> parse_modes(std::string_view name) {
  using golden::Mode;
  if (name == "all") return {Mode::k16, Mode::k8, Mode::k4};
  return {golden::mode_from_bits(std::stoi(std::string(name)))};
}

// --geometry: "RxC" (e.g. 2x4), rows and columns of at least 1; the device factory refuses the ones not built.
void set_geometry(const std::string& text, dv::RegressOptions& opts) {
  const auto x = text.find('x');
  const auto number = [&](std::string_view s) {
    int v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v <= 0) {
      throw CLI::ValidationError("--geometry", fmt::format("'{}' is not ROWSxCOLS (e.g. 2x4 or 16x16)", text));
    }
    return v;
  };
  if (x == std::string::npos) number("");
  opts.rows = number(std::string_view(text).substr(0, x));
  opts.cols = number(std::string_view(text).substr(x + 1));
}

int regress(const RegressCli& o) {
  // Check the summary file first: a long run must not end unable to write its results.
  if (!o.json.empty()) util::check_writable(o.json);
  if (o.opts.rows != 0) fmt::print("regress on a {}x{} array (RTL and golden device)\n", o.opts.rows, o.opts.cols);
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
  const dv::RegressResult result = dv::run_regress(o.opts, observer);
  if (o.coverage) fmt::print("{}", result.coverage.report());
  if (!o.json.empty()) util::write_file(o.json, dv::summary_json(o.opts, result, o.coverage));
  return result.failed() == 0 ? 0 : 1;
}

const RegisterCommand kRegress([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<RegressCli>();
  dv::RegressOptions& opts = o->opts;
  opts.zero_gating = dv::ZeroGating::kRandom;  // the command covers both (the library default is off)
  opts.xfer = dv::Xfer::kRandom;               // likewise transfers: serial/overlapped, line/wide, hazards
  auto* cmd = app.add_subcommand(
      "regress",
      "Random layers (conv, grouped, depthwise, fully-connected; K=1, K not a multiple of the lanes,\n"
      "ragged M and N, padding, stride, extreme values, saturating outputs) on the verilated RTL and\n"
      "the golden model, compared word for word with each other and with the untiled reference,\n"
      "performance counters included. Exit status 1 on any mismatch.");
  cmd->add_option("--seed", opts.seed, "Seed of the regression (printed with every mismatch)")->capture_default_str();
  add_count_option(cmd, "--count", opts.count, "Layers per mode");
  add_count_option(cmd, "--first", opts.first, "Index of the first layer (replay one failing layer)");
  add_choice_option(cmd, "--mode", opts.modes, parse_modes, {"4", "8", "16", "all"}, "Precision: 4, 8, 16 or all",
                    "all");
  cmd->add_option("--max-k", opts.max_k,
                  "Largest K of fully-connected layers (default: what a scratchpad bank holds in each mode,\n"
                  "8192 / 16384 / 32768 on the default device; larger values are capped there)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--coverage", o->coverage,
                "Print the functional coverage of the layers compared (docs/REGRESSION.md): 'coverage: H of T\n"
                "bins' and the bins never hit");
  add_count_option(cmd, "--max-report", opts.max_report, "Mismatches printed per mode");
  cmd->add_option("--approx", opts.approx,
                  "Ax-BxP block products (docs/NUMERICS.md): one configuration (exact, c<N> = member N of\n"
                  "the family of each mode, skip=<mask>, keep=<mask>), family (every member of each mode's\n"
                  "family, --count layers each) or random (a random skip mask per layer)")
      ->capture_default_str();
  add_choice_option(cmd, "--zero-gating", opts.zero_gating, dv::parse_zero_gating, {"off", "on", "random"},
                    "Exact zero-block gating (MODE.ZGATE, docs/NUMERICS.md): off, on (every layer) or random (a\n"
                    "draw per layer); unless off, half the layers get operands with many all-zero 4-bit blocks",
                    std::string(dv::to_string(opts.zero_gating)));
  add_choice_option(cmd, "--xfer", opts.xfer, dv::parse_xfer, {"off", "random"},
                    "Scratchpad transfers (docs/ARCHITECTURE.md \"Bus\"): off (serial, narrow port) or random (each\n"
                    "layer draws serial or overlapped transfers and the line or wide port, then a hazard probe)",
                    std::string(dv::to_string(opts.xfer)));
  cmd->add_option_function<std::string>(
      "--geometry", [&opts](const std::string& g) { set_geometry(g, opts); },
      "Rows x columns (e.g. 2x4) of the verilated RTL and the golden device, one of the geometries\n"
      "verilated in this build (default: the default geometry, 16x16; see docs/REGRESSION.md)");
  cmd->add_option("--fst", opts.fst, "Write an FST waveform of the RTL run to this file (use with --count 1)");
  cmd->add_option("--json", o->json, "Write a JSON summary to this file");
  add_no_progress_flag(cmd, o->progress);
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
  if (!o.json.empty()) util::write_file(o.json, dv::bench_json(r));
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
