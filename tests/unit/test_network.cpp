// Float reference kernels, dynamic fixed point rules, and a hand-built network run in float and
// through the driver on the golden device.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <random>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/float_ops.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/quant/quant.hpp"
#include "bitscale/study/engine.hpp"
#include "tflite_build.hpp"

namespace bitscale::model {

using namespace quant;  // NOLINT(google-build-using-namespace)
using namespace study;  // NOLINT(google-build-using-namespace)
using namespace data;   // NOLINT(google-build-using-namespace)
namespace {

using golden::FloatActivation;
using golden::FloatTensor;
using golden::Window;

using test::random_floats;

// ---------------------------------------------------------------------------------------------
// Float kernels

TEST(FloatOps, SamePaddingAmounts) {
  // out = ceil(in / s), total = max((out - 1) * s + k - in, 0), before = total / 2.
  EXPECT_EQ(golden::same_padding(7, 3, 2).before, 1);
  EXPECT_EQ(golden::same_padding(7, 3, 2).after, 1);
  EXPECT_EQ(golden::same_padding(8, 3, 2).before, 0);  // total 1: the extra row goes after
  EXPECT_EQ(golden::same_padding(8, 3, 2).after, 1);
  EXPECT_EQ(golden::same_padding(128, 3, 2).before, 0);
  EXPECT_EQ(golden::same_padding(128, 3, 2).after, 1);
  EXPECT_EQ(golden::same_padding(4, 3, 1).before, 1);
  EXPECT_EQ(golden::same_padding(4, 3, 1).after, 1);
  EXPECT_EQ(golden::same_padding(5, 1, 2).before + golden::same_padding(5, 1, 2).after, 0);
  EXPECT_EQ(golden::same_padding(10, 3, 1, 2).before, 2);  // dilated: effective kernel 5
  EXPECT_EQ(golden::same_padding(10, 3, 1, 2).after, 2);
  EXPECT_EQ(golden::same_padding(3, 4, 1).before, 1);
  EXPECT_EQ(golden::same_padding(3, 4, 1).after, 2);
}

TEST(FloatOps, Conv2dMatchesDirectFormula) {
  std::mt19937 rng(7);
  for (int groups : {1, 2, 4}) {
    for (int dil : {1, 2}) {
      const int in_c = 4, out_c = 8, kh = 3, kw = 2;
      FloatTensor in(6, 7, in_c);
      in.data = random_floats(in.size(), rng);
      const auto w = random_floats(static_cast<std::size_t>(out_c) * kh * kw * (in_c / groups), rng);
      const auto b = random_floats(out_c, rng);
      Window win;
      win.k_h = kh, win.k_w = kw, win.stride_h = 2, win.stride_w = 1, win.dilation_h = dil, win.dilation_w = dil;
      win.pad_top = 1, win.pad_bottom = 2, win.pad_left = 0, win.pad_right = 1;
      const FloatTensor out = golden::conv2d(in, w, b, out_c, groups, win, FloatActivation::kNone);
      const int cig = in_c / groups, cog = out_c / groups;
      ASSERT_EQ(out.h, (6 + 3 - ((kh - 1) * dil + 1)) / 2 + 1);
      for (int y = 0; y < out.h; ++y) {
        for (int x = 0; x < out.w; ++x) {
          for (int n = 0; n < out_c; ++n) {
            double s = b[n];
            const int g = n / cog;
            for (int ky = 0; ky < kh; ++ky) {
              for (int kx = 0; kx < kw; ++kx) {
                const int iy = y * 2 + ky * dil - 1, ix = x + kx * dil;
                if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
                for (int ci = 0; ci < cig; ++ci) {
                  s += in.at(iy, ix, g * cig + ci) * w[((static_cast<std::size_t>(n) * kh + ky) * kw + kx) * cig + ci];
                }
              }
            }
            ASSERT_NEAR(out.at(y, x, n), s, 1e-4) << "groups " << groups << " dil " << dil;
          }
        }
      }
    }
  }
}

TEST(FloatOps, AveragePoolExcludesPaddedCells) {
  FloatTensor in(3, 3, 1);
  for (int i = 0; i < 9; ++i) in.data[i] = static_cast<float>(i);
  Window win;
  win.k_h = win.k_w = 2, win.stride_h = win.stride_w = 2;
  const auto ph = golden::same_padding(3, 2, 2);
  ASSERT_EQ(ph.before, 0);
  ASSERT_EQ(ph.after, 1);
  win.pad_bottom = win.pad_right = 1;
  const FloatTensor a = golden::average_pool(in, win, FloatActivation::kNone);
  ASSERT_EQ(a.h, 2);
  EXPECT_FLOAT_EQ(a.at(0, 0, 0), (0 + 1 + 3 + 4) / 4.0f);
  EXPECT_FLOAT_EQ(a.at(0, 1, 0), (2 + 5) / 2.0f);  // 2 cells inside, not 4
  EXPECT_FLOAT_EQ(a.at(1, 0, 0), (6 + 7) / 2.0f);
  EXPECT_FLOAT_EQ(a.at(1, 1, 0), 8.0f);  // 1 cell
  const FloatTensor m = golden::max_pool(in, win, FloatActivation::kNone);
  EXPECT_FLOAT_EQ(m.at(0, 0, 0), 4.0f);
  EXPECT_FLOAT_EQ(m.at(1, 1, 0), 8.0f);
  // 3x3 SAME stride 1 at a corner: 4 cells.
  Window w3;
  w3.k_h = w3.k_w = 3, w3.pad_top = w3.pad_left = w3.pad_bottom = w3.pad_right = 1;
  EXPECT_FLOAT_EQ(golden::average_pool(in, w3, FloatActivation::kNone).at(0, 0, 0), (0 + 1 + 3 + 4) / 4.0f);
}

TEST(FloatOps, SmallOps) {
  FloatTensor a(1, 2, 2), b(1, 2, 2);
  a.data = {1, -2, 3, 7};
  b.data = {0.5f, 0.5f, 0.5f, 0.5f};
  EXPECT_EQ(golden::add(a, b, FloatActivation::kRelu6).data, (std::vector<float>{1.5f, 0, 3.5f, 6}));
  EXPECT_EQ(golden::mean_hw(a).data, (std::vector<float>{2, 2.5f}));
  const auto s = golden::softmax(std::vector<float>{1, 2, 3});
  const double e = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(s[2], std::exp(3.0) / e, 1e-6);
  const auto p = golden::pad(a, {1, 0}, {0, 1});
  EXPECT_EQ(p.h, 2);
  EXPECT_EQ(p.w, 3);
  EXPECT_FLOAT_EQ(p.at(1, 1, 1), 7);
  EXPECT_FLOAT_EQ(p.at(0, 1, 1), 0);
  const FloatTensor parts[] = {a, b};
  const auto c = golden::concatenate(parts, 2);
  EXPECT_EQ(c.c, 4);
  EXPECT_FLOAT_EQ(c.at(0, 1, 1), 7);
  EXPECT_FLOAT_EQ(c.at(0, 1, 3), 0.5f);
  const auto fc = golden::fully_connected(std::vector<float>{1, 2}, std::vector<float>{1, 1, 2, -3},
                                          std::vector<float>{0.5f, 0}, 2, FloatActivation::kRelu);
  EXPECT_EQ(fc, (std::vector<float>{3.5f, 0}));
  EXPECT_FLOAT_EQ(golden::activate(-3, FloatActivation::kReluN1To1), -1);
}

// ---------------------------------------------------------------------------------------------
// Dynamic fixed point rules (docs/QUANTIZATION.md)

TEST(Quantization, FractionalLengthRule) {
  // IL = ceil(log2(max)) + 1, FL = B - IL.
  EXPECT_EQ(integer_length(0.7), 1);  // ceil(log2 0.7) = 0
  EXPECT_EQ(fractional_length(0.7, 8), 7);
  EXPECT_EQ(fractional_length(6.0, 16), 12);  // ceil(log2 6) = 3 -> IL 4
  EXPECT_EQ(fractional_length(6.0, 8), 4);
  EXPECT_EQ(fractional_length(1.0, 8), 7);   // log2 1 = 0 -> IL 1
  EXPECT_EQ(fractional_length(18.1, 8), 2);  // IL 6
  EXPECT_EQ(fractional_length(18.1, 4), -2);
  EXPECT_EQ(fractional_length(0.1, 4), 6);  // ceil(-3.32) = -3 -> IL -2
  EXPECT_EQ(fractional_length(0.0, 8), 7);
  EXPECT_EQ(fractional_length(0.0, 4), 3);
}

TEST(Quantization, ValuesRoundingAndRescale) {
  using golden::Mode;
  EXPECT_EQ(quantize_value(0.7, 7, Mode::k8), 90);   // 89.6
  EXPECT_EQ(quantize_value(1.0, 7, Mode::k8), 127);  // saturated
  EXPECT_EQ(quantize_value(-1.0, 7, Mode::k8), -128);
  EXPECT_EQ(quantize_value(-0.3, 3, Mode::k4), -2);  // -2.4
  EXPECT_EQ(quantize_value(40.0, -2, Mode::k4), 7);  // 10 saturates
  EXPECT_EQ(rescale(3, 1, 0), 2);                    // round half up
  EXPECT_EQ(rescale(-3, 1, 0), -1);
  EXPECT_EQ(rescale(5, 2, 4), 20);
  EXPECT_EQ(round_div(5, 2), 3);
  EXPECT_EQ(round_div(-5, 2), -2);
  EXPECT_EQ(round_div(7, 3), 2);
  EXPECT_EQ(round_div(-7, 3), -2);
}

// ---------------------------------------------------------------------------------------------
// A hand-built model: conv+relu6 (SAME, stride 2), depthwise (multiplier 1) + relu, add,
// average pool, reshape, fully connected, softmax.

using test::add_tensor;

tflite::Model tiny_model(std::uint32_t seed) {
  std::mt19937 rng(seed);
  tflite::Model m;
  m.name = "tiny";
  const int in = test::add_image_input(m, 9);
  const int w1 = add_tensor(m, {8, 3, 3, 3}, random_floats(8 * 27, rng, -0.5f, 0.5f));
  const int b1 = add_tensor(m, {8}, random_floats(8, rng, -0.2f, 0.2f));
  const int t1 = add_tensor(m, {1, 5, 5, 8});
  const int w2 = add_tensor(m, {1, 3, 3, 8}, random_floats(72, rng, -1.0f, 1.0f));
  const int b2 = add_tensor(m, {8}, random_floats(8, rng, -0.2f, 0.2f));
  const int t2 = add_tensor(m, {1, 5, 5, 8});
  const int t3 = add_tensor(m, {1, 5, 5, 8});
  using tflite::Activation, tflite::OpType, tflite::Padding;
  tflite::Op conv = test::make_op(OpType::kConv2D, {in, w1, b1}, t1, Padding::kSame, Activation::kRelu6);
  conv.stride_h = conv.stride_w = 2;
  m.ops = {conv, test::make_op(OpType::kDepthwiseConv2D, {t1, w2, b2}, t2, Padding::kSame, Activation::kRelu),
           test::make_op(OpType::kAdd, {t1, t2}, t3)};
  m.inputs = {in};
  m.outputs = {test::add_classifier_head(m, t3, 5, 8, 10, rng)};
  return m;
}

std::vector<std::uint8_t> random_image(std::mt19937& rng, std::size_t n) {
  std::uniform_int_distribution<int> d(0, 255);
  std::vector<std::uint8_t> v(n);
  for (auto& x : v) x = static_cast<std::uint8_t>(d(rng));
  return v;
}

/// Calibration of a tiny (9x9x3) model on `n` random images.
Calibration random_calibration(const Network& net, std::mt19937& rng, int n) {
  Calibrator cal(net);
  for (int i = 0; i < n; ++i) cal.add(random_image(rng, 243), "calib" + std::to_string(i));
  return cal.result();
}

TEST(Network, ResolvesPaddingAndDepthwiseLayout) {
  const tflite::Model m = tiny_model(1);
  const Network net(tflite::to_model(m));
  ASSERT_EQ(net.ops().size(), 7u);
  const Op& conv = net.ops()[0];
  EXPECT_EQ(conv.win.pad_top, 1);  // in 9, k 3, s 2: out 5, total 2
  EXPECT_EQ(conv.win.pad_bottom, 1);
  const Op& dw = net.ops()[1];
  EXPECT_EQ(dw.groups, 8);
  EXPECT_EQ(dw.out_c, 8);
  // OHWI [8][3][3][1] from 1HWC [1][3][3][8].
  std::vector<float> src(72);
  std::memcpy(src.data(), m.tensors[m.ops[1].inputs[1]].data.data(), 72 * 4);
  for (int o = 0; o < 8; ++o) {
    for (int t = 0; t < 9; ++t) EXPECT_EQ(dw.weights[o * 9 + t], src[t * 8 + o]);
  }
  EXPECT_EQ(net.input_h(), 9);
  EXPECT_TRUE(net.ends_in_softmax());
}

TEST(Network, InputEncodingOfEachInputType) {
  // The importer's input convention: uint8 real = scale * (p - zp); int8 q = p - 128, real =
  // scale * (q - zp); float32 real = (p - 128) / 128.
  struct Case {
    tflite::DType type;
    float scale;
    std::int64_t zp;
    float (*expected)(int p);
  };
  const Case cases[] = {
      {tflite::DType::kUInt8, 0.5f, 10, [](int p) { return 0.5f * static_cast<float>(p - 10); }},
      {tflite::DType::kInt8, 0.25f, -3, [](int p) { return 0.25f * static_cast<float>(p - 128 + 3); }},
      {tflite::DType::kFloat32, 0.0f, 0, [](int p) { return static_cast<float>(p - 128) / 128.0f; }},
  };
  for (const Case& c : cases) {
    tflite::Model m;
    m.name = "input";
    const int in = add_tensor(m, {1, 1, 4, 1});
    const int out = add_tensor(m, {1, 4});
    m.tensors[in].type = c.type;
    if (c.type != tflite::DType::kFloat32) {
      m.tensors[in].quant.scale = {c.scale};
      m.tensors[in].quant.zero_point = {c.zp};
    }
    tflite::Op reshape;
    reshape.type = tflite::OpType::kReshape;
    reshape.inputs = {in};
    reshape.outputs = {out};
    m.ops = {reshape};
    m.inputs = {in};
    m.outputs = {out};
    const Network net(tflite::to_model(m));
    const std::vector<std::uint8_t> px = {0, 1, 128, 255};
    const FloatTensor x = net.input_values(px);
    for (std::size_t i = 0; i < px.size(); ++i)
      EXPECT_EQ(x.data[i], c.expected(px[i])) << to_string(c.type) << " " << i;
  }
}

TEST(Network, DepthwiseMultiplierMatchesDirectFormula) {
  std::mt19937 rng(3);
  tflite::Model m;
  m.name = "dw2";
  const int in = add_tensor(m, {1, 4, 4, 3});
  const auto wv = random_floats(3 * 3 * 6, rng);
  const int w = add_tensor(m, {1, 3, 3, 6}, wv);
  const int out = add_tensor(m, {1, 4, 4, 6});
  tflite::Op dw;
  dw.type = tflite::OpType::kDepthwiseConv2D;
  dw.inputs = {in, w, -1};
  dw.outputs = {out};
  dw.padding = tflite::Padding::kSame;
  dw.depth_multiplier = 2;
  m.ops = {dw};
  m.inputs = {in};
  m.outputs = {out};
  const Network net(tflite::to_model(m));
  const auto img = random_image(rng, 48);
  const FloatTrace tr = net.trace_float(img);
  const FloatTensor& x = tr.tensors[in];
  const FloatTensor& y = tr.tensors[out];
  for (int oy = 0; oy < 4; ++oy) {
    for (int ox = 0; ox < 4; ++ox) {
      for (int c = 0; c < 3; ++c) {
        for (int j = 0; j < 2; ++j) {
          double s = 0;
          for (int ky = 0; ky < 3; ++ky) {
            for (int kx = 0; kx < 3; ++kx) {
              const int iy = oy + ky - 1, ix = ox + kx - 1;
              if (iy < 0 || iy >= 4 || ix < 0 || ix >= 4) continue;
              s += x.at(iy, ix, c) * wv[(ky * 3 + kx) * 6 + c * 2 + j];  // TFLite: channel c*m + j
            }
          }
          ASSERT_NEAR(y.at(oy, ox, c * 2 + j), s, 1e-5);
        }
      }
    }
  }
}

TEST(Network, Quantized16BitOnGoldenDeviceMatchesFloat) {
  const tflite::Model m = tiny_model(11);
  const Network net(tflite::to_model(m));
  std::mt19937 rng(5);
  const Calibration c = random_calibration(net, rng, 8);
  golden::GoldenDevice dev;
  driver::Accelerator acc(dev);
  const QuantizedNetwork q16(net, c, 16, acc);
  ASSERT_EQ(q16.layers().size(), 3u);
  for (int i = 0; i < 5; ++i) {
    const auto img = random_image(rng, 243);
    const auto pf = net.run_float(img);
    const QuantResult r = q16.run(acc, img, {.record_mac_outputs = true});
    ASSERT_EQ(r.probabilities.size(), 10u);
    EXPECT_EQ(top_k(pf, 1).index[0], top_k(r.probabilities, 1).index[0]) << "image " << i;
    for (int k = 0; k < 10; ++k) EXPECT_NEAR(pf[k], r.probabilities[k], 2e-3) << "image " << i << " class " << k;
    ASSERT_EQ(r.mac_outputs.size(), 3u);
    EXPECT_EQ(r.counters.mac16, static_cast<std::uint64_t>(net.macs()));
    EXPECT_EQ(r.counters.mac8 + r.counters.mac4, 0u);
    EXPECT_GT(r.counters.cycles, 0u);
  }
}

TEST(Network, MacLayerOutputsMatchTheReferenceConvolution) {
  // The driver output of each MAC layer equals golden::conv2d on the same quantized input.
  const tflite::Model m = tiny_model(12);
  const Network net(tflite::to_model(m));
  std::mt19937 rng(9);
  const Calibration calib = random_calibration(net, rng, 4);
  golden::GoldenDevice dev;
  driver::Accelerator acc(dev);
  for (const auto& [wfl, bits] : {std::pair{WeightFl::kLayer, 4},
                                  {WeightFl::kLayer, 8},
                                  {WeightFl::kLayer, 16},
                                  {WeightFl::kChannel, 4},
                                  {WeightFl::kChannel, 8},
                                  {WeightFl::kChannel, 16},
                                  {WeightFl::kGroup, 8}}) {
    const QuantizedNetwork q(net, calib, bits, acc, wfl);
    const auto img = random_image(rng, 243);
    const QuantResult r = q.run(acc, img, {.record_mac_outputs = true});
    // Layer 0 reads the quantized input image.
    const golden::FloatTensor x = net.input_values(img);
    std::vector<std::int32_t> xv;
    for (float v : x.data) xv.push_back(quantize_value(v, q.tensor_fl()[net.input_tensor()], q.mode()));
    const auto& L0 = q.layers()[0].prepared.layer;
    const auto in0 = golden::PackedTensor::from_values(9, 9, 3, q.mode(), xv);
    EXPECT_EQ(golden::conv2d(L0, in0), r.mac_outputs[0]) << bits << "-bit";
    // Layer 1 reads layer 0's output.
    EXPECT_EQ(golden::conv2d(q.layers()[1].prepared.layer, r.mac_outputs[0]), r.mac_outputs[1]) << bits << "-bit";
    EXPECT_EQ(r.counters.macs(q.mode()), static_cast<std::uint64_t>(net.macs()));
  }
}

TEST(Network, WeightFlPerChannelFollowsTheRule) {
  // docs/QUANTIZATION.md: per channel, FL_w = B - IL(max |w| of the channel), lowered only
  // while the channel's largest bias would not fit 32 bits at FL_in + FL_w or the shift would
  // leave the accumulator; SHIFT of channel c = FL_in + FL_w(c) - FL_out.
  const tflite::Model m = tiny_model(13);
  const Network net(tflite::to_model(m));
  std::mt19937 rng(3);
  const Calibration calib = random_calibration(net, rng, 4);
  const driver::Accelerator acc(driver::default_hw_config());
  for (int bits : {4, 8, 16}) {
    const QuantizedNetwork per_layer(net, calib, bits, acc, WeightFl::kLayer);
    const QuantizedNetwork q(net, calib, bits, acc, WeightFl::kChannel);
    EXPECT_EQ(q.weight_fl(), WeightFl::kChannel);
    ASSERT_EQ(q.layers().size(), per_layer.layers().size());
    for (std::size_t li = 0; li < q.layers().size(); ++li) {
      const QuantLayer& ql = q.layers()[li];
      const Op& op = net.ops()[static_cast<std::size_t>(ql.op)];
      const golden::Layer& L = ql.prepared.layer;
      const std::string ctx = fmt::format("{}-bit layer {}", bits, li);
      EXPECT_TRUE(per_layer.layers()[li].channel_fl_w.empty()) << ctx;
      EXPECT_TRUE(per_layer.layers()[li].prepared.layer.channel_shift.empty()) << ctx;
      ASSERT_EQ(ql.channel_fl_w.size(), static_cast<std::size_t>(op.out_c)) << ctx;
      ASSERT_EQ(L.channel_shift.size(), static_cast<std::size_t>(op.out_c)) << ctx;
      const std::size_t per = op.weights.size() / static_cast<std::size_t>(op.out_c);
      int fl_min = 1000;
      for (int c = 0; c < op.out_c; ++c) {
        const auto cu = static_cast<std::size_t>(c);
        const int fl = ql.channel_fl_w[cu];
        fl_min = std::min(fl_min, fl);
        double wmax = 0;
        for (std::size_t k = cu * per; k < (cu + 1) * per; ++k) wmax = std::max(wmax, double{std::fabs(op.weights[k])});
        const int rule = fractional_length(wmax, bits);
        EXPECT_LE(fl, rule) << ctx << " channel " << c;
        if (fl < rule) {  // lowered: one more bit would overflow the bias or the shift
          const double b = op.bias.empty() ? 0.0 : std::fabs(double{op.bias[cu]});
          EXPECT_TRUE(std::round(std::ldexp(b, ql.fl_in + fl + 1)) > 2147483647.0 ||
                      ql.fl_in + fl + 1 - ql.fl_out > golden::kAccBits - 1)
              << ctx << " channel " << c;
        }
        EXPECT_EQ(L.channel_shift[cu], ql.fl_in + fl - ql.fl_out) << ctx << " channel " << c;
        for (std::size_t k = cu * per; k < (cu + 1) * per; ++k) {
          ASSERT_EQ(L.weights[k], quantize_value(op.weights[k], fl, q.mode())) << ctx << " weight " << k;
        }
        if (!op.bias.empty()) {
          const double r = std::round(std::ldexp(double{op.bias[cu]}, ql.fl_in + fl));
          EXPECT_EQ(L.bias[cu], static_cast<std::int32_t>(std::clamp(r, -2147483648.0, 2147483647.0))) << ctx;
        }
      }
      EXPECT_EQ(ql.fl_w, fl_min) << ctx;
      // A channel never gets fewer fractional bits than the per-layer rule gives the layer.
      EXPECT_GE(fl_min, per_layer.layers()[li].fl_w) << ctx;
    }
  }
}

TEST(Network, WeightFlPerGroupSharesAFlPerBlockOfColumns) {
  // kGroup: each convolution group's channels ordered by their per-channel FL (stable) and cut
  // into blocks of the array's width; a block takes its first (smallest) FL. The tile plan then
  // has as many tiles as with one FL per layer. A 4x4 array makes several blocks per layer.
  tflite::Model m = tiny_model(14);
  for (const std::size_t t : {std::size_t{1}, std::size_t{10}}) {  // the conv and FC weights (float32)
    // Channel c scaled by 2^-(c % 5): per-channel ranges that differ by powers of two.
    tflite::Tensor& w = m.tensors[t];
    const std::size_t n = w.data.size() / 4, per = n / static_cast<std::size_t>(w.shape[0]);
    for (std::size_t k = 0; k < n; ++k) {
      float v = 0;
      std::memcpy(&v, w.data.data() + 4 * k, 4);
      v = std::ldexp(v, -static_cast<int>((k / per) % 5));
      std::memcpy(w.data.data() + 4 * k, &v, 4);
    }
  }
  const Network net(tflite::to_model(m));
  std::mt19937 rng(4);
  const Calibration calib = random_calibration(net, rng, 4);
  driver::HwConfig hw = driver::default_hw_config();
  hw.rows = 4, hw.cols = 4;
  driver::Accelerator acc(hw);
  for (int bits : {8, 16}) {
    const QuantizedNetwork qc(net, calib, bits, acc, WeightFl::kChannel);
    const QuantizedNetwork qg(net, calib, bits, acc, WeightFl::kGroup);
    const QuantizedNetwork ql(net, calib, bits, acc, WeightFl::kLayer);
    bool lowered = false;
    for (std::size_t li = 0; li < qc.layers().size(); ++li) {
      const Op& op = net.ops()[static_cast<std::size_t>(qc.layers()[li].op)];
      const auto& fc = qc.layers()[li].channel_fl_w;
      const auto& fg = qg.layers()[li].channel_fl_w;
      ASSERT_EQ(fg.size(), fc.size());
      const int ng = op.out_c / op.groups;
      for (int g = 0; g < op.groups; ++g) {
        std::vector<int> order(static_cast<std::size_t>(ng));
        std::iota(order.begin(), order.end(), g * ng);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return fc[a] < fc[b]; });
        for (int i = 0; i < ng; ++i) {
          const int c = order[static_cast<std::size_t>(i)];
          EXPECT_EQ(fg[static_cast<std::size_t>(c)], fc[static_cast<std::size_t>(order[i - i % 4])])
              << bits << "-bit layer " << li << " channel " << c;
          lowered = lowered || fg[static_cast<std::size_t>(c)] < fc[static_cast<std::size_t>(c)];
        }
      }
      EXPECT_EQ(qg.layers()[li].prepared.layer.channel_shift.size(), static_cast<std::size_t>(op.out_c));
    }
    EXPECT_TRUE(lowered) << "the model should have blocks of channels with different FLs";
    const auto img = random_image(rng, 243);
    const QuantResult rg = qg.run(acc, img), rl = ql.run(acc, img), rc = qc.run(acc, img);
    EXPECT_EQ(rg.counters.tiles, rl.counters.tiles) << bits << "-bit";
    EXPECT_GE(rc.counters.tiles, rl.counters.tiles) << bits << "-bit";
  }
}

TEST(Network, WeightFlFromString) {
  EXPECT_EQ(weight_fl_from_string("layer"), WeightFl::kLayer);
  EXPECT_EQ(weight_fl_from_string("channel"), WeightFl::kChannel);
  EXPECT_EQ(weight_fl_from_string("group"), WeightFl::kGroup);
  EXPECT_EQ(to_string(WeightFl::kChannel), "channel");
  try {
    (void)weight_fl_from_string("tensor");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'tensor'"), std::string::npos) << e.what();
  }
}

TEST(Network, WeightFlPerChannelBringsTheEmbeddedModelCloserToFloat) {
  // MobileNet's depthwise weights span very different ranges per channel: one FL per channel
  // keeps the small ones, so 8-bit probabilities are closer to float than with one FL per layer.
  const std::filesystem::path data = std::filesystem::path(BITSCALE_SOURCE_DIR) / "data";
  const auto model_path = data / "models" / "mobilenet_v1_0.25_128_quant.tflite";
  if (!std::filesystem::exists(model_path)) GTEST_SKIP() << "no embedded data";
  const Model m = load_tflite(model_path.string());
  const Network net(m);
  const Split halves = split_even_odd(list_images((data / "images").string()));
  const Calibration c = calibrate_files(net, spread(halves.calibration, 8), 2);
  const driver::Accelerator proto(driver::default_hw_config());
  for (int bits : {8, 16}) {
    const QuantizedNetwork ql(net, c, bits, proto, WeightFl::kLayer);
    const QuantizedNetwork qc(net, c, bits, proto, WeightFl::kChannel);
    driver::Accelerator acc(driver::default_hw_config());
    double err_layer = 0, err_channel = 0;
    for (std::size_t i = 0; i < 6; ++i) {
      const Image img = load_for_model(halves.evaluation.at(i), net.input_h(), net.input_w());
      const auto pf = net.run_float(img.rgb);
      const auto pl = ql.run(acc, img.rgb).probabilities, pc = qc.run(acc, img.rgb).probabilities;
      for (std::size_t k = 0; k < pf.size(); ++k) {
        err_layer += std::fabs(double{pl[k]} - pf[k]);
        err_channel += std::fabs(double{pc[k]} - pf[k]);
      }
    }
    fmt::print("{}-bit: sum |p - p_float| per layer {:.5f}, per channel {:.5f}\n", bits, err_layer, err_channel);
    EXPECT_LT(err_channel, err_layer) << bits << "-bit";
  }
}

TEST(Network, CalibrationJsonRoundTrip) {
  const tflite::Model m = tiny_model(2);
  const Network net(tflite::to_model(m));
  std::mt19937 rng(1);
  Calibrator cal(net);
  cal.add(random_image(rng, 243), "a \"quoted\" name.jpg");
  const Calibration c = cal.result();
  const Calibration d = Calibration::from_json(c.to_json(net), net, "test");
  EXPECT_EQ(d.images, c.images);
  EXPECT_EQ(d.fl, c.fl);
  EXPECT_EQ(d.max_abs, c.max_abs);
  EXPECT_EQ(d.fractional_length(net.input_tensor(), 8), 7);  // |x| <= 1 -> IL 1
  EXPECT_THROW((void)Calibration::from_json("{\"format\":\"other\"}", net, "x"), std::runtime_error);
  // Malformed JSON and malformed entries: errors name the file.
  for (const char* bad :
       {"{\"format\": ", "[1, 2", "{\"format\":\"bitscale-calibration-1\",\"tensors\":[{\"index\":\"0\"}]}",
        "{\"format\":\"bitscale-calibration-1\",\"tensors\":[{\"index\":\"0\",\"name\":\"t0\",\"max_abs\":1,\"fl\":{}}]"
        "}"}) {
    try {
      (void)Calibration::from_json(bad, net, "calib.json");
      ADD_FAILURE() << "no error for " << bad;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("calib.json: ", 0), 0u) << e.what();
    }
  }
  // The text is written by hand: one tensor a line, max_abs with 17 significant digits.
  const std::string text = c.to_json(net);
  EXPECT_NE(text.find("\"images\": [\"a \\\"quoted\\\" name.jpg\"]"), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("\"max_abs\": {:.17g}, \"fl\": {{\"4\": ", c.max_abs[net.input_tensor()])),
            std::string::npos)
      << text;
}

TEST(Quantization, ActivateFixedClampsInTheMode) {
  using golden::Mode;
  // 8 bits, FL 4: 6.0 is 96; saturation first (200 -> 127), then the clamp range.
  EXPECT_EQ(activate_fixed(200, FloatActivation::kRelu6, 4, Mode::k8), 96);
  EXPECT_EQ(activate_fixed(50, FloatActivation::kRelu6, 4, Mode::k8), 50);
  EXPECT_EQ(activate_fixed(-5, FloatActivation::kRelu6, 4, Mode::k8), 0);
  EXPECT_EQ(activate_fixed(-5, FloatActivation::kRelu, 4, Mode::k8), 0);
  EXPECT_EQ(activate_fixed(-300, FloatActivation::kNone, 4, Mode::k8), -128);
  // FL 7: +-1.0 is +-128, beyond the 8-bit range: the bounds saturate to -128 and 127.
  EXPECT_EQ(activate_fixed(-300, FloatActivation::kReluN1To1, 7, Mode::k8), -128);
  EXPECT_EQ(activate_fixed(300, FloatActivation::kReluN1To1, 7, Mode::k8), 127);
  // FL 3 at 4 bits: 1.0 is 8 -> saturates to 7; -1.0 is -8.
  EXPECT_EQ(activate_fixed(100, FloatActivation::kReluN1To1, 3, Mode::k4), 7);
  EXPECT_EQ(activate_fixed(-3, FloatActivation::kReluN1To1, 1, Mode::k4), -2);  // -1.0 at FL 1
}

// ---------------------------------------------------------------------------------------------
// The real smallest model (needs ../shared).

TEST(Network, MobileNetFloatAndGolden16AgreeOnTench) {
  const std::string shared = BITSCALE_SHARED_DIR;
  const std::string model = shared + "/models/mobilenet_v1_0.25_128_quant.tflite";
  const std::string dir = shared + "/data/imagenet-sample";
  if (!std::filesystem::exists(model) || !std::filesystem::exists(dir)) {
    GTEST_SKIP() << "needs " << model << " and " << dir;
  }
  const Model m = load_tflite(model);
  const Network net(m);
  EXPECT_EQ(net.input_h(), 128);
  const Image img = load_for_model(dir + "/n01440764_tench.JPEG", 128, 128);
  const auto pf = net.run_float(img.rgb);
  ASSERT_EQ(pf.size(), 1001u);
  EXPECT_EQ(top_k(pf, 1).index[0], 1);  // tench = class 0 = output 1
  const Calibration c = calibrate_files(
      net, {dir + "/n01484850_great_white_shark.JPEG", dir + "/n01494475_hammerhead.JPEG", dir + "/n01514859_hen.JPEG"},
      1);
  golden::GoldenDevice dev;
  driver::Accelerator acc(dev);
  const QuantizedNetwork q16(net, c, 16, acc);
  const QuantResult r = q16.run(acc, img.rgb);
  EXPECT_EQ(top_k(r.probabilities, 1).index[0], 1);
  EXPECT_NEAR(r.probabilities[1], pf[1], 0.05);
  EXPECT_EQ(r.counters.mac16, static_cast<std::uint64_t>(net.macs()));
}

TEST(Network, AxBxPConfigurationReachesTheDevicePerLayer) {
  // A per-layer Ax-BxP configuration (QuantizedNetwork::set_approx) is carried in the layer to the
  // device: the layer's output is the reference convolution under that configuration, its block
  // counter counts MACs x kept pairs, and a layer left exact stays exact.
  const tflite::Model m = tiny_model(12);
  const Network net(tflite::to_model(m));
  std::mt19937 rng(9);
  const Calibration calib = random_calibration(net, rng, 4);
  golden::GoldenDevice dev;
  driver::Accelerator acc(dev);
  QuantizedNetwork q(net, calib, 8, acc, WeightFl::kChannel);
  ASSERT_GE(q.layers().size(), 2u);
  EXPECT_THROW(q.set_approx(0, golden::Approx{0x0100}), std::invalid_argument);  // outside the 8-bit grid
  EXPECT_THROW(q.set_approx(q.layers().size(), golden::Approx{}), std::invalid_argument);
  q.set_approx(0, golden::approx_family(golden::Mode::k8, 1));
  const auto img = random_image(rng, 243);
  const QuantResult r = q.run(acc, img, {.record_mac_outputs = true, .record_layer_counters = true});
  const golden::FloatTensor x = net.input_values(img);
  std::vector<std::int32_t> xv;
  for (float v : x.data) xv.push_back(quantize_value(v, q.tensor_fl()[net.input_tensor()], q.mode()));
  const auto in0 = golden::PackedTensor::from_values(9, 9, 3, q.mode(), xv);
  golden::Layer exact0 = q.layers()[0].prepared.layer;
  EXPECT_EQ(exact0.approx.skip, 0x0001);
  EXPECT_EQ(golden::conv2d(exact0, in0), r.mac_outputs[0]);
  exact0.approx = {};
  EXPECT_NE(golden::conv2d(exact0, in0), r.mac_outputs[0]) << "dropping a_0 * w_0 changes some output";
  EXPECT_EQ(golden::conv2d(q.layers()[1].prepared.layer, r.mac_outputs[0]), r.mac_outputs[1]);
  EXPECT_TRUE(q.layers()[1].prepared.layer.approx.exact());
  const auto macs0 = static_cast<std::uint64_t>(q.layers()[0].prepared.layer.shape.macs());
  const auto macs1 = static_cast<std::uint64_t>(q.layers()[1].prepared.layer.shape.macs());
  EXPECT_EQ(r.layer_counters[0].blk, 3 * macs0);
  EXPECT_EQ(r.layer_counters[1].blk, 4 * macs1);
}

}  // namespace
}  // namespace bitscale::model
