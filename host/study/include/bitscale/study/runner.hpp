// The runner that fills per-image records: the float baseline and/or array runs at several
// bit-widths, engines prepared once and shared by the threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bitscale/study/confidence.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/records.hpp"

namespace bitscale::study {

/// What a record run executes: the float baseline and/or these bit-widths on the array.
struct RunSetup {
  const model::Network* net = nullptr;
  bool run_float = true;                      ///< record the float baseline
  std::vector<int> bits;                      ///< array runs (none: float only)
  Backend backend = Backend::kGolden;         ///< of the array runs
  const quant::Calibration* calib = nullptr;  ///< needed when bits is not empty
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
  quant::QuantOptions quantization = kArrayQuantDefaults;  ///< of the array runs
  AcceleratorFactory factory;                              ///< needed when bits is not empty
  /// The network of each array level after quantization (Ax-BxP rungs, configure_level); none:
  /// every level exact. `bits` may hold Ax-BxP rungs (level_code) when this is set.
  std::function<void(int level, quant::QuantizedNetwork&, driver::Accelerator&)> configure{};
  /// How the array runs count their off-chip bytes (ArrayConfig::offchip, docs/ENERGY.md).
  quant::OffchipEncoding offchip = quant::OffchipEncoding::kUncompressed;
  /// With an Escalation only: also run every image at static 16 bits when the controller did not,
  /// into ImageRecord::static16 (apply's reference when the 16-bit energy depends on the image,
  /// i.e. with per-group off-chip bytes).
  bool static16 = false;
};

/// The deployed controller (apply): run the setup's bit-widths from the lowest up, stopping at the
/// first level whose confidence reaches the threshold (without one, every level runs).
struct Escalation {
  double threshold = 0;
  Metric metric = Metric::kScoreMargin;
};

/// The label of an image file (nullopt: unlabelled).
using LabelOf = std::function<std::optional<int>(const std::string&)>;

/// Engines prepared once (shared by the threads) and the per-thread workers.
class Runner {
 public:
  Runner(const RunSetup& setup, LabelOf label_of, std::optional<Escalation> escalation = std::nullopt);
  ~Runner();
  [[nodiscard]] WorkerFactory workers() const;
  /// One run of `file` at `bits` (one of the setup's bit-widths), unlabelled.
  [[nodiscard]] RunRecord run_level(int bits, const std::string& file) const;

 private:
  RunSetup setup_;
  LabelOf label_of_;
  std::unique_ptr<Engine> float_;
  std::map<int, std::unique_ptr<Engine>> engines_;
  std::unique_ptr<Engine> static16_;  ///< RunSetup::static16 when 16 bits is not one of the levels
  std::optional<Escalation> escalation_;
  std::optional<Controller> controller_;
};

}  // namespace bitscale::study
