#include "bitscale/study/selection.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "bitscale/study/confidence.hpp"
#include "bitscale/study/controller.hpp"

namespace bitscale::study {

std::vector<double> candidate_thresholds(const SweepInput& in, double step) {
  std::vector<double> cand = grid(0.0, 1.0, step);
  for (const auto* r : in.records) {
    for (std::size_t i = 0; i + 1 < in.levels.size(); ++i) {
      const double t = std::nextafter(confidence(r->levels.at(in.levels[i]), in.metric), 2.0);
      if (t <= 1.0 && t > 0.0) cand.push_back(t);
    }
  }
  std::sort(cand.begin(), cand.end());
  cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
  return cand;
}

std::vector<ImageOutcome> image_outcomes(const SweepInput& in, double threshold) {
  const Controller ctl(in.levels, threshold);
  std::vector<ImageOutcome> out;
  out.reserve(in.records.size());
  std::vector<double> conf(in.levels.size());
  for (const auto* r : in.records) {
    for (std::size_t i = 0; i < in.levels.size(); ++i) conf[i] = confidence(r->levels.at(in.levels[i]), in.metric);
    const Decision d = ctl.decide(conf);
    ImageOutcome o;
    o.float_correct = r->fp->correct1;
    o.correct = r->levels.at(d.accepted_bits).correct1;
    for (int b : d.executed) o.energy_pj += energy_pj(r->levels.at(b), in.table);
    o.energy16_pj = energy_pj(r->levels.at(16), in.table);
    o.accepted =
        static_cast<std::size_t>(std::find(in.levels.begin(), in.levels.end(), d.accepted_bits) - in.levels.begin());
    out.push_back(o);
  }
  return out;
}

Selection select_threshold(const SweepInput& in, const SelectionRule& rule) {
  if (in.records.empty()) throw std::invalid_argument("threshold selection: no images");
  const Resamples rs(in.records.size(), rule.boot);
  std::vector<std::uint32_t> all(in.records.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint32_t>(i);
  const std::vector<double> cand = candidate_thresholds(in, rule.step);
  Selection s;
  s.candidates = cand.size();
  for (double t : cand) {
    const std::vector<ImageOutcome> o = image_outcomes(in, t);
    const double point = drop_pp(o, all);
    if (point > rule.max_drop + 1e-9) continue;  // the upper bound is at least the point estimate
    const double ub = percentile_upper(
        replicate(rs, [&](std::span<const std::uint32_t> idx) { return drop_pp(o, idx); }), point, rule.level);
    if (ub <= rule.max_drop + 1e-9) {
      s.threshold = t;
      s.qualified = true;
      s.drop_upper_pp = ub;
      s.point = evaluate(in, t);
      return s;
    }
  }
  s.threshold = 1.0;
  const std::vector<ImageOutcome> o = image_outcomes(in, 1.0);
  s.drop_upper_pp = percentile_upper(replicate(rs, [&](std::span<const std::uint32_t> idx) { return drop_pp(o, idx); }),
                                     drop_pp(o, all), rule.level);
  s.point = evaluate(in, 1.0);
  return s;
}

CrossValidation cross_validate(const SweepInput& in, std::size_t k, const SelectionRule& rule) {
  if (k < 2) throw std::invalid_argument(fmt::format("cross-validation: {} folds (need 2 or more)", k));
  if (in.records.size() < k)
    throw std::invalid_argument(fmt::format("cross-validation: {} images for {} folds", in.records.size(), k));
  std::vector<const ImageRecord*> sorted = in.records;
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->file < b->file; });
  CrossValidation cv;
  cv.folds = k;
  std::vector<ImageOutcome> pooled;
  for (std::size_t f = 0; f < k; ++f) {
    SweepInput sel = in, ev = in;
    sel.records.clear();
    ev.records.clear();
    for (std::size_t i = 0; i < sorted.size(); ++i) (i % k == f ? ev : sel).records.push_back(sorted[i]);
    Fold fold;
    fold.selection = select_threshold(sel, rule);
    for (const auto* r : sel.records) fold.selection_files.push_back(r->file);
    for (const auto* r : ev.records) fold.evaluation_files.push_back(r->file);
    const auto o = image_outcomes(ev, fold.selection.threshold);
    pooled.insert(pooled.end(), o.begin(), o.end());
    cv.per_fold.push_back(std::move(fold));
  }
  cv.pooled = controller_stats(pooled, in.levels.size(), rule.boot, rule.level);
  return cv;
}

}  // namespace bitscale::study
