// Outputs of the dynamic bit-width study: JSON, CSV, SVG charts and Markdown fragments, and the
// report page that gathers the fragments.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bitscale/study/characterize.hpp"
#include "bitscale/study/selection.hpp"
#include "bitscale/study/sweep.hpp"

namespace bitscale::study {

/// Writes into `dir`: characterization.json, histogram.csv, margins.csv,
/// bitwidth_histogram.svg (raw and merged bars, % of images), sm_<bits>.svg (score margins of
/// easy and difficult images at each level) and summary.md (a report fragment; `context` is
/// Markdown put under its heading: model, images, commands).
void write_characterization(const std::string& dir, const Characterization& c, const std::string& context);

/// Everything the sweep reports.
struct SweepSummary {
  SweepInput in;
  double max_drop = 1.0;
  std::vector<SweepPoint> curve;     ///< the fine grid
  std::vector<StaticPoint> statics;  ///< 4, 8, 16 bits
  /// Per level set (the requested one first): the smallest T_h meeting max_drop (if any).
  std::vector<std::pair<std::vector<int>, std::optional<SweepPoint>>> dynamic;
  /// The policy's threshold: smallest T_h whose upper bound of the drop meets max_drop (selection.hpp),
  /// and the controller's figures at it on the same images (set by the caller).
  std::optional<Selection> selected;
  std::optional<ControllerStats> selected_stats;
};
SweepSummary summarize_sweep(const SweepInput& in, double max_drop, double step,
                             const std::vector<std::vector<int>>& extra_level_sets = {});
/// The comparison table (Markdown), like the paper's Table 2, with the paper's CaffeNet row.
std::string headline_table(const SweepSummary& s);
/// Writes sweep.json, thresholds.csv, table.csv, accuracy_energy.svg, sm_eval.svg and
/// summary.md into `dir`.
void write_sweep(const std::string& dir, const SweepSummary& s, const std::string& context);

/// Concatenates the summary.md fragments found in `in_dir` and its sub-directories (sorted)
/// into one page at `out` (.md: images linked relative to it; .html: SVGs embedded).
/// Returns the number of fragments; throws std::runtime_error if there is none.
/// Writes crossval.json into `dir` and appends its section to dir/summary.md.
void write_crossval(const std::string& dir, const CrossValidation& cv, const SweepInput& in, double max_drop);
/// A figure with its interval: "1.23 [0.45, 2.01]".
std::string with_ci(const Estimate& e, int decimals = 2);

std::size_t write_report(const std::string& in_dir, const std::string& out);

}  // namespace bitscale::study
