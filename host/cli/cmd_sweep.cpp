// `bitscale sweep`: the dynamic bit-width scheme evaluated on images never used for
// calibration. Every image is recorded once (float + 4, 8 and 16 bits: top-1, correctness,
// score margin, counters); every threshold T_h is then evaluated from the records with
// Controller::decide. Outputs the accuracy/energy curves, the smallest T_h meeting --max-drop
// and the comparison with static 4/8/16-bit (the paper's Table 2). Resumable under --out.
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>

#include "bitscale/data/dataset.hpp"
#include "bitscale/study/summaries.hpp"
#include "bitscale/study/sweep_job.hpp"
#include "command.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

struct SweepCli {
  study::SweepJob job;
  driver::Gating gating = driver::Gating::kOff;           ///< --zero-gating
  driver::Transfer transfer = driver::Transfer::kSerial;  ///< --transfer
  driver::Port port = driver::Port::kLine;                ///< --port
  DpredOptions dpred;
  bool progress = true;
};

// --half: "auto" (none) or a half.
std::optional<data::Half> parse_sweep_half(std::string_view name) {
  if (name == "auto") return std::nullopt;
  return data::parse_half(name);
}

int run_sweep(SweepCli& o) {
  driver::DeviceOptions device;
  device.gating = o.gating;
  device.transfer = o.transfer;
  device.port = o.port;
  if (const auto e = o.dpred.resolve(device)) o.job.offchip = *e;
  o.job.gating = device.gating;
  o.job.factory = accelerator_factory(device);
  Progress progress(o.progress);
  study::SweepCallbacks cb;
  cb.warn = print_to_stderr;
  cb.progress = [&](std::size_t n, std::size_t total) {
    progress.update(fmt::format("sweep records: {}/{} images", n, total));
  };
  cb.recorded = [&] { progress.finish(); };
  cb.summarized = [](const study::SweepOutcome& r) { fmt::print("{}", study::sweep_headline(r)); };
  cb.confirm_progress = [&](int b, std::size_t n, std::size_t total) {
    progress.update(fmt::format("rtl {}-bit: {}/{} images", b, n, total));
  };
  cb.confirm_done = [&](int) { progress.finish(); };
  const study::SweepOutcome r = study::run_sweep(o.job, cb);
  if (!r.complete) return stopped_early(r.computed);
  if (r.calibrated_only) {
    fmt::print("calibration written to {}/calibration.json; start the shards\n", o.job.out_dir);
    return 0;
  }
  for (const auto& s : r.shards) fmt::print("{}", study::shard_summary(s));
  if (!r.shards.empty()) return 0;
  if (r.confirmation) fmt::print("{}", study::sweep_confirmation(*r.confirmation));
  if (r.confirmation && !r.confirmation->all_same) return 1;
  fmt::print("{}", study::sweep_outputs(o.job.out_dir));
  return 0;
}

const RegisterCommand kSweep([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<SweepCli>();
  study::SweepJob& job = o->job;
  auto* cmd = app.add_subcommand(
      "sweep",
      "Dynamic bit-width scheme: every evaluation image recorded once (float, 4, 8, 16 bits: top-1,\n"
      "margin, counters), then every threshold T_h in [0, 1] evaluated from the records: top-1 drop vs\n"
      "float, energy vs static 16-bit, the smallest T_h meeting --max-drop and a table like the paper's\n"
      "Table 2. Images used for calibration are never evaluated. Writes --out/policy.json: T_h = the\n"
      "smallest whose one-sided 95 % bootstrap upper bound of the drop is within --max-drop (docs/CONTROLLER.md),\n"
      "to be measured on other images with `bitscale apply`. Resumable under --out.");
  add_model_option(cmd, job.data.model);
  add_calibration_options(cmd, {job.calib, job.calib_limit},
                          "Calibration: a JSON file (e.g. characterize's calibration.json) or an image directory\n"
                          "(its even positions when it is the --images directory; default: --images)",
                          "Calibration images from a directory (spread; 0 = all)");
  add_images_option(cmd, job.data.images, "Evaluation image directory (default: data/images)");
  add_choice_option(cmd, "--half", job.half, parse_sweep_half, {"auto", "all", "even", "odd"},
                    "auto (odd positions when --calib is the same directory, else all), all, even, odd", "auto");
  add_out_dir_option(cmd, job.out_dir);
  add_parsed_option(cmd, "--levels", job.levels, study::parse_levels,
                    "Precision levels of the controller, increasing (4->8->16 or 8->16, ...); Ax-BxP rungs too:\n"
                    "<bits>c<N> (family member N on every layer, e.g. 8c1) and 8s (--approx-config), e.g. 8c1,8,16",
                    "the configurations of characterization.json beside a --calib JSON, else 4,8,16");
  cmd->add_option("--max-drop", job.max_drop, "Target top-1 drop vs float, percentage points")->capture_default_str();
  cmd->add_option("--step", job.step, "Threshold grid step")->check(CLI::Range(1e-4, 0.5))->capture_default_str();
  cmd->add_option("--energy", job.energy, "Energy table file (default: Envision 290/56/7.6 mW at 76 GOPS)");
  add_choice_option(cmd, "--energy-model", job.energy_model, study::parse_energy_model, {"mac", "memory"},
                    "mac (MACs only, the paper's model) or memory (+ scratchpads, off-chip; docs/ENERGY.md)", "mac");
  add_array_backend_option(cmd, job.backend);
  add_zero_gating_flag(cmd, o->gating);
  add_transfer_options(cmd, o->transfer, o->port);
  add_weight_fl_option(cmd, job.weight_fl);
  add_quantization_options(cmd, job.quantization);
  add_count_option(cmd, "--confirm-rtl", job.confirm_rtl,
                   "Re-run the first N evaluation images on the RTL back-end and check identical records,\n"
                   "decisions and energy (exit status 1 otherwise)");
  add_jobs_option(cmd, job.jobs);
  add_count_option(cmd, "--limit", job.limit, "At most the first N evaluation images (0 = all)");
  add_stop_after_option(cmd, job.stop_after);
  add_shard_option(cmd, job.shard);
  cmd->add_flag("--calibrate-only", job.calibrate_only,
                "Write --out/calibration.json (from --calib), then stop: the step before the shards (--shard),\n"
                "which read it from --out");
  add_synsets_option(cmd, job.data.synsets, "labels from file and folder names");
  add_labels_option(cmd, job.data.labels);
  add_no_progress_flag(cmd, o->progress);
  add_choice_option(cmd, "--metric", job.metric, study::parse_metric, {"margin", "max-prob", "entropy"},
                    "Confidence the controller thresholds: margin (P(top1) - P(top2), the paper's), max-prob, entropy",
                    study::to_string(job.metric));
  add_count_option(
      cmd, "--folds", job.folds,
      "k-fold cross-validation of the threshold selection over the evaluation images (0 = off, else >= 2)");
  add_count_option(cmd, "--resamples", job.boot.resamples, "Bootstrap resamples of every interval");
  add_approx_options(cmd, job.approx_config, &job.approx_compensation,
                     "The per-layer Ax-BxP configuration of the level 8s (axbxp_config.json of axbxp-search)");
  cmd->add_option("--seed", job.boot.seed, "Bootstrap seed")->capture_default_str();
  add_dpred_options(cmd, o->dpred, "uncompressed");
  return [o]() { return run_sweep(*o); };
});

}  // namespace
}  // namespace bitscale::cli
