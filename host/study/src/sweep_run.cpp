#include "bitscale/study/sweep_run.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <set>
#include <stdexcept>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/quant/calibrate.hpp"

namespace bitscale::study {

namespace fs = std::filesystem;

namespace {

bool same_dir(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

/// The calibration of a shard, never written by it (array tasks would race on the file): a --calib
/// JSON (which must equal out_dir/calibration.json if there is one), else out_dir/calibration.json
/// written by `sweep --calibrate-only`, whose images must be ones this shard's options choose.
void shard_calibration(const model::Network& net, SweepCalibration& c, const std::string& calib_arg, bool calib_is_dir,
                       bool shared_dir, const std::string& saved, int calib_limit) {
  if (!calib_is_dir) {
    c.calib = quant::Calibration::load(calib_arg, net);
    if (fs::exists(saved) && quant::Calibration::load(saved, net).to_json(net) != c.calib.to_json(net))
      throw StudyError(
          fmt::format("{}: differs from --calib {}: this output directory was calibrated otherwise; use "
                      "another --out or the same --calib",
                      saved, calib_arg));
    return;
  }
  if (!fs::exists(saved))
    throw StudyError(fmt::format(
        "{}: no calibration yet; shards never calibrate (array tasks would race on it): run the same sweep command "
        "with --calibrate-only and without --shard first, or give --calib FILE.json",
        saved));
  c.calib = quant::Calibration::load(saved, net);
  std::vector<std::string> cf = data::list_images(calib_arg);
  if (shared_dir) cf = data::select_half(cf, data::Half::kEven);
  const std::vector<std::string> chosen = data::spread(cf, calib_limit);
  const std::set<std::string> expected(chosen.begin(), chosen.end());
  for (const auto& f : c.calib.images) {
    if (!expected.contains(f))
      throw StudyError(fmt::format(
          "{}: calibrated on {}, which this shard's options (--calib, --calib-limit, --images) do not choose: "
          "run --calibrate-only with the shards' options",
          saved, f));
  }
}

}  // namespace

SweepCalibration sweep_calibration(const model::Network& net, const std::string& calib_arg_in,
                                   const std::string& image_dir, std::optional<data::Half> half,
                                   const std::string& out_dir, int calib_limit, int jobs, const Inform& inform,
                                   bool shard) {
  const std::string calib_arg = calib_arg_in.empty() ? image_dir : calib_arg_in;
  const bool calib_is_dir = !calib_arg.ends_with(".json");
  const bool shared_dir = calib_is_dir && same_dir(calib_arg, image_dir);
  SweepCalibration c;
  c.half = half ? *half : shared_dir ? data::Half::kOdd : data::Half::kAll;
  const std::string saved = out_dir + "/calibration.json";
  if (shard) {
    shard_calibration(net, c, calib_arg, calib_is_dir, shared_dir, saved, calib_limit);
  } else if (!calib_is_dir) {
    c.calib = quant::Calibration::load(calib_arg, net);
    if (!fs::exists(saved)) c.calib.save(saved, net);
  } else if (fs::exists(saved)) {
    c.calib = quant::Calibration::load(saved, net);
    if (inform) inform(fmt::format("{}: reusing the saved calibration ({} images)", saved, c.calib.images.size()));
  } else {
    std::vector<std::string> cf = data::list_images(calib_arg);
    if (shared_dir) cf = data::select_half(cf, data::Half::kEven);
    if (cf.empty()) throw std::invalid_argument(fmt::format("{}: no calibration images", calib_arg));
    c.calib = quant::obtain_calibration(net, "", cf, calib_limit, jobs, inform);
    c.calib.save(saved, net);
    if (inform)
      inform(fmt::format("calibration: {} images of {}{}", c.calib.images.size(), calib_arg,
                         shared_dir ? " (even positions; evaluating the odd ones)" : ""));
  }
  c.id = fmt::format("{:016x}", fnv1a(c.calib.to_json(net)));
  return c;
}

std::vector<std::string> sweep_files(const std::vector<std::string>& all, const SweepCalibration& c, int limit,
                                     const std::string& image_dir, const Inform& inform) {
  std::vector<std::string> files = data::select_half(all, c.half);
  if (const std::size_t n = data::exclude_calibration_images(files, c.calib.images); n && inform)
    inform(fmt::format("excluded {} calibration images from the evaluation", n));
  if (limit > 0 && static_cast<std::size_t>(limit) < files.size()) files.resize(static_cast<std::size_t>(limit));
  if (files.empty())
    throw std::invalid_argument(
        fmt::format("{}: no evaluation images ({} half, calibration excluded)", image_dir, to_string(c.half)));
  return files;
}

std::string sweep_records_path(const std::string& out_dir, Backend backend) {
  return out_dir + (backend == Backend::kGolden ? "/records.jsonl" : "/records_" + to_string(backend) + ".jsonl");
}

namespace {
// A records header with fields appended (the Ax-BxP rungs' identity).
std::string with_extra(std::string header, const std::string& extra) {
  if (extra.empty()) return header;
  header.pop_back();
  return header + extra + "}";
}
}  // namespace

ShardRecording sweep_recording(const SweepRecording& r) {
  return {.path = sweep_records_path(r.out_dir, r.run.backend),
          .header = with_extra(records_header("sweep", r.model_name, to_string(r.run.backend), r.run.bits,
                                              r.calibration_id, r.weight_fl_name, r.run.quantization, r.run.offchip),
                               r.header_extra),
          .files = r.files,
          .shard = r.shard,
          .model_hash = r.model_hash};
}

RecordResult record_sweep(const SweepRecording& r) {
  const Runner runner(r.run, r.label_of);
  return record_shard(sweep_recording(r), runner.workers(), r.record);
}

void check_sweep_resume(const std::string& out_dir, Backend backend, const std::string& model_name,
                        const std::vector<int>& bits, const std::string& weight_fl_name,
                        const quant::QuantOptions& quantization, const std::string& header_extra,
                        quant::OffchipEncoding offchip) {
  const std::vector<std::string> ignore{"calibration"};
  check_resumable(sweep_records_path(out_dir, backend),
                  with_extra(records_header("sweep", model_name, to_string(backend), bits, "", weight_fl_name,
                                            quantization, offchip),
                             header_extra),
                  ignore);
}

}  // namespace bitscale::study
