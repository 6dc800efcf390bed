// `bitscale eval`: a directory of images through a network, one result row per image
// (CSV or JSON lines, written and flushed as each image finishes), top-1/top-5 summary.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "bitscale/study/engine.hpp"
#include "bitscale/study/eval.hpp"
#include "bitscale/study/eval_job.hpp"
#include "command.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

struct EvalOptions {
  std::string model, images, backend = "float", calib, save_calib, out, synsets, split = "auto";
  std::string weight_fl = "channel";
  int bits = 8;
  int limit = 0;
  int jobs = 1;
  int calib_limit = 50;
  bool compare_backends = false;
  bool progress = true;
};

int run_eval(const EvalOptions& o) {
  study::EvalJob job;
  job.data = {o.model, o.images, o.synsets};
  job.backend = study::parse_backend(o.backend);
  job.bits = o.bits;
  job.weight_fl = quant::weight_fl_from_string(o.weight_fl);
  job.calib = o.calib;
  job.save_calib = o.save_calib;
  job.split = study::parse_eval_split(o.split);
  job.limit = o.limit;
  job.jobs = o.jobs;
  job.calib_limit = o.calib_limit;
  job.compare_backends = o.compare_backends;
  job.factory = accelerator_factory();
  std::ofstream file;
  if (!o.out.empty()) {
    file.open(o.out, std::ios::binary | std::ios::trunc);
    if (!file) throw std::runtime_error(fmt::format("{}: cannot write the results", o.out));
  }
  job.rows = o.out.empty() ? &std::cout : &file;
  job.format = study::eval_format_for(o.out);

  Progress progress(o.progress);
  study::EvalCallbacks cb;
  cb.inform = [](const std::string& m) { fmt::print(stderr, "{}\n", m); };
  cb.progress = [&](const study::EvalTotals& sofar, std::size_t images, double el) {
    progress.update(fmt::format("{}/{} images, top-1 {:.1f}%, {:.1f} images/s", sofar.done, images,
                                sofar.top1_percent(), sofar.done / std::max(el, 1e-9)));
  };
  const study::EvalOutcome r = study::run_eval(job, cb);
  progress.finish();
  const study::EvalTotals& t = r.totals;
  const double secs = r.seconds;

  std::FILE* sum = o.out.empty() ? stderr : stdout;
  fmt::print(sum, "model {} ({} MACs/image), back-end {}{}, {} images from {}\n", r.model_path, r.macs,
             study::to_string(r.backend),
             r.on_array ? fmt::format(" {}-bit (weight FL per {})", o.bits, o.weight_fl) : "", r.images, r.image_dir);
  fmt::print(sum, "top-1 {:.2f}% ({}/{}), top-5 {:.2f}% ({}/{}) over labelled images; {} errors\n", t.top1_percent(),
             t.top1, t.labelled, t.top5_percent(), t.top5, t.labelled, t.errors);
  fmt::print(sum, "{:.2f} images/s ({:.1f} s, {} jobs)", (t.done - t.errors) / std::max(secs, 1e-9), secs, r.jobs);
  if (r.on_array && t.done > t.errors)
    fmt::print(sum, ", {:.0f} array cycles/image", double(t.cycles) / (t.done - t.errors));
  fmt::print(sum, "\n");
  if (r.compared_with) {
    fmt::print(sum, "{} vs {}: every MAC layer output and counter matched on {} of {} images\n",
               study::to_string(r.backend), study::to_string(*r.compared_with), t.matched, t.compared);
    if (t.matched != t.compared) return 1;
  }
  return 0;
}

const RegisterCommand kEval([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand(
      "eval",
      "Evaluate a directory of images: one row per image (file, label, top-5, probabilities, score margin,\n"
      "cycles, MACs per mode) as CSV or JSON lines (--out *.jsonl), written as each image finishes, then\n"
      "top-1/top-5 and images/s. Images that fail to decode get an error row. On the array without --calib,\n"
      "the even positions of the sorted directory calibrate and the odd ones are evaluated.");
  cmd->add_option("--model", o->model, "TFLite model (default: data/models/mobilenet_v1_0.25_128_quant.tflite)");
  cmd->add_option("--images", o->images, "Image directory (default: data/images)");
  cmd->add_option("--bits", o->bits, "Bit-width on the array")->check(CLI::IsMember({4, 8, 16}))->capture_default_str();
  add_weight_fl_option(cmd, o->weight_fl);
  cmd->add_option("--backend", o->backend,
                  "float (baseline), golden (fast functional golden model), golden-device (register-level golden "
                  "model) or rtl (verilated)")
      ->check(CLI::IsMember({"float", "golden", "golden-device", "rtl"}))
      ->capture_default_str();
  cmd->add_option("--limit", o->limit, "Evaluate at most N images (0 = all)")->capture_default_str();
  cmd->add_option("--jobs", o->jobs, "Threads, each with its own device")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--calib", o->calib, "Calibration: a JSON file (from --save-calib) or an image directory");
  cmd->add_option("--calib-limit", o->calib_limit, "Calibration images (spread over the set; 0 = all)")
      ->capture_default_str();
  cmd->add_option("--save-calib", o->save_calib, "Write the calibration to this JSON file");
  cmd->add_option("--split", o->split,
                  "auto: even/odd split when calibrating from the evaluated directory; even-odd: always\n"
                  "(same evaluation half for float); none: evaluate every image")
      ->check(CLI::IsMember({"auto", "even-odd", "none"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Results file: .csv or .jsonl (default: CSV on stdout, summary on stderr)");
  cmd->add_option("--synsets", o->synsets, "imagenet-synsets.tsv (labels from file names, class names)");
  cmd->add_flag("--compare-backends", o->compare_backends,
                "Run every image on both golden and rtl and compare every MAC layer's output word for word\n"
                "and the counters (exit status 1 on any difference)");
  cmd->add_flag("!--no-progress", o->progress, "No progress line on the terminal");
  return [o]() { return run_eval(*o); };
});

}  // namespace
}  // namespace bitscale::cli
