// Outputs of the dynamic bit-width study: JSON, CSV, SVG charts and Markdown fragments, and the
// report page (report.cpp) built from the JSON outputs.
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

/// The minimum bit-width histogram as an SVG chart: per bit-width (and "none"), the % of the
/// `images` whose minimum it is, raw and after merging, as grouped bars with a legend.
/// Throws std::invalid_argument when the counts do not match the levels.
std::string bitwidth_histogram_svg(const std::vector<int>& levels, const std::vector<std::size_t>& raw,
                                   const std::vector<std::size_t>& merged, std::size_t none, std::size_t images);

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

/// Writes crossval.json into `dir` and appends its section to dir/summary.md.
void write_crossval(const std::string& dir, const CrossValidation& cv, const SweepInput& in, double max_drop);
/// A figure with its interval: "1.23 [0.45, 2.01]".
std::string with_ci(const Estimate& e, int decimals = 2);

/// One ladder's top-1 drop (pp) and energy saving vs static 16-bit (%) at each threshold, with
/// 95 % paired bootstrap intervals (controller_stats of image_outcomes at each threshold, the
/// same resamples for every threshold).
struct LadderCurve {
  std::vector<int> levels;
  std::vector<double> t;
  std::vector<Estimate> drop, saving;
};
LadderCurve ladder_curve(const SweepInput& in, const Bootstrap& boot, const std::vector<double>& thresholds);

/// The report page (report.cpp) at `out` (.html: one self-contained page, charts inline; else
/// Markdown, its generated charts written beside it as <stem>.<chart>.svg) from the JSON outputs
/// found in `in_dir` and its immediate sub-directories, recognised by their "format" field
/// (characterization, sweep, policy, cross-validation, apply; the sweep's records.jsonl and
/// rtl_confirm.md beside sweep.json, apply's per-image rows <apply stem>.csv beside apply.json).
/// In order: the deployed policy and its result on the evaluation images in plain words (saying
/// so when the scheme degenerated or a part is missing), every ladder's energy saving and top-1
/// drop over T_h with 95 % bootstrap bands (recomputed from the records), where the energy goes,
/// the characterization, the RTL confirmation and the inputs used. Parts that are missing or
/// unreadable are named in the page. Returns the number of JSON parts found; throws
/// std::runtime_error when `in_dir` is not a directory or holds none of them.
std::size_t write_report(const std::string& in_dir, const std::string& out);

}  // namespace bitscale::study
