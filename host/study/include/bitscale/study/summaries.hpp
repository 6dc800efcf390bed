// The text the commands print about a finished job: one function per summary, so that the
// commands only parse options and call, and so that a unit test can check every line.
// Each function returns whole lines (ending in '\n').
#pragma once

#include <cstddef>
#include <string>

#include "bitscale/study/apply_job.hpp"
#include "bitscale/study/characterize.hpp"
#include "bitscale/study/characterize_job.hpp"
#include "bitscale/study/classify_job.hpp"
#include "bitscale/study/confirm.hpp"
#include "bitscale/study/eval_job.hpp"
#include "bitscale/study/sweep_job.hpp"

namespace bitscale::study {

/// A resumable job stopped by --stop-after after `computed` new images.
std::string stopped_summary(std::size_t computed);

/// `bitscale eval`: model and back-end, top-1/top-5, throughput (array cycles per image on the
/// array) and, with a comparison of back-ends, how many images matched.
std::string eval_summary(const EvalOutcome& r);

/// `bitscale classify`: image, model and back-end, the label, the top-5 classes (names from the
/// synsets when known), the score margin and, on the array, its counters.
std::string classify_summary(const ClassifyOutcome& r);

/// `bitscale sweep`: the headline (images, back-end, float top-1) and its table.
std::string sweep_headline(const SweepOutcome& r);
/// `bitscale sweep --confirm-rtl`: how many images the RTL reproduced.
std::string sweep_confirmation(const Confirmation& c);
/// `bitscale sweep`: where the outputs are.
std::string sweep_outputs(const std::string& out_dir);

/// `bitscale apply`: the policy, the images, float and dynamic top-1, the drop and the saving vs static
/// 16-bit and the images accepted at each level, each with its 95 % interval, and whether the target held.
std::string apply_summary(const ApplyOutcome& r);

/// `bitscale characterize`, after phase 1 (correct = top-5 with `top5`, else top-1).
std::string float_phase_summary(const FloatBaseline& base, bool top5, std::size_t resumed);
/// `bitscale characterize`: the histogram of minimum bit-widths, the configurations and the
/// score-margin statistics (r.result must be set: a complete run).
std::string characterize_summary(const CharacterizeJobOutcome& r);
/// `bitscale characterize`: where the outputs are.
std::string characterize_outputs(const std::string& out_dir);

}  // namespace bitscale::study
