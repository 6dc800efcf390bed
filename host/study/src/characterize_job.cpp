#include "bitscale/study/characterize_job.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <ranges>
#include <stdexcept>

#include "bitscale/data/labels.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/outputs.hpp"
#include "bitscale/study/policy.hpp"

namespace bitscale::study {

namespace fs = std::filesystem;

CharacterizeJobOutcome run_characterize(const CharacterizeJob& job, const CharacterizeCallbacks& cb) {
  const data::DataPaths d = data::resolve_data_paths(job.data);
  const std::string& model_path = d.need_model();
  const std::string& image_dir = d.need_images();
  const std::string& syn_path = d.need_synsets();
  const model::Model model = model::load_model(model_path);
  const model::Network net(model);
  const data::Synsets syn(syn_path);
  std::vector<std::string> files = data::select_half(data::list_images(image_dir, cb.warn), job.half);
  if (job.limit > 0 && static_cast<std::size_t>(job.limit) < files.size())
    files.resize(static_cast<std::size_t>(job.limit));
  if (files.empty())
    throw std::invalid_argument(fmt::format("{}: no images ({} half)", image_dir, data::to_string(job.half)));
  fs::create_directories(job.out_dir);
  const std::string model_name = fs::path(model_path).filename().string();
  const std::string weight_fl_name(quant::to_string(job.weight_fl));
  CharacterizeSetup cs;
  cs.net = &net;
  cs.files = files;
  cs.levels = job.levels;
  cs.top5 = job.top5;
  cs.backend = job.backend;
  cs.weight_fl = job.weight_fl;
  cs.quantization = job.quantization;
  cs.offchip = job.offchip;
  cs.weight_fl_name = weight_fl_name;
  cs.out_dir = job.out_dir;
  cs.model_name = model_name;
  cs.image_dir = image_dir;
  cs.label_of = data::Labeler::with_file(syn, d.labels);
  cs.factory = job.factory;
  cs.record.jobs = job.jobs;
  cs.record.warn = cb.warn ? cb.warn : std::function<void(const std::string&)>([](const std::string&) {});
  cs.record.stop_after = job.stop_after;
  cs.progress = cb.progress;
  cs.phase_done = cb.phase_done;
  cs.float_done = cb.float_done;
  cs.calibrate_only = job.calibrate_only;
  cs.shard = job.shard;
  if (!job.shard.whole()) cs.model_hash = content_hash(model_path);
  cs.approx_config = job.approx_config;
  cs.approx_compensation = job.approx_compensation;
  cs.model_path = model_path;
  CharacterizeJobOutcome out{run_characterization(cs), model_name, files.size()};
  if (!out.complete || !out.result) return out;  // stopped, calibrated only or a shard
  const FloatBaseline& base = out.base;
  const std::string context = fmt::format(
      "Model `{}`, {} images of `{}` ({} half), float {} correct on {} ({:.1f} %): these calibrate the fixed-point "
      "formats and are characterized at {} bits on the `{}` back-end, weight FL per {}, {}.",
      model_name, files.size(), image_dir, data::to_string(job.half), job.top5 ? "top-5" : "top-1", base.kept.size(),
      100.0 * static_cast<double>(base.kept.size()) / static_cast<double>(std::max<std::size_t>(base.labelled, 1)),
      fmt::join(job.levels | std::views::transform(level_name), ","), to_string(job.backend), weight_fl_name,
      quant::describe(job.quantization));
  write_characterization(job.out_dir, *out.result, context);
  return out;
}

}  // namespace bitscale::study
