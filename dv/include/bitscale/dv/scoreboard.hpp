// The scoreboard of every comparison between back-ends and the reference: packed outputs word
// for word and performance counters, mismatches collected as a list with coordinates (what was
// compared, output pixel, word, every channel of the word with both values) and the seed.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/tensor.hpp"

namespace bitscale::dv {

enum class MismatchKind { kShape, kWord, kCounter };

/// One channel of a differing word.
struct Lane {
  int channel = 0;
  std::int32_t expected = 0, actual = 0;
};

struct Mismatch {
  MismatchKind kind = MismatchKind::kWord;
  int y = 0, x = 0;                        ///< output pixel (kWord)
  std::size_t word = 0;                    ///< index into PackedTensor::words (kWord)
  std::string counter;                     ///< counter name (kCounter)
  std::uint64_t expected = 0, actual = 0;  ///< word or counter values
  std::vector<Lane> lanes;                 ///< every channel held by the word, both values (kWord)
};

/// Names of the two sides of a comparison ("golden", "rtl", ...).
struct Sides {
  std::string_view expected = "expected", actual = "actual";
};

/// Dimensions of a compared tensor.
struct Dims {
  int h = 0, w = 0, c = 0;
  golden::Mode mode = golden::Mode::k16;
};

/// One comparison: what was compared, how many words (or counters) and which differ.
struct Comparison {
  std::string what;
  std::string expected_name, actual_name;
  std::optional<Dims> expected_dims, actual_dims;  ///< tensor comparisons
  std::uint64_t compared = 0, differing = 0;
  std::vector<Mismatch> mismatches;  ///< the first differing words or counters (see max_recorded)

  [[nodiscard]] bool ok() const { return differing == 0; }
  /// "3 of 40 words differ; first at pixel (y=1, x=2) word 5: rtl 0x0012 vs golden 0x0013
  /// (lanes rtl/golden: c10:18/19 c11:0/0)", "shape 2x2x3 (rtl) vs 2x2x4 (golden)", or the
  /// differing counters; empty if equal.
  [[nodiscard]] std::string summary() const;
};

class Scoreboard {
 public:
  /// `seed` is reported with the mismatches; `max_recorded` (at least 1) bounds the mismatches
  /// kept per comparison (all are counted).
  explicit Scoreboard(std::optional<std::uint64_t> seed = {}, std::size_t max_recorded = 10);

  /// Packed outputs, word for word (dimensions and mode first). Returns true if equal.
  bool compare(std::string_view what, const golden::PackedTensor& expected, const golden::PackedTensor& actual,
               Sides sides = {});
  /// Every performance counter. Returns true if equal.
  bool compare(std::string_view what, const driver::Counters& expected, const driver::Counters& actual,
               Sides sides = {});
  /// The group widths of a layer (header read-back, driver::LayerGroupWidths), group by group; a
  /// differing group is recorded as a counter mismatch named "width(pixel P, group G)". Returns true
  /// if equal.
  bool compare(std::string_view what, const driver::LayerGroupWidths& expected, const driver::LayerGroupWidths& actual,
               Sides sides = {});
  /// One named value (a counter against the layer's MACs, an assertion count...).
  bool compare(std::string_view what, std::string_view name, std::uint64_t expected, std::uint64_t actual,
               Sides sides = {});

  [[nodiscard]] bool ok() const;
  /// Differing words and counters over all comparisons.
  [[nodiscard]] std::uint64_t mismatch_count() const;
  [[nodiscard]] const std::vector<Comparison>& comparisons() const { return comparisons_; }
  [[nodiscard]] std::optional<std::uint64_t> seed() const { return seed_; }
  /// "matched N of M" per failing comparison and its recorded mismatches, one per line.
  [[nodiscard]] std::string report() const;
  [[nodiscard]] nlohmann::ordered_json to_json() const;

 private:
  Comparison& begin(std::string_view what, Sides sides);

  std::optional<std::uint64_t> seed_;
  std::size_t max_recorded_;
  std::vector<Comparison> comparisons_;
};

std::string_view to_string(MismatchKind kind);

}  // namespace bitscale::dv
