// A whole `bitscale eval` as one library call: data paths, the calibration split, calibration,
// engines, the evaluation with its result rows. The command only parses its options into an
// EvalJob and prints the EvalOutcome.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "bitscale/data/dataset.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/eval.hpp"
#include "bitscale/study/shard.hpp"

namespace bitscale::study {

/// Which images an evaluation calibrates on and evaluates.
enum class EvalSplit {
  kAuto,     ///< even/odd when calibrating on the array from the evaluated directory (no --calib)
  kEvenOdd,  ///< always: even positions calibrate, odd ones are evaluated (also for float)
  kNone,     ///< every image evaluated
};
/// "auto", "even-odd", "none"; throws std::invalid_argument.
EvalSplit parse_eval_split(std::string_view name);

struct EvalJob {
  data::DataPaths data;  ///< model, images, synsets (empty: the defaults; no synsets: no labels)
  Backend backend = Backend::kFloat;
  int bits = 8;
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
  quant::QuantOptions quantization = kArrayQuantDefaults;  ///< classifier precision, rounding
  std::string calib;       ///< calibration JSON or image directory ("": the calibration half)
  std::string save_calib;  ///< write the calibration here ("": not written)
  EvalSplit split = EvalSplit::kAuto;
  int limit = 0;  ///< at most N images (0 = all)
  int jobs = 1;
  int calib_limit = 50;
  bool compare_backends = false;  ///< every image on golden and rtl too, compared word for word
  std::ostream* rows = nullptr;   ///< result rows (none: not written)
  EvalFormat format = EvalFormat::kCsv;
  /// The per-image records (`<out>.records.jsonl`, "": none). A shard records into its own file
  /// beside it (shard_path) and writes no rows; without --shard, an existing records file (e.g.
  /// from `bitscale merge`) is resumed and the rows are written from it (docs/SCALE_OUT.md).
  std::string records;
  Shard shard;  ///< --shard I/N (whole: every image)
  /// An Ax-BxP configuration file (axbxp_config.json of `bitscale axbxp-search`, docs/AXBXP.md) applied
  /// to the array network with the compensation it records ("": exact). Refused when it does not
  /// belong to the model, the bit-width or (with compensation mean) the calibration.
  std::string approx_config;
  std::string energy;                            ///< energy table of the rows' energy_pj ("": Envision)
  EnergyModel energy_model = EnergyModel::kMac;  ///< terms priced in energy_pj
  /// How each array run's off-chip bytes are counted (--offchip, --dpred; docs/ENERGY.md); with
  /// per-group, the rows gain a column offchip_bytes.
  quant::OffchipEncoding offchip = quant::OffchipEncoding::kUncompressed;
  AcceleratorFactory factory;
};

/// What the caller sees while an evaluation runs; every member may be empty.
struct EvalCallbacks {
  std::function<void(const std::string&)> inform;  ///< status messages (calibration, exclusions)
  /// After each row (in list order): the totals so far, the number of images and the seconds
  /// since the evaluation started.
  std::function<void(const EvalTotals&, std::size_t, double)> progress;
};

struct EvalOutcome {
  std::string model_path, image_dir;
  std::int64_t macs = 0;  ///< of the network, per image
  Backend backend = Backend::kFloat;
  std::optional<Backend> compared_with;
  int bits = 8;                                           ///< on the array
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;  ///< on the array
  bool on_array = false;
  std::size_t images = 0;  ///< evaluated
  EvalTotals totals;
  double seconds = 0;              ///< wall time of the evaluation (calibration excluded)
  int jobs = 1;                    ///< threads used
  std::size_t resumed = 0;         ///< rows read from the records rather than computed
  std::optional<ShardDone> shard;  ///< a shard: what it recorded (no rows written)
};

/// Runs the evaluation; throws std::invalid_argument or std::runtime_error with context.
EvalOutcome run_eval(const EvalJob& job, const EvalCallbacks& cb = {});

}  // namespace bitscale::study
