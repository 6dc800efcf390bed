// Bootstrap statistics of the dynamic bit-width study: seeded, paired resampling over images and
// percentile intervals. One resample draws n images with replacement from the n evaluated ones
// and recomputes the statistic from them (every per-image quantity of an image travels together:
// float correctness, dynamic correctness, energy, accepted level), so drop and saving are paired.
// Resample b uses its own std::mt19937_64 seeded from (seed, b), so the same seed gives the same
// resamples everywhere (common random numbers: every candidate threshold sees the same draws).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace bitscale::study {

/// Seed and number of resamples of every bootstrap of the study (documented in docs/CONTROLLER.md).
struct Bootstrap {
  static constexpr std::uint64_t kDefaultSeed = 20181;  ///< ISLPED 2018, resample set 1
  std::uint64_t seed = kDefaultSeed;
  std::size_t resamples = 2000;
  friend bool operator==(const Bootstrap&, const Bootstrap&) = default;
};

/// A closed interval [lo, hi].
struct Interval {
  double lo = 0, hi = 0;
  [[nodiscard]] double width() const { return hi - lo; }
  [[nodiscard]] bool contains(double x) const { return lo <= x && x <= hi; }
  friend bool operator==(const Interval&, const Interval&) = default;
};

/// A point estimate with its two-sided percentile interval.
struct Estimate {
  double value = 0;
  Interval ci;
  friend bool operator==(const Estimate&, const Estimate&) = default;
};

/// The indices (each in [0, n)) of resample `b`: n draws with replacement, from a
/// std::mt19937_64 seeded with seed_seq{seed low, seed high, b}; index = draw mod n (the bias is
/// below n / 2^64). Deterministic for (n, seed, b).
std::vector<std::uint32_t> resample_indices(std::size_t n, std::uint64_t seed, std::size_t b);

/// Every resample of `boot` for n images, stored once (n * resamples indices) so that several
/// statistics can be evaluated on the same draws.
class Resamples {
 public:
  Resamples(std::size_t n, const Bootstrap& boot);
  [[nodiscard]] std::size_t size() const { return count_; }
  [[nodiscard]] std::size_t n() const { return n_; }
  [[nodiscard]] std::span<const std::uint32_t> operator[](std::size_t b) const { return {idx_.data() + b * n_, n_}; }

 private:
  std::size_t n_ = 0, count_ = 0;
  std::vector<std::uint32_t> idx_;
};

/// The statistic on every resample: out[b] = stat(indices of resample b).
std::vector<double> replicate(const Resamples& r, const std::function<double(std::span<const std::uint32_t>)>& stat);

/// The q-quantile (q in [0, 1]) of `values` with linear interpolation between order statistics
/// (R's type 7); `values` is sorted in place. Throws std::invalid_argument when empty.
double quantile(std::vector<double>& values, double q);

/// Two-sided percentile interval at `level` (e.g. 0.95: the 2.5 % and 97.5 % quantiles of the
/// replicates), widened if needed to contain `point` (the estimate on the original images).
Interval percentile_interval(std::vector<double> replicates, double point, double level = 0.95);
/// One-sided upper bound at `level`: the `level` quantile of the replicates, at least `point`.
double percentile_upper(std::vector<double> replicates, double point, double level = 0.95);

/// The mean of `x` with its bootstrap interval (e.g. a Bernoulli proportion).
Estimate bootstrap_mean(std::span<const double> x, const Bootstrap& boot, double level = 0.95);

/// What the controller did with one image (from records or from `bitscale apply`).
struct ImageOutcome {
  bool float_correct = false;
  bool correct = false;      ///< the accepted level's top-1 is the label
  double energy_pj = 0;      ///< every level run for it
  double energy16_pj = 0;    ///< the same image at static 16 bits
  std::size_t accepted = 0;  ///< index of the accepted level
};

/// The controller's figures over a set of images, each with its 95 % (or `level`) interval.
struct ControllerStats {
  std::size_t images = 0;
  double level = 0.95;
  Estimate float_top1;                 ///< %
  Estimate top1;                       ///< %
  Estimate drop_pp;                    ///< float top-1 minus dynamic top-1, percentage points
  double drop_upper_pp = 0;            ///< one-sided `level` upper bound of the drop
  Estimate saving_pct;                 ///< 100 * (1 - sum energy / sum energy16)
  std::vector<Estimate> accepted_pct;  ///< per level: % of images accepted there
};

/// Drop (pp) of a set of images given by indices (repeated indices count repeatedly).
double drop_pp(std::span<const ImageOutcome> o, std::span<const std::uint32_t> idx);

/// Point estimates and paired bootstrap intervals; `levels` = number of controller levels.
/// Throws std::invalid_argument for an empty set.
ControllerStats controller_stats(std::span<const ImageOutcome> o, std::size_t levels, const Bootstrap& boot,
                                 double level = 0.95);

}  // namespace bitscale::study
