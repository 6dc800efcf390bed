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
#include "bitscale/host/network.hpp"
#include "bitscale/host/quant.hpp"

namespace bitscale::host {

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
  Engine(const Network& net, const std::string& backend, int bits, const Calibration* calib, AcceleratorFactory factory,
         WeightFl weight_fl = WeightFl::kChannel);
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
  [[nodiscard]] const Network& network() const { return net_; }
  [[nodiscard]] const std::string& backend() const { return backend_; }
  [[nodiscard]] bool on_array() const { return backend_ != "float"; }
  [[nodiscard]] const QuantizedNetwork* quantized() const { return qnet_.get(); }

 private:
  const Network& net_;
  std::string backend_;
  AcceleratorFactory factory_;
  std::unique_ptr<QuantizedNetwork> qnet_;
};

/// First of `candidates` that exists as a file or directory, or "" if none.
std::string first_existing(const std::vector<std::string>& candidates);

/// Float calibration of `net` over image files (load_for_model pre-processing), in order,
/// with `jobs` threads; files that fail to decode are skipped and reported through `warn`.
Calibration calibrate_files(const Network& net, const std::vector<std::string>& files, int jobs,
                            const std::function<void(const std::string&)>& warn = {});

}  // namespace bitscale::host

namespace bitscale::host {

/// Where the data the commands use by default lives: the embedded copy under data/ (relative to
/// the working directory) first, then ../shared.
struct DataPaths {
  std::string model;    ///< mobilenet_v1_0.25_128_quant.tflite
  std::string images;   ///< image directory
  std::string synsets;  ///< imagenet-synsets.tsv
};
DataPaths default_data_paths();

/// `count` files spread evenly over `files` (positions floor(i * n / count)), all if count <= 0
/// or count >= n. Deterministic.
std::vector<std::string> spread(const std::vector<std::string>& files, int count);

/// The calibration the --calib option asks for: a .json file (loaded, checked against `net`),
/// an image directory (calibrate_files over spread(list_images(dir), limit)), or, when `arg` is
/// empty, calibrate_files over spread(default_files, limit).
Calibration obtain_calibration(const Network& net, const std::string& arg,
                               const std::vector<std::string>& default_files, int limit, int jobs,
                               const std::function<void(const std::string&)>& warn = {});

}  // namespace bitscale::host
