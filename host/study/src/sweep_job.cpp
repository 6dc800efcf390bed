#include "bitscale/study/sweep_job.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "bitscale/data/labels.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/outputs.hpp"
#include "bitscale/study/sweep.hpp"
#include "bitscale/util/file.hpp"

namespace bitscale::study {

namespace fs = std::filesystem;

SweepOutcome run_sweep(const SweepJob& job, const SweepCallbacks& cb) {
  const Inform warn = cb.warn ? cb.warn : Inform([](const std::string&) {});
  const data::DataPaths d = data::resolve_data_paths(job.data);
  const std::string& model_path = d.need_model();
  const std::string& image_dir = d.need_images();
  const std::string& syn_path = d.need_synsets();
  if (!(job.max_drop >= 0)) throw std::invalid_argument("--max-drop must be >= 0");
  const EnergyTable table = job.energy.empty() ? EnergyTable::envision() : EnergyTable::load(job.energy);
  const model::Model model = model::load_tflite(model_path);
  const model::Network net(model);
  const data::Synsets syn(syn_path);
  SweepOutcome out;
  out.model_name = fs::path(model_path).filename().string();
  fs::create_directories(job.out_dir);

  const SweepCalibration sc =
      sweep_calibration(net, job.calib, image_dir, job.half, job.out_dir, job.calib_limit, job.jobs, warn);
  const quant::Calibration& calib = sc.calib;
  const std::vector<std::string> files = sweep_files(data::list_images(image_dir), sc, job.limit, image_dir, warn);

  // Every precision is recorded (the static comparisons need them; the levels are a subset).
  const std::vector<int> bits(kPrecisions.begin(), kPrecisions.end());
  const LabelOf label_of = [&syn](const std::string& f) { return data::label_from_filename(f, syn); };
  const std::string weight_fl_name(quant::to_string(job.weight_fl));
  RecordOptions ro;
  ro.jobs = job.jobs;
  ro.warn = warn;
  ro.stop_after = job.stop_after;
  ro.progress = cb.progress;
  const RecordResult rec = record_sweep({.run = {.net = &net,
                                                 .run_float = true,
                                                 .bits = bits,
                                                 .backend = job.backend,
                                                 .calib = &calib,
                                                 .weight_fl = job.weight_fl,
                                                 .factory = job.factory},
                                         .label_of = label_of,
                                         .files = files,
                                         .out_dir = job.out_dir,
                                         .model_name = out.model_name,
                                         .calibration_id = sc.id,
                                         .weight_fl_name = weight_fl_name,
                                         .record = ro});
  if (cb.recorded) cb.recorded();
  out.complete = rec.complete;
  out.computed = rec.computed;
  out.resumed = rec.resumed;
  if (!rec.complete) return out;

  SweepInput in;
  in.records = sweep_records(rec.records, job.levels);
  in.levels = job.levels;
  in.table = table;
  if (in.records.empty())
    throw std::runtime_error(fmt::format("{}: no labelled, readable evaluation image", image_dir));
  const std::vector<std::vector<int>> extra{{kPrecisions.begin(), kPrecisions.end()}, {8, 16}};
  const SweepSummary s = summarize_sweep(in, job.max_drop, job.step, extra);
  const std::string context = fmt::format(
      "Model `{}`, {} evaluation images of `{}` ({} positions, none used for calibration; {} skipped: unreadable or "
      "unlabelled), calibration: {} images, back-end `{}`, weight FL per {}, levels {}, energy table: {}.",
      out.model_name, in.records.size(), image_dir, data::to_string(sc.half), rec.records.size() - in.records.size(),
      calib.images.size(), to_string(job.backend), weight_fl_name, fmt::join(job.levels, ","), table.source);
  write_sweep(job.out_dir, s, context);
  out.images = in.records.size();
  out.float_top1 = float_top1(in);
  out.headline = headline_table(s);
  if (cb.summarized) cb.summarized(out);
  if (job.confirm_rtl == 0) return out;

  // The first N evaluation images again on the verilated RTL: every level's top-1, margin and
  // counters must equal the golden records, hence the same decisions and energy at every T_h.
  ConfirmSetup cs;
  cs.run = {.net = &net,
            .run_float = false,
            .bits = bits,
            .backend = Backend::kRtl,
            .calib = &calib,
            .weight_fl = job.weight_fl,
            .factory = job.factory};
  cs.label_of = label_of;
  cs.files.assign(files.begin(), files.begin() + static_cast<std::ptrdiff_t>(std::min(files.size(), job.confirm_rtl)));
  cs.out_dir = job.out_dir;
  cs.model_name = out.model_name;
  cs.calibration_id = sc.id;
  cs.weight_fl_name = weight_fl_name;
  cs.record = ro;
  cs.progress = cb.confirm_progress;
  cs.done = cb.confirm_done;
  const auto chosen = s.dynamic.front().second;
  out.confirmation =
      confirm_on_rtl(cs, rec.records, in, chosen ? std::optional<double>(chosen->threshold) : std::nullopt);
  util::write_file(job.out_dir + "/rtl_confirm.md", out.confirmation->markdown);
  util::write_file(job.out_dir + "/summary.md",
                   util::read_file(job.out_dir + "/summary.md") + out.confirmation->markdown);
  return out;
}

}  // namespace bitscale::study
