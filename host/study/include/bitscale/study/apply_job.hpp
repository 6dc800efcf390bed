// `bitscale apply` as one library call: a policy (policy.hpp) run image by image exactly as
// deployed (lowest level first; the next level only while the confidence is below T_h), plus
// the float run for the drop, on images the policy was neither chosen nor calibrated on.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/study/energy.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/policy.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/shard.hpp"
#include "bitscale/study/stats.hpp"
#include "bitscale/study/sweep_run.hpp"

namespace bitscale::study {

struct ApplyJob {
  std::string policy;    ///< policy.json
  data::DataPaths data;  ///< model ("": the policy's), images, synsets
  data::Half half = data::Half::kAll;
  Backend backend = Backend::kGolden;  ///< an array back-end
  std::string energy;                  ///< energy table file ("": Envision)
  int jobs = 1;
  int limit = 0;     ///< at most the first N images (0 = all)
  std::string out;   ///< per-image rows, .csv or .jsonl ("": none); records beside it (resumable)
  std::string json;  ///< the figures as JSON ("": none)
  Shard shard;       ///< record only this shard of the images (needs --out; no rows, no figures)
  /// The off-chip encoding asked for (--offchip, --dpred): refused when it is not the policy's
  /// (Policy::offchip); none: the policy's.
  std::optional<quant::OffchipEncoding> offchip;
  /// The zero-block gating asked for (--dpred): refused when it is not the policy's (Policy::gating);
  /// none: the policy's. The accelerators of `factory` run with the policy's.
  std::optional<driver::Gating> gating;
  AcceleratorFactory factory;
};

/// One image under the policy.
struct ApplyRow {
  std::string file;
  std::optional<int> label;
  std::string error;               ///< not readable
  std::vector<int> levels_run;     ///< bit-widths executed, in order
  std::vector<double> confidence;  ///< at each
  int accepted_bits = 0;
  bool float_correct = false, correct = false;
  double energy_pj = 0;    ///< every level run
  double energy16_pj = 0;  ///< the image at static 16 bits
};

struct ApplyOutcome {
  Policy policy;
  std::string policy_path, model_path, image_dir;
  Backend backend = Backend::kGolden;
  std::vector<ApplyRow> rows;  ///< sorted by file name
  std::size_t errors = 0, unlabelled = 0, resumed = 0;
  std::optional<ControllerStats> stats;  ///< over the labelled, readable images
  /// From one 16-bit run (counters depend only on the shapes); with per-group off-chip bytes,
  /// which depend on the image, the mean of the images' own static 16-bit energies.
  double energy16_per_image_pj = 0;
  std::optional<ShardDone> shard;  ///< a shard: what it recorded (no rows, no stats)
};

struct ApplyCallbacks {
  Inform warn;
  std::function<void(std::size_t, std::size_t)> progress;
};

/// Images of `files` that the policy was chosen or calibrated on (same file name or same content
/// hash): "<file> (selection image <name>)" per overlap. Reads every file.
std::vector<std::string> policy_overlap(const Policy& p, const std::vector<std::string>& files);

/// The per-image row of a record made by apply (levels run = the record's levels, in order). Its
/// 16-bit energy: the record's 16-bit run, else its static16 run, else `energy16_pj`.
ApplyRow apply_row(const ImageRecord& r, const Policy& p, const EnergyTable& t, double energy16_pj);

/// Runs the policy. Throws std::invalid_argument (bad options, overlap, model hash) or
/// std::runtime_error with context, before computing anything when the inputs are refused.
ApplyOutcome run_apply(const ApplyJob& job, const ApplyCallbacks& cb = {});

/// The figures as JSON (keys top1_drop_pp, top1_drop_pp_ci, energy_saving_pct, energy_saving_pct_ci,
/// images, ...).
std::string apply_json(const ApplyOutcome& r);
/// Per-image rows as CSV or JSON lines.
std::string apply_rows_csv(const ApplyOutcome& r);
std::string apply_rows_jsonl(const ApplyOutcome& r);

}  // namespace bitscale::study
