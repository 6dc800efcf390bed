#include "bitscale/study/confidence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "bitscale/study/records.hpp"

namespace bitscale::study {

std::string to_string(Metric m) {
  switch (m) {
    case Metric::kScoreMargin:
      return "margin";
    case Metric::kMaxProb:
      return "max-prob";
    case Metric::kEntropy:
      return "entropy";
  }
  return "?";
}

Metric parse_metric(std::string_view name) {
  for (Metric m : {Metric::kScoreMargin, Metric::kMaxProb, Metric::kEntropy}) {
    if (name == to_string(m)) return m;
  }
  throw std::invalid_argument(fmt::format("unknown confidence metric '{}' (margin, max-prob or entropy)", name));
}

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

float max_probability(std::span<const float> probs) {
  return probs.empty() ? 0.0f : *std::max_element(probs.begin(), probs.end());
}

float normalized_entropy(std::span<const float> probs) {
  if (probs.size() < 2) return 1.0f;
  double h = 0;
  for (float p : probs) {
    if (p > 0) h -= static_cast<double>(p) * std::log(static_cast<double>(p));
  }
  return static_cast<float>(std::clamp(h / std::log(static_cast<double>(probs.size())), 0.0, 1.0));
}

double confidence(const RunRecord& r, Metric m) {
  switch (m) {
    case Metric::kScoreMargin:
      return r.margin;
    case Metric::kMaxProb:
      return r.max_prob;
    case Metric::kEntropy:
      return 1.0 - r.entropy;
  }
  return 0;
}

}  // namespace bitscale::study

namespace bitscale::study {

std::optional<double> auroc(std::span<const double> positives, std::span<const double> negatives) {
  if (positives.empty() || negatives.empty()) return std::nullopt;
  const auto has_nan = [](std::span<const double> v) {
    return std::any_of(v.begin(), v.end(), [](double x) { return std::isnan(x); });
  };
  if (has_nan(positives) || has_nan(negatives)) throw std::invalid_argument("auroc: a confidence is NaN");
  std::vector<double> neg(negatives.begin(), negatives.end());
  std::sort(neg.begin(), neg.end());
  // 2U = sum over positives of 2 * #(negatives below) + #(negatives equal): an exact integer.
  std::uint64_t twice_u = 0;
  for (double x : positives) {
    const auto lo = std::lower_bound(neg.begin(), neg.end(), x);
    const auto hi = std::upper_bound(lo, neg.end(), x);
    twice_u += 2 * static_cast<std::uint64_t>(lo - neg.begin()) + static_cast<std::uint64_t>(hi - lo);
  }
  const double pairs = static_cast<double>(positives.size()) * static_cast<double>(neg.size());
  return static_cast<double>(twice_u) / (2.0 * pairs);
}

}  // namespace bitscale::study
