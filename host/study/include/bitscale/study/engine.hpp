// Running images through a network on one back-end, shared by `bitscale classify`, `eval`,
// `characterize` and `sweep`: the float baseline, or the array at 4/8/16 bits through the driver
// (functional golden, register-level golden device or verilated RTL). Accelerators come from a
// factory so that the study library does not depend on the back-ends (the CLI passes one that
// calls driver::make_accelerator).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/quant/quant.hpp"
#include "bitscale/quant/traffic.hpp"

namespace bitscale::study {

/// Where a network runs: the float baseline or one of the array back-ends.
enum class Backend { kFloat, kGolden, kGoldenDevice, kRtl };
/// "float", "golden", "golden-device", "rtl" (the names of --backend and of driver::make_accelerator).
std::string to_string(Backend b);
/// The back-end named `name`; throws std::invalid_argument listing the accepted names.
Backend parse_backend(std::string_view name);
/// Every back-end but kFloat runs on the array.
constexpr bool on_array(Backend b) { return b != Backend::kFloat; }
/// The driver back-end of an array back-end; throws std::invalid_argument for kFloat.
driver::Backend array_backend(Backend b);

/// Makes an accelerator of a driver back-end (driver::make_accelerator in the CLI).
using AcceleratorFactory = std::function<std::unique_ptr<driver::Accelerator>(driver::Backend)>;

/// The k most probable outputs, most probable first (ties: lower index first).
struct TopK {
  std::vector<int> index;
  std::vector<float> prob;
};
TopK top_k(std::span<const float> p, int k);

struct Prediction {
  std::vector<float> probabilities;
  TopK top;                                       ///< top 5
  float margin = 0;                               ///< score_margin(probabilities)
  float max_prob = 0;                             ///< max_probability(probabilities)
  float entropy = 0;                              ///< normalized_entropy(probabilities)
  std::optional<driver::Counters> counters;       ///< array back-ends
  std::optional<std::uint64_t> offchip_bytes;     ///< array back-ends: the run's (ArrayConfig::offchip)
  std::vector<golden::PackedTensor> mac_outputs;  ///< when recorded
};

/// The host-side quantization options of array runs by default: the classifier at 16 bits in
/// every level (a confidence with resolution, docs/QUANTIZATION.md), rounding to nearest.
inline constexpr quant::QuantOptions kArrayQuantDefaults{.classifier = quant::ClassifierPrecision::kWide};

/// What runs on the array: back-end, bit-width, calibration, weight FL rule and quantization options.
struct ArrayConfig {
  Backend backend = Backend::kGolden;  ///< not kFloat
  int bits = 8;                        ///< 4, 8 or 16
  const quant::Calibration* calib = nullptr;
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
  quant::QuantOptions quantization = kArrayQuantDefaults;  ///< classifier precision, rounding
  /// Called once on the prepared network (e.g. an Ax-BxP configuration, study/axbxp.hpp), with an
  /// accelerator of the back-end for what it measures; none: the network as quantized.
  std::function<void(quant::QuantizedNetwork&, driver::Accelerator&)> configure{};
  /// How Prediction::offchip_bytes counts (docs/ENERGY.md): uncompressed (the shapes only, no
  /// cost) or per group (records every MAC layer's input and output of each run and encodes them).
  quant::OffchipEncoding offchip = quant::OffchipEncoding::kUncompressed;
};

/// Immutable, shareable set-up of one back-end; sessions (one per thread) run images.
class Engine {
 public:
  /// The float baseline.
  explicit Engine(const model::Network& net);
  /// The array: layers prepared once here (weights' FL per the config's rule). Throws
  /// std::invalid_argument without a calibration or a factory, or for Backend::kFloat.
  Engine(const model::Network& net, const ArrayConfig& config, AcceleratorFactory factory);
  ~Engine();

  class Session {
   public:
    explicit Session(const Engine& e);
    ~Session();
    Prediction run(std::span<const std::uint8_t> rgb, bool record_mac_outputs = false);

   private:
    const Engine& e_;
    std::unique_ptr<driver::Accelerator> acc_;
  };

  [[nodiscard]] std::unique_ptr<Session> session() const { return std::make_unique<Session>(*this); }
  [[nodiscard]] const model::Network& network() const { return net_; }
  [[nodiscard]] Backend backend() const { return backend_; }
  [[nodiscard]] bool on_array() const { return study::on_array(backend_); }
  [[nodiscard]] const quant::QuantizedNetwork* quantized() const { return qnet_.get(); }

 private:
  const model::Network& net_;
  Backend backend_ = Backend::kFloat;
  AcceleratorFactory factory_;
  std::unique_ptr<quant::QuantizedNetwork> qnet_;
  quant::OffchipEncoding offchip_ = quant::OffchipEncoding::kUncompressed;
  std::vector<std::uint64_t> weight_group_bytes_;  ///< per MAC layer, with kPerGroup (static)
};

}  // namespace bitscale::study
