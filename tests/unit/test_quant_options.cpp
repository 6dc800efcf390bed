// Host-side quantization options: the classifier at 16 bits in every level (logits with
// resolution) and stochastic rounding of the parameters (docs/QUANTIZATION.md).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <set>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/quant.hpp"
#include "bitscale/study/engine.hpp"
#include "tflite_build.hpp"

namespace bitscale::quant {
namespace {

using golden::Mode;
using model::Network;
namespace tflite = model::tflite;

// ---------------------------------------------------------------------------------------------
// Stochastic rounding

TEST(StochasticRounding, ReproducibleForASeedAndStream) {
  auto a = rounding_generator(42, 7);
  auto b = rounding_generator(42, 7);
  for (int i = 0; i < 1000; ++i) {
    const double y = 0.37 * i - 150.0;
    ASSERT_EQ(round_stochastic(y, a), round_stochastic(y, b)) << i;
  }
}

TEST(StochasticRounding, DifferentSeedsOrStreamsDiffer) {
  // y = k + 0.5: each rounding is a fair coin, so two independent sequences of 200 agree
  // everywhere with probability 2^-200; the draws must depend on the seed and on the stream.
  const auto sequence = [](std::uint64_t seed, std::uint64_t stream) {
    auto g = rounding_generator(seed, stream);
    std::vector<double> v;
    for (int i = 0; i < 200; ++i) v.push_back(round_stochastic(i + 0.5, g));
    return v;
  };
  EXPECT_NE(sequence(1, 0), sequence(2, 0));
  EXPECT_NE(sequence(1, 0), sequence(1, 1));
  // The high half of the seed counts too.
  EXPECT_NE(sequence(1, 0), sequence(1 + (std::uint64_t{1} << 32), 0));
}

TEST(StochasticRounding, ResultIsFloorOrCeilAndIntegersStayExact) {
  auto g = rounding_generator(3, 0);
  for (int i = 0; i < 2000; ++i) {
    const double y = -40.0 + 0.0371 * i;
    const double r = round_stochastic(y, g);
    EXPECT_TRUE(r == std::floor(y) || r == std::ceil(y)) << y << " -> " << r;
  }
  for (double k : {-5.0, 0.0, 7.0, 32767.0}) {
    for (int i = 0; i < 100; ++i) ASSERT_EQ(round_stochastic(k, g), k);
  }
}

TEST(StochasticRounding, UnbiasedOnAverage) {
  // One rounding of y is floor(y) + Bernoulli(p), p = frac(y): mean y, variance p (1 - p) <= 1/4.
  // The mean of N = 200000 roundings has a standard deviation sqrt(p (1 - p) / N) <= 0.00112;
  // 0.006 is more than 5 of them. Round to nearest would be off by |round(y) - y| >= 0.25 here.
  constexpr int kN = 200000;
  auto g = rounding_generator(2018, 1);
  for (double y : {3.3, -2.75, 0.5, 100.01, -0.9}) {
    double sum = 0;
    for (int i = 0; i < kN; ++i) sum += round_stochastic(y, g);
    EXPECT_NEAR(sum / kN, y, 0.006) << y;
  }
}

TEST(StochasticRounding, UniformDrawsAreInTheUnitInterval) {
  auto g = rounding_generator(0, 0);
  double lo = 1, hi = 0;
  for (int i = 0; i < 100000; ++i) {
    const double u = uniform_01(g);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    lo = std::min(lo, u), hi = std::max(hi, u);
  }
  EXPECT_LT(lo, 0.001);  // 100000 draws leave no gap of 0.001 at either end (P ~ e^-100)
  EXPECT_GT(hi, 0.999);
}

TEST(StochasticRounding, ValuesNeverLeaveTheModeRange) {
  auto g = rounding_generator(9, 9);
  for (const Mode m : {Mode::k4, Mode::k8, Mode::k16}) {
    const int lo = golden::min_value(m), hi = golden::max_value(m);
    std::set<std::int32_t> seen;
    for (int i = 0; i < 2000; ++i) {
      // Around and beyond both ends: hi + 0.6 would round up to hi + 1 with probability 0.6.
      for (double y : {hi + 0.6, hi - 0.4, lo - 0.6, lo + 0.3, 10.0 * hi, 10.0 * lo}) {
        const std::int32_t q = quantize_stochastic(std::ldexp(y, -3), 3, m, g);
        ASSERT_GE(q, lo) << golden::to_string(m);
        ASSERT_LE(q, hi) << golden::to_string(m);
        seen.insert(q);
      }
    }
    // Inside the range both neighbours occur: hi - 1 and hi from hi - 0.4, lo and lo + 1 from lo + 0.3.
    EXPECT_TRUE(seen.contains(hi - 1) && seen.contains(hi) && seen.contains(lo) && seen.contains(lo + 1));
  }
}

TEST(StochasticRounding, NamesRoundTrip) {
  for (const Rounding r : {Rounding::kNearest, Rounding::kStochastic}) EXPECT_EQ(rounding_from_string(to_string(r)), r);
  EXPECT_THROW((void)rounding_from_string("up"), std::invalid_argument);
  for (const ClassifierPrecision c : {ClassifierPrecision::kLevel, ClassifierPrecision::kWide})
    EXPECT_EQ(classifier_precision_from_string(to_string(c)), c);
  EXPECT_EQ(to_string(ClassifierPrecision::kWide), "16");
  EXPECT_THROW((void)classifier_precision_from_string("8"), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// A hand-built network: conv 3x3 + relu6, average pool, reshape, fully connected (the
// classifier), softmax.

using test::add_tensor;
using test::random_floats;

constexpr int kSide = 6, kChannels = 8, kClasses = 10;

tflite::Model classifier_model(std::uint32_t seed) {
  std::mt19937 rng(seed);
  tflite::Model m;
  m.name = "classifier";
  const int in = test::add_image_input(m, kSide);
  const int w1 = add_tensor(m, {kChannels, 3, 3, 3}, random_floats(kChannels * 27, rng, -0.5f, 0.5f));
  const int b1 = add_tensor(m, {kChannels}, random_floats(kChannels, rng, -0.2f, 0.2f));
  const int t1 = add_tensor(m, {1, kSide, kSide, kChannels});
  m.ops.push_back(
      test::make_op(tflite::OpType::kConv2D, {in, w1, b1}, t1, tflite::Padding::kSame, tflite::Activation::kRelu6));
  m.inputs = {in};
  m.outputs = {test::add_classifier_head(m, t1, kSide, kChannels, kClasses, rng)};
  return m;
}

std::vector<std::uint8_t> random_image(std::mt19937& rng) {
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<std::uint8_t> v(static_cast<std::size_t>(kSide * kSide * 3));
  for (auto& x : v) x = static_cast<std::uint8_t>(d(rng));
  return v;
}

class QuantOptionsNetwork : public ::testing::Test {
 protected:
  QuantOptionsNetwork() : net_(tflite::to_model(classifier_model(21))), acc_(dev_) {
    std::mt19937 rng(4);
    Calibrator cal(net_);
    for (int i = 0; i < 8; ++i) cal.add(random_image(rng), fmt::format("calib{}", i));
    calib_ = cal.result();
  }
  Network net_;
  Calibration calib_;
  golden::GoldenDevice dev_;
  driver::Accelerator acc_;
};

TEST_F(QuantOptionsNetwork, WideClassifierRunsTheLastMacLayerAt16BitsOnly) {
  const std::uint64_t classifier_macs = kChannels * kClasses;
  ASSERT_LT(classifier_macs, static_cast<std::uint64_t>(net_.macs()));
  std::mt19937 rng(8);
  for (int bits : {4, 8}) {
    const QuantizedNetwork level(net_, calib_, bits, acc_, WeightFl::kLayer);
    const QuantizedNetwork wide(net_, calib_, bits, acc_, WeightFl::kLayer, {.classifier = ClassifierPrecision::kWide});
    ASSERT_EQ(wide.layers().size(), 2u);
    const Mode m = golden::mode_from_bits(bits);
    EXPECT_EQ(wide.layers()[0].prepared.layer.mode, m);
    EXPECT_EQ(wide.layers()[1].prepared.layer.mode, Mode::k16);
    EXPECT_EQ(level.layers()[1].prepared.layer.mode, m);
    // The layers before the classifier are untouched.
    EXPECT_EQ(wide.layers()[0].prepared.layer.weights, level.layers()[0].prepared.layer.weights);
    EXPECT_EQ(wide.layers()[0].fl_out, level.layers()[0].fl_out);
    // The classifier's weights follow the 16-bit FL rule: 16 - IL(max |w|).
    const model::Op& fc = net_.ops()[static_cast<std::size_t>(wide.layers()[1].op)];
    double wmax = 0;
    for (float w : fc.weights) wmax = std::max(wmax, static_cast<double>(std::fabs(w)));
    EXPECT_EQ(wide.layers()[1].fl_w, 16 - integer_length(wmax));
    // FL = bits - IL for both the calibrated output and the weights: the logits gain 16 - bits
    // fractional bits.
    EXPECT_EQ(wide.layers()[1].fl_out - level.layers()[1].fl_out, 16 - bits) << bits;
    for (int i = 0; i < 3; ++i) {
      const auto img = random_image(rng);
      const QuantResult r = wide.run(acc_, img);
      // The energy model sees the classifier as 16-bit MACs.
      EXPECT_EQ(r.counters.mac16, classifier_macs);
      EXPECT_EQ(r.counters.macs(m), static_cast<std::uint64_t>(net_.macs()) - classifier_macs);
      ASSERT_EQ(r.probabilities.size(), static_cast<std::size_t>(kClasses));
    }
  }
  // At 16 bits the option changes nothing.
  const QuantizedNetwork l16(net_, calib_, 16, acc_, WeightFl::kLayer);
  const QuantizedNetwork w16(net_, calib_, 16, acc_, WeightFl::kLayer, {.classifier = ClassifierPrecision::kWide});
  for (std::size_t i = 0; i < l16.layers().size(); ++i) {
    EXPECT_EQ(l16.layers()[i].prepared.layer.weights, w16.layers()[i].prepared.layer.weights);
    EXPECT_EQ(l16.layers()[i].prepared.layer.bias, w16.layers()[i].prepared.layer.bias);
  }
}

TEST_F(QuantOptionsNetwork, WideClassifierLogitsAreCloserToTheFloatOnes) {
  // With 8 more fractional bits on the logits, the probabilities at 4 bits track the float
  // network's no worse on average than when the logits keep the 4-bit format.
  std::mt19937 rng(12);
  const QuantizedNetwork level(net_, calib_, 4, acc_);
  const QuantizedNetwork wide(net_, calib_, 4, acc_, WeightFl::kChannel, {.classifier = ClassifierPrecision::kWide});
  std::set<float> distinct_level, distinct_wide;
  for (int i = 0; i < 20; ++i) {
    const auto img = random_image(rng);
    for (float p : level.run(acc_, img).probabilities) distinct_level.insert(p);
    for (float p : wide.run(acc_, img).probabilities) distinct_wide.insert(p);
  }
  // 4-bit logits take at most 16 values, so the probabilities of an image come from few
  // distinct numbers; 16-bit logits resolve them.
  EXPECT_GT(distinct_wide.size(), distinct_level.size());
}

TEST_F(QuantOptionsNetwork, NearestRoundingIsTheDefaultWhateverTheSeed) {
  for (int bits : {4, 8, 16}) {
    const QuantizedNetwork plain(net_, calib_, bits, acc_);
    const QuantizedNetwork seeded(net_, calib_, bits, acc_, WeightFl::kChannel,
                                  {.rounding = Rounding::kNearest, .rounding_seed = 99});
    for (std::size_t i = 0; i < plain.layers().size(); ++i) {
      EXPECT_EQ(plain.layers()[i].prepared.layer.weights, seeded.layers()[i].prepared.layer.weights);
      EXPECT_EQ(plain.layers()[i].prepared.layer.bias, seeded.layers()[i].prepared.layer.bias);
    }
  }
}

TEST_F(QuantOptionsNetwork, StochasticWeightsAreSeededNeighboursOfTheExactValues) {
  const QuantOptions s1{.rounding = Rounding::kStochastic, .rounding_seed = 1};
  const QuantOptions s2{.rounding = Rounding::kStochastic, .rounding_seed = 2};
  for (int bits : {4, 8, 16}) {
    const Mode m = golden::mode_from_bits(bits);
    const QuantizedNetwork a(net_, calib_, bits, acc_, WeightFl::kLayer, s1);
    const QuantizedNetwork a_again(net_, calib_, bits, acc_, WeightFl::kLayer, s1);
    const QuantizedNetwork b(net_, calib_, bits, acc_, WeightFl::kLayer, s2);
    const QuantizedNetwork nearest(net_, calib_, bits, acc_, WeightFl::kLayer);
    bool differs_from_b = false, differs_from_nearest = false;
    for (std::size_t li = 0; li < a.layers().size(); ++li) {
      const QuantLayer& ql = a.layers()[li];
      const golden::Layer& L = ql.prepared.layer;
      EXPECT_EQ(L.weights, a_again.layers()[li].prepared.layer.weights);
      EXPECT_EQ(L.bias, a_again.layers()[li].prepared.layer.bias);
      differs_from_b |= L.weights != b.layers()[li].prepared.layer.weights;
      differs_from_nearest |= L.weights != nearest.layers()[li].prepared.layer.weights;
      // Same formats as round to nearest: only the rounding of the values changes.
      EXPECT_EQ(ql.fl_w, nearest.layers()[li].fl_w);
      const model::Op& op = net_.ops()[static_cast<std::size_t>(ql.op)];
      for (std::size_t k = 0; k < op.weights.size(); ++k) {
        const double y = std::ldexp(static_cast<double>(op.weights[k]), ql.fl_w);
        const double lo = std::max(std::floor(y), static_cast<double>(golden::min_value(m)));
        const double hi = std::min(std::ceil(y), static_cast<double>(golden::max_value(m)));
        ASSERT_GE(L.weights[k], lo) << bits << "-bit layer " << li << " weight " << k;
        ASSERT_LE(L.weights[k], hi) << bits << "-bit layer " << li << " weight " << k;
      }
      for (std::size_t k = 0; k < op.bias.size(); ++k) {
        const double y = std::ldexp(static_cast<double>(op.bias[k]), ql.fl_in + ql.fl_w);
        EXPECT_TRUE(L.bias[k] == std::floor(y) || L.bias[k] == std::ceil(y)) << bits << "-bit bias " << k;
      }
    }
    // 296 weights, each a coin flip unless exact: the seeds and round to nearest give other values.
    EXPECT_TRUE(differs_from_b) << bits;
    EXPECT_TRUE(differs_from_nearest) << bits;
  }
}

TEST(QuantOptions, DescribeNamesTheChoices) {
  EXPECT_EQ(describe({}), "classifier at the level, round to nearest");
  EXPECT_EQ(describe(study::kArrayQuantDefaults), "classifier 16-bit, round to nearest");
  EXPECT_EQ(describe({.rounding = Rounding::kStochastic, .rounding_seed = 7}),
            "classifier at the level, stochastic rounding (seed 7)");
}

}  // namespace
}  // namespace bitscale::quant
