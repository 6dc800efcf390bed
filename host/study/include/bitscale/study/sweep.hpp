// Threshold sweep of the dynamic bit-width study: every T_h evaluated from the records
// (Controller::decide on the recorded confidences of the chosen metric), accuracy drop vs float and energy vs static
// 16-bit, exact threshold search; the precision levels.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bitscale/study/confidence.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/energy.hpp"
#include "bitscale/study/records.hpp"

namespace bitscale::study {

/// One threshold evaluated from the records.
struct SweepPoint {
  double threshold = 0;
  std::size_t images = 0, correct = 0;
  double top1 = 0;                    ///< %
  double drop = 0;                    ///< float top-1 minus this top-1, percentage points
  double energy_pj = 0;               ///< total over the images
  double energy_rel = 0;              ///< relative to static 16-bit on the same images
  std::vector<std::size_t> accepted;  ///< per level: images whose result is taken from it
  double runs_per_image = 0;
};

/// Static execution of every image at one bit-width.
struct StaticPoint {
  int bits = 0;
  std::size_t correct = 0;
  double top1 = 0, drop = 0, energy_pj = 0, energy_rel = 0;
};

/// Records usable by the sweep: no error, a label, the float run and every level in `levels`
/// and 16 bits (the energy reference).
std::vector<const ImageRecord*> sweep_records(const std::vector<ImageRecord>& records, std::span<const int> levels);

struct SweepInput {
  std::vector<const ImageRecord*> records;
  std::vector<int> levels;
  EnergyTable table;
  Metric metric = Metric::kScoreMargin;  ///< the confidence the controller thresholds
};

double float_top1(const SweepInput& in);          ///< %
double static16_energy_pj(const SweepInput& in);  ///< the reference
StaticPoint evaluate_static(const SweepInput& in, int bits);
/// Every image decided by Controller(levels, T).decide(recorded margins); energy = sum over
/// the executed levels of energy_pj(counters).
SweepPoint evaluate(const SweepInput& in, double threshold);
/// Thresholds lo, lo + step, ..., hi (computed as lo + i * step, last one clamped to hi).
std::vector<double> grid(double lo, double hi, double step);
/// The smallest threshold with drop <= max_drop: exact, over 0 and the thresholds just above
/// each recorded margin of the non-final levels (where decisions change). nullopt if none.
std::optional<SweepPoint> search_threshold(const SweepInput& in, double max_drop);

/// Levels from "4,8,16": increasing, each one of kPrecisions; throws std::invalid_argument.
std::vector<int> parse_levels(const std::string& text);

}  // namespace bitscale::study
