// `bitscale characterize`: the two phases of the paper's characterization. (1) The float
// network on every image; the correctly classified ones are kept and calibrate the fixed-point
// formats. (2) Every kept image at each precision level; the minimum bit-width histogram (bars
// under 1 % merged upward), the resulting configurations and score-margin statistics of easy
// and difficult images. Resumable: records are appended image by image under --out.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <ranges>
#include <string>

#include "bitscale/data/dataset.hpp"
#include "bitscale/study/characterize_job.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/summaries.hpp"
#include "command.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

struct CharacterizeCli {
  study::CharacterizeJob job;
  driver::Gating gating = driver::Gating::kOff;           ///< --zero-gating
  driver::Transfer transfer = driver::Transfer::kSerial;  ///< --transfer
  driver::Port port = driver::Port::kLine;                ///< --port
  DpredOptions dpred;
  bool progress = true;
};

int run_characterize(CharacterizeCli& o) {
  const study::CharacterizeJob& job = o.job;
  driver::DeviceOptions device;
  device.gating = o.gating;
  device.transfer = o.transfer;
  device.port = o.port;
  if (const auto e = o.dpred.resolve(device)) o.job.offchip = *e;
  o.job.factory = accelerator_factory(device);
  Progress progress(o.progress);
  study::CharacterizeCallbacks cb;
  cb.warn = print_to_stderr;
  cb.progress = [&](study::CharacterizePhase phase, std::size_t n, std::size_t total) {
    progress.update(phase == study::CharacterizePhase::kFloat
                        ? fmt::format("float: {}/{} images", n, total)
                        : fmt::format("levels {}: {}/{} images",
                                      fmt::join(job.levels | std::views::transform(study::level_name), ","), n, total));
  };
  cb.phase_done = [&](study::CharacterizePhase) { progress.finish(); };
  cb.float_done = [&](const study::FloatBaseline& base, std::size_t resumed) {
    fmt::print(stderr, "{}", study::float_phase_summary(base, job.top5, resumed));
  };
  const study::CharacterizeJobOutcome r = study::run_characterize(job, cb);
  if (!r.complete) return stopped_early(r.computed);
  if (r.calibrated_only) {
    fmt::print("calibration written to {}/calibration.json (float records: {}/float.jsonl); start the shards\n",
               job.out_dir, job.out_dir);
    return 0;
  }
  if (r.shard) {
    fmt::print("{}", study::shard_summary(*r.shard));
    return 0;
  }
  fmt::print("{}{}", study::characterize_summary(r), study::characterize_outputs(job.out_dir));
  return 0;
}

const RegisterCommand kCharacterize([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<CharacterizeCli>();
  study::CharacterizeJob& job = o->job;
  auto* cmd = app.add_subcommand(
      "characterize",
      "The paper's characterization: the float network on every image, the correctly classified ones\n"
      "calibrate the fixed-point formats and are then run at each precision level; outputs the minimum\n"
      "bit-width histogram (bars under 1 % merged upward), the configurations and score-margin statistics\n"
      "of easy and difficult images (JSON, CSV, SVG, summary.md). Resumable: records are appended under\n"
      "--out image by image; running the same command again continues where it stopped.");
  add_model_option(cmd, job.data.model);
  add_images_option(cmd, job.data.images);
  add_choice_option(cmd, "--half", job.half, data::parse_half, {"all", "even", "odd"},
                    "Which images of the sorted directory: all, even or odd positions", data::to_string(job.half));
  add_out_dir_option(cmd, job.out_dir);
  add_levels_option(cmd, job.levels,
                    "Precision levels, increasing (4, 8, 16); Ax-BxP rungs too: <bits>c<N> (family member N on every\n"
                    "layer, e.g. 8c1) and 8s (the per-layer configuration of --approx-config), e.g. 8c1,8,16");
  add_array_backend_option(cmd, job.backend);
  add_zero_gating_flag(cmd, o->gating);
  add_transfer_options(cmd, o->transfer, o->port);
  add_weight_fl_option(cmd, job.weight_fl);
  add_quantization_options(cmd, job.quantization);
  cmd->add_flag("--top5", job.top5, "Correct = top-5 (default: top-1)");
  add_jobs_option(cmd, job.jobs);
  add_count_option(cmd, "--limit", job.limit, "At most the first N images (0 = all)");
  add_stop_after_option(cmd, job.stop_after);
  add_shard_option(cmd, job.shard);
  cmd->add_flag("--calibrate-only", job.calibrate_only,
                "Run the float phase and write --out/calibration.json, then stop: the step before the shards\n"
                "(--shard), which read them from --out");
  add_synsets_option(cmd, job.data.synsets, "labels from file and folder names");
  add_labels_option(cmd, job.data.labels);
  add_approx_options(cmd, job.approx_config, &job.approx_compensation,
                     "The per-layer Ax-BxP configuration of the level 8s (axbxp_config.json of axbxp-search)");
  add_no_progress_flag(cmd, o->progress);
  add_dpred_options(cmd, o->dpred, "uncompressed");
  return [o]() { return run_characterize(*o); };
});

}  // namespace
}  // namespace bitscale::cli
