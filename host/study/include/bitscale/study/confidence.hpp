// Confidence of one classification, the signal the bit-width controller thresholds: the seed
// paper's score margin SM = P(top1) - P(top2) (the default), the top-1 probability, or one minus
// the normalised entropy of the output distribution. Each metric is a number in [0, 1] where a
// larger value means a more confident result, so one threshold rule (accept when >= T_h) serves all.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bitscale::study {

struct RunRecord;

/// The confidence metric of a controller or a policy.
enum class Metric { kScoreMargin, kMaxProb, kEntropy };
/// "margin", "max-prob", "entropy" (the names of --metric and of policy files).
std::string to_string(Metric m);
/// The metric named `name`; throws std::invalid_argument listing the accepted names.
Metric parse_metric(std::string_view name);

/// The score margin SM = P(top1) - P(top2) of a probability vector, subtracted in float (the
/// value the records keep). 0 for fewer than two entries: with no runner-up there is no margin
/// evidence, so a one-class output never counts as confident. The one definition (engines use it).
float score_margin(std::span<const float> probs);
/// The largest probability (0 for an empty vector).
float max_probability(std::span<const float> probs);
/// Shannon entropy of the full distribution divided by ln(N), in [0, 1] (0: one-hot; 1: uniform;
/// 1 for fewer than two entries, i.e. no evidence). Terms with p <= 0 contribute nothing;
/// accumulated in double, returned as float.
float normalized_entropy(std::span<const float> probs);

/// The confidence of a recorded run under `m`, larger = more confident, in [0, 1]:
/// margin, max_prob, or 1 - entropy.
double confidence(const RunRecord& r, Metric m);

/// AUROC of a confidence separating `positives` (e.g. images classified correctly: easy) from
/// `negatives` (wrong: difficult): the probability that a random positive has a higher value than
/// a random negative, ties counting 1/2, i.e. the Mann-Whitney U / (n_pos n_neg), computed exactly
/// (pairs counted in integers). 1: perfectly separated, 0: reversed, 0.5: no separation (or all
/// tied). nullopt when either set is empty. NaN values are refused (std::invalid_argument).
std::optional<double> auroc(std::span<const double> positives, std::span<const double> negatives);

}  // namespace bitscale::study
