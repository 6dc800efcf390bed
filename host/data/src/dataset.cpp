#include "bitscale/data/dataset.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "bitscale/data/labels.hpp"
#include "bitscale/util/file.hpp"

namespace bitscale::data {

DataPaths default_data_paths() {
  DataPaths d;
  d.model = util::first_existing(
      {"data/models/mobilenet_v1_0.25_128_quant.tflite", "../shared/models/mobilenet_v1_0.25_128_quant.tflite"});
  d.images = util::first_existing({"data/images", "../shared/data/imagenet-sample"});
  d.synsets = util::first_existing(
      {"data/imagenet-synsets.tsv", "data/labels/imagenet-synsets.tsv", "../shared/data/imagenet-synsets.tsv"});
  return d;
}

std::vector<std::string> spread(const std::vector<std::string>& files, int count) {
  const std::size_t n = files.size();
  if (count <= 0 || static_cast<std::size_t>(count) >= n) return files;
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i)
    out.push_back(files[static_cast<std::size_t>(i) * n / static_cast<std::size_t>(count)]);
  return out;
}

std::vector<std::string> select_half(const std::vector<std::string>& files, const std::string& half) {
  if (half == "all") return files;
  if (half != "even" && half != "odd")
    throw std::invalid_argument(fmt::format("half '{}': expected all, even or odd", half));
  const Split s = split_even_odd(files);
  return half == "even" ? s.calibration : s.evaluation;
}

}  // namespace bitscale::data
