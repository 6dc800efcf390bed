// TFLite reader: the shared MobileNets, tiny built models, and malformed files (truncated,
// corrupted, wrong identifier, unsupported operators, absurd shapes) that must all end in a
// ModelError naming the model, never in a crash.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>

#include "../fuzz/tflite_builder.hpp"
#include "bitscale/model/tflite.hpp"

namespace bitscale::model::tflite {
namespace {

namespace fs = std::filesystem;
using test::ModelDef;
using test::TensorDef;
namespace tfl = ::tflite;

#ifdef BITSCALE_SHARED_DIR
const fs::path kModels = fs::path(BITSCALE_SHARED_DIR) / "models";
#else
const fs::path kModels = "../shared/models";
#endif

std::vector<std::uint8_t> file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

#define REQUIRE_MODEL(path) \
  if (!fs::exists(path)) GTEST_SKIP() << "shared model " << (path) << " not found (needs ../shared beside the project)"

/// Parses; a ModelError is fine (its message must name the model), anything else fails.
/// Returns the model if it was accepted.
std::optional<Model> parse_or_model_error(std::span<const std::uint8_t> bytes, const std::string& name,
                                          const std::string& ctx) {
  try {
    Model m = parse(bytes, name);
    // Accepted: the invariants later code relies on hold.
    for (const Op& op : m.ops) {
      for (int t : op.inputs) EXPECT_TRUE(t >= -1 && t < static_cast<int>(m.tensors.size())) << ctx;
      for (int t : op.outputs) EXPECT_TRUE(t >= 0 && t < static_cast<int>(m.tensors.size())) << ctx;
    }
    for (const Tensor& t : m.tensors) {
      EXPECT_LE(t.shape.size(), 8u) << ctx;
      if (t.is_const() && (t.type == DType::kFloat32 || !t.quant.empty())) {
        EXPECT_EQ(dequantize(t, name).size(), static_cast<std::size_t>(t.elements())) << ctx;
      } else if (t.is_const() && (t.type == DType::kInt32 || t.type == DType::kInt64)) {
        EXPECT_EQ(integers(t, name).size(), static_cast<std::size_t>(t.elements())) << ctx;
      }
    }
    return m;
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("model '" + name + "'"), std::string::npos) << ctx << ": " << e.what();
    return std::nullopt;
  }
}

std::string error_of(const std::vector<std::uint8_t>& bytes, const std::string& name = "tiny.tflite") {
  try {
    parse(bytes, name);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

// ---------------------------------------------------------------- shared models

struct SharedCase {
  const char* file;
  int size;  // input height = width
  int ops;
  int conv, dw, add;  // operator counts
  double mmacs;       // approximate MACs
};

class SharedModel : public ::testing::TestWithParam<SharedCase> {};

TEST_P(SharedModel, LoadsWithExpectedStructure) {
  const SharedCase c = GetParam();
  const fs::path path = kModels / c.file;
  REQUIRE_MODEL(path);
  const Model m = read_file(path.string());
  EXPECT_EQ(m.name, c.file);
  ASSERT_EQ(m.inputs.size(), 1u);
  ASSERT_EQ(m.outputs.size(), 1u);
  const Tensor& in = m.tensors[static_cast<std::size_t>(m.inputs[0])];
  EXPECT_EQ(in.shape, (std::vector<int>{1, c.size, c.size, 3}));
  EXPECT_EQ(in.type, DType::kUInt8);
  ASSERT_EQ(in.quant.scale.size(), 1u);
  EXPECT_FLOAT_EQ(in.quant.scale[0], 1.0f / 128);
  EXPECT_EQ(in.quant.zero_point[0], 128);
  EXPECT_FALSE(in.is_const());
  const Tensor& out = m.tensors[static_cast<std::size_t>(m.outputs[0])];
  EXPECT_EQ(out.shape, (std::vector<int>{1, 1001}));
  EXPECT_EQ(out.type, DType::kUInt8);

  EXPECT_EQ(static_cast<int>(m.ops.size()), c.ops);
  auto n = [&](OpType t) {
    return std::count_if(m.ops.begin(), m.ops.end(), [&](const Op& o) { return o.type == t; });
  };
  EXPECT_EQ(n(OpType::kConv2D), c.conv);
  EXPECT_EQ(n(OpType::kDepthwiseConv2D), c.dw);
  EXPECT_EQ(n(OpType::kAdd), c.add);
  EXPECT_EQ(n(OpType::kAveragePool2D), 1);
  EXPECT_EQ(n(OpType::kReshape), 1);
  EXPECT_EQ(n(OpType::kSoftmax), 1);
  EXPECT_EQ(m.ops.back().type, OpType::kSoftmax);

  // First layer: 3x3 stride-2 SAME convolution with RELU6, uint8 weights and int32 bias.
  const Op& first = m.ops.front();
  EXPECT_EQ(first.type, OpType::kConv2D);
  EXPECT_EQ(first.stride_h, 2);
  EXPECT_EQ(first.stride_w, 2);
  EXPECT_EQ(first.padding, Padding::kSame);
  EXPECT_EQ(first.activation, Activation::kRelu6);
  ASSERT_EQ(first.inputs.size(), 3u);
  const Tensor& w = m.tensors[static_cast<std::size_t>(first.inputs[1])];
  const Tensor& b = m.tensors[static_cast<std::size_t>(first.inputs[2])];
  EXPECT_EQ(w.shape.size(), 4u);
  EXPECT_EQ(w.shape[1], 3);
  EXPECT_EQ(w.shape[3], 3);
  EXPECT_EQ(w.type, DType::kUInt8);
  EXPECT_EQ(b.type, DType::kInt32);
  EXPECT_EQ(w.data.size(), static_cast<std::size_t>(w.elements()));
  EXPECT_EQ(b.data.size(), static_cast<std::size_t>(b.elements()) * 4);
  const auto wf = dequantize(w, m.name);
  ASSERT_EQ(wf.size(), w.data.size());
  EXPECT_TRUE(std::all_of(wf.begin(), wf.end(), [](float v) { return std::isfinite(v) && std::fabs(v) < 100; }));
  EXPECT_NE(*std::max_element(wf.begin(), wf.end()), *std::min_element(wf.begin(), wf.end()));
  EXPECT_FLOAT_EQ(wf[0],
                  w.quant.scale[0] * (static_cast<float>(w.data[0]) - static_cast<float>(w.quant.zero_point[0])));

  // MACs over the weighted layers.
  double macs = 0;
  for (const Op& op : m.ops) {
    if (op.type != OpType::kConv2D && op.type != OpType::kDepthwiseConv2D) continue;
    const auto& y = m.tensors[static_cast<std::size_t>(op.outputs[0])].shape;
    const auto& k = m.tensors[static_cast<std::size_t>(op.inputs[1])].shape;
    macs += double(y[1]) * y[2] * y[3] * k[1] * k[2] * (op.type == OpType::kConv2D ? k[3] : 1);
  }
  EXPECT_NEAR(macs / 1e6, c.mmacs, c.mmacs * 0.1);
}

INSTANTIATE_TEST_SUITE_P(Tflite, SharedModel,
                         ::testing::Values(SharedCase{"mobilenet_v1_0.25_128_quant.tflite", 128, 31, 15, 13, 0, 14},
                                           SharedCase{"mobilenet_v1_0.5_160_quant.tflite", 160, 31, 15, 13, 0, 77},
                                           SharedCase{"mobilenet_v2_1.0_224_quant.tflite", 224, 66, 36, 17, 10, 300}),
                         [](const auto& info) {
                           std::string s = info.param.file;
                           s = s.substr(0, s.find("_quant"));
                           std::replace_if(
                               s.begin(), s.end(),
                               [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
                           return s;
                         });

TEST(Tflite, SharedModelTruncatedAtManyLengths) {
  const fs::path path = kModels / "mobilenet_v1_0.25_128_quant.tflite";
  REQUIRE_MODEL(path);
  const auto bytes = file_bytes(path);
  const Model full = parse(bytes, "full.tflite");
  std::size_t full_bytes = 0;
  for (const Tensor& t : full.tensors) full_bytes += t.data.size();
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n < 600; ++n) lengths.push_back(n);
  for (std::size_t n = 600; n < bytes.size(); n += 997) lengths.push_back(n);
  for (std::size_t n = bytes.size() - 64; n < bytes.size(); ++n) lengths.push_back(n);
  for (std::size_t n : lengths) {
    const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    // The published files end with a ZIP archive of labels (TFLite metadata) that the FlatBuffer
    // does not reference: cutting into it may leave a complete model, which must then be whole.
    if (const auto m = parse_or_model_error(cut, "cut.tflite", fmt::format("truncated at {}", n))) {
      std::size_t got = 0;
      for (const Tensor& t : m->tensors) got += t.data.size();
      EXPECT_EQ(m->ops.size(), full.ops.size()) << "truncated at " << n;
      EXPECT_EQ(got, full_bytes) << "truncated at " << n;
    }
  }
}

TEST(Tflite, SharedModelRandomCorruption) {
  const fs::path path = kModels / "mobilenet_v1_0.25_128_quant.tflite";
  REQUIRE_MODEL(path);
  const auto bytes = file_bytes(path);
  const std::uint32_t seed = 20240601;
  std::mt19937 rng(seed);
  // Corrupt the first 64 KiB (tables, vtables, offsets, small buffers) and anywhere.
  for (int i = 0; i < 300; ++i) {
    auto copy = bytes;
    const std::size_t span = i % 2 == 0 ? std::min<std::size_t>(65536, copy.size()) : copy.size();
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < flips; ++k) copy[rng() % span] = static_cast<std::uint8_t>(rng());
    parse_or_model_error(copy, "corrupt.tflite", fmt::format("seed {} iteration {}", seed, i));
  }
}

TEST(Tflite, SharedModelMisalignedBuffer) {
  const fs::path path = kModels / "mobilenet_v1_0.25_128_quant.tflite";
  REQUIRE_MODEL(path);
  const auto bytes = file_bytes(path);
  std::vector<std::uint8_t> shifted(bytes.size() + 1);
  std::copy(bytes.begin(), bytes.end(), shifted.begin() + 1);
  const Model m = parse(std::span(shifted).subspan(1), "shifted.tflite");
  EXPECT_EQ(m.ops.size(), 31u);
}

// ---------------------------------------------------------------- tiny models

TEST(Tflite, ExplicitPaddingFollowsTheSameRule) {
  const auto pad = [](Padding p, int in, int k, int stride, int dilation = 1) {
    const golden::PadAmounts a = explicit_padding(p, in, k, stride, dilation);
    return std::pair{a.before, a.after};
  };
  using P = std::pair<int, int>;
  EXPECT_EQ(pad(Padding::kValid, 224, 3, 2), P(0, 0));  // VALID pads nothing
  EXPECT_EQ(pad(Padding::kValid, 5, 3, 1, 2), P(0, 0));
  // SAME: out = ceil(in / stride), total = (out - 1) * stride + (k - 1) * dilation + 1 - in.
  EXPECT_EQ(pad(Padding::kSame, 224, 3, 2), P(0, 1));    // out 112: 222 + 3 - 224 = 1, odd cell after
  EXPECT_EQ(pad(Padding::kSame, 112, 3, 1), P(1, 1));    // out 112: 111 + 3 - 112 = 2
  EXPECT_EQ(pad(Padding::kSame, 7, 1, 1), P(0, 0));      // 1x1 kernel
  EXPECT_EQ(pad(Padding::kSame, 10, 3, 1, 2), P(2, 2));  // dilated: 9 + 5 - 10 = 4
  EXPECT_EQ(pad(Padding::kSame, 5, 4, 1), P(1, 2));      // even kernel: 4 + 4 - 5 = 3
  EXPECT_EQ(pad(Padding::kSame, 9, 3, 2), P(1, 1));      // out 5: 8 + 3 - 9 = 2
  EXPECT_EQ(pad(Padding::kSame, 8, 2, 2), P(0, 0));      // out 4: 6 + 2 - 8 = 0
  EXPECT_EQ(pad(Padding::kSame, 3, 5, 3), P(1, 1));      // out 1: 0 + 5 - 3 = 2
}

TEST(Tflite, CanonicalActivationKeepsTheClampRange) {
  EXPECT_EQ(canonical_activation(Activation::kNone), golden::FloatActivation::kNone);
  EXPECT_EQ(canonical_activation(Activation::kRelu), golden::FloatActivation::kRelu);
  EXPECT_EQ(canonical_activation(Activation::kRelu6), golden::FloatActivation::kRelu6);
  EXPECT_EQ(canonical_activation(Activation::kReluN1To1), golden::FloatActivation::kReluN1To1);
}

TEST(Tflite, TinyModelOptionsAndShapes) {
  const auto bytes = test::tiny_model_def().finish();
  const Model m = parse(bytes, "tiny.tflite");
  ASSERT_EQ(m.ops.size(), 6u);
  EXPECT_EQ(m.ops[0].type, OpType::kConv2D);
  EXPECT_EQ(m.ops[0].stride_h, 2);
  EXPECT_EQ(m.ops[0].padding, Padding::kSame);
  EXPECT_EQ(m.ops[0].activation, Activation::kRelu6);
  EXPECT_EQ(m.ops[1].type, OpType::kDepthwiseConv2D);
  EXPECT_EQ(m.ops[1].depth_multiplier, 1);
  EXPECT_EQ(m.ops[2].type, OpType::kAveragePool2D);
  EXPECT_EQ(m.ops[2].filter_h, 4);
  EXPECT_EQ(m.ops[2].filter_w, 4);
  EXPECT_EQ(m.ops[2].padding, Padding::kValid);
  EXPECT_EQ(m.ops[3].type, OpType::kReshape);
  EXPECT_EQ(m.ops[4].type, OpType::kFullyConnected);
  EXPECT_EQ(m.ops[5].type, OpType::kSoftmax);
  EXPECT_FLOAT_EQ(m.ops[5].beta, 1.0f);
  EXPECT_EQ(dequantize(m.tensors[2], m.name)[1], -20 * (1.0f / 128 * 0.02f));
  EXPECT_EQ(m.tensors[0].name, "input");
}

TEST(Tflite, TinyMiscOps) {
  const Model m = parse(test::tiny_misc_def().finish(), "misc.tflite");
  ASSERT_EQ(m.ops.size(), 8u);
  EXPECT_EQ(m.ops[0].type, OpType::kAdd);
  EXPECT_EQ(m.ops[0].activation, Activation::kRelu);
  EXPECT_EQ(m.ops[1].type, OpType::kPad);
  EXPECT_EQ(m.ops[2].type, OpType::kMaxPool2D);
  EXPECT_EQ(m.ops[3].type, OpType::kConcatenation);
  EXPECT_EQ(m.ops[3].axis, 3);  // -1 normalised
  EXPECT_EQ(m.ops[4].type, OpType::kMean);
  EXPECT_TRUE(m.ops[4].keep_dims);
  EXPECT_EQ(m.ops[5].type, OpType::kSqueeze);
  EXPECT_EQ(m.ops[6].type, OpType::kQuantize);
  EXPECT_EQ(m.ops[7].type, OpType::kDequantize);
  EXPECT_EQ(m.tensors[static_cast<std::size_t>(m.outputs[0])].type, DType::kFloat32);
}

TEST(Tflite, SummaryCountsParametersAndMacsFromTheShapes) {
  const ModelDef d = test::tiny_model_def();
  const Model m = parse(d.finish(), "tiny.tflite");
  const Summary s = summarize(m);
  ASSERT_EQ(s.layers.size(), m.ops.size());
  // Expected values from the builder's shapes: parameters = weight + bias elements; MACs = output
  // elements times the products each output accumulates.
  auto elements = [&](int t) {
    std::int64_t n = 1;
    for (int v : d.tensors[static_cast<std::size_t>(t)].shape) n *= v;
    return n;
  };
  auto params = [&](std::size_t i) { return elements(d.ops[i].inputs[1]) + elements(d.ops[i].inputs[2]); };
  auto out = [&](std::size_t i) { return elements(d.ops[i].outputs[0]); };
  const std::array<std::int64_t, 6> want_params{params(0), params(1), 0, 0, params(4), 0};
  const std::array<std::int64_t, 6> want_macs{out(0) * 3 * 3 * 3,  // CONV_2D 3x3 over 3 input channels
                                              out(1) * 3 * 3,      // DEPTHWISE_CONV_2D 3x3, one channel each
                                              0,
                                              0,
                                              out(4) * 4,  // FULLY_CONNECTED over 4 inputs
                                              0};
  std::int64_t total_params = 0, total_macs = 0;
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    const LayerSummary& l = s.layers[i];
    EXPECT_EQ(l.index, static_cast<int>(i));
    EXPECT_EQ(l.op, &m.ops[i]);
    EXPECT_EQ(l.input_shape, d.tensors[static_cast<std::size_t>(d.ops[i].inputs[0])].shape) << i;
    EXPECT_EQ(l.output_shape, d.tensors[static_cast<std::size_t>(d.ops[i].outputs[0])].shape) << i;
    EXPECT_EQ(l.params, want_params[i]) << i;
    EXPECT_EQ(l.macs, want_macs[i]) << i;
    total_params += want_params[i];
    total_macs += want_macs[i];
  }
  EXPECT_EQ(s.params, total_params);
  EXPECT_EQ(s.macs, total_macs);
  EXPECT_EQ(s.params, (108 + 4) + (36 + 4) + (40 + 10));
  EXPECT_EQ(s.macs, 64 * 27 + 64 * 9 + 10 * 4);
}

TEST(Tflite, OperatorKinds) {
  for (const OpType t : {OpType::kAveragePool2D, OpType::kMaxPool2D}) {
    EXPECT_TRUE(is_pool(t) && is_spatial(t) && has_activation(t) && !has_weights(t)) << to_string(t);
  }
  for (const OpType t : {OpType::kConv2D, OpType::kDepthwiseConv2D}) {
    EXPECT_TRUE(!is_pool(t) && is_spatial(t) && has_activation(t) && has_weights(t)) << to_string(t);
  }
  EXPECT_TRUE(has_weights(OpType::kFullyConnected) && has_activation(OpType::kFullyConnected));
  EXPECT_FALSE(is_spatial(OpType::kFullyConnected));
  for (const OpType t : {OpType::kAdd, OpType::kConcatenation}) EXPECT_TRUE(has_activation(t) && !has_weights(t));
  for (const OpType t : {OpType::kMean, OpType::kReshape, OpType::kSqueeze, OpType::kSoftmax, OpType::kQuantize,
                         OpType::kDequantize, OpType::kPad}) {
    EXPECT_FALSE(is_spatial(t) || has_activation(t) || has_weights(t)) << to_string(t);
  }
}

TEST(Tflite, NamesAreTheFilesNames) {
  EXPECT_EQ(to_string(OpType::kDepthwiseConv2D), "DEPTHWISE_CONV_2D");
  EXPECT_EQ(to_string(OpType::kConcatenation), "CONCATENATION");
  EXPECT_EQ(to_string(Activation::kReluN1To1), "RELU_N1_TO_1");
  EXPECT_EQ(to_string(Activation::kNone), "NONE");
  EXPECT_EQ(to_string(DType::kFloat32), "float32");
  EXPECT_EQ(to_string(DType::kUInt8), "uint8");
  EXPECT_EQ(type_size(DType::kInt64), 8u);
  EXPECT_EQ(type_size(DType::kInt16), 2u);
}

TEST(Tflite, ExtendedBuiltinCodeResolves) {
  // deprecated_builtin_code 0 (ADD) with builtin_code CONV_2D: the larger one wins, as in TFLite.
  ModelDef d = test::tiny_model_def();
  d.ops[0].deprecated_code = 0;
  const Model m = parse(d.finish(), "tiny.tflite");
  EXPECT_EQ(m.ops[0].type, OpType::kConv2D);
}

TEST(Tflite, PerChannelQuantization) {
  ModelDef d = test::tiny_model_def();
  d.tensors[1].scale = {0.5f, 1.0f, 2.0f, 4.0f};
  d.tensors[1].zero_point = {0, 0, 0, 0};
  d.tensors[1].type = tfl::TensorType_INT8;
  d.tensors[1].data = test::pattern_bytes(108, 7);
  d.tensors[1].quantized_dimension = 0;
  const Model m = parse(d.finish(), "tiny.tflite");
  const Tensor& w = m.tensors[1];
  ASSERT_EQ(w.quant.scale.size(), 4u);
  EXPECT_EQ(w.quant.axis, 0);
  const auto f = dequantize(w, m.name);
  for (std::size_t i = 0; i < f.size(); ++i) {
    const float q = static_cast<float>(static_cast<std::int8_t>(w.data[i]));
    EXPECT_FLOAT_EQ(f[i], q * w.quant.scale[i / 27]) << i;
  }
  // Wrongly sized per-channel arrays are rejected.
  d.tensors[1].scale = {0.5f, 1.0f, 2.0f};
  d.tensors[1].zero_point = {0, 0, 0};
  EXPECT_NE(error_of(d.finish()).find("per-channel"), std::string::npos);
}

// ---------------------------------------------------------------- the `bitscale info` text

// The whitespace-separated fields of a line.
std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(TfliteInfo, ShapeAndQuantizationStrings) {
  EXPECT_EQ(shape_string({1, 8, 8, 3}), "[1,8,8,3]");
  EXPECT_EQ(shape_string({}), "[]");
  ModelDef d = test::tiny_model_def();
  d.tensors[1].scale = {0.5f, 1.0f, 2.0f, 4.0f};
  d.tensors[1].zero_point = {0, 0, 0, 0};
  d.tensors[1].type = tfl::TensorType_INT8;
  d.tensors[1].quantized_dimension = 0;
  const Model m = parse(d.finish(), "tiny.tflite");
  // The builder's input: uint8, scale 1/128 (exactly 0.0078125), zero point 128.
  EXPECT_EQ(quant_string(m.tensors[0]), "uint8 (scale 0.0078125, zero point 128)");
  EXPECT_EQ(quant_string(m.tensors[1]), "int8 (per-channel, 4 scales)");
  EXPECT_EQ(quant_string(m.tensors[8]), "int32");  // the reshape's shape: no quantization
}

TEST(TfliteInfo, TableListsEveryOperatorWithItsOptions) {
  const Model m = parse(test::tiny_model_def().finish(), "tiny.tflite");
  const std::vector<std::string> lines = lines_of(summary_table(m, summarize(m)));
  // Header, input, output, blank, column titles, 6 operators, blank, totals.
  ASSERT_EQ(lines.size(), 13u);
  EXPECT_EQ(lines[0], "model tiny.tflite: 6 operators, 14 tensors");
  EXPECT_EQ(lines[1], "  input  0 'input' [1,8,8,3] uint8 (scale 0.0078125, zero point 128)");
  EXPECT_EQ(lines[2], "  output 13 'softmax/out' [1,10] uint8 (scale 0.00390625, zero point 0)");
  EXPECT_EQ(lines[3], "");
  EXPECT_EQ(fields_of(lines[4]),
            (std::vector<std::string>{"#", "op", "input", "output", "act", "stride", "pad", "params", "MACs"}));
  // Conv 3x3 stride 2 SAME over 3 channels into 4: 108 + 4 parameters, 4*4*4 outputs x 27 MACs.
  EXPECT_EQ(fields_of(lines[5]), (std::vector<std::string>{"0", "CONV_2D", "[1,8,8,3]", "[1,4,4,4]", "RELU6", "2x2",
                                                           "SAME", "112", "1728"}));
  EXPECT_EQ(fields_of(lines[6]), (std::vector<std::string>{"1", "DEPTHWISE_CONV_2D", "[1,4,4,4]", "[1,4,4,4]", "RELU6",
                                                           "1x1", "SAME", "40", "576"}));
  // A pool names its filter; no parameters.
  EXPECT_EQ(fields_of(lines[7]), (std::vector<std::string>{"2", "AVERAGE_POOL_2D", "4x4", "[1,4,4,4]", "[1,1,1,4]",
                                                           "NONE", "2x2", "VALID", "0", "0"}));
  // No activation, stride or padding for a reshape.
  EXPECT_EQ(fields_of(lines[8]), (std::vector<std::string>{"3", "RESHAPE", "[1,1,1,4]", "[1,4]", "0", "0"}));
  EXPECT_EQ(fields_of(lines[9]),
            (std::vector<std::string>{"4", "FULLY_CONNECTED", "[1,4]", "[1,10]", "NONE", "50", "40"}));
  EXPECT_EQ(fields_of(lines[10]), (std::vector<std::string>{"5", "SOFTMAX", "[1,10]", "[1,10]", "0", "0"}));
  // Columns line up: every row is as wide as the titles' line (right-aligned MACs).
  for (std::size_t i = 5; i <= 10; ++i) EXPECT_EQ(lines[i].size(), lines[4].size()) << i;
  EXPECT_EQ(lines[11], "");
  EXPECT_EQ(lines[12], "total: 6 operators, 202 parameters, 2344 MACs (0.0 M)");
}

TEST(TfliteInfo, JsonHoldsTheSameFacts) {
  ModelDef d = test::tiny_model_def();
  d.tensors[0].scale = {0.05f};  // not exact in binary: written as the shortest decimal
  const Model m = parse(d.finish(), "tiny.tflite");
  const std::string text = summary_json(m, summarize(m));
  ASSERT_TRUE(text.ends_with("}\n"));
  EXPECT_NE(text.find("\n  \"inputs\": ["), std::string::npos);  // two-space indent
  EXPECT_NE(text.find("\"scale\": 0.05,"), std::string::npos) << text;
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("model"), "tiny.tflite");
  EXPECT_EQ(j.at("tensors"), 14);
  EXPECT_EQ(j.at("inputs")[0].at("name"), "input");
  EXPECT_EQ(j.at("inputs")[0].at("shape"), nlohmann::json({1, 8, 8, 3}));
  EXPECT_EQ(j.at("inputs")[0].at("type"), "uint8");
  EXPECT_EQ(j.at("inputs")[0].at("zero_point"), 128);
  EXPECT_EQ(j.at("outputs")[0].at("tensor"), 13);
  const auto& layers = j.at("layers");
  ASSERT_EQ(layers.size(), 6u);
  EXPECT_EQ(layers[0].at("op"), "CONV_2D");
  EXPECT_EQ(layers[0].at("stride"), nlohmann::json({2, 2}));
  EXPECT_EQ(layers[0].at("padding"), "SAME");
  EXPECT_EQ(layers[0].at("activation"), "RELU6");
  EXPECT_EQ(layers[0].at("params"), 112);
  EXPECT_EQ(layers[0].at("macs"), 1728);
  EXPECT_FALSE(layers[0].contains("depth_multiplier"));
  EXPECT_EQ(layers[1].at("depth_multiplier"), 1);
  EXPECT_EQ(layers[2].at("filter"), nlohmann::json({4, 4}));
  EXPECT_EQ(layers[2].at("padding"), "VALID");
  EXPECT_FALSE(layers[3].contains("stride") || layers[3].contains("activation"));
  EXPECT_EQ(layers[4].at("input_shape"), nlohmann::json({1, 4}));
  EXPECT_EQ(j.at("total_params"), 202);
  EXPECT_EQ(j.at("total_macs"), 2344);
}

// ---------------------------------------------------------------- rejected models

TEST(Tflite, UnsupportedOperatorIsNamed) {
  for (int code :
       {int(tfl::BuiltinOperator_HARD_SWISH), int(tfl::BuiltinOperator_GELU), int(tfl::BuiltinOperator_MUL)}) {
    ModelDef d = test::tiny_model_def();
    const int y = d.add({{1, 10}, tfl::TensorType_UINT8, {}, {0.1f}, {0}, 0, "extra"});
    d.ops.push_back({code, {d.outputs[0]}, {y}});
    d.outputs = {y};
    const std::string e = error_of(d.finish(), "swish.tflite");
    const std::string name = tfl::EnumNameBuiltinOperator(static_cast<tfl::BuiltinOperator>(code));
    EXPECT_NE(e.find("model 'swish.tflite'"), std::string::npos) << e;
    EXPECT_NE(e.find("operator 6 uses " + name + ", which bitscale does not support"), std::string::npos) << e;
    EXPECT_NE(e.find("supported: "), std::string::npos) << e;
    EXPECT_NE(e.find("CONV_2D"), std::string::npos) << e;
  }
}

TEST(Tflite, CustomOperatorIsNamed) {
  ModelDef d = test::tiny_model_def();
  d.ops[5].code = tfl::BuiltinOperator_CUSTOM;
  d.ops[5].custom_code = "TFLite_Detection_PostProcess";
  const std::string e = error_of(d.finish());
  EXPECT_NE(e.find("custom operator 'TFLite_Detection_PostProcess'"), std::string::npos) << e;
}

TEST(Tflite, AbsurdShapesRejected) {
  {
    ModelDef d = test::tiny_model_def();
    d.add({{65536, 65536, 4}, tfl::TensorType_UINT8, {}, {}, {}, 0, "huge"});
    EXPECT_NE(error_of(d.finish()).find("absurdly large"), std::string::npos);
  }
  {
    ModelDef d = test::tiny_model_def();
    d.add({{1, 1, 1, 1, 1, 1, 1, 1, 1}, tfl::TensorType_UINT8, {}, {}, {}, 0, "nine dims"});
    EXPECT_NE(error_of(d.finish()).find("9 dimensions"), std::string::npos);
  }
  {
    ModelDef d = test::tiny_model_def();
    d.tensors[3].shape = {1, 4, -4, 4};
    EXPECT_NE(error_of(d.finish()).find("negative dimension"), std::string::npos);
  }
  {
    ModelDef d = test::tiny_model_def();
    d.tensors[0].shape = {1, 2147483647, 1, 3};  // > 2^31 elements in total
    EXPECT_NE(error_of(d.finish()).find("absurdly large"), std::string::npos);
  }
}

TEST(Tflite, InconsistentModelsRejected) {
  struct Case {
    const char* expect;
    std::function<void(ModelDef&)> tweak;
  };
  const std::vector<Case> cases = {
      {"refers to buffer 99", [](ModelDef& d) { d.tensors[1].buffer = 99; }},
      {"bytes of constant data", [](ModelDef& d) { d.tensors[1].data.pop_back(); }},
      {"refers to tensor 77", [](ModelDef& d) { d.ops[2].inputs[0] = 77; }},
      {"refers to tensor -3", [](ModelDef& d) { d.ops[2].inputs[0] = -3; }},
      {"subgraph output 0 refers to tensor 500", [](ModelDef& d) { d.outputs = {500}; }},
      {"has 1 inputs, expected 2 to 3", [](ModelDef& d) { d.ops[0].inputs.resize(1); }},
      {"does not follow from input",
       [](ModelDef& d) {
         d.tensors[3].shape = {1, 5, 4, 4};
       }},
      {"input channels",
       [](ModelDef& d) {
         d.tensors[0].shape = {1, 8, 8, 5};
       }},
      {"bias has 3 entries",
       [](ModelDef& d) {
         d.tensors[2].shape = {3};
         d.tensors[2].data.resize(12);
       }},
      {"has no Conv2DOptions", [](ModelDef& d) { d.ops[0].options = nullptr; }},
      {"stride_h 0",
       [](ModelDef& d) {
         d.ops[0].options = [](flatbuffers::FlatBufferBuilder& b) {
           return tfl::CreateConv2DOptions(b, tfl::Padding_SAME, 2, 0).Union();
         };
       }},
      {"fused activation TANH",
       [](ModelDef& d) {
         d.ops[0].options = [](flatbuffers::FlatBufferBuilder& b) {
           return tfl::CreateConv2DOptions(b, tfl::Padding_SAME, 2, 2, tfl::ActivationFunctionType_TANH).Union();
         };
       }},
      {"type STRING", [](ModelDef& d) { d.tensors[9].type = tfl::TensorType_STRING; }},
      {"zero point 300", [](ModelDef& d) { d.tensors[3].zero_point = {300}; }},
      {"without quantization parameters",
       [](ModelDef& d) {
         d.tensors[3].scale.clear();
         d.tensors[3].zero_point.clear();
       }},
      {"reads tensor 6 before any operator writes it", [](ModelDef& d) { std::swap(d.ops[1], d.ops[2]); }},
      {"schema version 2", [](ModelDef& d) { d.version = 2; }},
      {"no operators", [](ModelDef& d) { d.ops.clear(); }},
      {"differ in size",
       [](ModelDef& d) {
         d.tensors[9].shape = {1, 5};
       }},
  };
  for (const Case& c : cases) {
    ModelDef d = test::tiny_model_def();
    c.tweak(d);
    const std::string e = error_of(d.finish());
    EXPECT_NE(e.find(c.expect), std::string::npos) << "expected '" << c.expect << "', got '" << e << "'";
    EXPECT_NE(e.find("model 'tiny.tflite'"), std::string::npos) << e;
  }
}

TEST(Tflite, TinyModelTruncatedAndCorrupted) {
  for (const ModelDef& d : {test::tiny_model_def(), test::tiny_misc_def()}) {
    const auto bytes = d.finish();
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      const std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
      EXPECT_FALSE(parse_or_model_error(cut, "cut.tflite", fmt::format("truncated at {}", n)).has_value());
    }
    // Every position set to a few interesting values.
    for (std::size_t pos = 0; pos < bytes.size(); ++pos) {
      for (std::uint8_t v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
        auto copy = bytes;
        copy[pos] = v;
        parse_or_model_error(copy, "corrupt.tflite", fmt::format("byte {} = {}", pos, v));
      }
    }
  }
}

TEST(Tflite, WrongIdentifierEmptyAndMissingFiles) {
  auto bytes = test::tiny_model_def().finish();
  bytes[4] = 'X';
  EXPECT_NE(error_of(bytes).find("not a TensorFlow Lite model (file identifier 'XFL3', expected 'TFL3')"),
            std::string::npos)
      << error_of(bytes);
  EXPECT_NE(error_of({}).find("the file is empty"), std::string::npos);
  EXPECT_NE(error_of({0x1c, 0, 0}).find("too short"), std::string::npos);

  const fs::path dir = fs::temp_directory_path() / fmt::format("bitscale_test_tflite_{}", ::getpid());
  fs::create_directories(dir);
  try {
    read_file((dir / "absent.tflite").string());
    ADD_FAILURE() << "no error for a missing file";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("model 'absent.tflite'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no such file"), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_file(dir.string()), ModelError);
  { std::ofstream((dir / "empty.tflite").string()); }
  try {
    read_file((dir / "empty.tflite").string());
    ADD_FAILURE() << "no error for an empty file";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("model 'empty.tflite': the file is empty"), std::string::npos) << e.what();
  }
  {
    std::ofstream f((dir / "text.tflite").string());
    f << "this is not a model, just some text long enough";
  }
  EXPECT_THROW(read_file((dir / "text.tflite").string()), ModelError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bitscale::model::tflite
