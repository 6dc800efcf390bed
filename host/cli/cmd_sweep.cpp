// `bitscale sweep`: the dynamic bit-width scheme evaluated on images never used for
// calibration. Every image is recorded once (float + 4, 8 and 16 bits: top-1, correctness,
// score margin, counters); every threshold T_h is then evaluated from the records with
// Controller::decide. Outputs the accuracy/energy curves, the smallest T_h meeting --max-drop
// and the comparison with static 4/8/16-bit (the paper's Table 2). Resumable under --out.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
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

bool same_dir(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

int run_sweep(const SweepOptions& o) {
  const auto warn = [](const std::string& w) { fmt::print(stderr, "{}\n", w); };
  const DataPaths d = default_data_paths();
  const std::string model_path = o.model.empty() ? d.model : o.model;
  const std::string image_dir = o.images.empty() ? d.images : o.images;
  const std::string syn_path = o.synsets.empty() ? d.synsets : o.synsets;
  if (model_path.empty()) throw std::invalid_argument("no --model given and no default model found");
  if (image_dir.empty()) throw std::invalid_argument("no --images given and no default image directory found");
  if (syn_path.empty()) throw std::invalid_argument("no --synsets given and no default imagenet-synsets.tsv found");
  const std::vector<int> levels = study::parse_levels(o.levels);
  if (!(o.max_drop >= 0)) throw std::invalid_argument("--max-drop must be >= 0");
  const EnergyTable table = o.energy.empty() ? EnergyTable::envision() : EnergyTable::load(o.energy);
  const Model model = load_tflite(model_path);
  const Network net(model);
  const Synsets syn(syn_path);
  const std::string model_name = fs::path(model_path).filename().string();
  fs::create_directories(o.out);

  // Calibration: a JSON file, or the saved one of this output directory (resume), or an image
  // directory (its even half when it is the evaluated directory).
  const std::vector<std::string> all = list_images(image_dir);
  const std::string calib_arg = o.calib.empty() ? image_dir : o.calib;
  const bool calib_is_dir = !calib_arg.ends_with(".json");
  const bool shared_dir = calib_is_dir && same_dir(calib_arg, image_dir);
  const std::string half = o.half == "auto" ? (shared_dir ? "odd" : "all") : o.half;
  const std::string saved = o.out + "/calibration.json";
  Calibration calib;
  if (!calib_is_dir) {
    calib = Calibration::load(calib_arg, net);
    if (!fs::exists(saved)) calib.save(saved, net);
  } else if (fs::exists(saved)) {
    calib = Calibration::load(saved, net);
    fmt::print(stderr, "{}: reusing the saved calibration ({} images)\n", saved, calib.images.size());
  } else {
    std::vector<std::string> cf = list_images(calib_arg);
    if (shared_dir) cf = select_half(cf, "even");
    if (cf.empty()) throw std::invalid_argument(fmt::format("{}: no calibration images", calib_arg));
    calib = obtain_calibration(net, "", cf, o.calib_limit, o.jobs, warn);
    calib.save(saved, net);
    fmt::print(stderr, "calibration: {} images of {}{}\n", calib.images.size(), calib_arg,
               shared_dir ? " (even positions; evaluating the odd ones)" : "");
  }
  const std::string calib_id = fmt::format("{:016x}", study::fnv1a(calib.to_json(net)));

  std::vector<std::string> files = select_half(all, half);
  const std::set<std::string> seen(calib.images.begin(), calib.images.end());
  const auto before = files.size();
  std::erase_if(files, [&](const std::string& f) { return seen.contains(f); });
  if (files.size() != before)
    fmt::print(stderr, "excluded {} calibration images from the evaluation\n", before - files.size());
  if (o.limit > 0 && static_cast<std::size_t>(o.limit) < files.size()) files.resize(static_cast<std::size_t>(o.limit));
  if (files.empty())
    throw std::invalid_argument(
        fmt::format("{}: no evaluation images ({} half, calibration excluded)", image_dir, half));

  std::vector<int> bits{4, 8, 16};
  for (int b : levels) {
    if (std::find(bits.begin(), bits.end(), b) == bits.end()) bits.push_back(b);
  }
  std::sort(bits.begin(), bits.end());
  const auto label_of = [&syn](const std::string& f) { return label_from_filename(f, syn); };
  Progress progress(o.progress);
  study::RecordOptions ro;
  ro.jobs = o.jobs;
  ro.warn = warn;
  ro.stop_after = o.stop_after;
  ro.progress = [&](std::size_t n, std::size_t total) {
    progress.update(fmt::format("sweep records: {}/{} images", n, total));
  };
  const std::string rec_path = o.out + (o.backend == "golden" ? "/records.jsonl" : "/records_" + o.backend + ".jsonl");
  study::RecordResult rec;
  {
    const study::Runner runner(
        {&net, &calib, bits, true, o.backend, [b = o.backend]() { return driver::make_accelerator(b); },
         weight_fl_from_string(o.weight_fl)},
        label_of);
    rec = study::record_images(rec_path,
                               study::records_header("sweep", model_name, o.backend, bits, calib_id, o.weight_fl),
                               files, runner.workers(), ro);
  }
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
  const std::vector<std::vector<int>> extra{{4, 8, 16}, {8, 16}};
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
    std::vector<std::string> sub(files.begin(), files.begin() + std::min<std::size_t>(files.size(), o.confirm_rtl));
    // One bit-width at a time, each in its own records file.
    ro.stop_after = 0;
    study::RecordResult r;
    for (int b : bits) {
      const study::Runner rtl({&net,
                               &calib,
                               {b},
                               false,
                               "rtl",
                               []() { return driver::make_accelerator("rtl"); },
                               weight_fl_from_string(o.weight_fl)},
                              label_of);
      ro.progress = [&](std::size_t n, std::size_t total) {
        progress.update(fmt::format("rtl {}-bit: {}/{} images", b, n, total));
      };
      const auto rb = study::record_images(
          o.out + fmt::format("/rtl_confirm_{}.jsonl", b),
          study::records_header("rtl-confirm", model_name, "rtl", {b}, calib_id, o.weight_fl), sub, rtl.workers(), ro);
      progress.finish();
      if (r.records.empty()) {
        r = rb;
      } else {
        for (std::size_t i = 0; i < r.records.size(); ++i) r.records[i].levels[b] = rb.records.at(i).levels.at(b);
      }
    }
    std::map<std::string, const study::ImageRecord*> golden;
    for (const auto& g : rec.records) golden[g.file] = &g;
    std::size_t same = 0;
    std::vector<study::ImageRecord> gsub, rsub;
    for (const auto& x : r.records) {
      study::ImageRecord y = x;
      y.fp = golden.at(x.file)->fp;
      const bool eq = y == *golden.at(x.file);
      same += eq;
      if (!eq) warn(fmt::format("rtl confirmation: {} differs from the golden record", x.file));
      gsub.push_back(*golden.at(x.file));
      rsub.push_back(y);
    }
    study::SweepInput gi = in, ri = in;
    gi.records = study::sweep_records(gsub, levels);
    ri.records = study::sweep_records(rsub, levels);
    std::string md = fmt::format(
        "### RTL confirmation\n\nThe first {} evaluation images re-run on the verilated RTL back-end at {} bits: "
        "**{} of {}** have identical top-1, correctness, score margin and hardware counters at every bit-width.\n\n"
        "| T_h | golden: top-1 correct, energy (pJ) | RTL: top-1 correct, energy (pJ) | same decisions "
        "|\n|---|---|---|---|\n",
        sub.size(), fmt::join(bits, "/"), same, sub.size());
    std::vector<double> ts{0.0, 0.5, 1.0};
    if (s.dynamic.front().second) ts.insert(ts.begin() + 1, s.dynamic.front().second->threshold);
    bool all_same = same == sub.size();
    for (double t : ts) {
      const auto pg = study::evaluate(gi, t);
      const auto pr = study::evaluate(ri, t);
      const bool eq = pg.correct == pr.correct && pg.energy_pj == pr.energy_pj && pg.accepted == pr.accepted;
      all_same = all_same && eq;
      md += fmt::format("| {:.4f} | {}, {:.6g} | {}, {:.6g} | {} |\n", t, pg.correct, pg.energy_pj, pr.correct,
                        pr.energy_pj, eq ? "yes" : "NO");
    }
    md += "\n";
    util::write_file(o.out + "/rtl_confirm.md", md);
    util::write_file(o.out + "/summary.md", util::read_file(o.out + "/summary.md") + md);
    fmt::print(
        "RTL confirmation: {} of {} images identical to golden (top-1, margins, counters at {} bits); "
        "decisions and energy {}\n",
        same, sub.size(), fmt::join(bits, "/"), all_same ? "identical" : "DIFFER");
    if (!all_same) return 1;
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
