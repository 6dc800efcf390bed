#include "bitscale/study/characterize_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>

#include "bitscale/quant/calibrate.hpp"
#include "bitscale/study/axbxp.hpp"
#include "bitscale/study/policy.hpp"

namespace bitscale::study {

namespace {

RecordOptions phase_options(const CharacterizeSetup& s, CharacterizePhase phase) {
  RecordOptions ro = s.record;
  ro.progress = [&s, phase](std::size_t n, std::size_t total) {
    if (s.progress) s.progress(phase, n, total);
  };
  return ro;
}

/// Activation ranges of the kept images, reused on resume.
quant::Calibration kept_calibration(const CharacterizeSetup& s, const std::vector<std::string>& kept) {
  const std::string path = s.out_dir + "/calibration.json";
  if (std::filesystem::exists(path)) {
    quant::Calibration c = quant::Calibration::load(path, *s.net);
    if (c.images != kept) {
      throw std::runtime_error(
          fmt::format("{}: calibrated on other images than this run keeps; use another --out", path));
    }
    return c;
  }
  quant::Calibration c = quant::calibrate_files(*s.net, kept, s.record.jobs, s.record.warn);
  c.save(path, *s.net);
  return c;
}

std::string levels_header(const CharacterizeSetup& s, const std::string& calib_id) {
  std::string h = records_header("levels", s.model_name, to_string(s.backend), s.levels, calib_id, s.weight_fl_name,
                                 s.quantization, s.offchip);
  // Ax-BxP rungs: what they run with (the compensation, the configuration file's content hash).
  const std::string extra =
      rung_header_fields(s.levels, s.approx_compensation, s.approx_config.empty() ? "" : content_hash(s.approx_config));
  if (!extra.empty()) {
    h.pop_back();
    h += extra + "}";
  }
  return h;
}

/// The sources of the Ax-BxP rungs among the levels (none: every level exact).
std::optional<RungSources> level_sources(const CharacterizeSetup& s, const quant::Calibration& calib) {
  if (std::all_of(s.levels.begin(), s.levels.end(), [](int l) { return level_exact(l); })) return std::nullopt;
  return rung_sources(s.levels, s.approx_config, s.approx_compensation, *s.net, calib, s.model_path, s.factory);
}

std::function<void(int, quant::QuantizedNetwork&, driver::Accelerator&)> level_configure(
    const std::optional<RungSources>& src) {
  if (!src) return {};
  return
      [&src](int level, quant::QuantizedNetwork& q, driver::Accelerator& acc) { configure_level(level, *src, q, acc); };
}

/// A resume that would be refused is refused here, before anything is written or computed: the
/// headers of float.jsonl and levels.jsonl, and, once the calibration is saved (the float phase
/// was complete), the image list, which must be the one the float records were made of (other
/// images would change the kept ones, hence the calibration).
void check_resume(const CharacterizeSetup& s) {
  const std::string float_path = s.out_dir + "/float.jsonl";
  check_resumable(float_path, records_header("float", s.model_name, "float", {}, ""));
  const std::string calib_path = s.out_dir + "/calibration.json";
  if (!std::filesystem::exists(calib_path)) {
    const std::vector<std::string> ignore{"calibration"};
    check_resumable(s.out_dir + "/levels.jsonl", levels_header(s, ""), ignore);
    return;
  }
  const quant::Calibration c = quant::Calibration::load(calib_path, *s.net);
  check_resumable(s.out_dir + "/levels.jsonl", levels_header(s, fmt::format("{:016x}", fnv1a(c.to_json(*s.net)))));
  const std::set<std::string> recorded = recorded_files(float_path);
  const std::set<std::string> now(s.files.begin(), s.files.end());
  const auto count_missing = [](const std::set<std::string>& a, const std::set<std::string>& b) {
    return std::count_if(a.begin(), a.end(), [&b](const std::string& f) { return !b.contains(f); });
  };
  const auto added = count_missing(now, recorded), dropped = count_missing(recorded, now);
  if (added > 0 || dropped > 0) {
    throw StudyError(fmt::format(
        "{}: recorded on {} images, this run has {} ({} not recorded, {} recorded ones left out), and {} was made "
        "from the earlier images; resume with the same images (--limit, --half, --images), or use another --out",
        float_path, recorded.size(), now.size(), added, dropped, calib_path));
  }
}

/// The levels of one shard of the kept images: the float records and the calibration come from a
/// --calibrate-only run under out_dir (never written by a shard: array tasks would race on them),
/// and must be those of this run's model, images and options.
CharacterizeOutcome run_levels_shard(const CharacterizeSetup& s) {
  const std::string float_path = s.out_dir + "/float.jsonl";
  const std::string calib_path = s.out_dir + "/calibration.json";
  if (!std::filesystem::exists(calib_path) || !std::filesystem::exists(float_path))
    throw StudyError(fmt::format(
        "{}: no calibration yet; shards never calibrate (array tasks would race on it): run the same characterize "
        "command with --calibrate-only and without --shard first",
        calib_path));
  std::string header;
  std::vector<ImageRecord> floats = read_records(float_path, &header);
  if (const std::string diff = header_difference(header, records_header("float", s.model_name, "float", {}, ""));
      !diff.empty())
    throw StudyError(fmt::format("{}: {}; not this shard's model (run --calibrate-only again)", float_path, diff));
  std::sort(floats.begin(), floats.end(), [](const ImageRecord& a, const ImageRecord& b) { return a.file < b.file; });
  std::set<std::string> recorded;
  for (const auto& r : floats) recorded.insert(r.file);
  const std::set<std::string> now(s.files.begin(), s.files.end());
  if (recorded != now)
    throw StudyError(fmt::format(
        "{}: recorded on {} images, this shard's selection has {}: the calibration run used other images (--images, "
        "--half, --limit must be the same as for --calibrate-only)",
        float_path, recorded.size(), now.size()));
  CharacterizeOutcome out;
  out.base = float_correct(floats, s.top5, s.record.warn);
  if (out.base.kept.empty())
    throw std::runtime_error(fmt::format("{}: no image is classified correctly by the float network", s.image_dir));
  const quant::Calibration calib = kept_calibration(s, out.base.kept);  // exists: loaded and checked
  const ShardRecording rec{.path = s.out_dir + "/levels.jsonl",
                           .header = levels_header(s, fmt::format("{:016x}", fnv1a(calib.to_json(*s.net)))),
                           .files = out.base.kept,
                           .shard = s.shard,
                           .model_hash = s.model_hash};
  check_shard_resumable(rec);
  const std::optional<RungSources> rungs = level_sources(s, calib);
  const Runner runner({.net = s.net,
                       .run_float = false,
                       .bits = s.levels,
                       .backend = s.backend,
                       .calib = &calib,
                       .weight_fl = s.weight_fl,
                       .quantization = s.quantization,
                       .factory = s.factory,
                       .configure = level_configure(rungs),
                       .offchip = s.offchip,
                       .static16 = false},
                      s.label_of);
  const RecordResult res = record_shard(rec, runner.workers(), phase_options(s, CharacterizePhase::kLevels));
  if (s.phase_done) s.phase_done(CharacterizePhase::kLevels);
  out.computed = res.computed;
  out.complete = res.complete;
  if (res.complete) out.shard = shard_done(rec, res);
  return out;
}

}  // namespace

CharacterizeOutcome run_characterization(const CharacterizeSetup& s) {
  if (!s.shard.whole()) {
    if (s.calibrate_only) throw std::invalid_argument("--calibrate-only runs once, before the shards: no --shard");
    return run_levels_shard(s);
  }
  check_resume(s);
  CharacterizeOutcome out;
  // Phase 1: the float baseline on every image.
  RunSetup float_only;  // run_float, no array runs
  float_only.net = s.net;
  const Runner float_runner(float_only, s.label_of);
  const RecordResult phase1 =
      record_images(s.out_dir + "/float.jsonl", records_header("float", s.model_name, "float", {}, ""), s.files,
                    float_runner.workers(), phase_options(s, CharacterizePhase::kFloat));
  if (s.phase_done) s.phase_done(CharacterizePhase::kFloat);
  if (!phase1.complete) {
    out.computed = phase1.computed;
    return out;
  }
  out.base = float_correct(phase1.records, s.top5, s.record.warn);
  if (out.base.kept.empty())
    throw std::runtime_error(fmt::format("{}: no image is classified correctly by the float network", s.image_dir));
  if (s.float_done) s.float_done(out.base, phase1.resumed);

  // Phase 2: every kept image at each level.
  const quant::Calibration calib = kept_calibration(s, out.base.kept);
  if (s.calibrate_only) {
    out.calibrated_only = true;
    out.complete = true;
    return out;
  }
  const std::string calib_id = fmt::format("{:016x}", fnv1a(calib.to_json(*s.net)));
  const std::optional<RungSources> rungs = level_sources(s, calib);
  const Runner runner({.net = s.net,
                       .run_float = false,
                       .bits = s.levels,
                       .backend = s.backend,
                       .calib = &calib,
                       .weight_fl = s.weight_fl,
                       .quantization = s.quantization,
                       .factory = s.factory,
                       .configure = level_configure(rungs),
                       .offchip = s.offchip,
                       .static16 = false},
                      s.label_of);
  RecordResult phase2 = record_images(s.out_dir + "/levels.jsonl", levels_header(s, calib_id), out.base.kept,
                                      runner.workers(), phase_options(s, CharacterizePhase::kLevels));
  if (s.phase_done) s.phase_done(CharacterizePhase::kLevels);
  if (!phase2.complete) {
    out.computed = phase2.computed;
    return out;
  }
  for (auto& r : phase2.records) r.fp = out.base.runs.at(r.file);
  out.result = characterize(phase2.records, s.levels, s.top5);
  out.complete = true;
  return out;
}

}  // namespace bitscale::study
