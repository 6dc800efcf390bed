// A whole `bitscale sweep` as one library call: data paths, calibration, evaluation images,
// resumable records, threshold summary and outputs, and the optional RTL confirmation. The
// command only parses its options into a SweepJob and prints the SweepOutcome.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/study/confirm.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/selection.hpp"
#include "bitscale/study/shard.hpp"
#include "bitscale/study/sweep_run.hpp"

namespace bitscale::study {

struct SweepJob {
  data::DataPaths data;            ///< model, images, synsets (empty: the defaults)
  std::string calib;               ///< calibration JSON or image directory ("": the images)
  std::string out_dir;             ///< records, calibration, reports
  std::optional<data::Half> half;  ///< evaluated half; none: auto (see sweep_calibration)
  std::vector<int> levels;         ///< empty: characterization.json beside a --calib JSON, else 4,8,16
  Backend backend = Backend::kGolden;
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
  quant::QuantOptions quantization = kArrayQuantDefaults;  ///< classifier precision, rounding
  std::string energy;                                      ///< energy table file ("": Envision)
  /// Priced terms (docs/ENERGY.md).
  EnergyModel energy_model = EnergyModel::kMac;
  /// How each run's off-chip bytes are counted (--offchip, --dpred; docs/ENERGY.md): recorded per
  /// image and level, priced by the memory model, written into the policy.
  quant::OffchipEncoding offchip = quant::OffchipEncoding::kUncompressed;
  /// The zero-block gating of the accelerators `factory` makes (--dpred), written into the policy.
  driver::Gating gating = driver::Gating::kOff;
  double max_drop = 1.0;
  double step = 0.005;
  int jobs = 1;
  int limit = 0;                         ///< evaluation images (0 = all)
  int calib_limit = 0;                   ///< calibration images from a directory (0 = all)
  std::size_t confirm_rtl = 0;           ///< evaluation images re-run on the RTL (0 = none)
  std::size_t stop_after = 0;            ///< new images before stopping (0 = never)
  Metric metric = Metric::kScoreMargin;  ///< the confidence the controller thresholds
  std::size_t folds = 0;                 ///< k-fold cross-validation (0 = off, else >= 2)
  bool calibrate_only = false;           ///< write out_dir/calibration.json, then stop (before shards)
  Shard shard;                           ///< record only this shard (and its share of --confirm-rtl)
  Bootstrap boot;                        ///< of the intervals and of the selection
  /// Ax-BxP rungs among the levels (docs/AXBXP.md): the "8s" rung's configuration file and the
  /// compensation of the family rungs (8c1, ...; block means of the calibration images).
  std::string approx_config;
  quant::ApproxCompensation approx_compensation = quant::ApproxCompensation::kMean;
  AcceleratorFactory factory;
};

struct SweepOutcome;

/// What the caller sees while a sweep runs; every member may be empty.
struct SweepCallbacks {
  Inform warn;                                                          ///< status messages
  std::function<void(std::size_t, std::size_t)> progress;               ///< records: (done, total)
  std::function<void()> recorded;                                       ///< after the recording
  std::function<void(const SweepOutcome&)> summarized;                  ///< outputs written, before the RTL
  std::function<void(int, std::size_t, std::size_t)> confirm_progress;  ///< (bits, done, total)
  std::function<void(int)> confirm_done;                                ///< after each bit-width
};

struct SweepOutcome {
  bool complete = false;                     ///< false: stopped by stop_after
  std::size_t computed = 0;                  ///< new records
  std::size_t resumed = 0;                   ///< records found under out_dir
  std::string model_name;                    ///< file name of the model
  Backend backend = Backend::kGolden;        ///< of the records
  std::size_t images = 0;                    ///< evaluated (labelled, readable) images
  double float_top1 = 0;                     ///< %
  std::string headline;                      ///< headline_table of the summary
  std::optional<Confirmation> confirmation;  ///< with confirm_rtl > 0
  std::vector<int> levels;                   ///< the controller's levels
  std::string levels_reason;                 ///< where they come from
  std::string policy_path;                   ///< out_dir/policy.json
  double threshold = 1;                      ///< of the policy
  bool escalate_all = false;                 ///< no threshold met the target
  std::optional<CrossValidation> crossval;   ///< with folds >= 2
  bool calibrated_only = false;              ///< calibrate_only: stopped after the calibration
  std::vector<ShardDone> shards;             ///< a shard: what it recorded (no outputs)
};

/// Runs the sweep under job.out_dir (resumable; see record_sweep, write_sweep, confirm_on_rtl).
/// Throws std::invalid_argument or std::runtime_error with context.
SweepOutcome run_sweep(const SweepJob& job, const SweepCallbacks& cb = {});

}  // namespace bitscale::study
