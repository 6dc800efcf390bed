// Seeds of random tests. Deterministic by default, so that CI runs are reproducible:
//   - BITSCALE_SEED=<n>       replays one seed (every test of the run uses it);
//   - BITSCALE_SEED=random    draws a fresh seed (for soak runs; the seed is printed);
//   - unset                   a fixed default seed.
// The seed is printed and recorded as a test property so that any failure can be replayed.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <string_view>

namespace bitscale::test {

inline constexpr std::uint64_t kDefaultSeed = 20261123;

/// The seed of this run: BITSCALE_SEED if set (a number or "random"), else `fallback`.
inline std::uint64_t run_seed(std::uint64_t fallback = kDefaultSeed) {
  static const std::uint64_t fresh = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
  }();
  const char* env = std::getenv("BITSCALE_SEED");
  if (env == nullptr || *env == '\0') return fallback;
  if (std::string_view(env) == "random") return fresh;
  return std::stoull(env, nullptr, 0);
}

/// The seed of the current test (see run_seed), printed and recorded.
inline std::uint64_t test_seed(std::uint64_t fallback = kDefaultSeed) {
  const std::uint64_t seed = run_seed(fallback);
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::cout << "[   SEED   ] " << (info ? info->test_suite_name() : "") << "." << (info ? info->name() : "")
            << " BITSCALE_SEED=" << seed << std::endl;
  return seed;
}

/// A generator for the current test: the seed mixed with the test's name, so that tests
/// sharing one seed still draw different data.
inline std::mt19937_64 test_rng(std::uint64_t fallback = kDefaultSeed) {
  const std::uint64_t seed = test_seed(fallback);
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : std::string();
  return std::mt19937_64(seed ^ std::hash<std::string>{}(name));
}

}  // namespace bitscale::test
