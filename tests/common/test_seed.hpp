// Seeds of random tests: BITSCALE_SEED replays one; otherwise a fixed default or a fresh seed.
// The seed is printed and recorded as a test property so that any failure can be replayed.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <random>
#include <string>

namespace bitscale::test {

/// BITSCALE_SEED if set; else `fixed` if given; else a fresh random seed.
inline std::uint64_t test_seed(std::optional<std::uint64_t> fixed = std::nullopt) {
  std::uint64_t seed = 0;
  if (const char* env = std::getenv("BITSCALE_SEED"); env != nullptr && *env != '\0') {
    seed = std::stoull(env, nullptr, 0);
  } else if (fixed) {
    seed = *fixed;
  } else {
    std::random_device rd;
    seed = (std::uint64_t{rd()} << 32) ^ rd();
  }
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::cout << "[   SEED   ] " << (info ? info->test_suite_name() : "") << "." << (info ? info->name() : "")
            << " BITSCALE_SEED=" << seed << std::endl;
  return seed;
}

}  // namespace bitscale::test
