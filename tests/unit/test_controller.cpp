// The bit-width controller (escalation rule); the energy model is in test_energy.cpp.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "bitscale/study/controller.hpp"
#include "bitscale/study/records.hpp"

namespace {

using bitscale::study::Controller;
using bitscale::study::score_margin;

TEST(Controller, ScoreMarginIsTop1MinusTop2) {
  const std::vector<float> p{0.2f, 0.5f, 0.3f};
  EXPECT_NEAR(score_margin(p), 0.5 - 0.3, 1e-7);
  const std::vector<float> tie{0.4f, 0.2f, 0.4f};
  EXPECT_EQ(score_margin(tie), 0.0);
  const std::vector<float> one{1.0f};
  EXPECT_EQ(score_margin(one), 0.0);
  EXPECT_EQ(score_margin(std::vector<float>{}), 0.0);
}

TEST(Controller, ScoreMarginIsTheFloatDifferenceWhateverTheOrder) {
  // The difference is taken in float (what the engines report and the records keep).
  const float a = 0.7310586f, b = 0.26894143f;
  EXPECT_EQ(score_margin(std::vector<float>{b, a}), a - b);
  EXPECT_EQ(score_margin(std::vector<float>{a, 0.0f, b}), a - b);
  // Only the two largest matter; sorted input (a top-5 list) gives the same value.
  EXPECT_EQ(score_margin(std::vector<float>{0.1f, a, b, 0.01f}), score_margin(std::vector<float>{a, b, 0.1f}));
}

TEST(Confidence, MaxProbabilityAndNormalizedEntropy) {
  using bitscale::study::max_probability;
  using bitscale::study::normalized_entropy;
  EXPECT_EQ(max_probability(std::vector<float>{0.2f, 0.5f, 0.3f}), 0.5f);
  EXPECT_EQ(max_probability(std::vector<float>{}), 0.0f);
  // One-hot: no uncertainty; uniform over N: ln N / ln N = 1.
  EXPECT_EQ(normalized_entropy(std::vector<float>{0.0f, 1.0f, 0.0f, 0.0f}), 0.0f);
  EXPECT_NEAR(normalized_entropy(std::vector<float>(8, 0.125f)), 1.0, 1e-6);
  // Probabilities 1/2, 1/4, 1/4, 0: H = 1.5 ln 2, ln 4 = 2 ln 2 -> 0.75.
  EXPECT_NEAR(normalized_entropy(std::vector<float>{0.5f, 0.25f, 0.25f, 0.0f}), 0.75, 1e-6);
  EXPECT_EQ(normalized_entropy(std::vector<float>{1.0f}), 1.0f);  // no runner-up: no evidence
}

TEST(Confidence, MetricsAreLargerWhenMoreConfidentAndNamed) {
  using bitscale::study::Metric;
  bitscale::study::RunRecord sure, unsure;
  sure.margin = 0.9, sure.max_prob = 0.95, sure.entropy = 0.05;
  unsure.margin = 0.01, unsure.max_prob = 0.3, unsure.entropy = 0.8;
  for (Metric m : {Metric::kScoreMargin, Metric::kMaxProb, Metric::kEntropy}) {
    EXPECT_GT(confidence(sure, m), confidence(unsure, m)) << to_string(m);
    EXPECT_EQ(bitscale::study::parse_metric(to_string(m)), m);
  }
  EXPECT_DOUBLE_EQ(confidence(unsure, Metric::kEntropy), 0.2);
  EXPECT_THROW(bitscale::study::parse_metric("sm"), std::invalid_argument);
}

TEST(Controller, EscalatesUntilTheMarginReachesTheThreshold) {
  const Controller c({4, 8, 16}, 0.5);
  std::vector<int> calls;
  const std::vector<double> margins{0.1, 0.6, 0.9};
  const auto d = c.decide([&](int bits) {
    calls.push_back(bits);
    return margins[calls.size() - 1];
  });
  EXPECT_EQ(calls, (std::vector<int>{4, 8}));
  EXPECT_EQ(d.executed, (std::vector<int>{4, 8}));
  EXPECT_EQ(d.accepted_bits, 8);
  EXPECT_DOUBLE_EQ(d.margin, 0.6);
  EXPECT_TRUE(d.escalated());
}

TEST(Controller, AcceptsAtLowestWhenConfidentAndStopsAtHighest) {
  const Controller c({8, 16}, 0.3);
  const std::vector<double> sure{0.3, 0.0};  // margin == threshold is accepted
  EXPECT_EQ(c.decide(std::span<const double>(sure)).executed, (std::vector<int>{8}));
  const std::vector<double> unsure{0.1, 0.05};  // never confident: ends at the highest level
  const auto d = c.decide(std::span<const double>(unsure));
  EXPECT_EQ(d.executed, (std::vector<int>{8, 16}));
  EXPECT_EQ(d.accepted_bits, 16);
  // T = 0 never escalates; T = 1 always does unless the margin is exactly 1.
  const std::vector<double> m{0.0, 0.5, 0.99};
  EXPECT_EQ(Controller({4, 8, 16}, 0.0).decide(std::span<const double>(m)).accepted_bits, 4);
  EXPECT_EQ(Controller({4, 8, 16}, 1.0).decide(std::span<const double>(m)).accepted_bits, 16);
}

TEST(Controller, HigherThresholdNeverLowersThePrecision) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int t = 0; t < 2000; ++t) {
    const std::vector<double> m{u(rng), u(rng), u(rng)};
    const double a = u(rng), b = u(rng);
    const auto lo = Controller({4, 8, 16}, std::min(a, b)).decide(std::span<const double>(m));
    const auto hi = Controller({4, 8, 16}, std::max(a, b)).decide(std::span<const double>(m));
    EXPECT_LE(lo.accepted_bits, hi.accepted_bits);
    EXPECT_LE(lo.executed.size(), hi.executed.size());
  }
}

TEST(Controller, RejectsBadConfigurations) {
  EXPECT_THROW(Controller({}, 0.5), std::invalid_argument);
  EXPECT_THROW(Controller({8, 4}, 0.5), std::invalid_argument);
  EXPECT_THROW(Controller({8, 8}, 0.5), std::invalid_argument);
  EXPECT_THROW(Controller({5, 8}, 0.5), std::invalid_argument);
  EXPECT_THROW(Controller({4, 8}, -0.1), std::invalid_argument);
  EXPECT_THROW(Controller({4, 8}, 1.5), std::invalid_argument);
  EXPECT_THROW(Controller({4, 8}, std::nan("")), std::invalid_argument);
  const std::vector<double> two{0.1, 0.2};
  EXPECT_THROW((void)Controller({4, 8, 16}, 0.5).decide(std::span<const double>(two)), std::invalid_argument);
}

}  // namespace
