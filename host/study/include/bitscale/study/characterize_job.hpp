// A whole `bitscale characterize` as one library call: data paths, image selection, both
// resumable phases (run_characterization) and the outputs. The command only parses its options
// into a CharacterizeJob and prints the CharacterizeJobOutcome.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/study/characterize_run.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/shard.hpp"

namespace bitscale::study {

struct CharacterizeJob {
  data::DataPaths data;  ///< model, images, synsets (empty: the defaults)
  std::string out_dir;   ///< records, calibration, reports
  data::Half half = data::Half::kAll;
  std::vector<int> levels{4, 8, 16};  ///< increasing
  bool top5 = false;                  ///< correct = top-5 (else top-1)
  Backend backend = Backend::kGolden;
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
  quant::QuantOptions quantization = kArrayQuantDefaults;  ///< classifier precision, rounding
  /// How the level runs count their off-chip bytes (--offchip, --dpred; docs/ENERGY.md).
  quant::OffchipEncoding offchip = quant::OffchipEncoding::kUncompressed;
  int jobs = 1;
  int limit = 0;                ///< at most the first N images of the half (0 = all)
  std::size_t stop_after = 0;   ///< new images before stopping (0 = never)
  bool calibrate_only = false;  ///< the float phase and the calibration only (before shards)
  Shard shard;                  ///< record this shard of the kept images only (no outputs)
  /// Ax-BxP rungs among the levels (8c1, 8s; docs/AXBXP.md): the "8s" rung's configuration file
  /// and the compensation of the family rungs (block means of the calibration images).
  std::string approx_config;
  quant::ApproxCompensation approx_compensation = quant::ApproxCompensation::kMean;
  AcceleratorFactory factory;
};

/// What the caller sees while a characterization runs; every member may be empty.
struct CharacterizeCallbacks {
  std::function<void(const std::string&)> warn;
  std::function<void(CharacterizePhase, std::size_t, std::size_t)> progress;
  std::function<void(CharacterizePhase)> phase_done;
  std::function<void(const FloatBaseline&, std::size_t resumed)> float_done;
};

struct CharacterizeJobOutcome : CharacterizeOutcome {
  std::string model_name;  ///< file name of the model
  std::size_t images = 0;  ///< images of the selected half (after the limit)
};

/// Runs the characterization under job.out_dir and, when complete, writes its outputs
/// (write_characterization). Throws std::invalid_argument or std::runtime_error with context.
CharacterizeJobOutcome run_characterize(const CharacterizeJob& job, const CharacterizeCallbacks& cb = {});

}  // namespace bitscale::study
