// `bitscale sweep`: the dynamic bit-width scheme evaluated on images never used for
// calibration. Every image is recorded once (float + 4, 8 and 16 bits: top-1, correctness,
// score margin, counters); every threshold T_h is then evaluated from the records with
// Controller::decide. Outputs the accuracy/energy curves, the smallest T_h meeting --max-drop
// and the comparison with static 4/8/16-bit (the paper's Table 2). Resumable under --out.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
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
  const auto warn = [](const std::string& w) { fmt::print(stderr, "{}\n", w); };
  const DataPaths d = resolve_data_paths({o.model, o.images, o.synsets});
  const std::string& model_path = d.need_model();
  const std::string& image_dir = d.need_images();
  const std::string& syn_path = d.need_synsets();
  const Backend backend = parse_backend(o.backend);
  const std::vector<int> levels = study::parse_levels(o.levels);
  if (!(o.max_drop >= 0)) throw std::invalid_argument("--max-drop must be >= 0");
  const EnergyTable table = o.energy.empty() ? EnergyTable::envision() : EnergyTable::load(o.energy);
  const Model model = load_tflite(model_path);
  const Network net(model);
  const Synsets syn(syn_path);
  const std::string model_name = fs::path(model_path).filename().string();
  fs::create_directories(o.out);

  const study::SweepCalibration sc = study::sweep_calibration(
      net, o.calib, image_dir, o.half == "auto" ? std::nullopt : std::optional(parse_half(o.half)), o.out,
      o.calib_limit, o.jobs, warn);
  const Calibration& calib = sc.calib;
  const std::string half = to_string(sc.half);
  const std::vector<std::string> files = study::sweep_files(list_images(image_dir), sc, o.limit, image_dir, warn);

  // Every precision is recorded (the static comparisons need them; the levels are a subset).
  const std::vector<int> bits(kPrecisions.begin(), kPrecisions.end());
  const auto label_of = [&syn](const std::string& f) { return label_from_filename(f, syn); };
  Progress progress(o.progress);
  study::RecordOptions ro;
  ro.jobs = o.jobs;
  ro.warn = warn;
  ro.stop_after = o.stop_after;
  ro.progress = [&](std::size_t n, std::size_t total) {
    progress.update(fmt::format("sweep records: {}/{} images", n, total));
  };
  const study::RecordResult rec = study::record_sweep({.run = {.net = &net,
                                                               .run_float = true,
                                                               .bits = bits,
                                                               .backend = backend,
                                                               .calib = &calib,
                                                               .weight_fl = weight_fl_from_string(o.weight_fl),
                                                               .factory = accelerator_factory()},
                                                       .label_of = label_of,
                                                       .files = files,
                                                       .out_dir = o.out,
                                                       .model_name = model_name,
                                                       .calibration_id = sc.id,
                                                       .weight_fl_name = o.weight_fl,
                                                       .record = ro});
  progress.finish();
  if (!rec.complete) {
    fmt::print(stderr, "stopped after {} new images (--stop-after); run the same command again to resume\n",
               rec.computed);
    return 3;
  }
  study::SweepInput in;
  in.records = study::sweep_records(rec.records, levels);
  in.levels = levels;
  in.table = table;
  if (in.records.empty())
    throw std::runtime_error(fmt::format("{}: no labelled, readable evaluation image", image_dir));
  const std::vector<std::vector<int>> extra{{kPrecisions.begin(), kPrecisions.end()}, {8, 16}};
  const study::SweepSummary s = study::summarize_sweep(in, o.max_drop, o.step, extra);
  const std::string context = fmt::format(
      "Model `{}`, {} evaluation images of `{}` ({} positions, none used for calibration; {} skipped: unreadable or "
      "unlabelled), calibration: {} images, back-end `{}`, weight FL per {}, levels {}, energy table: {}.",
      model_name, in.records.size(), image_dir, half, rec.records.size() - in.records.size(), calib.images.size(),
      o.backend, o.weight_fl, o.levels, table.source);
  study::write_sweep(o.out, s, context);

  fmt::print("sweep of {} on {} images ({} back-end, {} resumed), float top-1 {:.2f} %:\n\n{}\n", model_name,
             in.records.size(), o.backend, rec.resumed, study::float_top1(in), study::headline_table(s));

  if (o.confirm_rtl > 0) {
    // The first N evaluation images again on the verilated RTL: every level's top-1, margin and
    // counters must equal the golden records, hence the same decisions and energy at every T_h.
    study::ConfirmSetup cs;
    cs.run = {.net = &net,
              .run_float = false,
              .bits = bits,
              .backend = Backend::kRtl,
              .calib = &calib,
              .weight_fl = weight_fl_from_string(o.weight_fl),
              .factory = accelerator_factory()};
    cs.label_of = label_of;
    cs.files.assign(files.begin(), files.begin() + std::min<std::size_t>(files.size(), o.confirm_rtl));
    cs.out_dir = o.out;
    cs.model_name = model_name;
    cs.calibration_id = sc.id;
    cs.weight_fl_name = o.weight_fl;
    cs.record = ro;
    cs.progress = [&](int b, std::size_t n, std::size_t total) {
      progress.update(fmt::format("rtl {}-bit: {}/{} images", b, n, total));
    };
    cs.done = [&](int) { progress.finish(); };
    const auto chosen = s.dynamic.front().second;
    const study::Confirmation c =
        study::confirm_on_rtl(cs, rec.records, in, chosen ? std::optional<double>(chosen->threshold) : std::nullopt);
    util::write_file(o.out + "/rtl_confirm.md", c.markdown);
    util::write_file(o.out + "/summary.md", util::read_file(o.out + "/summary.md") + c.markdown);
    fmt::print(
        "RTL confirmation: {} of {} images identical to golden (top-1, margins, counters at {} bits); "
        "decisions and energy {}\n",
        c.same, c.images, fmt::join(bits, "/"), c.all_same ? "identical" : "DIFFER");
    if (!c.all_same) return 1;
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
