// The golden model's per-thread workspaces and sealed layers (issue 9): results must not depend
// on what ran before on the thread (a small ragged layer after large ones), on the thread, or on
// whether the layer's operands were packed once (golden::seal) or on every call.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>
#include <thread>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/quant.hpp"
#include "tflite_build.hpp"

namespace bitscale {
namespace {

using golden::Layer;
using golden::Mode;
using golden::PackedTensor;

struct LayerCase {
  Layer layer;
  PackedTensor input;
};

/// A layer of the given geometry with weights, bias, input and output stage drawn from `seed`
/// over the mode's whole range.
LayerCase make_case(golden::ConvShape s, Mode mode, std::uint32_t seed) {
  std::mt19937 rng(seed);
  LayerCase c;
  Layer& l = c.layer;
  l.shape = s;
  l.mode = mode;
  std::uniform_int_distribution<std::int32_t> v(golden::min_value(mode), golden::max_value(mode));
  l.weights.resize(static_cast<std::size_t>(s.weight_count()));
  for (auto& w : l.weights) w = v(rng);
  std::uniform_int_distribution<std::int32_t> b(-100000, 100000);
  l.bias.resize(static_cast<std::size_t>(s.out_c));
  for (auto& x : l.bias) x = b(rng);
  l.out.shift = golden::bits(mode) + 2;  // outputs spread over the range, some saturated
  l.out.relu = (seed & 1) != 0;
  std::vector<std::int32_t> in(static_cast<std::size_t>(s.in_h) * s.in_w * s.in_c);
  for (auto& x : in) x = v(rng);
  c.input = PackedTensor::from_values(s.in_h, s.in_w, s.in_c, mode, in);
  return c;
}

golden::ConvShape shape(int in_hw, int in_c, int out_c, int k, int stride, int pad, int groups) {
  golden::ConvShape s;
  s.in_h = s.in_w = in_hw;
  s.in_c = in_c;
  s.out_c = out_c;
  s.k_h = s.k_w = k;
  s.stride_h = s.stride_w = stride;
  s.pad_top = s.pad_left = s.pad_bottom = s.pad_right = pad;
  s.groups = groups;
  return s;
}

/// Large layers first (they grow every workspace buffer and fill it with their data), then small
/// layers whose channel counts leave partial words in every mode, on every path (GEMM, depthwise,
/// dot, direct 1x1, 16-bit split).
std::vector<LayerCase> cases() {
  std::vector<LayerCase> c;
  c.push_back(make_case(shape(24, 32, 48, 3, 1, 1, 1), Mode::k8, 1));   // GEMM
  c.push_back(make_case(shape(24, 48, 48, 3, 1, 1, 48), Mode::k8, 2));  // depthwise
  c.push_back(make_case(shape(16, 64, 96, 1, 1, 0, 1), Mode::k16, 3));  // direct 1x1, 16-bit
  c.push_back(make_case(shape(5, 5, 7, 3, 1, 1, 1), Mode::k4, 4));      // ragged GEMM
  c.push_back(make_case(shape(6, 3, 3, 3, 2, 1, 3), Mode::k8, 5));      // ragged depthwise, stride 2
  c.push_back(make_case(shape(4, 3, 5, 1, 1, 0, 1), Mode::k16, 6));     // small 1x1
  c.push_back(make_case(shape(1, 37, 11, 1, 1, 0, 1), Mode::k4, 7));    // fully connected: dot path
  c.push_back(make_case(shape(5, 6, 4, 3, 1, 0, 2), Mode::k8, 8));      // grouped
  c.push_back(make_case(shape(5, 3, 6, 3, 1, 1, 3), Mode::k4, 9));      // depthwise, multiplier 2
  return c;
}

TEST(ReferenceWorkspace, ResultsIndependentOfHistoryThreadAndSealing) {
  const std::vector<LayerCase> cs = cases();
  // Each layer alone on a fresh thread (empty workspace), unsealed.
  std::vector<PackedTensor> fresh(cs.size());
  std::vector<std::vector<std::int64_t>> fresh_acc(cs.size());
  for (std::size_t i = 0; i < cs.size(); ++i) {
    std::thread t([&] {
      fresh[i] = golden::conv2d(cs[i].layer, cs[i].input);
      fresh_acc[i] = golden::conv2d_acc(cs[i].layer, cs[i].input);
    });
    t.join();
  }
  // The accumulators agree with the direct loops of the spec (an independent computation).
  for (std::size_t i = 0; i < cs.size(); ++i) {
    EXPECT_EQ(fresh_acc[i], golden::conv2d_acc_naive(cs[i].layer, cs[i].input)) << "case " << i;
  }
  std::vector<LayerCase> sealed = cs;
  for (auto& c : sealed) golden::seal(c.layer);
  // Twice in a row on this thread (large layers first, so the small ones find used buffers),
  // unsealed and sealed, into one reused output tensor.
  PackedTensor out;
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < cs.size(); ++i) {
      golden::conv2d(cs[i].layer, cs[i].input, out);
      EXPECT_EQ(out, fresh[i]) << "unsealed, round " << round << ", case " << i;
      golden::conv2d(sealed[i].layer, sealed[i].input, out);
      EXPECT_EQ(out, fresh[i]) << "sealed, round " << round << ", case " << i;
      EXPECT_EQ(golden::conv2d_acc(sealed[i].layer, sealed[i].input), fresh_acc[i]) << "sealed acc, case " << i;
    }
  }
  // Two threads at once, in opposite orders, on the same sealed layers.
  std::vector<PackedTensor> ta(cs.size()), tb(cs.size());
  std::thread a([&] {
    for (std::size_t i = 0; i < cs.size(); ++i) ta[i] = golden::conv2d(sealed[i].layer, sealed[i].input);
  });
  std::thread b([&] {
    for (std::size_t i = cs.size(); i-- > 0;) tb[i] = golden::conv2d(sealed[i].layer, sealed[i].input);
  });
  a.join();
  b.join();
  for (std::size_t i = 0; i < cs.size(); ++i) {
    EXPECT_EQ(ta[i], fresh[i]) << "thread a, case " << i;
    EXPECT_EQ(tb[i], fresh[i]) << "thread b, case " << i;
  }
}

TEST(ReferenceWorkspace, SealedOperandsFollowTheWeightsStorage) {
  LayerCase c = make_case(shape(6, 8, 20, 3, 1, 1, 1), Mode::k8, 11);
  golden::seal(c.layer);
  // A copy shares the packed operands but has its own weights: changed weights must be used.
  Layer changed = c.layer;
  for (auto& w : changed.weights) w = -w / 2;
  EXPECT_EQ(golden::conv2d_acc(changed, c.input), golden::conv2d_acc_naive(changed, c.input));
  // Fields outside the packed operands (output stage, per-channel shifts) may change after seal.
  Layer restaged = c.layer;  // same values, new storage: the unsealed path
  c.layer.out.shift = 2;
  restaged.out.shift = 2;
  EXPECT_EQ(golden::conv2d(c.layer, c.input), golden::conv2d(restaged, c.input));
  c.layer.out.shift = 60;  // beyond the accumulator: still rejected on a sealed layer
  EXPECT_THROW((void)golden::conv2d(c.layer, c.input), std::invalid_argument);
  // seal validates: a weight outside the mode's range is rejected.
  LayerCase bad = make_case(shape(4, 2, 2, 1, 1, 0, 1), Mode::k4, 12);
  bad.layer.weights[1] = 8;
  EXPECT_THROW(golden::seal(bad.layer), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// A whole network: conv 3x3 (3 -> 5 channels: partial words at 8 and 4 bits), depthwise 3x3,
// pointwise 1x1 (5 -> 12), average pool, reshape, fully connected, softmax.

namespace tflite = model::tflite;
using test::add_tensor;
using test::random_floats;

constexpr int kSide = 9, kC1 = 5, kC2 = 12, kClasses = 10;

tflite::Model small_model(std::uint32_t seed) {
  std::mt19937 rng(seed);
  tflite::Model m;
  m.name = "workspace";
  const int in = test::add_image_input(m, kSide);
  const int w1 = add_tensor(m, {kC1, 3, 3, 3}, random_floats(kC1 * 27, rng, -0.5f, 0.5f));
  const int b1 = add_tensor(m, {kC1}, random_floats(kC1, rng, -0.2f, 0.2f));
  const int t1 = add_tensor(m, {1, kSide, kSide, kC1});
  const int w2 = add_tensor(m, {1, 3, 3, kC1}, random_floats(kC1 * 9, rng, -0.7f, 0.7f));
  const int b2 = add_tensor(m, {kC1}, random_floats(kC1, rng, -0.2f, 0.2f));
  const int t2 = add_tensor(m, {1, kSide, kSide, kC1});
  const int w3 = add_tensor(m, {kC2, 1, 1, kC1}, random_floats(kC2 * kC1, rng, -0.8f, 0.8f));
  const int b3 = add_tensor(m, {kC2}, random_floats(kC2, rng, -0.2f, 0.2f));
  const int t3 = add_tensor(m, {1, kSide, kSide, kC2});
  using tflite::Activation, tflite::OpType, tflite::Padding;
  m.ops = {test::make_op(OpType::kConv2D, {in, w1, b1}, t1, Padding::kSame, Activation::kRelu6),
           test::make_op(OpType::kDepthwiseConv2D, {t1, w2, b2}, t2, Padding::kSame, Activation::kRelu6),
           test::make_op(OpType::kConv2D, {t2, w3, b3}, t3)};
  m.inputs = {in};
  m.outputs = {test::add_classifier_head(m, t3, kSide, kC2, kClasses, rng)};
  return m;
}

std::vector<std::uint8_t> random_image(std::mt19937& rng) {
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<std::uint8_t> v(static_cast<std::size_t>(kSide * kSide * 3));
  for (auto& x : v) x = static_cast<std::uint8_t>(d(rng));
  return v;
}

struct Outcome {
  std::vector<float> probabilities;
  std::vector<PackedTensor> mac_outputs;
  bool operator==(const Outcome&) const = default;
};

Outcome run(const quant::QuantizedNetwork& q, driver::Accelerator& acc, const std::vector<std::uint8_t>& img) {
  quant::QuantRunOptions o;
  o.record_mac_outputs = true;
  quant::QuantResult r = q.run(acc, img, o);
  return {std::move(r.probabilities), std::move(r.mac_outputs)};
}

TEST(NetworkWorkspace, SameOutputsTwiceOnTwoThreadsAndOnTheRegisterLevelModel) {
  const model::Network net(tflite::to_model(small_model(5)));
  std::mt19937 rng(6);
  quant::Calibrator cal(net);
  for (int i = 0; i < 6; ++i) cal.add(random_image(rng), fmt::format("calib{}", i));
  const quant::Calibration calib = cal.result();
  const std::vector<std::uint8_t> img_a = random_image(rng), img_b = random_image(rng);
  for (int bits : {4, 8, 16}) {
    SCOPED_TRACE(fmt::format("{} bits", bits));
    const auto acc = driver::make_accelerator(driver::Backend::kGolden);
    const quant::QuantizedNetwork q(net, calib, bits, *acc);
    // The register-level model computes every tile with its own arithmetic (no conv2d).
    golden::GoldenDevice dev;
    driver::Accelerator dev_acc(dev);
    const Outcome want_a = run(q, dev_acc, img_a), want_b = run(q, dev_acc, img_b);
    ASSERT_NE(want_a.probabilities, want_b.probabilities);  // the images are told apart
    // A, B, A on one thread.
    EXPECT_EQ(run(q, *acc, img_a), want_a);
    EXPECT_EQ(run(q, *acc, img_b), want_b);
    EXPECT_EQ(run(q, *acc, img_a), want_a);
    // Two threads at once, one accelerator each, the images in opposite orders.
    Outcome ta1, ta2, tb1, tb2;
    std::thread t1([&] {
      const auto a = driver::make_accelerator(driver::Backend::kGolden);
      for (int rep = 0; rep < 3; ++rep) ta1 = run(q, *a, img_a), tb1 = run(q, *a, img_b);
    });
    std::thread t2([&] {
      const auto a = driver::make_accelerator(driver::Backend::kGolden);
      for (int rep = 0; rep < 3; ++rep) tb2 = run(q, *a, img_b), ta2 = run(q, *a, img_a);
    });
    t1.join();
    t2.join();
    EXPECT_EQ(ta1, want_a);
    EXPECT_EQ(ta2, want_a);
    EXPECT_EQ(tb1, want_b);
    EXPECT_EQ(tb2, want_b);
  }
}

}  // namespace
}  // namespace bitscale
