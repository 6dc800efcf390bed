// Running images through a network on one back-end, shared by `bitscale classify` and
// `bitscale eval`: "float" (the float baseline) or the array at 4/8/16 bits through the driver
// ("golden", "golden-device" or "rtl"). Accelerators come from a factory so that the host library
// does not depend on the back-ends (the CLI passes driver::make_accelerator).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/quant/quant.hpp"

namespace bitscale::study {

/// Makes an accelerator of the chosen back-end (driver::make_accelerator in the CLI).
using AcceleratorFactory = std::function<std::unique_ptr<driver::Accelerator>()>;

/// The k most probable outputs, most probable first (ties: lower index first).
struct TopK {
  std::vector<int> index;
  std::vector<float> prob;
};
TopK top_k(std::span<const float> p, int k);

struct Prediction {
  std::vector<float> probabilities;
  TopK top;                                       ///< top 5
  float margin = 0;                               ///< P(top1) - P(top2)
  std::optional<driver::Counters> counters;       ///< array back-ends
  std::vector<golden::PackedTensor> mac_outputs;  ///< when recorded
};

/// Immutable, shareable set-up of one back-end; sessions (one per thread) run images.
class Engine {
 public:
  /// backend "float" ignores bits, calib and factory; the array back-ends ("golden",
  /// "golden-device", "rtl") need a calibration and a factory making accelerators of that
  /// back-end. Layers are prepared once here, their weights' FL per layer or per channel.
  Engine(const model::Network& net, const std::string& backend, int bits, const quant::Calibration* calib,
         AcceleratorFactory factory, quant::WeightFl weight_fl = quant::WeightFl::kChannel);
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
  [[nodiscard]] const std::string& backend() const { return backend_; }
  [[nodiscard]] bool on_array() const { return backend_ != "float"; }
  [[nodiscard]] const quant::QuantizedNetwork* quantized() const { return qnet_.get(); }

 private:
  const model::Network& net_;
  std::string backend_;
  AcceleratorFactory factory_;
  std::unique_ptr<quant::QuantizedNetwork> qnet_;
};

}  // namespace bitscale::study
