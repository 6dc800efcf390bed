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

namespace {

// What the steps of a sweep share: the network, labels, calibration and evaluated files.
struct SweepContext {
  const SweepJob& job;
  const model::Network& net;
  const SweepCalibration& sc;
  const std::vector<std::string>& files;
  const LabelOf& label_of;
  const std::string& model_name;
  const EnergyTable& table;
  const std::string weight_fl_name;
  RecordOptions record;
};

// Every precision is recorded (the static comparisons need them; the levels are a subset).
const std::vector<int> kRecordedBits(kPrecisions.begin(), kPrecisions.end());

RecordResult record(const SweepContext& x) {
  return record_sweep({.run = {.net = &x.net,
                               .run_float = true,
                               .bits = kRecordedBits,
                               .backend = x.job.backend,
                               .calib = &x.sc.calib,
                               .weight_fl = x.job.weight_fl,
                               .quantization = x.job.quantization,
                               .factory = x.job.factory},
                       .label_of = x.label_of,
                       .files = x.files,
                       .out_dir = x.job.out_dir,
                       .model_name = x.model_name,
                       .calibration_id = x.sc.id,
                       .weight_fl_name = x.weight_fl_name,
                       .record = x.record});
}

// The threshold summary of the records, written under out_dir.
SweepSummary summarize(const SweepContext& x, const RecordResult& rec, const std::string& image_dir, SweepInput& in) {
  const SweepJob& job = x.job;
  in.records = sweep_records(rec.records, job.levels);
  in.levels = job.levels;
  in.table = x.table;
  if (in.records.empty())
    throw std::runtime_error(fmt::format("{}: no labelled, readable evaluation image", image_dir));
  const std::vector<std::vector<int>> extra{{kPrecisions.begin(), kPrecisions.end()}, {8, 16}};
  SweepSummary s = summarize_sweep(in, job.max_drop, job.step, extra);
  const std::string context = fmt::format(
      "Model `{}`, {} evaluation images of `{}` ({} positions, none used for calibration; {} skipped: unreadable or "
      "unlabelled), calibration: {} images, back-end `{}`, weight FL per {}, levels {}, energy table: {}.",
      x.model_name, in.records.size(), image_dir, data::to_string(x.sc.half), rec.records.size() - in.records.size(),
      x.sc.calib.images.size(), to_string(job.backend), x.weight_fl_name, fmt::join(job.levels, ","), in.table.source);
  write_sweep(job.out_dir, s, context);
  return s;
}

// The first N evaluation images again on the verilated RTL: every level's top-1, margin and
// counters must equal the golden records, hence the same decisions and energy at every T_h.
Confirmation confirm(const SweepContext& x, const SweepCallbacks& cb, const RecordResult& rec, const SweepInput& in,
                     const SweepSummary& s) {
  const SweepJob& job = x.job;
  ConfirmSetup cs;
  cs.run = {.net = &x.net,
            .run_float = false,
            .bits = kRecordedBits,
            .backend = Backend::kRtl,
            .calib = &x.sc.calib,
            .weight_fl = job.weight_fl,
            .quantization = job.quantization,
            .factory = job.factory};
  cs.label_of = x.label_of;
  cs.files.assign(x.files.begin(),
                  x.files.begin() + static_cast<std::ptrdiff_t>(std::min(x.files.size(), job.confirm_rtl)));
  cs.out_dir = job.out_dir;
  cs.model_name = x.model_name;
  cs.calibration_id = x.sc.id;
  cs.weight_fl_name = x.weight_fl_name;
  cs.record = x.record;
  cs.progress = cb.confirm_progress;
  cs.done = cb.confirm_done;
  const auto chosen = s.dynamic.front().second;
  Confirmation c =
      confirm_on_rtl(cs, rec.records, in, chosen ? std::optional<double>(chosen->threshold) : std::nullopt);
  util::write_file(job.out_dir + "/rtl_confirm.md", c.markdown);
  util::write_file(job.out_dir + "/summary.md", util::read_file(job.out_dir + "/summary.md") + c.markdown);
  return c;
}

}  // namespace

SweepOutcome run_sweep(const SweepJob& job, const SweepCallbacks& cb) {
  const Inform warn = cb.warn ? cb.warn : Inform([](const std::string&) {});
  const data::DataPaths d = data::resolve_data_paths(job.data);
  const std::string& model_path = d.need_model();
  const std::string& image_dir = d.need_images();
  const std::string& syn_path = d.need_synsets();
  if (!(job.max_drop >= 0)) throw std::invalid_argument("--max-drop must be >= 0");
  const EnergyTable table = energy_table(job.energy, job.energy_model);
  const model::Model model = model::load_tflite(model_path);
  const model::Network net(model);
  const data::Synsets syn(syn_path);
  SweepOutcome out;
  out.model_name = fs::path(model_path).filename().string();
  out.backend = job.backend;
  fs::create_directories(job.out_dir);
  check_sweep_resume(job.out_dir, job.backend, out.model_name, kRecordedBits,
                     std::string(quant::to_string(job.weight_fl)), job.quantization);

  const SweepCalibration sc =
      sweep_calibration(net, job.calib, image_dir, job.half, job.out_dir, job.calib_limit, job.jobs, warn);
  const std::vector<std::string> files = sweep_files(data::list_images(image_dir), sc, job.limit, image_dir, warn);
  const LabelOf label_of = [&syn](const std::string& f) { return data::label_from_filename(f, syn); };
  SweepContext x{job, net, sc, files, label_of, out.model_name, table, std::string(quant::to_string(job.weight_fl)),
                 {}};
  x.record.jobs = job.jobs;
  x.record.warn = warn;
  x.record.stop_after = job.stop_after;
  x.record.progress = cb.progress;
  const RecordResult rec = record(x);
  if (cb.recorded) cb.recorded();
  out.complete = rec.complete;
  out.computed = rec.computed;
  out.resumed = rec.resumed;
  if (!rec.complete) return out;

  SweepInput in;
  const SweepSummary s = summarize(x, rec, image_dir, in);
  out.images = in.records.size();
  out.float_top1 = float_top1(in);
  out.headline = headline_table(s);
  if (cb.summarized) cb.summarized(out);
  if (job.confirm_rtl > 0) out.confirmation = confirm(x, cb, rec, in, s);
  return out;
}

}  // namespace bitscale::study
