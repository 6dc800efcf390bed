// `bitscale characterize`: the two phases of the paper's characterization. (1) The float
// network on every image; the correctly classified ones are kept and calibrate the fixed-point
// formats. (2) Every kept image at each precision level; the minimum bit-width histogram (bars
// under 1 % merged upward), the resulting configurations and score-margin statistics of easy
// and difficult images. Resumable: records are appended image by image under --out.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <optional>
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
  const DataPaths d = resolve_data_paths({o.model, o.images, o.synsets});
  const std::string& model_path = d.need_model();
  const std::string& image_dir = d.need_images();
  const std::string& syn_path = d.need_synsets();
  const Backend backend = parse_backend(o.backend);
  const std::vector<int> levels = study::parse_levels(o.levels);
  const Model model = load_tflite(model_path);
  const Network net(model);
  const Synsets syn(syn_path);
  std::vector<std::string> files = select_half(list_images(image_dir), parse_half(o.half));
  if (o.limit > 0 && static_cast<std::size_t>(o.limit) < files.size()) files.resize(static_cast<std::size_t>(o.limit));
  if (files.empty()) throw std::invalid_argument(fmt::format("{}: no images ({} half)", image_dir, o.half));
  fs::create_directories(o.out);
  const std::string model_name = fs::path(model_path).filename().string();
  Progress progress(o.progress);
  study::CharacterizeSetup cs;
  cs.net = &net;
  cs.files = files;
  cs.levels = levels;
  cs.top5 = o.top5;
  cs.backend = backend;
  cs.weight_fl = weight_fl_from_string(o.weight_fl);
  cs.weight_fl_name = o.weight_fl;
  cs.out_dir = o.out;
  cs.model_name = model_name;
  cs.image_dir = image_dir;
  cs.label_of = [&syn](const std::string& f) { return label_from_filename(f, syn); };
  cs.factory = accelerator_factory();
  cs.record.jobs = o.jobs;
  cs.record.warn = warn;
  cs.record.stop_after = o.stop_after;
  cs.progress = [&](study::CharacterizePhase phase, std::size_t n, std::size_t total) {
    progress.update(phase == study::CharacterizePhase::kFloat
                        ? fmt::format("float: {}/{} images", n, total)
                        : fmt::format("levels {}: {}/{} images", o.levels, n, total));
  };
  cs.phase_done = [&](study::CharacterizePhase) { progress.finish(); };
  cs.float_done = [&](const study::FloatBaseline& base, std::size_t resumed) {
    fmt::print(stderr, "phase 1: float {} correct on {} of {} labelled images ({} unreadable, {} resumed)\n",
               o.top5 ? "top-5" : "top-1", base.kept.size(), base.labelled, base.errors, resumed);
  };
  const study::CharacterizeOutcome run = study::run_characterization(cs);
  if (!run.complete) {
    fmt::print(stderr, "stopped after {} new images (--stop-after); run the same command again to resume\n",
               run.computed);
    return 3;
  }
  const study::FloatBaseline& base = run.base;
  const std::vector<std::string>& kept = base.kept;
  const study::Characterization& c = *run.result;
  const std::string context = fmt::format(
      "Model `{}`, {} images of `{}` ({} half), float {} correct on {} ({:.1f} %): these calibrate the fixed-point "
      "formats and are characterized at {} bits on the `{}` back-end, weight FL per {}.",
      model_name, files.size(), image_dir, o.half, o.top5 ? "top-5" : "top-1", kept.size(),
      100.0 * static_cast<double>(kept.size()) / static_cast<double>(std::max<std::size_t>(base.labelled, 1)), o.levels,
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
