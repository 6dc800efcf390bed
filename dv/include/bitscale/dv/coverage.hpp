// Functional coverage of the regression (docs/REGRESSION.md, "Coverage"), defined once: per
// mode, coverpoints over the layer (kind, K, K mod lanes, ragged rows and columns), the output
// stage (shift, ReLU, clamp, bias, per-channel shifts), what the outputs reached (the mode's
// minimum and maximum) and how many tiles the driver cut. run_regress samples every layer it
// compares; `bitscale regress --coverage` prints "coverage: H of T bins" and the holes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"

namespace bitscale::dv {

/// One bin of a coverpoint and the layers that fell into it.
struct CoverBin {
  std::string name;
  std::uint64_t hits = 0;
};

/// A coverpoint of one mode: e.g. "8-bit k_mod_lanes" with bins "0" and "1".
struct CoverPoint {
  golden::Mode mode = golden::Mode::k16;
  std::string name;
  std::vector<CoverBin> bins;
};

/// The geometry the bins refer to: array rows and columns, words per scratchpad bank.
struct CoverGeometry {
  int rows = 16, cols = 16, bank_words = 8192;
};

/// The largest K a bank holds in `mode`: bank_words x lanes (8192 / 16384 / 32768 by default).
[[nodiscard]] int bank_k_limit(golden::Mode mode, int bank_words);

class Coverage {
 public:
  explicit Coverage(CoverGeometry g = {});

  /// One compared layer: its case, the reference outputs and the counters of its run.
  void sample(const Case& c, const golden::PackedTensor& reference, const driver::Counters& counters);

  [[nodiscard]] std::size_t bins() const;
  [[nodiscard]] std::size_t hit() const;
  /// The bins never hit, as "<mode> <coverpoint>: <bin>" ("4-bit k: near_bank_limit").
  [[nodiscard]] std::vector<std::string> holes() const;
  /// "coverage: H of T bins" and, if any, "holes: ..." (one line each, with newlines); only the
  /// modes sampled count.
  [[nodiscard]] std::string report() const;
  /// Every coverpoint with its bins and hits.
  [[nodiscard]] nlohmann::ordered_json to_json() const;
  [[nodiscard]] const std::vector<CoverPoint>& points() const { return points_; }

 private:
  void hit(golden::Mode mode, const std::string& point, const std::string& bin);

  CoverGeometry g_;
  std::vector<CoverPoint> points_;
  std::vector<bool> sampled_;  ///< per mode (index of golden::kModes)
};

}  // namespace bitscale::dv
