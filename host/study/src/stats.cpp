#include "bitscale/study/stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace bitscale::study {

std::vector<std::uint32_t> resample_indices(std::size_t n, std::uint64_t seed, std::size_t b) {
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(static_cast<std::uint64_t>(b) >> 32)};
  std::mt19937_64 rng(seq);
  std::vector<std::uint32_t> idx(n);
  for (auto& i : idx) i = static_cast<std::uint32_t>(rng() % n);
  return idx;
}

Resamples::Resamples(std::size_t n, const Bootstrap& boot) : n_(n), count_(boot.resamples) {
  if (n == 0) throw std::invalid_argument("bootstrap: no images");
  if (boot.resamples == 0) throw std::invalid_argument("bootstrap: 0 resamples");
  if (n > 0xffffffffu) throw std::invalid_argument("bootstrap: more than 2^32 images");
  idx_.reserve(n * count_);
  for (std::size_t b = 0; b < count_; ++b) {
    const auto d = resample_indices(n, boot.seed, b);
    idx_.insert(idx_.end(), d.begin(), d.end());
  }
}

std::vector<double> replicate(const Resamples& r, const std::function<double(std::span<const std::uint32_t>)>& stat) {
  std::vector<double> out(r.size());
  for (std::size_t b = 0; b < r.size(); ++b) out[b] = stat(r[b]);
  return out;
}

double quantile(std::vector<double>& v, double q) {
  if (v.empty()) throw std::invalid_argument("quantile of no values");
  std::sort(v.begin(), v.end());
  const double h = std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

Interval percentile_interval(std::vector<double> rep, double point, double level) {
  const double a = (1.0 - level) / 2;
  Interval i{quantile(rep, a), quantile(rep, 1.0 - a)};
  i.lo = std::min(i.lo, point);
  i.hi = std::max(i.hi, point);
  return i;
}

double percentile_upper(std::vector<double> rep, double point, double level) {
  return std::max(quantile(rep, level), point);
}

Estimate bootstrap_mean(std::span<const double> x, const Bootstrap& boot, double level) {
  const Resamples r(x.size(), boot);
  const auto mean = [&](std::span<const std::uint32_t> idx) {
    double s = 0;
    for (auto i : idx) s += x[i];
    return s / static_cast<double>(idx.size());
  };
  std::vector<std::uint32_t> all(x.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint32_t>(i);
  Estimate e;
  e.value = mean(all);
  e.ci = percentile_interval(replicate(r, mean), e.value, level);
  return e;
}

double drop_pp(std::span<const ImageOutcome> o, std::span<const std::uint32_t> idx) {
  long d = 0;
  for (auto i : idx) d += static_cast<long>(o[i].float_correct) - static_cast<long>(o[i].correct);
  return 100.0 * static_cast<double>(d) / static_cast<double>(std::max<std::size_t>(idx.size(), 1));
}

namespace {

double saving_pct(std::span<const ImageOutcome> o, std::span<const std::uint32_t> idx) {
  double e = 0, e16 = 0;
  for (auto i : idx) {
    e += o[i].energy_pj;
    e16 += o[i].energy16_pj;
  }
  return e16 > 0 ? 100.0 * (1.0 - e / e16) : 0.0;
}

template <class F>
double pct_of(std::span<const ImageOutcome> o, std::span<const std::uint32_t> idx, F pred) {
  std::size_t k = 0;
  for (auto i : idx) k += pred(o[i]) ? 1 : 0;
  return 100.0 * static_cast<double>(k) / static_cast<double>(std::max<std::size_t>(idx.size(), 1));
}

}  // namespace

ControllerStats controller_stats(std::span<const ImageOutcome> o, std::size_t levels, const Bootstrap& boot,
                                 double level) {
  if (o.empty()) throw std::invalid_argument("controller statistics: no images");
  ControllerStats s;
  s.images = o.size();
  s.level = level;
  const Resamples r(o.size(), boot);
  std::vector<std::uint32_t> all(o.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint32_t>(i);
  const auto est = [&](const std::function<double(std::span<const std::uint32_t>)>& f) {
    Estimate e;
    e.value = f(all);
    e.ci = percentile_interval(replicate(r, f), e.value, level);
    return e;
  };
  s.float_top1 = est([&](auto idx) { return pct_of(o, idx, [](const ImageOutcome& x) { return x.float_correct; }); });
  s.top1 = est([&](auto idx) { return pct_of(o, idx, [](const ImageOutcome& x) { return x.correct; }); });
  const auto drop = [&](std::span<const std::uint32_t> idx) { return drop_pp(o, idx); };
  s.drop_pp = est(drop);
  s.drop_upper_pp = percentile_upper(replicate(r, drop), s.drop_pp.value, level);
  s.saving_pct = est([&](auto idx) { return saving_pct(o, idx); });
  for (std::size_t l = 0; l < levels; ++l)
    s.accepted_pct.push_back(
        est([&](auto idx) { return pct_of(o, idx, [l](const ImageOutcome& x) { return x.accepted == l; }); }));
  return s;
}

}  // namespace bitscale::study
