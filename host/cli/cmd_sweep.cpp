// `bitscale sweep`: the dynamic bit-width scheme evaluated on images never used for
// calibration. Every image is recorded once (float + 4, 8 and 16 bits: top-1, correctness,
// score margin, counters); every threshold T_h is then evaluated from the records with
// Controller::decide. Outputs the accuracy/energy curves, the smallest T_h meeting --max-drop
// and the comparison with static 4/8/16-bit (the paper's Table 2). Resumable under --out.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <memory>
#include <string>

#include "bitscale/study/controller.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/sweep.hpp"
#include "bitscale/study/sweep_job.hpp"
#include "command.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

struct SweepOptions {
  std::string model, images, calib, out, synsets, energy, half = "auto", levels = "4,8,16", backend = "golden";
  std::string weight_fl = "channel";
  double max_drop = 1.0;
  double step = 0.005;
  int jobs = 1;
  int limit = 0;
  int calib_limit = 0;
  int confirm_rtl = 0;
  std::size_t stop_after = 0;
  bool progress = true;
};

int run_sweep(const SweepOptions& o) {
  study::SweepJob job;
  job.data = {o.model, o.images, o.synsets};
  job.calib = o.calib;
  job.out_dir = o.out;
  if (o.half != "auto") job.half = data::parse_half(o.half);
  job.levels = study::parse_levels(o.levels);
  job.backend = study::parse_backend(o.backend);
  job.weight_fl = quant::weight_fl_from_string(o.weight_fl);
  job.energy = o.energy;
  job.max_drop = o.max_drop;
  job.step = o.step;
  job.jobs = o.jobs;
  job.limit = o.limit;
  job.calib_limit = o.calib_limit;
  job.confirm_rtl = static_cast<std::size_t>(std::max(o.confirm_rtl, 0));
  job.stop_after = o.stop_after;
  job.factory = accelerator_factory();

  Progress progress(o.progress);
  study::SweepCallbacks cb;
  cb.warn = [](const std::string& w) { fmt::print(stderr, "{}\n", w); };
  cb.progress = [&](std::size_t n, std::size_t total) {
    progress.update(fmt::format("sweep records: {}/{} images", n, total));
  };
  cb.recorded = [&] { progress.finish(); };
  cb.summarized = [&](const study::SweepOutcome& r) {
    fmt::print("sweep of {} on {} images ({} back-end, {} resumed), float top-1 {:.2f} %:\n\n{}\n", r.model_name,
               r.images, o.backend, r.resumed, r.float_top1, r.headline);
  };
  cb.confirm_progress = [&](int b, std::size_t n, std::size_t total) {
    progress.update(fmt::format("rtl {}-bit: {}/{} images", b, n, total));
  };
  cb.confirm_done = [&](int) { progress.finish(); };
  const study::SweepOutcome r = study::run_sweep(job, cb);
  if (!r.complete) {
    fmt::print(stderr, "stopped after {} new images (--stop-after); run the same command again to resume\n",
               r.computed);
    return 3;
  }
  if (const auto& c = r.confirmation) {
    fmt::print(
        "RTL confirmation: {} of {} images identical to golden (top-1, margins, counters at {} bits); "
        "decisions and energy {}\n",
        c->same, c->images, fmt::join(study::kPrecisions, "/"), c->all_same ? "identical" : "DIFFER");
    if (!c->all_same) return 1;
  }
  fmt::print("outputs in {}/ (records, sweep.json, thresholds.csv, table.csv, *.svg, summary.md)\n", o.out);
  return 0;
}

const RegisterCommand kSweep([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<SweepOptions>();
  auto* cmd = app.add_subcommand(
      "sweep",
      "Dynamic bit-width scheme: every evaluation image recorded once (float, 4, 8, 16 bits: top-1,\n"
      "margin, counters), then every threshold T_h in [0, 1] evaluated from the records: top-1 drop vs\n"
      "float, energy vs static 16-bit, the smallest T_h meeting --max-drop and a table like the paper's\n"
      "Table 2. Images used for calibration are never evaluated. Resumable under --out.");
  cmd->add_option("--model", o->model, "TFLite model (default: data/models/mobilenet_v1_0.25_128_quant.tflite)");
  cmd->add_option("--calib", o->calib,
                  "Calibration: a JSON file (e.g. characterize's calibration.json) or an image directory\n"
                  "(its even positions when it is the --images directory; default: --images)");
  cmd->add_option("--calib-limit", o->calib_limit, "Calibration images from a directory (spread; 0 = all)")
      ->capture_default_str();
  cmd->add_option("--images", o->images, "Evaluation image directory (default: data/images)");
  cmd->add_option("--half", o->half,
                  "auto (odd positions when --calib is the same directory, else all), all, even, odd")
      ->check(CLI::IsMember({"auto", "all", "even", "odd"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Output directory (records, calibration, reports)")->required();
  cmd->add_option("--levels", o->levels, "Precision levels of the controller, increasing (4->8->16 or 8->16, ...)")
      ->capture_default_str();
  cmd->add_option("--max-drop", o->max_drop, "Target top-1 drop vs float, percentage points")->capture_default_str();
  cmd->add_option("--step", o->step, "Threshold grid step")->check(CLI::Range(1e-4, 0.5))->capture_default_str();
  cmd->add_option("--energy", o->energy, "Energy table file (default: Envision 290/56/7.6 mW at 76 GOPS)");
  cmd->add_option("--backend", o->backend, "Array back-end: golden, golden-device or rtl")
      ->check(CLI::IsMember({"golden", "golden-device", "rtl"}))
      ->capture_default_str();
  add_weight_fl_option(cmd, o->weight_fl);
  cmd->add_option("--confirm-rtl", o->confirm_rtl,
                  "Re-run the first N evaluation images on the RTL back-end and check identical records,\n"
                  "decisions and energy (exit status 1 otherwise)")
      ->capture_default_str();
  cmd->add_option("--jobs", o->jobs, "Threads, each with its own device")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--limit", o->limit, "At most the first N evaluation images (0 = all)")->capture_default_str();
  cmd->add_option("--stop-after", o->stop_after, "Stop after N new images (simulates an interruption; exit status 3)");
  cmd->add_option("--synsets", o->synsets, "imagenet-synsets.tsv (labels from file names)");
  cmd->add_flag("!--no-progress", o->progress, "No progress line on the terminal");
  return [o]() { return run_sweep(*o); };
});

}  // namespace
}  // namespace bitscale::cli
