#include "bitscale/study/controller.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace bitscale::study {

Controller::Controller(std::vector<int> levels, double threshold) : levels_(std::move(levels)), threshold_(threshold) {
  if (levels_.empty()) throw std::invalid_argument("controller: no precision levels given");
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    const int b = levels_[i];
    if (std::find(kPrecisions.begin(), kPrecisions.end(), b) == kPrecisions.end()) {
      throw std::invalid_argument(fmt::format("controller: level {} is {} bits; levels must be 4, 8 or 16", i, b));
    }
    if (i > 0 && b <= levels_[i - 1]) {
      throw std::invalid_argument(
          fmt::format("controller: levels must increase strictly ({} after {})", b, levels_[i - 1]));
    }
  }
  if (!(threshold_ >= 0.0 && threshold_ <= 1.0)) {
    throw std::invalid_argument(fmt::format("controller: threshold {} is outside [0, 1]", threshold_));
  }
}

Decision Controller::decide(const std::function<double(int bits)>& run) const {
  Decision d;
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    const double m = run(levels_[i]);
    d.executed.push_back(levels_[i]);
    d.accepted_bits = levels_[i];
    d.margin = m;
    if (m >= threshold_) break;
  }
  return d;
}

Decision Controller::decide(std::span<const double> margins) const {
  if (margins.size() != levels_.size()) {
    throw std::invalid_argument(
        fmt::format("controller: {} margins given for {} levels", margins.size(), levels_.size()));
  }
  return decide([&](int bits) {
    for (std::size_t i = 0; i < levels_.size(); ++i) {
      if (levels_[i] == bits) return margins[i];
    }
    return 0.0;
  });
}

}  // namespace bitscale::study
