#include "bitscale/study/sweep_job.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <ranges>
#include <stdexcept>

#include "bitscale/data/labels.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/study/axbxp.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/outputs.hpp"
#include "bitscale/study/policy.hpp"
#include "bitscale/study/sweep.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"

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
  std::vector<int> levels;           ///< of the controller
  std::string levels_reason;         ///< where they come from
  std::string model_hash;            ///< shards only
  std::vector<int> recorded;         ///< the levels recorded (recorded_levels)
  std::string header_extra;          ///< the Ax-BxP rungs' identity in the records header
  std::optional<RungSources> rungs;  ///< with Ax-BxP rungs among the levels
};

// The network of a level (Ax-BxP rungs: configure_level; exact levels: none).
std::function<void(int, quant::QuantizedNetwork&, driver::Accelerator&)> level_configure(const SweepContext& x) {
  if (!x.rungs) return {};
  const RungSources* src = &*x.rungs;
  return
      [src](int level, quant::QuantizedNetwork& q, driver::Accelerator& acc) { configure_level(level, *src, q, acc); };
}

// The controller's levels: --levels, else the configurations of characterization.json beside a
// --calib JSON (what characterize kept), else 4,8,16.
std::vector<int> sweep_levels(const SweepJob& job, std::string& reason) {
  if (!job.levels.empty()) {
    reason = "given by --levels";
    return job.levels;
  }
  if (job.calib.ends_with(".json")) {
    const fs::path ch = fs::path(job.calib).parent_path() / "characterization.json";
    if (fs::exists(ch)) {
      const util::Json j = util::parse_json(util::read_file(ch.string()), ch.string());
      if (!j.contains("configurations") || !j["configurations"].is_array() || j["configurations"].empty())
        throw std::runtime_error(fmt::format("{}: configurations: missing or empty", ch.string()));
      std::vector<int> l;
      for (const auto& b : j["configurations"]) {
        if (!b.is_number_integer())
          throw std::runtime_error(fmt::format("{}: configurations: not bit-widths", ch.string()));
        l.push_back(b.get<int>());
      }
      (void)Controller(l, 0.0);  // checks them
      reason = fmt::format("the configurations kept by the characterization, {}", ch.string());
      return l;
    }
  }
  reason = "the default; no --levels and no characterization.json beside --calib";
  return {4, 8, 16};
}

SweepRecording recording(const SweepContext& x) {
  return {.run = {.net = &x.net,
                  .run_float = true,
                  .bits = x.recorded,
                  .backend = x.job.backend,
                  .calib = &x.sc.calib,
                  .weight_fl = x.job.weight_fl,
                  .quantization = x.job.quantization,
                  .factory = x.job.factory,
                  .configure = level_configure(x),
                  .offchip = x.job.offchip,
                  .static16 = false},
          .label_of = x.label_of,
          .files = x.files,
          .out_dir = x.job.out_dir,
          .model_name = x.model_name,
          .calibration_id = x.sc.id,
          .weight_fl_name = x.weight_fl_name,
          .record = x.record,
          .shard = x.job.shard,
          .model_hash = x.model_hash,
          .header_extra = x.header_extra};
}

// The policy of the selection: everything `bitscale apply` needs, and the images it must refuse.
Policy make_policy(const SweepContext& x, const std::string& model_path, const SweepInput& in, const Selection& sel,
                   const ControllerStats& st, const Inform& warn) {
  Policy p;
  p.model_file = fs::path(model_path).filename().string();
  p.model_hash = content_hash(model_path);
  {
    std::error_code ec;
    const fs::path rel = fs::relative(fs::absolute(model_path), fs::absolute(x.job.out_dir), ec);
    p.model_path = ec || rel.empty() ? fs::absolute(model_path).string() : rel.generic_string();
  }
  p.calibration = util::parse_json(x.sc.calib.to_json(x.net), "calibration").dump();
  p.weight_fl = x.job.weight_fl;
  p.quantization = x.job.quantization;
  p.levels = in.levels;
  p.metric = in.metric;
  p.threshold = sel.threshold;
  p.escalate_all = !sel.qualified;
  p.max_drop_pp = x.job.max_drop;
  p.confidence_level = st.level;
  p.drop_upper_pp = sel.drop_upper_pp;
  for (const auto* r : in.records) p.selection_images.push_back(policy_image(r->file));
  for (const auto& f : x.sc.calib.images) {
    try {
      p.calibration_images.push_back(policy_image(f));
    } catch (const std::exception&) {
      warn(fmt::format("{}: calibration image not readable; the policy keeps its name only", f));
      p.calibration_images.push_back({fs::path(f).filename().string(), ""});
    }
  }
  p.expected_drop_pp = st.drop_pp;
  p.expected_saving_pct = st.saving_pct;
  p.bootstrap = x.job.boot;
  p.energy_source = in.table.source;
  p.energy_model = x.job.energy_model;
  p.offchip = x.job.offchip;
  p.gating = x.job.gating;
  p.backend = to_string(x.job.backend);
  if (x.rungs) {  // Ax-BxP rungs: what `apply` needs to run them
    p.approx_compensation = std::string(quant::to_string(x.job.approx_compensation));
    if (x.rungs->file) {
      std::error_code ec;
      const fs::path rel = fs::relative(fs::absolute(x.rungs->file->path), fs::absolute(x.job.out_dir), ec);
      p.approx_config_file = ec || rel.empty() ? fs::absolute(x.rungs->file->path).string() : rel.generic_string();
      p.approx_config_hash = x.rungs->file->hash;
    }
  }
  return p;
}

// The threshold summary of the records, written under out_dir, with the policy and the
// cross-validation.
SweepSummary summarize(const SweepContext& x, const RecordResult& rec, const std::string& image_dir,
                       const std::string& model_path, SweepInput& in, SweepOutcome& out, const Inform& warn) {
  const SweepJob& job = x.job;
  in.records = sweep_records(rec.records, x.levels);
  in.levels = x.levels;
  in.table = x.table;
  in.metric = job.metric;
  if (in.records.empty())
    throw std::runtime_error(fmt::format("{}: no labelled, readable evaluation image", image_dir));
  const std::vector<std::vector<int>> extra{{kPrecisions.begin(), kPrecisions.end()}, {8, 16}};
  SweepSummary s = summarize_sweep(in, job.max_drop, job.step, extra);
  const SelectionRule rule{.max_drop = job.max_drop, .level = 0.95, .boot = job.boot, .step = job.step};
  const Selection sel = select_threshold(in, rule);
  const ControllerStats st = controller_stats(image_outcomes(in, sel.threshold), in.levels.size(), job.boot);
  s.selected = sel;
  s.selected_stats = st;
  const std::string context = fmt::format(
      "Model `{}`, {} evaluation images of `{}` ({} positions, none used for calibration; {} skipped: unreadable or "
      "unlabelled), calibration: {} images, back-end `{}`, weight FL per {}, levels {} ({}), confidence metric {}, "
      "energy table: {}{}. Bootstrap: {} resamples, seed {}.",
      x.model_name, in.records.size(), image_dir, data::to_string(x.sc.half), rec.records.size() - in.records.size(),
      x.sc.calib.images.size(), to_string(job.backend), x.weight_fl_name,
      fmt::join(x.levels | std::views::transform(level_name), ","), x.levels_reason, to_string(job.metric),
      in.table.source,
      job.offchip == quant::OffchipEncoding::kPerGroup ? "; off-chip bytes of each run encoded per group (DPRed)" : "",
      job.boot.resamples, job.boot.seed);
  write_sweep(job.out_dir, s, context);
  out.policy_path = job.out_dir + "/policy.json";
  save_policy(out.policy_path, make_policy(x, model_path, in, sel, st, warn));
  out.threshold = sel.threshold;
  out.escalate_all = !sel.qualified;
  if (job.folds >= 2) {
    out.crossval = cross_validate(in, job.folds, rule);
    write_crossval(job.out_dir, *out.crossval, in, job.max_drop);
  }
  return s;
}

// What the RTL confirmation re-runs: the first N evaluation images (job.confirm_rtl).
ConfirmSetup confirm_setup(const SweepContext& x, const SweepCallbacks& cb) {
  const SweepJob& job = x.job;
  ConfirmSetup cs;
  cs.run = {.net = &x.net,
            .run_float = false,
            .bits = x.recorded,
            .backend = Backend::kRtl,
            .calib = &x.sc.calib,
            .weight_fl = job.weight_fl,
            .quantization = job.quantization,
            .factory = job.factory,
            .configure = level_configure(x),
            .offchip = job.offchip,
            .static16 = false};
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
  cs.shard = job.shard;
  cs.model_hash = x.model_hash;
  cs.approx_compensation = job.approx_compensation;
  cs.approx_config_hash = job.approx_config.empty() ? "" : content_hash(job.approx_config);
  return cs;
}

// The first N evaluation images again on the verilated RTL: every level's top-1, margin and
// counters must equal the golden records, hence the same decisions and energy at every T_h.
Confirmation confirm(const SweepContext& x, const SweepCallbacks& cb, const RecordResult& rec, const SweepInput& in,
                     const SweepSummary& s) {
  const SweepJob& job = x.job;
  const ConfirmSetup cs = confirm_setup(x, cb);
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
  if (job.folds == 1) throw std::invalid_argument("--folds must be 0 (off) or 2 or more");
  if (job.boot.resamples == 0) throw std::invalid_argument("--resamples must be 1 or more");
  const EnergyTable table = energy_table(job.energy, job.energy_model);
  const model::Model model = model::load_model(model_path);
  const model::Network net(model);
  const data::Synsets syn(syn_path);
  SweepOutcome out;
  out.model_name = fs::path(model_path).filename().string();
  out.backend = job.backend;
  const bool shard = !job.shard.whole();
  if (shard && job.calibrate_only)
    throw std::invalid_argument("--calibrate-only runs once, before the shards: no --shard");
  fs::create_directories(job.out_dir);
  std::string levels_reason;
  const std::vector<int> levels = sweep_levels(job, levels_reason);
  const std::vector<int> recorded = recorded_levels(levels);
  const std::string header_extra = rung_header_fields(recorded, job.approx_compensation,
                                                      job.approx_config.empty() ? "" : content_hash(job.approx_config));
  if (!shard)
    check_sweep_resume(job.out_dir, job.backend, out.model_name, recorded, std::string(quant::to_string(job.weight_fl)),
                       job.quantization, header_extra, job.offchip);

  const SweepCalibration sc =
      sweep_calibration(net, job.calib, image_dir, job.half, job.out_dir, job.calib_limit, job.jobs, warn, shard);
  if (job.calibrate_only) {
    out.calibrated_only = true;
    out.complete = true;
    return out;
  }
  const std::vector<std::string> files =
      sweep_files(data::list_images(image_dir, warn), sc, job.limit, image_dir, warn);
  const LabelOf label_of = data::Labeler::with_file(syn, d.labels);
  SweepContext x{
      job, net, sc, files, label_of, out.model_name, table, std::string(quant::to_string(job.weight_fl)), {}, {},
      {},  {},  {}, {},    {}};
  x.record.jobs = job.jobs;
  x.record.warn = warn;
  x.record.stop_after = job.stop_after;
  x.record.progress = cb.progress;
  x.levels = levels;
  x.levels_reason = levels_reason;
  x.recorded = recorded;
  x.header_extra = header_extra;
  if (!header_extra.empty())
    x.rungs = rung_sources(levels, job.approx_config, job.approx_compensation, net, sc.calib, model_path, job.factory);
  out.levels = x.levels;
  out.levels_reason = x.levels_reason;
  warn(fmt::format("levels {}: {}", fmt::join(x.levels | std::views::transform(level_name), ","), x.levels_reason));
  if (shard) x.model_hash = content_hash(model_path);
  const SweepRecording what = recording(x);
  const RecordResult rec = record_sweep(what);
  if (cb.recorded) cb.recorded();
  out.complete = rec.complete;
  out.computed = rec.computed;
  out.resumed = rec.resumed;
  if (!rec.complete) return out;
  if (shard) {  // records only: the outputs come from the merged records
    out.shards.push_back(shard_done(sweep_recording(what), rec));
    if (job.confirm_rtl > 0) {
      for (auto& d : record_confirmation_shard(confirm_setup(x, cb))) out.shards.push_back(std::move(d));
    }
    return out;
  }

  SweepInput in;
  const SweepSummary s = summarize(x, rec, image_dir, model_path, in, out, warn);
  out.images = in.records.size();
  out.float_top1 = float_top1(in);
  out.headline = headline_table(s);
  if (cb.summarized) cb.summarized(out);
  if (job.confirm_rtl > 0) out.confirmation = confirm(x, cb, rec, in, s);
  return out;
}

}  // namespace bitscale::study
