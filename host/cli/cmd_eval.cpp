// `bitscale eval`: a directory of images through a network, one result row per image
// (CSV or JSON lines, written and flushed as each image finishes), top-1/top-5 summary.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/eval.hpp"
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
  const auto warn = [](const std::string& w) { fmt::print(stderr, "{}\n", w); };
  const DataPaths d = resolve_data_paths({o.model, o.images, o.synsets});
  const std::string& model_path = d.need_model();
  const std::string& image_dir = d.need_images();
  const Model model = load_tflite(model_path);
  const Network net(model);
  std::optional<Synsets> syn;
  if (!d.synsets.empty()) syn.emplace(d.synsets);

  Backend backend = parse_backend(o.backend);
  const bool on_array = study::on_array(backend) || o.compare_backends;
  const std::vector<std::string> all = list_images(image_dir);
  const bool split = o.split == "even-odd" || (o.split == "auto" && on_array && o.calib.empty());
  const Split halves = split ? split_even_odd(all) : Split{{}, all};
  std::vector<std::string> files = halves.evaluation;

  std::unique_ptr<Calibration> calib;
  if (on_array) {
    const auto t0 = std::chrono::steady_clock::now();
    calib = std::make_unique<Calibration>(
        obtain_calibration(net, o.calib, halves.calibration, o.calib_limit, o.jobs, warn));
    if (!o.save_calib.empty()) calib->save(o.save_calib, net);
    // Never evaluate an image the calibration saw (e.g. a --calib JSON made from this directory).
    if (const std::size_t n = exclude_calibration_images(files, calib->images))
      fmt::print(stderr, "excluded {} calibration images from the evaluation\n", n);
    fmt::print(stderr, "calibration: {} images ({:.1f} s){}\n", calib->images.size(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
               split && o.calib.empty() ? ", the even positions of the directory; evaluating the odd ones" : "");
  }
  if (o.limit > 0 && static_cast<std::size_t>(o.limit) < files.size()) files.resize(static_cast<std::size_t>(o.limit));
  std::optional<Backend> other;
  if (o.compare_backends) {
    if (backend == Backend::kFloat) backend = Backend::kGolden;
    other = backend == Backend::kGolden ? Backend::kRtl : Backend::kGolden;
  }
  const auto engine_for = [&](Backend b) {
    if (!study::on_array(b)) return std::make_unique<Engine>(net);
    return std::make_unique<Engine>(
        net,
        ArrayConfig{
            .backend = b, .bits = o.bits, .calib = calib.get(), .weight_fl = weight_fl_from_string(o.weight_fl)},
        accelerator_factory());
  };
  const auto engine = engine_for(backend);
  const auto engine2 = other ? engine_for(*other) : nullptr;

  std::ofstream file;
  if (!o.out.empty()) {
    file.open(o.out, std::ios::binary | std::ios::trunc);
    if (!file) throw std::runtime_error(fmt::format("{}: cannot write the results", o.out));
  }
  EvalWriter writer(o.out.empty() ? std::cout : file, eval_format_for(o.out), o.compare_backends, [&syn](int c) {
    if (c < 0) return std::string("background");
    return syn ? syn->name(c) : std::string();
  });
  EvalConfig cfg;
  cfg.net = &net;
  cfg.files = files;
  cfg.engine = engine.get();
  cfg.compare_with = engine2.get();
  if (syn) cfg.label_of = [&syn](const std::string& f) { return label_from_filename(f, *syn); };
  cfg.jobs = o.jobs;
  Progress progress(o.progress);
  const auto t_start = std::chrono::steady_clock::now();
  const EvalTotals t = evaluate_images(cfg, [&](const EvalRow& r, const EvalTotals& sofar) {
    writer.write(r);
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    progress.update(fmt::format("{}/{} images, top-1 {:.1f}%, {:.1f} images/s", sofar.done, files.size(),
                                sofar.top1_percent(), sofar.done / std::max(el, 1e-9)));
  });
  progress.finish();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  const int jobs = std::max(1, std::min<int>(o.jobs, static_cast<int>(std::max<std::size_t>(files.size(), 1))));

  std::FILE* sum = o.out.empty() ? stderr : stdout;
  fmt::print(sum, "model {} ({} MACs/image), back-end {}{}, {} images from {}\n", model_path, net.macs(),
             to_string(backend),
             engine->on_array() ? fmt::format(" {}-bit (weight FL per {})", o.bits, o.weight_fl) : "", files.size(),
             image_dir);
  fmt::print(sum, "top-1 {:.2f}% ({}/{}), top-5 {:.2f}% ({}/{}) over labelled images; {} errors\n", t.top1_percent(),
             t.top1, t.labelled, t.top5_percent(), t.top5, t.labelled, t.errors);
  fmt::print(sum, "{:.2f} images/s ({:.1f} s, {} jobs)", (t.done - t.errors) / std::max(secs, 1e-9), secs, jobs);
  if (engine->on_array() && t.done > t.errors)
    fmt::print(sum, ", {:.0f} array cycles/image", double(t.cycles) / (t.done - t.errors));
  fmt::print(sum, "\n");
  if (o.compare_backends) {
    fmt::print(sum, "{} vs {}: every MAC layer output and counter matched on {} of {} images\n", to_string(backend),
               to_string(*other), t.matched, t.compared);
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
