#include "bitscale/study/apply_job.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <set>
#include <stdexcept>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/study/axbxp.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/runner.hpp"
#include "bitscale/study/sweep.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::study {

namespace fs = std::filesystem;

std::vector<std::string> policy_overlap(const Policy& p, const std::vector<std::string>& files) {
  std::map<std::string, std::string> by_name, by_hash;  // -> "selection image x" / "calibration image x"
  for (const auto& [list, kind] :
       {std::pair{&p.selection_images, "selection"}, {&p.calibration_images, "calibration"}}) {
    for (const PolicyImage& im : *list) {
      by_name.emplace(im.file, fmt::format("{} image {}", kind, im.file));
      if (!im.hash.empty()) by_hash.emplace(im.hash, fmt::format("{} image {}", kind, im.file));
    }
  }
  std::vector<std::string> out;
  for (const auto& f : files) {
    const std::string name = fs::path(f).filename().string();
    if (const auto it = by_name.find(name); it != by_name.end()) {
      out.push_back(fmt::format("{} (same name as {})", f, it->second));
      continue;
    }
    if (const auto it = by_hash.find(content_hash(f)); it != by_hash.end())
      out.push_back(fmt::format("{} (same content as {})", f, it->second));
  }
  return out;
}

ApplyRow apply_row(const ImageRecord& r, const Policy& p, const EnergyTable& t, double energy16_pj) {
  ApplyRow row;
  row.file = r.file;
  row.label = r.label;
  row.error = r.error;
  if (!r.ok()) return row;
  row.float_correct = r.fp && r.fp->correct1;
  for (int b : p.levels) {
    const auto it = r.levels.find(b);
    if (it == r.levels.end()) break;
    row.levels_run.push_back(b);
    row.confidence.push_back(confidence(it->second, p.metric));
    row.energy_pj += energy_pj(it->second, t);
    row.accepted_bits = b;
    row.correct = it->second.correct1;
  }
  const auto r16 = r.levels.find(16);
  row.energy16_pj = r16 != r.levels.end() ? energy_pj(r16->second, t)
                    : r.static16          ? energy_pj(*r.static16, t)
                                          : energy16_pj;
  return row;
}

namespace {

/// The counters of two runs that the shapes alone fix: all but the group-width histogram (CNT_GW*, the
/// outputs' widths) and, with zero-block gating, the block products (which blocks are zero).
bool same_shape_counters(const std::optional<driver::Counters>& a, const std::optional<driver::Counters>& b,
                         driver::Gating gating) {
  if (!a || !b) return a.has_value() == b.has_value();
  driver::Counters x = *a, y = *b;
  for (std::size_t i = regmap::kCntGw1; i <= regmap::kCntGw16; ++i) {
    x.*driver::Counters::kFields[i] = 0;
    y.*driver::Counters::kFields[i] = 0;
  }
  if (gating == driver::Gating::kZeroBlocks)
    x.blk = y.blk = x.zskip = y.zskip = x.blk16 = y.blk16 = x.blk8 = y.blk8 = x.blk4 = y.blk4 = 0;
  return x == y;
}

// --model, else the policy's model path relative to the policy file, else the default model
// when it has the policy's file name (the hash is checked afterwards either way).
std::string model_of(const ApplyJob& job, const Policy& p) {
  if (!job.data.model.empty()) return job.data.model;
  fs::path m = p.model_path;
  if (m.is_relative()) m = fs::path(job.policy).parent_path() / m;
  if (fs::exists(m)) return m.lexically_normal().string();
  const std::string def = data::default_data_paths().model;
  if (!def.empty() && fs::path(def).filename() == p.model_file) return def;
  throw std::invalid_argument(
      fmt::format("{}: the policy's model {} is not at {}; give --model", job.policy, p.model_file, m.string()));
}

}  // namespace

ApplyOutcome run_apply(const ApplyJob& job, const ApplyCallbacks& cb) {
  const Inform warn = cb.warn ? cb.warn : Inform([](const std::string&) {});
  if (job.policy.empty()) throw std::invalid_argument("no --policy given");
  if (!on_array(job.backend)) throw std::invalid_argument("apply: --backend must be an array back-end");
  ApplyOutcome out;
  out.policy_path = job.policy;
  out.policy = load_policy(job.policy);
  const Policy& p = out.policy;
  if (job.offchip && *job.offchip != p.offchip)
    throw std::invalid_argument(fmt::format(
        "{}: offchip: the policy was chosen with {} off-chip bytes, this run asks for {} (run apply without "
        "--offchip/--dpred, or choose a policy with sweep {})",
        job.policy, quant::to_string(p.offchip), quant::to_string(*job.offchip),
        *job.offchip == quant::OffchipEncoding::kPerGroup ? "--offchip per-group" : "--offchip uncompressed"));
  if (job.gating && *job.gating != p.gating)
    throw std::invalid_argument(fmt::format(
        "{}: gating: the policy was chosen with zero-block gating {}, this run asks for {} (run apply without "
        "--dpred, or choose a policy with sweep{})",
        job.policy, driver::to_string(p.gating), driver::to_string(*job.gating),
        *job.gating == driver::Gating::kZeroBlocks ? " --dpred" : " without --dpred"));
  // The accelerators run with the policy's gating (its energy figures were priced so).
  const AcceleratorFactory factory = [inner = job.factory, g = p.gating](driver::Backend b) {
    std::unique_ptr<driver::Accelerator> acc = inner(b);
    acc->set_gating(g);
    return acc;
  };
  const bool per_group = p.offchip == quant::OffchipEncoding::kPerGroup;
  out.backend = job.backend;
  data::DataPaths given = job.data;
  given.model = model_of(job, p);
  const data::DataPaths d = data::resolve_data_paths(given);
  out.model_path = d.need_model();
  out.image_dir = d.need_images();
  if (const std::string h = content_hash(out.model_path); h != p.model_hash)
    throw std::invalid_argument(
        fmt::format("{}: model hash {} differs from the policy's {} ({} in {}): not the model "
                    "the policy was chosen for",
                    out.model_path, h, p.model_hash, p.model_file, job.policy));
  std::vector<std::string> files = data::select_half(data::list_images(out.image_dir, warn), job.half);
  if (job.limit > 0 && static_cast<std::size_t>(job.limit) < files.size())
    files.resize(static_cast<std::size_t>(job.limit));
  if (files.empty())
    throw std::invalid_argument(fmt::format("{}: no images ({} half)", out.image_dir, to_string(job.half)));
  const bool shard = !job.shard.whole();
  if (shard && job.out.empty())
    throw std::invalid_argument("apply --shard needs --out (the shard's records go beside it)");
  // A shard checks its own images; the run on the merged records checks them all.
  if (const auto ov = policy_overlap(p, shard ? shard_of(files, job.shard) : files); !ov.empty())
    throw std::invalid_argument(fmt::format(
        "{}: {} of {} images were used to choose or calibrate the policy {} (measuring on them would be optimistic): "
        "{}",
        out.image_dir, ov.size(), files.size(), job.policy, fmt::join(ov, "; ")));
  const EnergyTable table = energy_table(job.energy, p.energy_model);
  if (table.source != p.energy_source)
    warn(fmt::format("energy table '{}' differs from the policy's '{}'", table.source, p.energy_source));
  const model::Model model = model::load_model(out.model_path);
  const model::Network net(model);
  const quant::Calibration calib = quant::Calibration::from_json(p.calibration, net, job.policy + ": calibration");
  const data::Synsets syn(d.need_synsets());
  RunSetup setup{.net = &net,
                 .bits = p.levels,
                 .backend = job.backend,
                 .calib = &calib,
                 .weight_fl = p.weight_fl,
                 .quantization = p.quantization,
                 .factory = factory,
                 .configure = {},
                 .offchip = p.offchip,
                 .static16 = false};
  // Ax-BxP rungs: the configuration file beside the policy (the content hash it was chosen with).
  std::optional<RungSources> rungs;
  if (std::any_of(p.levels.begin(), p.levels.end(), [](int l) { return !level_exact(l); })) {
    std::string cfg;
    if (!p.approx_config_file.empty()) {
      cfg = (fs::path(job.policy).parent_path() / p.approx_config_file).string();
      if (!fs::exists(cfg))
        throw std::invalid_argument(fmt::format(
            "{}: approx.config.file: {} does not exist (the Ax-BxP configuration of the level 8s)", job.policy, cfg));
      if (const std::string h = content_hash(cfg); h != p.approx_config_hash)
        throw std::invalid_argument(
            fmt::format("{}: approx.config.hash: {} has content hash {}, the policy was chosen with {}: not the Ax-BxP "
                        "configuration of the policy",
                        job.policy, cfg, h, p.approx_config_hash));
    }
    rungs = rung_sources(p.levels, cfg, quant::approx_compensation_from_string(p.approx_compensation), net, calib,
                         out.model_path, job.factory);
    setup.configure = [&rungs](int level, quant::QuantizedNetwork& q, driver::Accelerator& acc) {
      configure_level(level, *rungs, q, acc);
    };
  }
  // Per-group off-chip bytes depend on the image: every image is also run at static 16 bits
  // when the controller did not (its own reference), recorded as the record's static16.
  RunSetup deployed = setup;
  deployed.static16 = per_group;
  const Runner runner(deployed, data::Labeler::with_file(syn, d.labels),
                      Escalation{.threshold = p.threshold, .metric = p.metric});
  // The static 16-bit reference: one run of the first readable image (the counters of this array
  // depend only on the network's shapes); its own engine when 16 bits is not one of the levels.
  std::optional<Runner> runner16;
  if (std::find(p.levels.begin(), p.levels.end(), 16) == p.levels.end()) {
    setup.run_float = false;
    setup.bits = {16};
    runner16.emplace(setup, nullptr);
  }
  std::optional<RunRecord> ref16;
  for (const auto& f : files) {
    try {
      ref16 = (runner16 ? &*runner16 : &runner)->run_level(16, f);
      break;
    } catch (const data::ImageError&) {
    }
  }
  if (!ref16) throw std::invalid_argument(fmt::format("{}: no readable image", out.image_dir));
  out.energy16_per_image_pj = energy_pj(*ref16, table);

  const bool temp = job.out.empty();
  if (!temp && fs::path(job.out).has_parent_path()) fs::create_directories(fs::path(job.out).parent_path());
  const std::string records =
      temp ? (fs::temp_directory_path() / fmt::format("bitscale-apply-{}.jsonl", ::getpid())).string()
           : job.out + ".records.jsonl";
  const std::string header = records_header(
      "apply", p.model_file, to_string(job.backend), p.levels,
      fmt::format("{:016x}", fnv1a(fmt::format("{}|{:.17g}|{}", p.calibration, p.threshold, to_string(p.metric)))),
      std::string(quant::to_string(p.weight_fl)), p.quantization, p.offchip);
  RecordOptions ro;
  ro.jobs = job.jobs;
  ro.progress = cb.progress;
  ro.warn = warn;
  const ShardRecording where{
      .path = records, .header = header, .files = files, .shard = job.shard, .model_hash = shard ? p.model_hash : ""};
  RecordResult rec;
  try {
    rec = record_shard(where, runner.workers(), ro);
  } catch (...) {
    if (temp) fs::remove(records);
    throw;
  }
  if (temp) fs::remove(records);
  out.resumed = rec.resumed;
  if (shard) {  // records only: the rows and figures come from the merged records
    out.shard = shard_done(where, rec);
    return out;
  }
  std::vector<ImageOutcome> o;
  for (const ImageRecord& r : rec.records) {
    ApplyRow row = apply_row(r, p, table, out.energy16_per_image_pj);
    if (const auto it = r.levels.find(16);
        it != r.levels.end() && !same_shape_counters(it->second.counters, ref16->counters, p.gating))
      warn(fmt::format("{}: 16-bit counters differ from the reference image's", r.file));
    if (!row.error.empty()) {
      ++out.errors;
      warn(fmt::format("{}: {}", r.file, row.error));
    } else if (!row.label) {
      ++out.unlabelled;
    } else {
      o.push_back({row.float_correct, row.correct, row.energy_pj, row.energy16_pj,
                   static_cast<std::size_t>(std::find(p.levels.begin(), p.levels.end(), row.accepted_bits) -
                                            p.levels.begin())});
    }
    out.rows.push_back(std::move(row));
  }
  if (out.unlabelled) warn(fmt::format("{} images carry no label and are not counted", out.unlabelled));
  if (per_group && !o.empty()) {
    double sum = 0;
    for (const ImageOutcome& x : o) sum += x.energy16_pj;
    out.energy16_per_image_pj = sum / static_cast<double>(o.size());
  }
  if (o.empty()) throw std::runtime_error(fmt::format("{}: no labelled, readable image", out.image_dir));
  out.stats = controller_stats(o, p.levels.size(), p.bootstrap, 0.95);
  if (!job.out.empty())
    util::write_file(job.out, job.out.ends_with(".jsonl") ? apply_rows_jsonl(out) : apply_rows_csv(out));
  if (!job.json.empty()) util::write_file(job.json, apply_json(out));
  return out;
}

namespace {
std::string est_json(const std::string& key, const Estimate& e) {
  return fmt::format("\"{}\":{:.6f},\"{}_ci\":[{:.6f},{:.6f}]", key, e.value, key, e.ci.lo, e.ci.hi);
}
}  // namespace

std::string apply_json(const ApplyOutcome& r) {
  const ControllerStats& s = r.stats.value();
  const Policy& p = r.policy;
  std::string j = fmt::format(
      "{{\"format\":\"bitscale-apply-1\",\"policy\":{},\"model\":{},\"model_hash\":\"{}\",\"images_dir\":{},"
      "\"backend\":\"{}\",\"energy_model\":\"{}\",\"offchip\":\"{}\",\"levels\":{},\"metric\":\"{}\",\"threshold\":{:"
      ".17g},\"target_drop_pp\":{},"
      "\"images\":{},\"unreadable\":{},\"unlabelled\":{},\"confidence_level\":{},",
      util::json_string(r.policy_path), util::json_string(r.model_path), p.model_hash, util::json_string(r.image_dir),
      to_string(r.backend), to_string(p.energy_model), quant::to_string(p.offchip), levels_json(p.levels),
      to_string(p.metric), p.threshold, p.max_drop_pp, s.images, r.errors, r.unlabelled, s.level);
  j += est_json("float_top1", s.float_top1) + "," + est_json("top1", s.top1) + "," +
       est_json("top1_drop_pp", s.drop_pp) + fmt::format(",\"top1_drop_pp_upper\":{:.6f},", s.drop_upper_pp) +
       est_json("energy_saving_pct", s.saving_pct) +
       fmt::format(",\"static16_energy_pj_per_image\":{:.6g},\"accepted\":[", r.energy16_per_image_pj);
  for (std::size_t i = 0; i < p.levels.size(); ++i) {
    const Estimate& a = s.accepted_pct[i];
    j += fmt::format("{}{{\"bits\":{},\"pct\":{:.6f},\"pct_ci\":[{:.6f},{:.6f}]}}", i ? "," : "",
                     level_json(p.levels[i]), a.value, a.ci.lo, a.ci.hi);
  }
  j += fmt::format("],\"bootstrap\":{{\"seed\":{},\"resamples\":{}}},\"target_met\":{}}}\n", p.bootstrap.seed,
                   p.bootstrap.resamples, s.drop_pp.value <= p.max_drop_pp + 1e-9);
  return j;
}

std::string apply_rows_csv(const ApplyOutcome& r) {
  std::string c = "file,label,levels_run,confidence,accepted_bits,float_correct,correct,energy_pj,energy16_pj,error\n";
  for (const auto& row : r.rows) {
    std::vector<std::string> conf;
    for (double x : row.confidence) conf.push_back(fmt::format("{:.9g}", x));
    c += fmt::format("{},{},{},{},{},{},{},{:.6g},{:.6g},{}\n", fs::path(row.file).filename().string(),
                     row.label ? std::to_string(*row.label) : "",
                     fmt::join(row.levels_run | std::views::transform(level_name), ";"), fmt::join(conf, ";"),
                     row.accepted_bits ? level_name(row.accepted_bits) : "0", int(row.float_correct), int(row.correct),
                     row.energy_pj, row.energy16_pj, row.error.empty() ? "" : util::json_string(row.error));
  }
  return c;
}

std::string apply_rows_jsonl(const ApplyOutcome& r) {
  std::string c;
  for (const auto& row : r.rows) {
    std::vector<std::string> conf;
    for (double x : row.confidence) conf.push_back(fmt::format("{:.9g}", x));
    c += fmt::format(
        "{{\"file\":{},\"label\":{},\"levels_run\":{},\"confidence\":[{}],\"accepted_bits\":{},\"float_correct\":{},"
        "\"correct\":{},\"energy_pj\":{:.6g},\"energy16_pj\":{:.6g},\"error\":{}}}\n",
        util::json_string(fs::path(row.file).filename().string()), row.label ? std::to_string(*row.label) : "null",
        levels_json(row.levels_run), fmt::join(conf, ","), row.accepted_bits ? level_json(row.accepted_bits) : "0",
        row.float_correct, row.correct, row.energy_pj, row.energy16_pj, util::json_string(row.error));
  }
  return c;
}

}  // namespace bitscale::study
