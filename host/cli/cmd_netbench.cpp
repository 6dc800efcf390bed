// `bitscale netbench`: options, then the network benchmark (study/netbench.hpp).
#include <fmt/format.h>

#include <memory>
#include <string>

#include "bitscale/study/netbench.hpp"
#include "bitscale/util/file.hpp"
#include "command.hpp"
#include "options.hpp"

namespace bitscale::cli {
namespace {

struct NetBenchCli {
  study::NetBenchJob job;
  std::string json;
  bool per_layer = false;        ///< --per-layer
  driver::DeviceOptions device;  ///< --dw-mapping, --transfer, --port, --shift-mapping, --pixel-mapping
};

int netbench(NetBenchCli& o) {
  o.job.factory = accelerator_factory(o.device);
  const study::NetBenchResult r = study::run_netbench(o.job, print_to_stderr);
  fmt::print("{}", study::netbench_report(r));
  if (o.per_layer) fmt::print("{}", study::netbench_layer_report(r));
  if (!o.json.empty()) util::write_file(o.json, study::netbench_json(r));
  return 0;
}

const RegisterCommand kNetBench([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<NetBenchCli>();
  study::NetBenchJob& job = o->job;
  auto* cmd = app.add_subcommand(
      "netbench",
      "Whole-network figures of one model at one bit-width: golden (functional) images per second on one core,\n"
      "RTL seconds per image, and the array utilization per layer type from the performance counters.");
  add_model_option(cmd, job.model, "TFLite model (default: the embedded MobileNet v1 0.25/128)");
  add_images_option(cmd, job.images, "Image directory (even positions calibrate, odd ones are timed)");
  add_bits_option(cmd, job.bits, "Bit-width");
  add_weight_fl_option(cmd, job.weight_fl);
  add_count_option(cmd, "--golden-images", job.golden_images, "Images timed on the golden back-end");
  add_count_option(cmd, "--rtl-images", job.rtl_images, "Images timed on the RTL back-end (0 = skip)");
  cmd->add_option("--calib", job.calib, "Calibration JSON or image directory");
  cmd->add_option("--json", o->json, "Write the figures to this JSON file");
  cmd->add_flag("--per-layer", o->per_layer, "Also print the tiles, counters and utilization of every MAC layer");
  add_choice_option(cmd, "--dw-mapping", o->device.depthwise, driver::parse_depthwise_mapping, {"dw", "columns"},
                    "Depthwise layers as MODE.DW tiles (dw) or one channel per broadcast tile (columns)",
                    std::string(driver::to_string(o->device.depthwise)));
  add_transfer_options(cmd, o->device.transfer, o->device.port);
  add_choice_option(cmd, "--shift-mapping", o->device.shifts, driver::parse_shift_mapping, {"per-column", "per-tile"},
                    "Per-channel output shifts per column (OUT_CFG.COL_SHIFT) or one per tile (n-tiles cut by shift)",
                    std::string(driver::to_string(o->device.shifts)));
  add_choice_option(cmd, "--pixel-mapping", o->device.pixel, driver::parse_pixel_mapping, {"row", "array"},
                    "One-pixel (fully-connected) layers on one array row (row) or as MODE.DW tiles with the operands "
                    "exchanged on the whole array, K in OUT_CFG.ACC_KEEP chunks (array)",
                    std::string(driver::to_string(o->device.pixel)));
  return [o]() { return netbench(*o); };
});

}  // namespace
}  // namespace bitscale::cli
