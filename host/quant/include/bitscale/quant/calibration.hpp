// Calibration of a network's activations: the max |x| of every activation tensor over a
// calibration image set and the fractional lengths that follow for each mode of the array;
// saved and loaded as JSON (the file characterize writes and sweep reads).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/golden/numeric.hpp"
#include "bitscale/model/network.hpp"

namespace bitscale::quant {

/// The modes a calibration covers: every precision of the array, by increasing bit-width.
inline constexpr std::array kCalibrationModes = {golden::Mode::k4, golden::Mode::k8, golden::Mode::k16};
/// Their bit-widths (4, 8, 16).
inline constexpr std::array kCalibrationBits = {golden::bits(kCalibrationModes[0]), golden::bits(kCalibrationModes[1]),
                                                golden::bits(kCalibrationModes[2])};

/// Activation ranges recorded by the float network on a calibration image set, and the
/// fractional length of every activation tensor for each bit-width of kCalibrationBits.
struct Calibration {
  std::string model;                 ///< model::Network::name() it was made for
  std::vector<std::string> images;   ///< the calibration images, in the order used
  std::vector<double> max_abs;       ///< per tensor index; < 0 for tensors that are not activations
  std::vector<std::vector<int>> fl;  ///< [tensor][i] for kCalibrationBits[i]; empty for non-activations

  /// Calibrated FL of an activation tensor; throws std::out_of_range for non-activations.
  [[nodiscard]] int fractional_length(int tensor, int bits) const;
  /// JSON text: {"format":"bitscale-calibration-1","model":...,"images":[...],
  /// "tensors":[{"index":i,"name":...,"max_abs":x,"fl":{"4":a,"8":b,"16":c}},...]}.
  [[nodiscard]] std::string to_json(const model::Network& net) const;
  /// Parses to_json's output and checks tensor count and names against `net`;
  /// throws std::runtime_error naming `source`.
  [[nodiscard]] static Calibration from_json(std::string_view text, const model::Network& net,
                                             const std::string& source);
  void save(const std::string& path, const model::Network& net) const;
  [[nodiscard]] static Calibration load(const std::string& path, const model::Network& net);
};

/// Accumulates max |x| of every activation tensor over float forward passes.
class Calibrator {
 public:
  explicit Calibrator(const model::Network& net);
  void add(std::span<const std::uint8_t> rgb, const std::string& name);
  /// Merges another calibrator of the same network (parallel calibration).
  void merge(const Calibrator& other);
  [[nodiscard]] std::size_t count() const { return images_.size(); }
  [[nodiscard]] Calibration result() const;

 private:
  const model::Network* net_;
  std::vector<double> max_abs_;
  std::vector<std::string> images_;
};

}  // namespace bitscale::quant
