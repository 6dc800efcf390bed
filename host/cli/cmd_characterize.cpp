// `bitscale characterize`: the two phases of the paper's characterization. (1) The float
// network on every image; the correctly classified ones are kept and calibrate the fixed-point
// formats. (2) Every kept image at each precision level; the minimum bit-width histogram (bars
// under 1 % merged upward), the resulting configurations and score-margin statistics of easy
// and difficult images. Resumable: records are appended image by image under --out.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/study.hpp"
#include "command.hpp"
#include "progress.hpp"

namespace bitscale::cli {
namespace {

namespace fs = std::filesystem;

struct CharOptions {
  std::string model, images, out, synsets, half = "all", levels = "4,8,16", backend = "golden", weight_fl = "channel";
  int jobs = 1;
  int limit = 0;
  std::size_t stop_after = 0;
  bool top5 = false;
  bool progress = true;
};

int run_characterize(const CharOptions& o) {
  const auto warn = [](const std::string& w) { fmt::print(stderr, "{}\n", w); };
  const DataPaths d = default_data_paths();
  const std::string model_path = o.model.empty() ? d.model : o.model;
  const std::string image_dir = o.images.empty() ? d.images : o.images;
  const std::string syn_path = o.synsets.empty() ? d.synsets : o.synsets;
  if (model_path.empty()) throw std::invalid_argument("no --model given and no default model found");
  if (image_dir.empty()) throw std::invalid_argument("no --images given and no default image directory found");
  if (syn_path.empty()) throw std::invalid_argument("no --synsets given and no default imagenet-synsets.tsv found");
  const std::vector<int> levels = study::parse_levels(o.levels);
  const Model model = load_tflite(model_path);
  const Network net(model);
  const Synsets syn(syn_path);
  std::vector<std::string> files = select_half(list_images(image_dir), o.half);
  if (o.limit > 0 && static_cast<std::size_t>(o.limit) < files.size()) files.resize(static_cast<std::size_t>(o.limit));
  if (files.empty()) throw std::invalid_argument(fmt::format("{}: no images ({} half)", image_dir, o.half));
  fs::create_directories(o.out);
  const std::string model_name = fs::path(model_path).filename().string();
  const auto label_of = [&syn](const std::string& f) { return label_from_filename(f, syn); };
  const auto factory = [b = o.backend]() { return driver::make_accelerator(b); };

  // Phase 1: the float baseline on every image.
  Progress progress(o.progress);
  study::RecordOptions ro;
  ro.jobs = o.jobs;
  ro.warn = warn;
  ro.stop_after = o.stop_after;
  ro.progress = [&](std::size_t n, std::size_t total) {
    progress.update(fmt::format("float: {}/{} images", n, total));
  };
  const study::Runner float_runner({&net, nullptr, {}, true, "float", {}}, label_of);
  const auto phase1 =
      study::record_images(o.out + "/float.jsonl", study::records_header("float", model_name, "float", {}, ""), files,
                           float_runner.workers(), ro);
  progress.finish();
  if (!phase1.complete) {
    fmt::print(stderr, "stopped after {} new images (--stop-after); run the same command again to resume\n",
               phase1.computed);
    return 3;
  }
  std::vector<std::string> kept;
  std::map<std::string, study::RunRecord> float_runs;
  std::size_t errors = 0, labelled = 0;
  for (const auto& r : phase1.records) {
    if (!r.ok()) {
      ++errors;
      warn(fmt::format("{}: {}", r.file, r.error));
      continue;
    }
    if (!r.label || !r.fp) continue;
    ++labelled;
    if (o.top5 ? r.fp->correct5 : r.fp->correct1) {
      kept.push_back(r.file);
      float_runs[r.file] = *r.fp;
    }
  }
  if (kept.empty())
    throw std::runtime_error(fmt::format("{}: no image is classified correctly by the float network", image_dir));
  fmt::print(stderr, "phase 1: float {} correct on {} of {} labelled images ({} unreadable, {} resumed)\n",
             o.top5 ? "top-5" : "top-1", kept.size(), labelled, errors, phase1.resumed);

  // The calibration: activation ranges of the kept images (reused on resume).
  const std::string calib_path = o.out + "/calibration.json";
  Calibration calib;
  if (fs::exists(calib_path)) {
    calib = Calibration::load(calib_path, net);
    if (calib.images != kept) {
      throw std::runtime_error(
          fmt::format("{}: calibrated on other images than this run keeps; use another --out", calib_path));
    }
  } else {
    calib = calibrate_files(net, kept, o.jobs, warn);
    calib.save(calib_path, net);
  }
  const std::string calib_id = fmt::format("{:016x}", study::fnv1a(calib.to_json(net)));

  // Phase 2: every kept image at each level.
  ro.progress = [&](std::size_t n, std::size_t total) {
    progress.update(fmt::format("levels {}: {}/{} images", o.levels, n, total));
  };
  const study::Runner runner({&net, &calib, levels, false, o.backend, factory, weight_fl_from_string(o.weight_fl)},
                             label_of);
  auto phase2 = study::record_images(
      o.out + "/levels.jsonl", study::records_header("levels", model_name, o.backend, levels, calib_id, o.weight_fl),
      kept, runner.workers(), ro);
  progress.finish();
  if (!phase2.complete) {
    fmt::print(stderr, "stopped after {} new images (--stop-after); run the same command again to resume\n",
               phase2.computed);
    return 3;
  }
  for (auto& r : phase2.records) r.fp = float_runs.at(r.file);
  const study::Characterization c = study::characterize(phase2.records, levels, o.top5);
  const std::string context = fmt::format(
      "Model `{}`, {} images of `{}` ({} half), float {} correct on {} ({:.1f} %): these calibrate the fixed-point "
      "formats and are characterized at {} bits on the `{}` back-end, weight FL per {}.",
      model_name, files.size(), image_dir, o.half, o.top5 ? "top-5" : "top-1", kept.size(),
      100.0 * static_cast<double>(kept.size()) / static_cast<double>(std::max<std::size_t>(labelled, 1)), o.levels,
      o.backend, o.weight_fl);
  study::write_characterization(o.out, c, context);

  fmt::print("characterization of {} ({} float-correct images of {}), levels {}:\n", model_name, c.images, files.size(),
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
