#include "bitscale/data/dataset.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <set>
#include <stdexcept>
#include <system_error>

#include "bitscale/data/labels.hpp"
#include "bitscale/util/file.hpp"

namespace bitscale::data {

namespace {

const std::string& need(const std::string& path, const char* option, const char* what) {
  if (path.empty()) throw std::invalid_argument(fmt::format("no --{} given and no default {} found", option, what));
  return path;
}

}  // namespace

const std::string& DataPaths::need_model() const { return need(model, "model", "model"); }
const std::string& DataPaths::need_images() const { return need(images, "images", "image directory"); }
const std::string& DataPaths::need_synsets() const { return need(synsets, "synsets", "imagenet-synsets.tsv"); }

std::vector<std::string> data_roots() {
  namespace fs = std::filesystem;
  std::vector<std::string> roots{""};  // the working directory
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/host/bitscale -> the repository: the nearest ancestor holding data/models.
    fs::path dir = exe.parent_path();
    for (int up = 0; up < 6 && !dir.empty(); ++up, dir = dir.parent_path()) {
      if (fs::is_directory(dir / "data" / "models", ec)) {
        roots.push_back(dir.string() + "/");
        break;
      }
      if (dir == dir.parent_path()) break;
    }
  }
#ifdef BITSCALE_SOURCE_DIR
  roots.push_back(std::string(BITSCALE_SOURCE_DIR) + "/");
#endif
  return roots;
}

DataPaths default_data_paths() {
  std::vector<std::string> model, images, synsets;
  for (const std::string& r : data_roots()) {
    model.push_back(r + "data/models/mobilenet_v1_0.25_128_quant.tflite");
    model.push_back(r + "../shared/models/mobilenet_v1_0.25_128_quant.tflite");
    images.push_back(r + "data/images");
    images.push_back(r + "../shared/data/imagenet-sample");
    synsets.push_back(r + "data/imagenet-synsets.tsv");
    synsets.push_back(r + "data/labels/imagenet-synsets.tsv");
    synsets.push_back(r + "../shared/data/imagenet-synsets.tsv");
  }
  DataPaths d;
  d.model = util::first_existing(model);
  d.images = util::first_existing(images);
  d.synsets = util::first_existing(synsets);
  return d;
}

DataPaths resolve_data_paths(DataPaths given) {
  const DataPaths d = default_data_paths();
  for (auto [field, fallback] : {std::pair{&given.model, &d.model}, std::pair{&given.images, &d.images},
                                 std::pair{&given.synsets, &d.synsets}}) {
    if (field->empty()) *field = *fallback;
  }
  return given;
}

std::vector<std::string> spread(const std::vector<std::string>& files, int count) {
  const std::size_t n = files.size();
  if (count <= 0 || static_cast<std::size_t>(count) >= n) return files;
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i)
    out.push_back(files[static_cast<std::size_t>(i) * n / static_cast<std::size_t>(count)]);
  return out;
}

std::string to_string(Half h) { return h == Half::kAll ? "all" : h == Half::kEven ? "even" : "odd"; }

Half parse_half(std::string_view name) {
  for (Half h : {Half::kAll, Half::kEven, Half::kOdd}) {
    if (to_string(h) == name) return h;
  }
  throw std::invalid_argument(fmt::format("half '{}': expected all, even or odd", name));
}

std::vector<std::string> select_half(const std::vector<std::string>& files, Half half) {
  if (half == Half::kAll) return files;
  const Split s = split_even_odd(files);
  return half == Half::kEven ? s.calibration : s.evaluation;
}

std::size_t exclude_calibration_images(std::vector<std::string>& files,
                                       std::span<const std::string> calibration_images) {
  const std::set<std::string> seen(calibration_images.begin(), calibration_images.end());
  return std::erase_if(files, [&](const std::string& f) { return seen.contains(f); });
}

}  // namespace bitscale::data
