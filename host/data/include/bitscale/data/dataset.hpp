// Which images a run uses: the default data, evenly spread subsets, halves, and the exclusion of
// calibration images from an evaluation set.
#pragma once

#include <string>
#include <vector>

namespace bitscale::data {

/// Where the data the commands use by default lives: the embedded copy under data/ (relative to
/// the working directory) first, then ../shared.
struct DataPaths {
  std::string model;    ///< mobilenet_v1_0.25_128_quant.tflite
  std::string images;   ///< image directory
  std::string synsets;  ///< imagenet-synsets.tsv
};
DataPaths default_data_paths();

/// `count` files spread evenly over `files` (positions floor(i * n / count)), all if count <= 0
/// or count >= n. Deterministic.
std::vector<std::string> spread(const std::vector<std::string>& files, int count);

/// "all", "even" (positions 0, 2, ... of the sorted list) or "odd" (1, 3, ...).
std::vector<std::string> select_half(const std::vector<std::string>& files, const std::string& half);

}  // namespace bitscale::data
