// `bitscale eval`: a directory of images through a network, one result row per image
// (CSV or JSON lines, written and flushed as each image finishes), top-1/top-5 summary.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "bitscale/study/eval_job.hpp"
#include "bitscale/study/summaries.hpp"
#include "bitscale/util/file.hpp"
#include "command.hpp"
#include "options.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

struct EvalCli {
  study::EvalJob job;
  driver::Gating gating = driver::Gating::kOff;           ///< --zero-gating
  driver::Transfer transfer = driver::Transfer::kSerial;  ///< --transfer
  driver::Port port = driver::Port::kLine;                ///< --port
  DpredOptions dpred;
  std::string out;  ///< results file ("": CSV on stdout)
  bool progress = true;
};

int run_eval(EvalCli& o) {
  study::EvalJob& job = o.job;
  driver::DeviceOptions device;
  device.gating = o.gating;
  device.transfer = o.transfer;
  device.port = o.port;
  if (const auto e = o.dpred.resolve(device)) job.offchip = *e;
  job.factory = accelerator_factory(device);
  const bool shard = !job.shard.whole();
  // The per-image records beside the results file: a shard writes only them; without --shard,
  // existing ones (bitscale merge) are resumed and the rows written from them.
  if (!o.out.empty()) job.records = o.out + ".records.jsonl";
  if (const auto dir = std::filesystem::path(o.out).parent_path(); !o.out.empty() && !dir.empty())
    std::filesystem::create_directories(dir);
  // Rows go to <out>.partial as images finish and replace --out when the run completes.
  std::optional<util::StreamedFile> file;
  if (!o.out.empty() && !shard) file.emplace(o.out);
  job.rows = file ? &file->stream() : shard ? nullptr : &std::cout;
  job.format = study::eval_format_for(o.out);
  Progress progress(o.progress);
  study::EvalCallbacks cb;
  cb.inform = print_to_stderr;
  cb.progress = [&](const study::EvalTotals& sofar, std::size_t images, double el) {
    progress.update(fmt::format("{}/{} images, top-1 {:.1f}%, {:.1f} images/s", sofar.done, images,
                                sofar.top1_percent(), sofar.done / std::max(el, 1e-9)));
  };
  const study::EvalOutcome r = study::run_eval(job, cb);
  progress.finish();
  if (file) file->commit();
  if (r.shard) {
    fmt::print("{}", study::shard_summary(*r.shard));
  } else {
    fmt::print(o.out.empty() ? stderr : stdout, "{}", study::eval_summary(r));
  }
  return r.compared_with && r.totals.matched != r.totals.compared ? 1 : 0;
}

const RegisterCommand kEval([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<EvalCli>();
  study::EvalJob& job = o->job;
  auto* cmd = app.add_subcommand(
      "eval",
      "Evaluate a directory of images: one row per image (file, label, top-5, probabilities, score margin,\n"
      "cycles, MACs per mode) as CSV or JSON lines (--out *.jsonl), written as each image finishes, then\n"
      "top-1/top-5 and images/s. With --shard, per-image records (with wall times) go to\n"
      "<out>.records.shard-I-of-N.jsonl instead; bitscale merge joins them into <out>.records.jsonl, from which\n"
      "eval --out <out> writes the rows (docs/SCALE_OUT.md).\n"
      "Images that fail to decode get an error row. On the array without --calib,\n"
      "the even positions of the sorted directory calibrate and the odd ones are evaluated.");
  add_model_option(cmd, job.data.model);
  add_images_option(cmd, job.data.images);
  add_network_run_options(cmd, {job.backend, job.bits, job.weight_fl});
  add_zero_gating_flag(cmd, o->gating);
  add_transfer_options(cmd, o->transfer, o->port);
  add_quantization_options(cmd, job.quantization);
  add_count_option(cmd, "--limit", job.limit, "Evaluate at most N images (0 = all)");
  add_jobs_option(cmd, job.jobs);
  add_calibration_options(cmd, {job.calib, job.calib_limit, &job.save_calib},
                          "Calibration: a JSON file (from --save-calib) or an image directory");
  add_choice_option(cmd, "--split", job.split, study::parse_eval_split, {"auto", "even-odd", "none"},
                    "auto: even/odd split when calibrating from the evaluated directory; even-odd: always\n"
                    "(same evaluation half for float); none: evaluate every image",
                    "auto");
  cmd->add_option("--out", o->out, "Results file: .csv or .jsonl (default: CSV on stdout, summary on stderr)");
  add_synsets_option(cmd, job.data.synsets, "labels from file and folder names, class names");
  add_labels_option(cmd, job.data.labels);
  cmd->add_flag("--compare-backends", job.compare_backends,
                "Run every image on both golden and rtl and compare every MAC layer's output word for word\n"
                "and the counters (exit status 1 on any difference)");
  add_shard_option(cmd, job.shard);
  add_no_progress_flag(cmd, o->progress);
  add_approx_options(cmd, job.approx_config, nullptr,
                     "Apply this Ax-BxP configuration (axbxp_config.json of axbxp-search: per-layer block products\n"
                     "and the compensation it records) on the array; rows gain blk and energy_pj (docs/AXBXP.md)");
  cmd->add_option("--energy", job.energy, "Energy table of the rows' energy_pj (docs/ENERGY.md; default: Envision)");
  add_choice_option(cmd, "--energy-model", job.energy_model, study::parse_energy_model, {"mac", "memory"},
                    "Terms priced in energy_pj: MACs only or MACs plus memory",
                    std::string(study::to_string(job.energy_model)));
  add_dpred_options(cmd, o->dpred, "uncompressed");
  return [o]() { return run_eval(*o); };
});

}  // namespace
}  // namespace bitscale::cli
