// Which images a run uses: the default data, evenly spread subsets, halves, and the exclusion of
// calibration images from an evaluation set.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitscale::data {

/// Where the data the commands use lives. By default the embedded copy under data/, then
/// ../shared, looked up in turn relative to the working directory, to the repository holding the
/// executable (the nearest ancestor of its directory with data/models, e.g. build/host/bitscale
/// -> the repository root) and to the source tree the executable was built from.
struct DataPaths {
  std::string model;    ///< mobilenet_v1_0.25_128_quant.tflite
  std::string images;   ///< image directory
  std::string synsets;  ///< imagenet-synsets.tsv
  std::string labels;   ///< ground-truth labels file (data::LabelsFile); "" = labels from names and folders

  /// Each path, or std::invalid_argument "no --<option> given and no default ... found" when empty.
  [[nodiscard]] const std::string& need_model() const;
  [[nodiscard]] const std::string& need_images() const;
  [[nodiscard]] const std::string& need_synsets() const;
};
/// The defaults (empty where none exists).
DataPaths default_data_paths();
/// The directories the defaults are looked up in, in order, each "" (the working directory) or
/// ending in '/'.
std::vector<std::string> data_roots();
/// `given` (the command's options) with each empty path replaced by its default: the one
/// resolution every command uses.
DataPaths resolve_data_paths(DataPaths given);

/// `count` files spread evenly over `files` (positions floor(i * n / count)), all if count <= 0
/// or count >= n. Deterministic.
std::vector<std::string> spread(const std::vector<std::string>& files, int count);

/// Which positions of a sorted image list a run uses.
enum class Half { kAll, kEven, kOdd };
/// "all", "even", "odd".
std::string to_string(Half h);
/// The half named `name`; throws std::invalid_argument listing the accepted names.
Half parse_half(std::string_view name);

/// kAll: every file; kEven: positions 0, 2, ... of the sorted list; kOdd: 1, 3, ...
std::vector<std::string> select_half(const std::vector<std::string>& files, Half half);

/// Removes from `files` every file that is in `calibration_images` (an evaluation never uses an
/// image the calibration saw), keeping the order of the others; returns how many were removed.
std::size_t exclude_calibration_images(std::vector<std::string>& files,
                                       std::span<const std::string> calibration_images);

}  // namespace bitscale::data
