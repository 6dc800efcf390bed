// Hand-made study records for unit tests: one run of an image whose label is class 7.
#pragma once

#include <optional>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/study/records.hpp"

namespace bitscale::test {

/// A run predicting class 7 (correct) or 3 (wrong) with score margin `margin`; counters for array runs.
inline study::RunRecord labelled_run(bool correct, double margin, std::optional<driver::Counters> counters = {}) {
  study::RunRecord r;
  r.top1 = correct ? 7 : 3;
  r.correct1 = r.correct5 = correct;
  r.margin = margin;
  r.counters = counters;
  return r;
}

}  // namespace bitscale::test
