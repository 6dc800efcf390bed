// `bitscale netbench`: options, then the network benchmark (bench.hpp).
#include <fmt/format.h>

#include <fstream>
#include <memory>

#include "bench.hpp"
#include "command.hpp"

namespace bitscale::cli {
namespace {

struct NetBenchCli {
  NetBenchOptions opts;
  std::string json;
};

int netbench(const NetBenchCli& o) {
  const NetBenchResult r = run_netbench(o.opts);
  fmt::print("{}", netbench_report(r));
  if (!o.json.empty()) {
    std::ofstream f(o.json);
    if (!f) throw std::runtime_error(fmt::format("cannot write '{}'", o.json));
    f << netbench_json(r).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  }
  return 0;
}

const RegisterCommand kNetBench([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<NetBenchCli>();
  auto* cmd = app.add_subcommand(
      "netbench",
      "Whole-network figures of one model at one bit-width: golden (functional) images per second on one core,\n"
      "RTL seconds per image, and the array utilization per layer type from the performance counters.");
  cmd->add_option("--model", o->opts.model, "TFLite model (default: the embedded MobileNet v1 0.25/128)");
  cmd->add_option("--images", o->opts.images, "Image directory (even positions calibrate, odd ones are timed)");
  cmd->add_option("--bits", o->opts.bits, "Bit-width")->check(CLI::IsMember({4, 8, 16}))->capture_default_str();
  add_weight_fl_option(cmd, o->opts.weight_fl);
  cmd->add_option("--golden-images", o->opts.golden_images, "Images timed on the golden back-end")
      ->capture_default_str();
  cmd->add_option("--rtl-images", o->opts.rtl_images, "Images timed on the RTL back-end (0 = skip)")
      ->capture_default_str();
  cmd->add_option("--calib", o->opts.calib, "Calibration JSON or image directory");
  cmd->add_option("--json", o->json, "Write the figures to this JSON file");
  return [o]() { return netbench(*o); };
});

}  // namespace
}  // namespace bitscale::cli
