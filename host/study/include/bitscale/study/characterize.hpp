// Characterization of the dynamic bit-width study: minimum bit-width histogram (bars under 1 %
// merged upward), the resulting configurations, score-margin statistics of easy and difficult
// images, how well each confidence metric separates them (AUROC) and the exact top-1/top-2 ties.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bitscale/study/confidence.hpp"
#include "bitscale/study/records.hpp"

namespace bitscale::study {

/// Phase 1 of the characterization: the images the float network classifies correctly.
struct FloatBaseline {
  std::vector<std::string> kept;          ///< float-correct images, in record order
  std::map<std::string, RunRecord> runs;  ///< their float runs
  std::size_t errors = 0;                 ///< unreadable images
  std::size_t labelled = 0;               ///< readable, labelled images with a float run
  std::size_t unlabelled = 0;             ///< readable images without a label (not counted)
};
/// Keeps the records whose float run is top-1 (top5: top-5) correct; unreadable images are
/// counted and reported through `warn` ("<file>: <error>"); unlabelled ones are counted and skipped.
FloatBaseline float_correct(const std::vector<ImageRecord>& records, bool top5,
                            const std::function<void(const std::string&)>& warn = {});

/// Smallest level b such that the image is top-1 (or top-5) correct at b and at every level
/// above b (the paper's descent from the largest precision, stopping at the first failure);
/// nullopt when not correct at the highest level. Levels missing from the record are errors.
std::optional<int> min_bits(const ImageRecord& r, std::span<const int> levels, bool top5);

/// The paper's post-processing: going from the lowest precision up, a bar holding less than
/// `min_fraction` of `total` is merged into the next higher one (cascading); the highest bar
/// is never merged. counts[i] belongs to levels[i] (increasing precision).
std::vector<std::size_t> merge_small_bars(std::span<const std::size_t> counts, std::size_t total,
                                          double min_fraction = 0.01);

struct MarginStats {
  std::size_t n = 0;
  double mean = 0;
  double stddev = 0;  ///< population standard deviation (divide by n); 0 when n < 2
};
MarginStats margin_stats(std::span<const double> v);

/// The metrics whose separation the characterization reports, in report order.
inline constexpr std::array<Metric, 3> kSeparationMetrics{Metric::kScoreMargin, Metric::kMaxProb, Metric::kEntropy};

struct Characterization {
  std::vector<int> levels;  ///< increasing
  bool top5 = false;
  std::size_t images = 0;           ///< characterized (float-correct) images
  std::vector<std::size_t> raw;     ///< per level: images whose minimum is that level
  std::size_t none = 0;             ///< not correct even at the highest level
  std::vector<std::size_t> merged;  ///< after merge_small_bars
  std::vector<int> configurations;  ///< levels whose merged bar is not empty (+ the highest)
  /// Per level b: margins (at b) of images correct at b ("easy" at b) and the others.
  std::map<int, std::vector<double>> easy_margins, difficult_margins;
  std::map<int, MarginStats> easy, difficult;
  /// Per level b and metric: AUROC of the confidence at b separating the images easy at b from the
  /// difficult ones (auroc(); nullopt when either class is empty).
  std::map<int, std::map<Metric, std::optional<double>>> separation;
  /// Per level: exact top-1/top-2 ties, images whose score margin is exactly 0.
  std::map<int, std::size_t> ties;
};

/// Characterization of records that all have the float baseline correct (the caller filters).
Characterization characterize(const std::vector<ImageRecord>& records, std::vector<int> levels, bool top5);

}  // namespace bitscale::study
