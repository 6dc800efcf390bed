#include "bitscale/study/eval_job.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <vector>

#include "bitscale/data/labels.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/study/axbxp.hpp"
#include "bitscale/study/policy.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/sweep_run.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::study {

namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

EvalSplit parse_eval_split(std::string_view name) {
  if (name == "auto") return EvalSplit::kAuto;
  if (name == "even-odd") return EvalSplit::kEvenOdd;
  if (name == "none") return EvalSplit::kNone;
  throw std::invalid_argument(fmt::format("unknown split '{}' (auto, even-odd, none)", name));
}

namespace {

bool calibrates(const EvalJob& job) { return on_array(job.backend) || job.compare_backends; }

// Whether the directory is split: even positions calibrate, odd ones are evaluated.
bool splits(const EvalJob& job) {
  return job.split == EvalSplit::kEvenOdd || (job.split == EvalSplit::kAuto && calibrates(job) && job.calib.empty());
}

// The calibration of an evaluation on the array (saved with job.save_calib); the images it saw
// are removed from `files`.
std::unique_ptr<quant::Calibration> eval_calibration(const model::Network& net, const EvalJob& job,
                                                     const std::vector<std::string>& calibration_half,
                                                     std::vector<std::string>& files, const Inform& inform) {
  const auto t0 = std::chrono::steady_clock::now();
  auto calib = std::make_unique<quant::Calibration>(
      quant::obtain_calibration(net, job.calib, calibration_half, job.calib_limit, job.jobs, inform));
  if (!job.save_calib.empty()) calib->save(job.save_calib, net);
  // Never evaluate an image the calibration saw (e.g. a --calib JSON made from this directory).
  if (const std::size_t n = data::exclude_calibration_images(files, calib->images))
    inform(fmt::format("excluded {} calibration images from the evaluation", n));
  inform(fmt::format(
      "calibration: {} images ({:.1f} s){}", calib->images.size(), seconds_since(t0),
      splits(job) && job.calib.empty() ? ", the even positions of the directory; evaluating the odd ones" : ""));
  return calib;
}

// The back-end evaluated and the one compared with (--compare-backends: golden and rtl).
void choose_backends(const EvalJob& job, EvalOutcome& out) {
  out.backend = job.backend;
  if (!job.compare_backends) return;
  if (out.backend == Backend::kFloat) out.backend = Backend::kGolden;
  out.compared_with = out.backend == Backend::kGolden ? Backend::kRtl : Backend::kGolden;
}

std::unique_ptr<Engine> eval_engine(const model::Network& net, const EvalJob& job, Backend b,
                                    const quant::Calibration* calib, const std::string& model_path) {
  if (!on_array(b)) return std::make_unique<Engine>(net);
  ArrayConfig cfg{.backend = b,
                  .bits = job.bits,
                  .calib = calib,
                  .weight_fl = job.weight_fl,
                  .quantization = job.quantization,
                  .configure = {},
                  .offchip = job.offchip};
  if (!job.approx_config.empty()) {
    // The Ax-BxP configuration file: checked against the model, the bit-width and the calibration,
    // then applied with the compensation (block means) it records.
    cfg.configure = [path = job.approx_config, model_hash = content_hash(model_path),
                     calib_id = calibration_id(*calib, net)](quant::QuantizedNetwork& q, driver::Accelerator&) {
      apply_config_file(load_config_file(path, q, model_hash), q, calib_id);
    };
  }
  return std::make_unique<Engine>(net, cfg, job.factory);
}

// The writer of the result rows (none without job.rows).
std::optional<EvalWriter> row_writer(const EvalJob& job, const std::optional<data::Synsets>& syn, bool priced) {
  std::optional<EvalWriter> writer;
  if (job.rows) {
    writer.emplace(
        *job.rows, job.format, job.compare_backends,
        [&syn](int c) {
          if (c < 0) return std::string("background");
          return syn ? syn->name(c) : std::string();
        },
        priced ? std::optional(energy_table(job.energy, job.energy_model)) : std::nullopt,
        job.offchip == quant::OffchipEncoding::kPerGroup);
  }
  return writer;
}

// The first line of the eval records: what the rows were made with (a resume and merge check it).
std::string eval_header(const EvalJob& job, const EvalOutcome& out, const quant::Calibration* calib,
                        const model::Network& net) {
  const bool array = out.on_array || out.compared_with;
  std::string h = records_header("eval", fs::path(out.model_path).filename().string(), to_string(out.backend),
                                 array ? std::vector<int>{job.bits} : std::vector<int>{},
                                 calib ? fmt::format("{:016x}", fnv1a(calib->to_json(net))) : "",
                                 array ? std::string(quant::to_string(job.weight_fl)) : "",
                                 array ? std::optional(job.quantization) : std::nullopt, job.offchip);
  h.pop_back();
  return h + fmt::format(
                 ",\"compare\":{},\"limit\":{}{}}}",
                 out.compared_with ? util::json_string(to_string(*out.compared_with)) : "null", job.limit,
                 job.approx_config.empty() ? "" : fmt::format(",\"approx\":\"{}\"", content_hash(job.approx_config)));
}

// The files through the engines: rows written to job.rows as they come, or, with records, the
// missing records computed and appended (resumable), then the rows written from the records.
void evaluate(const model::Network& net, const EvalJob& job, const std::optional<data::Synsets>& syn,
              const std::optional<data::Labeler>& labeler, const std::vector<std::string>& selection,
              const quant::Calibration* calib, const Engine& engine, const Engine* compare_with,
              const EvalCallbacks& cb, EvalOutcome& out) {
  const bool shard = !job.shard.whole();
  std::error_code ec;
  const bool recorded = shard || (!job.records.empty() && fs::exists(job.records, ec));
  const std::vector<std::string> files = shard_of(selection, job.shard);
  EvalConfig cfg;
  cfg.net = &net;
  cfg.engine = &engine;
  cfg.compare_with = compare_with;
  if (labeler) cfg.label_of = *labeler;
  cfg.jobs = job.jobs;
  out.images = files.size();
  out.jobs = std::max(1, std::min<int>(job.jobs, static_cast<int>(std::max<std::size_t>(files.size(), 1))));
  const auto t_start = std::chrono::steady_clock::now();
  if (!recorded) {
    std::optional<EvalWriter> writer = row_writer(job, syn, out.on_array);
    cfg.files = files;
    out.totals = evaluate_images(cfg, [&](const EvalRow& r, const EvalTotals& sofar) {
      if (writer) writer->write(r);
      if (cb.progress) cb.progress(sofar, files.size(), seconds_since(t_start));
    });
    out.seconds = seconds_since(t_start);
    return;
  }
  const std::string header = eval_header(job, out, calib, net);
  const std::string model_hash = shard ? content_hash(out.model_path) : "";
  const std::string path = shard_path(job.records, job.shard);
  const std::string want = shard ? shard_header(header, job.shard, model_hash, selection) : header;
  std::map<std::string, EvalRow> done = read_eval_records(path, want, cb.inform);
  if (shard) {  // the shard's list, for merge (after the resume check: a refused resume leaves it alone)
    std::string list = want + '\n';
    for (const auto& f : files) list += f + '\n';
    util::write_file(shard_list_path(job.records, job.shard), list);
  }
  const std::set<std::string> wanted(files.begin(), files.end());
  for (const auto& [f, r] : done) {
    if (!wanted.contains(f) && cb.inform)
      cb.inform(fmt::format("{}: ignoring the record of {} (not in the image list)", path, f));
  }
  for (const auto& f : files) {
    if (done.contains(f))
      ++out.resumed;
    else
      cfg.files.push_back(f);
  }
  {
    const bool fresh = done.empty() && (!fs::exists(path, ec) || fs::file_size(path, ec) == 0);
    if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
    std::ofstream rec(path, std::ios::binary | (fresh ? std::ios::trunc : std::ios::app));
    if (!rec) throw StudyError(fmt::format("{}: cannot write the eval records", path));
    if (fresh) rec << want << '\n' << std::flush;
    evaluate_images(cfg, [&](const EvalRow& r, const EvalTotals& sofar) {
      rec << eval_record_line(r) << '\n' << std::flush;
      if (!rec) throw StudyError(fmt::format("{}: write error", path));
      done.emplace(r.file, r);
      if (cb.progress) {
        EvalTotals all = sofar;
        all.done += out.resumed;
        cb.progress(all, files.size(), seconds_since(t_start));
      }
    });
  }
  out.seconds = seconds_since(t_start);
  std::optional<EvalWriter> writer = shard ? std::nullopt : row_writer(job, syn, out.on_array);
  for (const auto& f : files) {
    const EvalRow& r = done.at(f);
    add_to_totals(out.totals, r, compare_with != nullptr);
    if (writer) writer->write(r);
  }
  if (shard) {
    out.shard = ShardDone{job.shard, path, files.size(), out.resumed, files.size() - out.resumed};
  } else if (cb.inform) {
    cb.inform(
        fmt::format("{}: {} images from the records, {} computed", path, out.resumed, files.size() - out.resumed));
  }
}

// Top-1 needs labels: says loudly when no image (or only some) carries one.
void warn_unlabelled(const std::vector<std::string>& files, const std::optional<data::Labeler>& labeler,
                     const std::string& synsets_path, const std::string& image_dir, const Inform& inform) {
  if (!labeler) {
    inform(
        fmt::format("WARNING: no synsets file (--synsets; none found by default{}): the {} images carry no label, "
                    "top-1 and top-5 are not measured",
                    synsets_path.empty() ? "" : ": " + synsets_path, files.size()));
    return;
  }
  const auto unlabelled = static_cast<std::size_t>(
      std::count_if(files.begin(), files.end(), [&labeler](const std::string& f) { return !(*labeler)(f); }));
  if (unlabelled == files.size()) {
    inform(
        fmt::format("WARNING: none of the {} images of {} carries a label (none in --labels, no ImageNet synset "
                    "at the start of the file name, e.g. n01440764_tench.JPEG, nor as its folder): top-1 and top-5 are "
                    "not measured",
                    files.size(), image_dir));
  } else if (unlabelled > 0) {
    inform(
        fmt::format("warning: {} of the {} images of {} carry no label (not in --labels, no synset in the file or "
                    "folder name); "
                    "top-1 and top-5 are over the {} labelled ones",
                    unlabelled, files.size(), image_dir, files.size() - unlabelled));
  }
}

}  // namespace

EvalOutcome run_eval(const EvalJob& job, const EvalCallbacks& cb) {
  const Inform inform = [&cb](const std::string& m) {
    if (cb.inform) cb.inform(m);
  };
  if (!job.shard.whole()) {
    if (job.records.empty())
      throw std::invalid_argument("eval --shard needs --out (the shard's records go beside it, docs/SCALE_OUT.md)");
    if (!job.save_calib.empty())
      throw std::invalid_argument(
          "eval --shard with --save-calib: array tasks would race on it; save the calibration once before the shards "
          "and give it to them with --calib");
  }
  if (!job.approx_config.empty() && !calibrates(job))
    throw std::invalid_argument(fmt::format(
        "--approx-config {}: an Ax-BxP configuration runs on the array (--backend golden, golden-device or rtl)",
        job.approx_config));
  const data::DataPaths d = data::resolve_data_paths(job.data);
  EvalOutcome out;
  out.model_path = d.need_model();
  out.image_dir = d.need_images();
  out.bits = job.bits;
  out.weight_fl = job.weight_fl;
  const model::Model model = model::load_model(out.model_path);
  const model::Network net(model);
  out.macs = net.macs();
  std::optional<data::Synsets> syn;
  if (!d.synsets.empty() || !d.labels.empty()) syn.emplace(d.need_synsets());
  std::optional<data::Labeler> labeler;
  if (syn) labeler = data::Labeler::with_file(*syn, d.labels);

  const std::vector<std::string> all = data::list_images(out.image_dir, inform);
  if (all.empty())
    throw std::invalid_argument(
        fmt::format("{}: no images to evaluate (no JPEG file in the directory)", out.image_dir));
  const data::Split halves = splits(job) ? data::split_even_odd(all) : data::Split{{}, all};
  std::vector<std::string> files = halves.evaluation;
  std::unique_ptr<quant::Calibration> calib;
  if (calibrates(job)) calib = eval_calibration(net, job, halves.calibration, files, inform);
  if (job.limit > 0 && static_cast<std::size_t>(job.limit) < files.size())
    files.resize(static_cast<std::size_t>(job.limit));
  if (files.empty())
    throw std::invalid_argument(
        fmt::format("{}: no images left to evaluate ({} images, all used for calibration)", out.image_dir, all.size()));
  warn_unlabelled(files, labeler, d.synsets, out.image_dir, inform);
  choose_backends(job, out);
  const auto engine = eval_engine(net, job, out.backend, calib.get(), out.model_path);
  const auto engine2 =
      out.compared_with ? eval_engine(net, job, *out.compared_with, calib.get(), out.model_path) : nullptr;
  out.on_array = engine->on_array();
  evaluate(net, job, syn, labeler, files, calib.get(), *engine, engine2.get(), cb, out);
  return out;
}

}  // namespace bitscale::study
