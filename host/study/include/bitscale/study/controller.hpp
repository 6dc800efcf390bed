// The input-dependent bit-width controller of Jahier Pagliari et al. (ISLPED 2018): run an
// image at the lowest precision; accept the result if the softmax score margin
// SM = P(top1) - P(top2) reaches the threshold T_h, otherwise re-run it at the next higher
// precision, up to the highest. Any number of levels (e.g. 4->8->16 or 8->16).
#pragma once

#include <array>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "bitscale/golden/numeric.hpp"
#include "bitscale/study/confidence.hpp"

namespace bitscale::study {

/// The precision levels of the array (golden's modes), increasing: the one list of bit-widths.
inline constexpr std::array<int, 3> kPrecisions{golden::bits(golden::Mode::k4), golden::bits(golden::Mode::k8),
                                                golden::bits(golden::Mode::k16)};

struct Decision {
  std::vector<int> executed;  ///< bit-widths run, in order (the first is the lowest level)
  int accepted_bits = 0;      ///< bit-width whose result is used
  double margin = 0;          ///< score margin of the accepted run
  [[nodiscard]] bool escalated() const { return executed.size() > 1; }
};

class Controller {
 public:
  /// `levels`: bit-widths in strictly increasing order, each 4, 8 or 16; `threshold` in [0, 1].
  /// Throws std::invalid_argument naming the bad value.
  Controller(std::vector<int> levels, double threshold);

  /// Runs `run(bits)` (which returns the score margin of that execution) from the lowest level
  /// up, stopping at the first level whose margin is >= threshold, or at the highest level.
  [[nodiscard]] Decision decide(const std::function<double(int bits)>& run) const;

  /// The decision from margins already known for every level (margins[i] for levels[i]):
  /// the same rule, used to sweep thresholds without re-running anything.
  [[nodiscard]] Decision decide(std::span<const double> margins) const;

  [[nodiscard]] const std::vector<int>& levels() const { return levels_; }
  [[nodiscard]] double threshold() const { return threshold_; }

 private:
  std::vector<int> levels_;
  double threshold_;
};

}  // namespace bitscale::study
