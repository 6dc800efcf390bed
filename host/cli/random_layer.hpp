// Seeded random layers for regressions: shapes with edge cases (K = 1, K not a multiple
// of the lanes, M and N not multiples of the array size, padding, stride, groups) and
// values that reach the extremes of the mode and saturate the output stage.
#pragma once

#include <cstdint>
#include <random>

#include "bitscale/golden/tensor.hpp"

namespace bitscale::cli {

struct RandomCase {
  golden::Layer layer;
  golden::PackedTensor input;
  std::string kind;  ///< "fc", "conv", "grouped", "depthwise"
};

/// Seed of layer `index` of a regression with seed `seed` in mode `mode` (replayable).
std::uint64_t case_seed(std::uint64_t seed, golden::Mode mode, std::uint64_t index);

/// A random layer and input drawn from `case_seed`. `max_k` bounds K of fully-connected
/// layers (convolutions have K <= 3*3*24).
RandomCase random_case(std::uint64_t case_seed, golden::Mode mode, int max_k = 4096);

}  // namespace bitscale::cli
