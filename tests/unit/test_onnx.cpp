// ONNX importer: tiny models built with the onnx protobuf classes, checked against NCHW
// reference computations written here (independent of the importer's layout conversion), and
// malformed or unsupported models that must end in a ModelError naming the model and the node.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "../fuzz/onnx_builder.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/model/network.hpp"
#include "bitscale/model/onnx.hpp"

namespace bitscale::model::onnx {
namespace {

namespace fs = std::filesystem;
using test::onnxb::attr_float;
using test::onnxb::attr_int;
using test::onnxb::attr_ints;
using test::onnxb::attr_string;
using test::onnxb::Builder;
using TP = ::onnx::TensorProto;

/// NCHW (batch 1) tensor of the reference computations.
struct Nchw {
  int c = 0, h = 0, w = 0;
  std::vector<float> v;
  float& at(int ci, int y, int x) { return v[(static_cast<std::size_t>(ci) * h + y) * w + x]; }
  [[nodiscard]] float at(int ci, int y, int x) const { return v[(static_cast<std::size_t>(ci) * h + y) * w + x]; }
};

Nchw ramp(int c, int h, int w, float step = 0.1f) {
  Nchw t{c, h, w, std::vector<float>(static_cast<std::size_t>(c) * h * w)};
  for (std::size_t i = 0; i < t.v.size(); ++i) t.v[i] = static_cast<float>(static_cast<int>(i * 7 % 11) - 5) * step;
  return t;
}

/// Reference NCHW convolution, OIHW weights, zero padding (top, left, bottom, right), one group.
Nchw ref_conv(const Nchw& x, const std::vector<float>& w, int o, int k, int stride, std::array<int, 4> pad,
              const std::vector<float>& bias) {
  Nchw y{o, (x.h + pad[0] + pad[2] - k) / stride + 1, (x.w + pad[1] + pad[3] - k) / stride + 1, {}};
  y.v.assign(static_cast<std::size_t>(y.c) * y.h * y.w, 0.0f);
  for (int oc = 0; oc < o; ++oc)
    for (int oy = 0; oy < y.h; ++oy)
      for (int ox = 0; ox < y.w; ++ox) {
        double s = bias.empty() ? 0.0 : bias[static_cast<std::size_t>(oc)];
        for (int ic = 0; ic < x.c; ++ic)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int iy = oy * stride + ky - pad[0], ix = ox * stride + kx - pad[1];
              if (iy < 0 || ix < 0 || iy >= x.h || ix >= x.w) continue;
              s += x.at(ic, iy, ix) * w[((static_cast<std::size_t>(oc) * x.c + ic) * k + ky) * k + kx];
            }
        y.at(oc, oy, ox) = static_cast<float>(s);
      }
  return y;
}

/// Runs an imported model on NCHW input values (converted to the canonical HWC here) and
/// returns the output in ONNX order (NCHW for rank-4 outputs).
std::vector<float> run(const Import& im, const Nchw& x) {
  const Network net(im.model);
  golden::FloatTensor in(x.h, x.w, x.c);
  for (int c = 0; c < x.c; ++c)
    for (int y = 0; y < x.h; ++y)
      for (int z = 0; z < x.w; ++z) in.at(y, z, c) = x.at(c, y, z);
  const auto tr = net.trace_float(std::move(in));
  const auto& out = tr.tensors[static_cast<std::size_t>(im.model.output)];
  if (im.output.dims.size() != 4) return out.data;
  std::vector<float> r(out.data.size());
  for (int c = 0; c < out.c; ++c)
    for (int y = 0; y < out.h; ++y)
      for (int z = 0; z < out.w; ++z) r[(static_cast<std::size_t>(c) * out.h + y) * out.w + z] = out.at(y, z, c);
  return r;
}

Import import(const Builder& b, const std::string& name = "t.onnx") { return parse(b.bytes(), name); }

void expect_error(const Builder& b, const std::vector<std::string>& parts) {
  try {
    (void)import(b, "bad.onnx");
    ADD_FAILURE() << "accepted; expected an error with '" << parts.front() << "'";
  } catch (const ModelError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("bad.onnx"), std::string::npos) << m;
    for (const auto& p : parts) EXPECT_NE(m.find(p), std::string::npos) << "'" << p << "' not in: " << m;
  }
}

TEST(Onnx, ConvNchwMatchesReferenceWithAsymmetricPadsAndStride) {
  const Nchw x = ramp(2, 5, 6);
  std::vector<float> w(3 * 2 * 3 * 3);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 5) - 2) * 0.3f;
  const std::vector<float> bias = {0.5f, -0.25f, 1.0f};
  Builder b;
  b.input("x", {1, 2, 5, 6}).floats("w", {3, 2, 3, 3}, w).raw_floats("b", {3}, bias);
  auto& n = b.node("Conv", {"x", "w", "b"}, {"y"});
  attr_ints(n, "pads", {1, 0, 0, 2});
  attr_ints(n, "strides", {2, 2});
  b.output("y");
  const Import im = import(b);
  ASSERT_EQ(im.model.ops.size(), 1u);
  EXPECT_EQ(im.output.dims, (std::vector<std::int64_t>{1, 3, 2, 3}));  // (5+1+0-3)/2+1 = 2, (6+0+2-3)/2+1 = 3
  const Nchw ref = ref_conv(x, w, 3, 3, 2, {1, 0, 0, 2}, bias);
  const auto got = run(im, x);
  ASSERT_EQ(got.size(), ref.v.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], ref.v[i], 1e-5) << i;
}

TEST(Onnx, AutoPadSameUpperAndLowerPutTheOddCellAtOppositeEnds) {
  for (const char* mode : {"SAME_UPPER", "SAME_LOWER"}) {
    Builder b;
    b.input("x", {1, 1, 4, 4}).floats("w", {1, 1, 2, 2}, {1, 1, 1, 1});
    auto& n = b.node("Conv", {"x", "w"}, {"y"});
    attr_string(n, "auto_pad", mode);
    b.output("y");
    const Import im = import(b);
    const auto& win = im.model.ops.at(0).win;
    // total padding = (4 - 1) * 1 + 2 - 4 = 1: at the end (UPPER) or the start (LOWER).
    const bool upper = std::string(mode) == "SAME_UPPER";
    EXPECT_EQ(win.pad_top, upper ? 0 : 1) << mode;
    EXPECT_EQ(win.pad_bottom, upper ? 1 : 0) << mode;
    EXPECT_EQ(win.pad_left, upper ? 0 : 1) << mode;
    EXPECT_EQ(im.output.dims, (std::vector<std::int64_t>{1, 1, 4, 4}));
  }
}

TEST(Onnx, TinyCnnFoldsBatchNormFusesReluAndMatchesReference) {
  const Builder b = test::onnxb::tiny_cnn();
  const Import im = import(b);
  // Conv+BN+Relu, MaxPool, Mean, (Flatten is a view of [1,4,1,1]), FC, Softmax.
  std::vector<OpType> types;
  for (const auto& op : im.model.ops) types.push_back(op.type);
  EXPECT_EQ(types, (std::vector<OpType>{OpType::kConv2D, OpType::kMaxPool2D, OpType::kMean, OpType::kFullyConnected,
                                        OpType::kSoftmax}));
  EXPECT_EQ(im.model.ops[0].act, golden::FloatActivation::kRelu);

  // Reference: the same network written out in NCHW.
  const auto& g = b.m.graph();
  const auto init = [&](const std::string& n) {
    for (const auto& t : g.initializer()) {
      if (t.name() != n) continue;
      if (t.has_raw_data()) {
        std::vector<float> v(t.raw_data().size() / 4);
        std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
        return v;
      }
      return std::vector<float>(t.float_data().begin(), t.float_data().end());
    }
    return std::vector<float>{};
  };
  const Nchw x = ramp(2, 6, 6, 0.2f);
  Nchw c = ref_conv(x, init("w"), 4, 3, 1, {1, 1, 1, 1}, init("bias"));
  const auto s = init("bn_s"), bb = init("bn_b"), m = init("bn_m"), v = init("bn_v");
  for (int ch = 0; ch < 4; ++ch)
    for (int y = 0; y < 6; ++y)
      for (int z = 0; z < 6; ++z) {
        float& e = c.at(ch, y, z);
        e = std::max(0.0f, (e - m[ch]) / std::sqrt(v[ch] + 1e-5f) * s[ch] + bb[ch]);
      }
  std::vector<float> gap(4, 0.0f);
  for (int ch = 0; ch < 4; ++ch) {
    for (int y = 0; y < 3; ++y)
      for (int z = 0; z < 3; ++z) {
        const float mx = std::max({c.at(ch, 2 * y, 2 * z), c.at(ch, 2 * y + 1, 2 * z), c.at(ch, 2 * y, 2 * z + 1),
                                   c.at(ch, 2 * y + 1, 2 * z + 1)});
        gap[ch] += mx / 9.0f;
      }
  }
  const auto fw = init("fc_w"), fb = init("fc_b");
  std::vector<double> logits(3);
  double sum = 0;
  for (int o = 0; o < 3; ++o) {
    double acc = fb[o];
    for (int i = 0; i < 4; ++i) acc += fw[o * 4 + i] * gap[i];
    logits[o] = std::exp(acc);
    sum += logits[o];
  }
  const auto got = run(im, x);
  ASSERT_EQ(got.size(), 3u);
  for (int o = 0; o < 3; ++o) EXPECT_NEAR(got[o], logits[o] / sum, 1e-5) << o;
}

TEST(Onnx, GemmAlphaBetaTransposes) {
  // y = 2 * A B^T + 0.5 * C with A [1,3], B [2,3] (transB), C [2].
  Builder b;
  b.input("a", {1, 3}).floats("B", {2, 3}, {1, 2, 3, -1, 0, 1}).floats("C", {2}, {4, -2});
  auto& n = b.node("Gemm", {"a", "B", "C"}, {"y"});
  attr_int(n, "transB", 1);
  attr_float(n, "alpha", 2.0f);
  attr_float(n, "beta", 0.5f);
  b.output("y", {1, 2});
  const Import im = import(b);
  const Network net(im.model);
  golden::FloatTensor in(1, 1, 3);
  in.data = {1.0f, 0.5f, -1.0f};
  const auto out = net.trace_float(std::move(in)).tensors[im.model.output].data;
  // A B^T = [1 + 1 - 3, -1 + 0 - 1] = [-1, -2]
  EXPECT_FLOAT_EQ(out[0], 2 * -1.0f + 0.5f * 4);
  EXPECT_FLOAT_EQ(out[1], 2 * -2.0f + 0.5f * -2);
}

TEST(Onnx, GemmWithRowsIsAOneByOneConvolutionAndMatrixBiasAnAdd) {
  // A [2,2] (two rows), B [2,2], C [2,2] differing per row.
  Builder b;
  b.input("a", {2, 2}).floats("B", {2, 2}, {1, 2, 3, 4}).floats("C", {2, 2}, {10, 20, 30, 40});
  b.node("Gemm", {"a", "B", "C"}, {"y"});
  b.output("y", {2, 2});
  const Import im = import(b);
  ASSERT_EQ(im.model.ops.size(), 2u);
  EXPECT_EQ(im.model.ops[0].type, OpType::kConv2D);
  EXPECT_EQ(im.model.ops[1].type, OpType::kAdd);
  const Network net(im.model);
  golden::FloatTensor in(1, 2, 2);
  in.data = {1, 1, 0, 2};
  const auto out = net.trace_float(std::move(in)).tensors[im.model.output].data;
  // [1 1] B = [4 6]; [0 2] B = [6 8]
  EXPECT_EQ(out, (std::vector<float>{14, 26, 36, 48}));
}

TEST(Onnx, FlattenOfNchwFeedsGemmInOnnxOrder) {
  // x [1,2,1,2]: ONNX flat order c0y0x0, c0y0x1, c1y0x0, c1y0x1. Weights pick element 1 and 2.
  Builder b;
  b.input("x", {1, 2, 1, 2}).floats("B", {4, 2}, {0, 0, 1, 0, 0, 1, 0, 0});
  b.node("Flatten", {"x"}, {"f"});
  b.node("Gemm", {"f", "B"}, {"y"});
  b.output("y", {1, 2});
  const Import im = import(b);
  Nchw x{2, 1, 2, {1, 2, 3, 4}};  // c0: 1 2, c1: 3 4
  const auto got = run(im, x);
  EXPECT_EQ(got, (std::vector<float>{2, 3}));
}

TEST(Onnx, MaxPoolCeilModeAndAveragePoolCountIncludePad) {
  {
    Builder b;
    b.input("x", {1, 1, 5, 5});
    auto& n = b.node("MaxPool", {"x"}, {"y"});
    attr_ints(n, "kernel_shape", {2, 2});
    attr_ints(n, "strides", {2, 2});
    attr_int(n, "ceil_mode", 1);
    b.output("y");
    const Import im = import(b);
    EXPECT_EQ(im.output.dims, (std::vector<std::int64_t>{1, 1, 3, 3}));  // ceil((5-2)/2)+1
    Nchw x = ramp(1, 5, 5);
    const auto got = run(im, x);
    EXPECT_FLOAT_EQ(got[8], x.at(0, 4, 4));  // the last window holds one cell
  }
  for (int include : {0, 1}) {
    Builder b;
    b.input("x", {1, 1, 3, 3});
    auto& n = b.node("AveragePool", {"x"}, {"y"});
    attr_ints(n, "kernel_shape", {3, 3});
    attr_ints(n, "pads", {1, 1, 1, 1});
    attr_int(n, "count_include_pad", include);
    b.output("y");
    const Import im = import(b);
    Nchw x{1, 3, 3, std::vector<float>(9, 1.0f)};
    const auto got = run(im, x);
    ASSERT_EQ(got.size(), 9u);
    // Corner: 4 real cells of 9; centre: 9 of 9.
    EXPECT_FLOAT_EQ(got[0], include ? 4.0f / 9.0f : 1.0f) << include;
    EXPECT_FLOAT_EQ(got[4], 1.0f) << include;
  }
}

TEST(Onnx, StandaloneReluAndClipRanges) {
  Builder b;
  b.input("x", {1, 4});
  auto& c = b.node("Clip", {"x", "lo", "hi"}, {"y"}, "clip6");
  (void)c;
  b.floats("lo", {}, {0.0f}).floats("hi", {}, {6.0f});
  b.output("y");
  const Import im = import(b);
  ASSERT_EQ(im.model.ops.size(), 1u);
  EXPECT_EQ(im.model.ops[0].act, golden::FloatActivation::kRelu6);
  const Network net(im.model);
  golden::FloatTensor in(1, 1, 4);
  in.data = {-1, 3, 7, 0.5f};
  EXPECT_EQ(net.trace_float(std::move(in)).tensors[im.model.output].data, (std::vector<float>{0, 3, 6, 0.5f}));

  Builder bad;
  bad.input("x", {1, 4}).floats("lo", {}, {0.0f}).floats("hi", {}, {5.0f});
  bad.node("Clip", {"x", "lo", "hi"}, {"y"}, "clip5");
  bad.output("y");
  expect_error(bad, {"node 'clip5' (Clip)", "[0, 5]"});
}

TEST(Onnx, PerAxisDequantizedWeightsAndQdqActivations) {
  // x -> Q -> DQ -> Conv(DQ(int8 W, per-output-channel scales)) : weights are s[o] * (q - 0).
  Builder b;
  b.input("x", {1, 1, 1, 1});
  b.ints("wq", TP::INT8, {2, 1, 1, 1}, {10, -4});
  b.floats("ws", {2}, {0.5f, 0.25f});
  b.ints("wz", TP::INT8, {2}, {0, 0});
  b.floats("xs", {}, {0.1f});
  b.ints("xz", TP::UINT8, {}, {128});
  b.node("QuantizeLinear", {"x", "xs", "xz"}, {"xq"});
  b.node("DequantizeLinear", {"xq", "xs", "xz"}, {"xd"});
  auto& dq = b.node("DequantizeLinear", {"wq", "ws", "wz"}, {"w"});
  attr_int(dq, "axis", 0);
  b.node("Conv", {"xd", "w"}, {"y"});
  b.output("y");
  const Import im = import(b);
  ASSERT_EQ(im.model.ops.size(), 1u);  // Q / DQ of the activation add no operator
  EXPECT_EQ(im.model.ops[0].weights, (std::vector<float>{5.0f, -1.0f}));
}

TEST(Onnx, QLinearConvAppliesScalesAndQuantizedOutputEncoding) {
  // uint8 x (scale 0.5, zero 10), w int8 (scale 0.25), int32 bias, y (scale 2, zero 3).
  Builder b;
  b.input("x", {1, 1, 1, 2}, TP::UINT8);
  b.floats("xs", {}, {0.5f}).ints("xz", TP::UINT8, {}, {10});
  b.ints("w", TP::INT8, {1, 1, 1, 1}, {8}).floats("ws", {}, {0.25f}).ints("wz", TP::INT8, {}, {0});
  b.floats("ys", {}, {2.0f}).ints("yz", TP::UINT8, {}, {3});
  b.ints("bias", TP::INT32, {1}, {16});
  b.node("QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"}, {"y"});
  b.output("y", {}, TP::UINT8);
  const Import im = import(b);
  EXPECT_EQ(im.output.type, DType::kUInt8);
  EXPECT_FLOAT_EQ(im.output.scale, 2.0f);
  EXPECT_FLOAT_EQ(im.output.zero, 3.0f);
  // x real = 0.5 * (q - 10) through an affine op (x has no DequantizeLinear), then the conv.
  const Network net(im.model);
  golden::FloatTensor in(1, 2, 1);
  in.data = {30.0f, 10.0f};  // canonical input of an integer input without DQ: q itself
  const auto y = net.trace_float(std::move(in)).tensors[im.model.output].data;
  // real = 0.5*(30-10) * 0.25*8 + 16*0.5*0.25 = 10*2 + 2 = 22; and 0 + 2 = 2
  EXPECT_FLOAT_EQ(y[0], 22.0f);
  EXPECT_FLOAT_EQ(y[1], 2.0f);
}

TEST(Onnx, DetectFormatFromContentAndLoadModelDispatches) {
  const std::uint8_t tfl[] = {0x1c, 0, 0, 0, 'T', 'F', 'L', '3', 0, 0};
  EXPECT_EQ(detect_format(tfl), ModelFormat::kTflite);
  const auto onnx = test::onnxb::tiny_cnn().bytes();
  EXPECT_EQ(detect_format(onnx), ModelFormat::kOnnx);
  const fs::path dir = fs::temp_directory_path() / fmt::format("bitscale_onnx_{}", ::getpid());
  fs::create_directories(dir);
  const fs::path p = dir / "model.tflite";  // the wrong extension on purpose
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(onnx.data()), static_cast<std::streamsize>(onnx.size()));
  EXPECT_EQ(file_format(p.string()), ModelFormat::kOnnx);
  const Model m = load_model(p.string());
  EXPECT_EQ(m.ops.size(), 5u);
  EXPECT_EQ(m.name, "model.tflite");
  fs::remove_all(dir);
}

// ---- bad input ----------------------------------------------------------------------------

TEST(OnnxBad, MalformedProtobufAndEmptyFile) {
  const std::vector<std::uint8_t> junk = {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3};
  EXPECT_THROW((void)parse(junk, "bad.onnx"), ModelError);
  EXPECT_THROW((void)parse({}, "bad.onnx"), ModelError);
  auto bytes = test::onnxb::tiny_cnn().bytes();
  for (std::size_t n = 0; n < bytes.size(); n += 7) {
    try {
      (void)parse(std::span(bytes).first(n), "bad.onnx");
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.onnx"), std::string::npos);
    }
  }
}

TEST(OnnxBad, UnsupportedOperatorIsNamedWithNodeAndType) {
  Builder b;
  b.input("x", {1, 4});
  b.node("Sin", {"x"}, {"y"}, "my_sine");
  b.output("y");
  expect_error(b, {"node 'my_sine' (Sin)", "unsupported operator"});
}

TEST(OnnxBad, DynamicAndMissingShapes) {
  Builder b;
  auto* vi = b.g().add_input();
  vi->set_name("x");
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(TP::FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("batch");
  tt->mutable_shape()->add_dim()->set_dim_value(4);
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  expect_error(b, {"input 'x'", "dynamic dimension 'batch'"});

  Builder c;
  auto* v2 = c.g().add_input();
  v2->set_name("x");
  v2->mutable_type()->mutable_tensor_type()->set_elem_type(TP::FLOAT);
  c.node("Relu", {"x"}, {"y"});
  c.output("y");
  expect_error(c, {"input 'x' has no shape"});
}

TEST(OnnxBad, WrongShapes) {
  Builder b;  // weights for 3 input channels, input has 2
  b.input("x", {1, 2, 4, 4}).floats("w", {1, 3, 1, 1}, {1, 1, 1});
  b.node("Conv", {"x", "w"}, {"y"}, "conv_bad");
  b.output("y");
  expect_error(b, {"node 'conv_bad' (Conv)", "do not fit 2 input channels"});

  Builder d;  // declared output shape differs from the computed one
  d.input("x", {1, 4});
  d.node("Relu", {"x"}, {"y"});
  d.output("y", {1, 5});
  expect_error(d, {"output 'y' is declared [1,5]", "computes [1,4]"});

  Builder e;  // batch 2
  e.input("x", {2, 1, 4, 4}).floats("w", {1, 1, 1, 1}, {1});
  e.node("Conv", {"x", "w"}, {"y"});
  e.output("y");
  expect_error(e, {"batch 2"});
}

TEST(OnnxBad, CycleAndUndefinedInput) {
  Builder b;
  b.input("x", {1, 4});
  b.node("Add", {"x", "b"}, {"a"}, "first");
  b.node("Relu", {"a"}, {"b"}, "second");
  b.output("b");
  expect_error(b, {"cycle", "'first' (Add)"});

  Builder c;
  c.input("x", {1, 4});
  c.node("Add", {"x", "nowhere"}, {"y"}, "adder");
  c.output("y");
  expect_error(c, {"node 'adder' (Add)", "'nowhere' is not defined"});
}

TEST(OnnxBad, HugeDeclaredSizesAreRefusedWithoutAllocating) {
  Builder b;  // 2^62 elements declared, 4 bytes of data
  b.input("x", {1, 4});
  auto* t = b.g().add_initializer();
  t->set_name("w");
  t->set_data_type(TP::FLOAT);
  t->add_dims(std::int64_t{1} << 31);
  t->add_dims(std::int64_t{1} << 31);
  t->set_raw_data(std::string(4, '\0'));
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  expect_error(b, {"tensor 'w'", "more than"});

  Builder c;  // fits in the count but the data does not back it
  c.input("x", {1, 4});
  auto* u = c.g().add_initializer();
  u->set_name("w");
  u->set_data_type(TP::FLOAT);
  u->add_dims(100000000);
  u->set_raw_data(std::string(8, '\0'));
  c.node("Relu", {"x"}, {"y"});
  c.output("y");
  expect_error(c, {"tensor 'w'", "declares 100000000 elements, the data holds 2"});

  Builder d;  // a huge activation
  d.input("x", {1, 3, 100000, 100000});
  d.node("Relu", {"x"}, {"y"});
  d.output("y");
  expect_error(d, {"input 'x'", "elements"});
}

TEST(OnnxBad, ExternalDataIsRefusedWithItsFileName) {
  Builder b;
  b.input("x", {1, 2});
  auto* t = b.g().add_initializer();
  t->set_name("w");
  t->set_data_type(TP::FLOAT);
  t->add_dims(2);
  t->set_data_location(TP::EXTERNAL);
  auto* e = t->add_external_data();
  e->set_key("location");
  e->set_value("weights.bin");
  b.node("Add", {"x", "w"}, {"y"});
  b.output("y");
  expect_error(b, {"tensor 'w'", "external file ('weights.bin')"});
}

TEST(OnnxBad, InconsistentQuantizedOperands) {
  // Found by fuzz_onnx_replay: a QLinearConv bias longer than its output channels.
  Builder b;
  b.input("x", {1, 1, 1, 2}, TP::UINT8);
  b.floats("xs", {}, {0.5f}).ints("xz", TP::UINT8, {}, {10});
  b.ints("w", TP::INT8, {1, 1, 1, 1}, {8}).floats("ws", {}, {0.25f}).ints("wz", TP::INT8, {}, {0});
  b.floats("ys", {}, {2.0f}).ints("yz", TP::UINT8, {}, {3});
  b.ints("bias", TP::INT32, {3}, {16, 1, 2});
  b.node("QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "bias"}, {"y"}, "qconv");
  b.output("y", {}, TP::UINT8);
  expect_error(b, {"node 'qconv' (QLinearConv)", "bias 'bias' has 3 values for 1 output channels"});

  Builder t;  // a Transpose of constants whose perm repeats an axis
  t.input("x", {1, 4}).floats("c", {2, 2}, {1, 2, 3, 4});
  attr_ints(t.node("Transpose", {"c"}, {"ct"}, "tr"), "perm", {0, 0});
  t.node("Reshape", {"ct", "shape"}, {"cr"});
  t.ints("shape", TP::INT64, {2}, {1, 4});
  t.node("Add", {"x", "cr"}, {"y"});
  t.output("y");
  expect_error(t, {"node 'tr' (Transpose)", "not a permutation"});
}

TEST(OnnxBad, MultipleInputsAndOutputsAndNoOpset) {
  Builder b;
  b.input("x", {1, 2}).input("z", {1, 2});
  b.node("Add", {"x", "z"}, {"y"});
  b.output("y");
  expect_error(b, {"expected one activation input, found 2"});

  Builder c;
  c.m.clear_opset_import();
  c.input("x", {1, 2});
  c.node("Relu", {"x"}, {"y"});
  c.output("y");
  expect_error(c, {"no opset"});
}

// ---- conformance runner -------------------------------------------------------------------

void write_proto(const fs::path& p, const google::protobuf::MessageLite& m) {
  std::string s;
  m.SerializeToString(&s);
  std::ofstream(p, std::ios::binary) << s;
}

TEST(OnnxConformance, PassesAMatchingTestAndFailsAWrongOne) {
  const fs::path root = fs::temp_directory_path() / fmt::format("bitscale_conf_{}", ::getpid());
  for (float expected_first : {1.5f, 2.5f}) {
    const fs::path dir = root / (expected_first == 1.5f ? "test_good" : "test_bad");
    fs::create_directories(dir / "test_data_set_0");
    Builder b;  // y = x + w with w fed as the second input, as node tests do
    b.input("x", {1, 2}).input("w", {1, 2});
    b.node("Add", {"x", "w"}, {"y"});
    b.output("y", {1, 2});
    write_proto(dir / "model.onnx", b.m);
    const auto tensor = [](const std::vector<float>& v) {
      ::onnx::TensorProto t;
      t.set_data_type(TP::FLOAT);
      t.add_dims(1);
      t.add_dims(2);
      for (float x : v) t.add_float_data(x);
      return t;
    };
    write_proto(dir / "test_data_set_0" / "input_0.pb", tensor({1.0f, 2.0f}));
    write_proto(dir / "test_data_set_0" / "input_1.pb", tensor({0.5f, -1.0f}));
    write_proto(dir / "test_data_set_0" / "output_0.pb", tensor({expected_first, 1.0f}));
  }
  const auto dirs = node_test_dirs(root.string());
  ASSERT_EQ(dirs.size(), 2u);
  std::vector<NodeTestResult> rs;
  for (const auto& d : dirs) rs.push_back(run_node_test(d));
  EXPECT_EQ(rs[0].name, "test_bad");
  EXPECT_EQ(rs[0].status, TestStatus::kFailed);
  EXPECT_NE(rs[0].reason.find("element 0 is 1.5, expected 2.5"), std::string::npos) << rs[0].reason;
  EXPECT_EQ(rs[1].status, TestStatus::kPassed) << rs[1].reason;
  EXPECT_EQ(conformance_totals(rs), "1 passed, 1 failed, 0 skipped");
  fs::remove_all(root);
}

}  // namespace
}  // namespace bitscale::model::onnx
