// The input-dependent bit-width controller of Jahier Pagliari et al. (ISLPED 2018): run an
// image at the lowest precision; accept the result if the softmax score margin
// SM = P(top1) - P(top2) reaches the threshold T_h, otherwise re-run it at the next higher
// precision, up to the highest. Any number of levels (e.g. 4->8->16 or 8->16).
#pragma once

#include <array>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/golden/numeric.hpp"
#include "bitscale/study/confidence.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::study {

/// The precision levels of the array (golden's modes), increasing: the one list of bit-widths.
inline constexpr std::array<int, 3> kPrecisions{golden::bits(golden::Mode::k4), golden::bits(golden::Mode::k8),
                                                golden::bits(golden::Mode::k16)};

/// A rung of a bit-width ladder, a level of the controller (docs/CONTROLLER.md, docs/AXBXP.md):
/// "16", "8", "4" (exact) or "<bits>c<N>" (Ax-BxP family member N of that mode on every layer
/// in it, e.g. "8c1"), or "8s" (a per-layer configuration at 8 bits, from a configuration file).
struct Rung {
  int bits = 8;
  int c = 0;            ///< family member (0: exact)
  bool config = false;  ///< the per-layer configuration
  [[nodiscard]] bool exact() const { return c == 0 && !config; }
  friend bool operator==(const Rung&, const Rung&) = default;
};
/// Parses a rung; throws std::invalid_argument naming the text (unknown bit-width, member outside
/// the mode's family 0 .. approx_family_max, trailing text).
Rung parse_rung(std::string_view text);
std::string to_string(const Rung& r);
/// A ladder: comma-separated rungs in cost order as given (e.g. "8c1,8,16"); throws
/// std::invalid_argument naming the text for an empty ladder, a bad rung or a repeated one.
std::vector<Rung> parse_ladder(std::string_view text);

/// A level of the controller as an int: an exact level is its bit-width (4, 8, 16, as in every
/// record and policy so far); an approximate rung is bits * 100 + c ("8c1" = 801) or bits * 100 + 99
/// ("8s" = 899). level_code and level_rung are inverse; level_rung throws std::invalid_argument for
/// an int that is no level.
int level_code(const Rung& r);
Rung level_rung(int level);
/// The bit-width (mode) a level runs in.
int level_bits(int level);
/// Whether a level is exact (a plain bit-width).
bool level_exact(int level);
/// "8", "8c1", "8s" (the text parse_rung reads).
std::string level_name(int level);
/// "8-bit" for an exact level, "8c1" / "8s" for an approximate one.
std::string level_label(int level);
/// A level in JSON (sweep, characterization, apply, records headers, policy): an exact level as its
/// bit-width (`8`, as in every file written before the rungs), an Ax-BxP rung as its name (`"8c1"`).
std::string level_json(int level);
/// A list of levels in JSON: `[8,16]`, `["8c1",8,16]`.
std::string levels_json(std::span<const int> levels);
/// The level of a JSON value written by level_json (an int level or a rung's name, also a legacy
/// int code such as 801); throws std::invalid_argument naming the value.
int parse_level_json(const util::Json& v);
/// The levels of a JSON array of level_json values; throws std::invalid_argument naming the bad one.
std::vector<int> parse_levels_json(const util::Json& v);
/// The cost order of levels: by bit-width, then the approximate rungs of a bit-width before its
/// exact level (8c2 < 8c1 < 8s < 8 < 16c6 < ... < 16). Levels of a controller increase in it.
bool level_cheaper(int a, int b);

struct Decision {
  std::vector<int> executed;  ///< bit-widths run, in order (the first is the lowest level)
  int accepted_bits = 0;      ///< bit-width whose result is used
  double margin = 0;          ///< score margin of the accepted run
  [[nodiscard]] bool escalated() const { return executed.size() > 1; }
};

class Controller {
 public:
  /// `levels`: levels (level_code: bit-widths 4, 8, 16 or Ax-BxP rungs) strictly increasing in
  /// cost order (level_cheaper); `threshold` in [0, 1].
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
