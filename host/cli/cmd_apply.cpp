// `bitscale apply`: runs a policy (written by `bitscale sweep --out D` as D/policy.json) image by
// image exactly as deployed — lowest level first, the next level only while the confidence is
// below T_h — plus the float run for the drop, on images the policy was neither chosen nor
// calibrated on (refused otherwise). Reports float and dynamic top-1, the drop, the energy
// saving vs static 16-bit and the images accepted at each level, with 95 % bootstrap intervals.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "bitscale/study/apply_job.hpp"
#include "bitscale/study/summaries.hpp"
#include "command.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

struct ApplyCli {
  study::ApplyJob job;
  DpredOptions dpred;
  bool progress = true;
};

int run_apply(ApplyCli& o) {
  driver::DeviceOptions device;
  o.job.offchip = o.dpred.resolve(device);
  if (o.dpred.dpred) o.job.gating = device.gating;  // else the policy's
  o.job.factory = accelerator_factory(device);
  Progress progress(o.progress);
  study::ApplyCallbacks cb;
  cb.warn = print_to_stderr;
  cb.progress = [&](std::size_t n, std::size_t total) {
    progress.update(fmt::format("apply: {}/{} images", n, total));
  };
  const study::ApplyOutcome r = study::run_apply(o.job, cb);
  progress.finish();
  if (r.shard) {
    fmt::print("{}", study::shard_summary(*r.shard));
    return 0;
  }
  fmt::print("{}", study::apply_summary(r));
  return 0;
}

const RegisterCommand kApply([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<ApplyCli>();
  study::ApplyJob& job = o->job;
  auto* cmd = app.add_subcommand(
      "apply",
      "Run a policy (sweep's policy.json) on new images exactly as deployed: lowest level first, the\n"
      "next level only while the confidence is below T_h; plus the float run for the drop. Refuses any\n"
      "image the policy was chosen or calibrated on (same name or content) and a model whose hash differs.");
  cmd->add_option("--policy", job.policy, "Policy file (bitscale sweep --out D writes D/policy.json)")->required();
  add_images_option(cmd, job.data.images, "Image directory to measure the policy on (default: data/images)");
  add_model_option(cmd, job.data.model, "TFLite model (default: the policy's, relative to the policy file)");
  add_choice_option(cmd, "--half", job.half, data::parse_half, {"all", "even", "odd"},
                    "Positions of the sorted image list used: all, even or odd", "all");
  add_array_backend_option(cmd, job.backend);
  cmd->add_option("--energy", job.energy,
                  "Energy table file (default: the Envision table with the policy's energy model, docs/ENERGY.md)");
  add_jobs_option(cmd, job.jobs);
  add_shard_option(cmd, job.shard);
  add_count_option(cmd, "--limit", job.limit, "At most the first N images (0 = all)");
  cmd->add_option("--out", job.out,
                  "Per-image rows, .csv or .jsonl (records kept beside it as <F>.records.jsonl: resumable)");
  cmd->add_option("--json", job.json, "The figures with their intervals as JSON");
  add_synsets_option(cmd, job.data.synsets, "labels from file and folder names");
  add_labels_option(cmd, job.data.labels);
  add_no_progress_flag(cmd, o->progress);
  add_dpred_options(cmd, o->dpred, "the policy's (another is refused)");
  return [o]() { return run_apply(*o); };
});

}  // namespace
}  // namespace bitscale::cli
