// `bitscale traffic`: options, then the off-chip traffic per layer (study/traffic_job.hpp).
#include <fmt/format.h>

#include <memory>
#include <string>

#include "bitscale/study/traffic_job.hpp"
#include "bitscale/util/file.hpp"
#include "command.hpp"
#include "options.hpp"

namespace bitscale::cli {
namespace {

struct TrafficCli {
  study::TrafficJob job;
  std::string json;
};

int traffic(TrafficCli& o) {
  o.job.factory = accelerator_factory();
  const study::TrafficOutcome r = study::run_traffic(o.job, print_to_stderr);
  fmt::print("{}", study::traffic_report(r));
  if (!o.json.empty()) util::write_file(o.json, study::traffic_json(r));
  return 0;
}

const RegisterCommand kTraffic([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<TrafficCli>();
  study::TrafficJob& job = o->job;
  auto* cmd = app.add_subcommand(
      "traffic",
      "Off-chip bits per MAC layer (weights, input and output activations): uncompressed, at one precision\n"
      "per tensor, and in DPRed's per-group precision (groups of 16, dense or zero-skipping; docs/DPRED.md),\n"
      "on the images at odd positions through the golden back-end (the even ones calibrate); the histograms of\n"
      "group widths per layer, the bit-serial estimate, and the exact zero-block gating estimate (4-bit block\n"
      "products with an all-zero activation or weight block, counted on golden).");
  add_model_option(cmd, job.data.model);
  add_images_option(cmd, job.data.images);
  add_bits_option(cmd, job.bits);
  add_weight_fl_option(cmd, job.weight_fl);
  add_quantization_options(cmd, job.quantization);
  add_calibration_options(cmd, {.calib = job.calib, .calib_limit = job.calib_limit},
                          "Calibration JSON or image directory (default: the even positions)");
  add_count_option(cmd, "--limit", job.limit, "At most the first N images of the odd positions (0 = all)");
  cmd->add_option("--json", o->json, "Write per-layer entries and network totals to this JSON file");
  return [o]() { return traffic(*o); };
});

}  // namespace
}  // namespace bitscale::cli
