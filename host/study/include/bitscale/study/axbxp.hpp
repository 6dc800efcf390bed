// Ax-BxP on real networks (docs/AXBXP.md): per-layer configurations of approximate block
// products, their file, the uniform family points and the greedy per-layer search of
// `bitscale axbxp-search`. Even positions of the image directory calibrate and select, odd ones
// evaluate: nothing reported on the evaluation images was chosen on them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/golden/numeric.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/energy.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/stats.hpp"

namespace bitscale::study {

/// How a top-1 budget on the selection images is checked (the search's and the ladders' threshold).
enum class BudgetCheck : std::uint8_t {
  kUpperBound,  ///< "upper-bound": the one-sided bootstrap upper bound of the drop (as select_threshold)
  kPoint,       ///< "point": the drop on the selection images itself (the rule before 2026-12-01)
};
/// "upper-bound", "point".
std::string_view to_string(BudgetCheck b);
/// The check of a name of to_string(); throws std::invalid_argument naming the accepted ones.
BudgetCheck parse_budget_check(std::string_view name);

/// A top-1 budget: a drop of at most `max_drop_pp` of one image set against a reference on the same
/// images, judged by `check` (with kUpperBound at one-sided confidence `level` over the paired
/// resamples of `boot`: the bound a choice made on these images holds on new ones with).
struct DropBudget {
  double max_drop_pp = 1.0;
  BudgetCheck check = BudgetCheck::kUpperBound;
  double level = 0.95;
  Bootstrap boot{};
};

/// The drop a budget judges, percentage points: with kPoint 100 * mean(ref_i - x_i) over the
/// images; with kUpperBound the `level` quantile of that mean over the resamples `rs` (paired: an
/// image's ref and x travel together), at least the point estimate. `rs` must have ref.size()
/// images (it is only read with kUpperBound; nullptr is allowed with kPoint). Throws
/// std::invalid_argument for sizes that differ or no image.
double judged_drop_pp(std::span<const char> ref, std::span<const char> x, const DropBudget& budget,
                      const Resamples* rs);

/// One Ax-BxP configuration per MAC layer of a quantized network (index = QuantizedNetwork::layers()).
struct AxbxpConfig {
  int bits = 8;                        ///< the network's bit-width the configuration was made for
  std::vector<golden::Approx> layers;  ///< per MAC layer; exact where nothing is skipped
  friend bool operator==(const AxbxpConfig&, const AxbxpConfig&) = default;
};

/// Every layer exact.
AxbxpConfig exact_config(const quant::QuantizedNetwork& q);
/// Family member c (golden::approx_family) on every MAC layer that runs in `mode` (with the
/// study's 16-bit classifier, every layer but the classifier at 8 bits); the others exact.
/// Throws std::invalid_argument for c outside the mode's family.
AxbxpConfig uniform_config(const quant::QuantizedNetwork& q, golden::Mode mode, int c);
/// Sets every layer's configuration; throws std::invalid_argument when the sizes or bit-widths
/// differ or a mask is illegal in a layer's mode.
void apply_config(const AxbxpConfig& config, quant::QuantizedNetwork& q);

/// Where a configuration came from and what applying it needs (configuration file version 2): the
/// model (content_hash), the calibration the block means were measured under (its id: 16 hex digits
/// of fnv1a over the calibration JSON) and the compensation with those block means, so that
/// applying the file needs no calibration image.
struct AxbxpProvenance {
  std::string model_hash;   ///< "": unknown (a version-1 file)
  std::string calibration;  ///< "": unknown
  quant::ApproxCompensation compensation = quant::ApproxCompensation::kNone;
  quant::BlockMeans means;  ///< with kMean: of the exact network at the configuration's bit-width
};

/// The configuration file (JSON, docs/AXBXP.md): {"format": "bitscale-axbxp", "version": 2, "bits": 8,
/// "model": {"file", "hash"}, "mac_layers": N, "calibration": id, "compensation": {"mode", "images",
/// "block_means"}, "layers": [{"layer": 3, "name": "<output tensor>", "bits": 8, "approx": "c2"}, ...]},
/// listing every layer; "approx" is golden::parse_approx's text in the layer's mode.
std::string config_json(const AxbxpConfig& config, const quant::QuantizedNetwork& q, const AxbxpProvenance& p = {},
                        const std::string& model_file = "");
/// A configuration file as read.
struct AxbxpFile {
  std::string path;
  std::string hash;  ///< content_hash of the file (a policy records it)
  int version = 2;
  AxbxpConfig config;
  AxbxpProvenance provenance;
};
/// Reads a configuration file for `q` (the model whose content_hash is `model_hash`; "": not
/// checked). Layers not listed are exact. Throws std::runtime_error naming the file and the key for
/// malformed JSON, a wrong format or version, a "bits" other than q's, a "model"."hash" other than
/// `model_hash`, a "mac_layers" other than q's, an unknown or repeated layer index, a "name" that is
/// not the layer's, an "approx" that is not a configuration of the layer's mode (an illegal mask),
/// or block means that do not fit the network. Version 1 (no model, no compensation) is read too.
AxbxpFile load_config_file(const std::string& path, const quant::QuantizedNetwork& q,
                           const std::string& model_hash = "");
/// load_config_file(path, q).config.
AxbxpConfig load_config(const std::string& path, const quant::QuantizedNetwork& q);
/// Applies a file to `q`: its compensation (with kMean the file's block means, which were measured
/// under the calibration `f.provenance.calibration`: a `calibration_id` that differs is refused,
/// naming the file, the key and both ids) and every layer's configuration.
void apply_config_file(const AxbxpFile& f, quant::QuantizedNetwork& q, const std::string& calibration_id);
/// The id of a calibration as a configuration file records it (16 hex digits of fnv1a of its JSON).
std::string calibration_id(const quant::Calibration& calib, const model::Network& net);

/// What the approximate levels of the controller (Ax-BxP rungs "8c1", "8s"; level_code) run with.
struct RungSources {
  /// The per-layer configuration of the "8s" rung (--approx-config). With compensation `mean` and
  /// the run's calibration, its block means (of the exact network) serve the family rungs too.
  std::optional<AxbxpFile> file;
  /// Compensation of the family rungs (the "8s" rung takes the file's).
  quant::ApproxCompensation compensation = quant::ApproxCompensation::kMean;
  /// Images the family rungs' block means are measured on when the file has none for this
  /// calibration: the calibration images (never an evaluated one).
  std::vector<std::string> compensation_images;
  std::string calibration;  ///< calibration_id of the run
};
/// Configures the network of `level` (exact levels: nothing): the family member on every layer of
/// its mode with the compensation, or the file's configuration. Throws std::invalid_argument for an
/// "8s" level without a file or a file of another bit-width, and when block means are needed but
/// there is no image to measure them on.
void configure_level(int level, const RungSources& src, quant::QuantizedNetwork& q, driver::Accelerator& acc);
/// The sources of the Ax-BxP rungs among `levels` for a run with `calib` on `net` (the model at
/// `model_path`): the configuration file `config_path` ("": none) read for the 8-bit network and
/// checked against the model's content hash, the compensation and the calibration images. Throws
/// std::invalid_argument for an "8s" level without a file.
RungSources rung_sources(std::span<const int> levels, const std::string& config_path,
                         quant::ApproxCompensation compensation, const model::Network& net,
                         const quant::Calibration& calib, const std::string& model_path,
                         const AcceleratorFactory& factory);
/// The levels a study records: every exact precision (4, 8, 16: the static comparisons need them)
/// and the Ax-BxP rungs of `levels`, in cost order.
std::vector<int> recorded_levels(std::span<const int> levels);
/// Whether any of `levels` is an Ax-BxP rung, and the header fields that identify what they run
/// with (`,"approx":{...}` to append to a records header; "" without approximate levels).
std::string rung_header_fields(std::span<const int> levels, quant::ApproxCompensation compensation,
                               const std::string& config_hash);

/// One configuration run over a set of images.
struct ImageSetRun {
  std::vector<char> correct;      ///< per image: top-1 is the label
  std::vector<double> energy_pj;  ///< per image (energy_breakdown of the run's counters)
  std::vector<double> margin;     ///< per image: score margin P(top1) - P(top2) (the controller's confidence)
  std::uint64_t blk = 0;          ///< block products computed, all images (CNT_BLK)
  std::uint64_t blk_exact = 0;    ///< block products of the same MACs, exact
  [[nodiscard]] std::size_t hits() const;
  [[nodiscard]] double top1_pct() const;
  [[nodiscard]] double mean_energy_pj() const;
};

/// Images decoded for a network with their labels.
struct LabelledImages {
  std::vector<std::string> files;
  std::vector<std::vector<std::uint8_t>> rgb;
  std::vector<int> label;  ///< model output index (data::model_index)
};

/// Runs `q` over `images` on `jobs` threads (each with its own golden accelerator from `factory`).
ImageSetRun run_images(const quant::QuantizedNetwork& q, const LabelledImages& images, const EnergyTable& table,
                       const AcceleratorFactory& factory, int jobs);

/// The search: layers in 8-bit mode, largest MAC count first; for each, the most aggressive
/// family member c = approx_family_max .. 1 whose configuration (the layers accepted so far plus
/// this one) keeps the selection top-1 within `max_drop_pp` of exact 8 bits is accepted, else the
/// layer stays exact.
struct SearchStep {
  std::size_t layer = 0;
  int c = 0;                  ///< the family member tried
  std::size_t hits = 0;       ///< selection images correct with it
  double drop_pp = 0;         ///< vs exact 8-bit on the selection images (point estimate)
  double judged_drop_pp = 0;  ///< what the budget judged (the upper bound with BudgetCheck::kUpperBound)
  bool accepted = false;
};

struct AxbxpJob {
  std::string model, images, synsets, labels;  ///< "": the defaults
  std::string calib;                           ///< calibration JSON or image directory ("": the even positions)
  int calib_limit = 50;
  double max_drop_pp = 1.0;
  /// How the budget (of the search and of the ladders' thresholds) is checked on the selection images.
  BudgetCheck budget = BudgetCheck::kUpperBound;
  double budget_level = 0.95;  ///< one-sided confidence of the upper bound
  int select_limit = 0;        ///< at most this many selection images (spread; 0: all even positions)
  int eval_limit = 0;          ///< at most this many evaluation images (spread; 0: all odd positions)
  std::string config;          ///< a configuration file to evaluate instead of searching one
  /// Compensation of the skipped block products (docs/NUMERICS.md): the block means are measured on
  /// calib_limit images spread over the even positions, on the exact network of each bit-width.
  quant::ApproxCompensation compensation = quant::ApproxCompensation::kMean;
  std::string energy;  ///< energy table file ("": the model's default)
  EnergyModel energy_model = EnergyModel::kMac;
  Bootstrap boot;
  int jobs = 1;
  /// Ladders of the dynamic controller to compare (parse_ladder each).
  std::vector<std::string> ladders{"8,16", "8c1,8,16", "8s,8,16", "8s,16"};
  std::string out;  ///< output directory (axbxp_config.json, axbxp.json, axbxp.md)
  AcceleratorFactory factory;
};

/// A configuration's figures on one image set, against exact 8 bits and static 16 bits on the
/// same images (paired bootstrap intervals, 95 %).
struct AxbxpPoint {
  std::string name;
  Estimate top1_pct;
  Estimate drop_pp;      ///< exact 8-bit top-1 minus this top-1
  double energy_pj = 0;  ///< mean per image
  double gain_vs8 = 0;   ///< exact 8-bit energy / this energy
  double gain_vs16 = 0;  ///< static 16-bit energy / this energy
  double blk_kept = 1;   ///< block products computed / those of exact MACs
};

struct AxbxpLayerRow {
  std::size_t layer = 0;
  std::string name;
  int bits = 8;
  std::int64_t macs = 0;
  golden::Approx approx;
};

/// The dynamic controller over a ladder: every image runs at the first rung, and again at the
/// next while its score margin is below the threshold (the seed paper's rule). `runs[i]` is rung
/// i over the images; energy is the sum of the rungs run.
struct LadderOutcome {
  double threshold = 1;
  std::size_t hits = 0, images = 0;
  double energy_pj = 0;               ///< mean per image
  std::vector<std::size_t> accepted;  ///< images accepted per rung
};
LadderOutcome run_ladder(std::span<const ImageSetRun* const> runs, double threshold);
/// Per image: whether the ladder at `threshold` ends correct (the accepted rung's top-1 is the label).
std::vector<char> ladder_correct(std::span<const ImageSetRun* const> runs, double threshold);
/// The smallest threshold among 0, the selection margins of the non-final rungs (just above each)
/// and 2 ("always climb") whose top-1 drop vs the last rung alone on these runs is within the budget
/// (judged_drop_pp: with BudgetCheck::kUpperBound its bootstrap upper bound, all candidates judged on
/// the same resamples). `judged` (optional) receives the judged drop at the chosen threshold.
double select_ladder_threshold(std::span<const ImageSetRun* const> runs, const DropBudget& budget,
                               double* judged = nullptr);

struct LadderPoint {
  std::string ladder;
  double threshold = 1;                 ///< chosen on the selection images
  double selection_judged_drop_pp = 0;  ///< the budget's judged drop at it (selection images)
  LadderOutcome selection, evaluation;
  double eval_drop_pp = 0;     ///< vs the last rung alone on the evaluation images
  double eval_saving_pct = 0;  ///< vs static 16-bit on the evaluation images
  Interval eval_drop_ci;       ///< 95 % paired bootstrap interval of eval_drop_pp (job.boot)
  Interval eval_saving_ci;     ///< 95 % paired bootstrap interval of eval_saving_pct
};

struct AxbxpResult {
  std::string model, image_dir, energy_source;
  std::size_t selection_images = 0, evaluation_images = 0;
  double max_drop_pp = 0;
  BudgetCheck budget = BudgetCheck::kUpperBound;
  double budget_level = 0.95;
  bool searched = false;  ///< false: the configuration came from job.config
  quant::ApproxCompensation compensation = quant::ApproxCompensation::kNone;
  std::size_t compensation_images = 0;  ///< images the block means were measured on
  AxbxpConfig config;
  std::vector<AxbxpLayerRow> layers;   ///< per MAC layer with the configuration
  std::vector<SearchStep> steps;       ///< the search, in order
  std::vector<AxbxpPoint> selection;   ///< on the selection images: exact 8, the configuration
  std::vector<AxbxpPoint> evaluation;  ///< on the evaluation images: 16, exact 8, uniform c, the configuration
  std::vector<LadderPoint> ladders;    ///< job.ladders, threshold on the selection images
};

/// Calibrates, searches (or loads job.config), evaluates, and writes the outputs to job.out.
/// Throws std::invalid_argument / std::runtime_error with context.
AxbxpResult run_axbxp(const AxbxpJob& job, const std::function<void(const std::string&)>& inform = {});
/// The figures as printed (a Markdown report).
std::string axbxp_report(const AxbxpResult& r);

}  // namespace bitscale::study
