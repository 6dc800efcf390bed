// Choosing the controller's threshold T_h so that the drop target holds on new images: the
// smallest candidate whose one-sided bootstrap upper bound of the top-1 drop on the selection
// images is within the target (docs/CONTROLLER.md), and k-fold cross-validation of that rule.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bitscale/study/stats.hpp"
#include "bitscale/study/sweep.hpp"

namespace bitscale::study {

/// The selection rule: target drop, confidence level of its upper bound, the bootstrap and the
/// threshold grid step (candidates besides the exact change points).
struct SelectionRule {
  double max_drop = 1.0;  ///< percentage points
  double level = 0.95;    ///< one-sided confidence of the upper bound
  Bootstrap boot;
  double step = 0.005;
};

struct Selection {
  double threshold = 1.0;
  bool qualified = false;    ///< false: no candidate qualified, threshold 1.0 (every image escalates)
  double drop_upper_pp = 0;  ///< the upper bound at the chosen threshold
  SweepPoint point;          ///< the chosen threshold on the selection images
  std::size_t candidates = 0;
};

/// Candidate thresholds, increasing and distinct: 0, the grid 0, step, ..., 1 and, just above each
/// recorded confidence of the non-final levels, the exact values where a decision changes.
std::vector<double> candidate_thresholds(const SweepInput& in, double step);

/// What Controller(in.levels, threshold) does with each image of `in` (same order).
std::vector<ImageOutcome> image_outcomes(const SweepInput& in, double threshold);

/// The smallest candidate whose `rule.level` bootstrap upper bound of the drop is <= max_drop,
/// all candidates judged on the same resamples. Throws std::invalid_argument with no images.
Selection select_threshold(const SweepInput& in, const SelectionRule& rule);

/// One fold of a cross-validation: T_h chosen on the other folds, applied to this one.
struct Fold {
  Selection selection;                        ///< on the other folds' images
  std::vector<std::string> selection_files;   ///< the other folds
  std::vector<std::string> evaluation_files;  ///< this fold
};

struct CrossValidation {
  std::size_t folds = 0;
  std::vector<Fold> per_fold;
  ControllerStats pooled;  ///< every image decided by its own fold's threshold
};

/// k-fold cross-validation over the records of `in` (sorted by file name): fold f holds the
/// images at positions i with i mod k == f. Throws std::invalid_argument for k < 2 or fewer
/// images than folds.
CrossValidation cross_validate(const SweepInput& in, std::size_t k, const SelectionRule& rule);

}  // namespace bitscale::study
