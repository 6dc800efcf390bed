// `bitscale characterize`: the two phases of the paper's characterization. (1) The float
// network on every image; the correctly classified ones are kept and calibrate the fixed-point
// formats. (2) Every kept image at each precision level; the minimum bit-width histogram (bars
// under 1 % merged upward), the resulting configurations and score-margin statistics of easy
// and difficult images. Resumable: records are appended image by image under --out.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "bitscale/study/characterize_job.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/sweep.hpp"
#include "command.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

struct CharOptions {
  std::string model, images, out, synsets, half = "all", levels = "4,8,16", backend = "golden", weight_fl = "channel";
  int jobs = 1;
  int limit = 0;
  std::size_t stop_after = 0;
  bool top5 = false;
  bool progress = true;
};

int run_characterize(const CharOptions& o) {
  study::CharacterizeJob job;
  job.data = {o.model, o.images, o.synsets};
  job.out_dir = o.out;
  job.half = data::parse_half(o.half);
  job.levels = study::parse_levels(o.levels);
  job.top5 = o.top5;
  job.backend = study::parse_backend(o.backend);
  job.weight_fl = quant::weight_fl_from_string(o.weight_fl);
  job.jobs = o.jobs;
  job.limit = o.limit;
  job.stop_after = o.stop_after;
  job.factory = accelerator_factory();
  Progress progress(o.progress);
  study::CharacterizeCallbacks cb;
  cb.warn = [](const std::string& w) { fmt::print(stderr, "{}\n", w); };
  cb.progress = [&](study::CharacterizePhase phase, std::size_t n, std::size_t total) {
    progress.update(phase == study::CharacterizePhase::kFloat
                        ? fmt::format("float: {}/{} images", n, total)
                        : fmt::format("levels {}: {}/{} images", o.levels, n, total));
  };
  cb.phase_done = [&](study::CharacterizePhase) { progress.finish(); };
  cb.float_done = [&](const study::FloatBaseline& base, std::size_t resumed) {
    fmt::print(stderr, "phase 1: float {} correct on {} of {} labelled images ({} unreadable, {} resumed)\n",
               o.top5 ? "top-5" : "top-1", base.kept.size(), base.labelled, base.errors, resumed);
  };
  const study::CharacterizeJobOutcome run = study::run_characterize(job, cb);
  if (!run.complete) {
    fmt::print(stderr, "stopped after {} new images (--stop-after); run the same command again to resume\n",
               run.computed);
    return 3;
  }
  const std::vector<int>& levels = job.levels;
  const std::string& model_name = run.model_name;
  const study::Characterization& c = *run.result;
  fmt::print("characterization of {} ({} float-correct images of {}), levels {}:\n", model_name, c.images, run.images,
             o.levels);
  for (std::size_t i = 0; i < levels.size(); ++i) {
    fmt::print("  min {:>2}-bit: {:4} images ({:5.1f} %), after merging bars < 1 %: {:4} ({:5.1f} %)\n", levels[i],
               c.raw[i], 100.0 * c.raw[i] / c.images, c.merged[i], 100.0 * c.merged[i] / c.images);
  }
  fmt::print("  none (wrong at {} bits): {} images ({:.1f} %)\n", levels.back(), c.none, 100.0 * c.none / c.images);
  std::string conf;
  for (int b : c.configurations) conf += (conf.empty() ? "" : ",") + std::to_string(b);
  fmt::print("  configurations: {}\n", conf);
  for (int b : levels) {
    const auto& e = c.easy.at(b);
    const auto& h = c.difficult.at(b);
    fmt::print("  SM at {:>2}-bit: easy {:.3f} ± {:.3f} (n={}), difficult {:.3f} ± {:.3f} (n={})\n", b, e.mean,
               e.stddev, e.n, h.mean, h.stddev, h.n);
  }
  fmt::print("outputs in {}/ (characterization.json, histogram.csv, margins.csv, *.svg, summary.md)\n", o.out);
  return 0;
}

const RegisterCommand kCharacterize([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<CharOptions>();
  auto* cmd = app.add_subcommand(
      "characterize",
      "The paper's characterization: the float network on every image, the correctly classified ones\n"
      "calibrate the fixed-point formats and are then run at each precision level; outputs the minimum\n"
      "bit-width histogram (bars under 1 % merged upward), the configurations and score-margin statistics\n"
      "of easy and difficult images (JSON, CSV, SVG, summary.md). Resumable: records are appended under\n"
      "--out image by image; running the same command again continues where it stopped.");
  cmd->add_option("--model", o->model, "TFLite model (default: data/models/mobilenet_v1_0.25_128_quant.tflite)");
  cmd->add_option("--images", o->images, "Image directory (default: data/images)");
  cmd->add_option("--half", o->half, "Which images of the sorted directory: all, even or odd positions")
      ->check(CLI::IsMember({"all", "even", "odd"}))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Output directory (records, calibration, reports)")->required();
  cmd->add_option("--levels", o->levels, "Precision levels, increasing (4, 8, 16)")->capture_default_str();
  cmd->add_option("--backend", o->backend, "Array back-end: golden, golden-device or rtl")
      ->check(CLI::IsMember({"golden", "golden-device", "rtl"}))
      ->capture_default_str();
  add_weight_fl_option(cmd, o->weight_fl);
  cmd->add_flag("--top5", o->top5, "Correct = top-5 (default: top-1)");
  cmd->add_option("--jobs", o->jobs, "Threads, each with its own device")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--limit", o->limit, "At most the first N images (0 = all)")->capture_default_str();
  cmd->add_option("--stop-after", o->stop_after, "Stop after N new images (simulates an interruption; exit status 3)");
  cmd->add_option("--synsets", o->synsets, "imagenet-synsets.tsv (labels from file names)");
  cmd->add_flag("!--no-progress", o->progress, "No progress line on the terminal");
  return [o]() { return run_characterize(*o); };
});

}  // namespace
}  // namespace bitscale::cli
