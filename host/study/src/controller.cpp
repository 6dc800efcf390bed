#include "bitscale/study/controller.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace bitscale::study {

float score_margin(std::span<const float> probs) {
  if (probs.size() < 2) return 0.0f;
  float top1 = -1.0f, top2 = -1.0f;
  for (float p : probs) {
    if (p > top1) {
      top2 = top1;
      top1 = p;
    } else if (p > top2) {
      top2 = p;
    }
  }
  return top1 - top2;
}

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
