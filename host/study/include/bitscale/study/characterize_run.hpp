// Running the paper's characterization (`bitscale characterize`) in two resumable phases:
// (1) the float network on every image, the correctly classified ones kept; they calibrate the
// fixed-point formats; (2) every kept image at each precision level, then characterize().
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bitscale/study/characterize.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/runner.hpp"
#include "bitscale/study/shard.hpp"

namespace bitscale::study {

enum class CharacterizePhase { kFloat, kLevels };

struct CharacterizeSetup {
  const model::Network* net = nullptr;
  std::vector<std::string> files;
  std::vector<int> levels;  ///< increasing
  bool top5 = false;        ///< correct = top-5 (else top-1)
  Backend backend = Backend::kGolden;
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
  quant::QuantOptions quantization = kArrayQuantDefaults;
  /// How the level runs count their off-chip bytes (recorded per image; docs/ENERGY.md).
  quant::OffchipEncoding offchip = quant::OffchipEncoding::kUncompressed;
  std::string weight_fl_name;  ///< for the records headers
  std::string out_dir, model_name;
  std::string image_dir;  ///< for messages
  LabelOf label_of;
  AcceleratorFactory factory;
  RecordOptions record;  ///< jobs, warnings, stop_after (its progress is replaced by `progress`)
  std::function<void(CharacterizePhase, std::size_t, std::size_t)> progress;
  std::function<void(CharacterizePhase)> phase_done;                          ///< after each phase's recording
  std::function<void(const FloatBaseline&, std::size_t resumed)> float_done;  ///< after phase 1
  /// Stop after the float phase and the calibration (written once, before shards start).
  bool calibrate_only = false;
  /// Record only this shard of the kept images (needs the float records and calibration of a
  /// --calibrate-only run under out_dir); no outputs.
  Shard shard;
  std::string model_hash;  ///< content_hash of the model (shard headers)
  /// Ax-BxP rungs among the levels: their configuration file ("": none), the family rungs'
  /// compensation and the model file (its content hash is checked against the file's).
  std::string approx_config;
  quant::ApproxCompensation approx_compensation = quant::ApproxCompensation::kMean;
  std::string model_path;
};

struct CharacterizeOutcome {
  bool complete = false;     ///< false: stopped by stop_after (see computed)
  std::size_t computed = 0;  ///< images computed by the phase that stopped
  FloatBaseline base;
  std::optional<Characterization> result;
  bool calibrated_only = false;    ///< calibrate_only: stopped after the calibration
  std::optional<ShardDone> shard;  ///< a shard: what it recorded (no result)
};

/// Both phases under out_dir (float.jsonl, calibration.json, levels.jsonl). A saved calibration
/// must have been made on the kept images (else std::runtime_error). Throws std::runtime_error
/// when no image is classified correctly by the float network.
CharacterizeOutcome run_characterization(const CharacterizeSetup& s);

}  // namespace bitscale::study
