// Builds small TFLite models in memory with the generated FlatBuffers code: the tiny models of
// the reader's unit tests and seeds of the fuzz targets. Test-only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "tflite_subset_generated.h"

namespace bitscale::test {

namespace tfl = ::tflite;

struct TensorDef {
  std::vector<int> shape;
  tfl::TensorType type = tfl::TensorType_UINT8;
  std::vector<std::uint8_t> data;  ///< constant data; empty for activations
  std::vector<float> scale;        ///< empty: no quantization
  std::vector<std::int64_t> zero_point;
  int quantized_dimension = 0;
  std::string name;
  std::int64_t buffer = -1;  ///< >= 0: force this buffer index
};

struct OpDef {
  int code = tfl::BuiltinOperator_ADD;
  std::vector<int> inputs{}, outputs{};
  tfl::BuiltinOptions options_type = tfl::BuiltinOptions_NONE;
  std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)> options{};
  int deprecated_code = -1000;  ///< != -1000: written as is instead of min(code, 127)
  std::string custom_code{};
};

struct ModelDef {
  std::vector<TensorDef> tensors;
  std::vector<OpDef> ops;
  std::vector<int> inputs, outputs;
  std::uint32_t version = 3;

  int add(TensorDef t) {
    tensors.push_back(std::move(t));
    return static_cast<int>(tensors.size()) - 1;
  }

  [[nodiscard]] std::vector<std::uint8_t> finish() const {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<tfl::Buffer>> buffers{tfl::CreateBuffer(fbb)};
    std::vector<flatbuffers::Offset<tfl::Tensor>> ts;
    for (const TensorDef& t : tensors) {
      std::uint32_t b = 0;
      if (!t.data.empty()) {
        fbb.ForceVectorAlignment(t.data.size(), 1, 16);
        buffers.push_back(tfl::CreateBuffer(fbb, fbb.CreateVector(t.data)));
        b = static_cast<std::uint32_t>(buffers.size() - 1);
      }
      if (t.buffer >= 0) b = static_cast<std::uint32_t>(t.buffer);
      flatbuffers::Offset<tfl::QuantizationParameters> q;
      if (!t.scale.empty()) {
        q = tfl::CreateQuantizationParameters(fbb, 0, 0, fbb.CreateVector(t.scale), fbb.CreateVector(t.zero_point),
                                              tfl::QuantizationDetails_NONE, 0, t.quantized_dimension);
      }
      ts.push_back(tfl::CreateTensor(fbb, fbb.CreateVector(t.shape), t.type, b, fbb.CreateString(t.name), q));
    }
    // One operator code per distinct (code, deprecated code, custom code).
    std::vector<std::tuple<int, int, std::string>> keys;
    std::vector<flatbuffers::Offset<tfl::OperatorCode>> codes;
    std::vector<flatbuffers::Offset<tfl::Operator>> ops_fb;
    for (const OpDef& o : ops) {
      const int dep = o.deprecated_code != -1000 ? o.deprecated_code : std::min(o.code, 127);
      const auto key = std::make_tuple(o.code, dep, o.custom_code);
      auto it = std::find(keys.begin(), keys.end(), key);
      if (it == keys.end()) {
        keys.push_back(key);
        codes.push_back(tfl::CreateOperatorCode(fbb, static_cast<std::int8_t>(dep),
                                                o.custom_code.empty() ? 0 : fbb.CreateString(o.custom_code), 1,
                                                static_cast<tfl::BuiltinOperator>(o.code)));
        it = keys.end() - 1;
      }
      const auto index = static_cast<std::uint32_t>(it - keys.begin());
      flatbuffers::Offset<void> opt = o.options ? o.options(fbb) : flatbuffers::Offset<void>();
      ops_fb.push_back(tfl::CreateOperator(fbb, index, fbb.CreateVector(o.inputs), fbb.CreateVector(o.outputs),
                                           o.options ? o.options_type : tfl::BuiltinOptions_NONE, opt));
    }
    auto sg = tfl::CreateSubGraph(fbb, fbb.CreateVector(ts), fbb.CreateVector(inputs), fbb.CreateVector(outputs),
                                  fbb.CreateVector(ops_fb), fbb.CreateString("main"));
    auto model = tfl::CreateModel(fbb, version, fbb.CreateVector(codes), fbb.CreateVector(std::vector{sg}),
                                  fbb.CreateString("bitscale test model"), fbb.CreateVector(buffers));
    tfl::FinishModelBuffer(fbb, model);
    return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
  }
};

inline std::vector<std::uint8_t> pattern_bytes(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> v(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  return v;
}

inline std::vector<std::uint8_t> int32_bytes(const std::vector<std::int32_t>& v) {
  std::vector<std::uint8_t> out(v.size() * 4);
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

/// A tiny uint8 MobileNet-like model: input [1,8,8,3] -> CONV_2D 3x3/2 SAME RELU6 [1,4,4,4]
/// -> DEPTHWISE_CONV_2D 3x3/1 SAME RELU6 -> AVERAGE_POOL_2D 4x4 VALID [1,1,1,4] -> RESHAPE
/// [1,4] -> FULLY_CONNECTED [1,10] -> SOFTMAX. Tensor indices: input 0, output 13.
inline ModelDef tiny_model_def() {
  ModelDef m;
  const float in_s = 1.0f / 128, w_s = 0.02f, act_s = 0.05f;
  auto act = [&](std::vector<int> shape, std::string name, float s = 0.05f, std::int64_t zp = 0) {
    return m.add({std::move(shape), tfl::TensorType_UINT8, {}, {s}, {zp}, 0, std::move(name)});
  };
  const int x = act({1, 8, 8, 3}, "input", in_s, 128);
  const int w1 = m.add({{4, 3, 3, 3}, tfl::TensorType_UINT8, pattern_bytes(108, 1), {w_s}, {120}, 0, "conv/weights"});
  const int b1 =
      m.add({{4}, tfl::TensorType_INT32, int32_bytes({10, -20, 30, -40}), {in_s * w_s}, {0}, 0, "conv/bias"});
  const int y1 = act({1, 4, 4, 4}, "conv/out");
  const int w2 = m.add({{1, 3, 3, 4}, tfl::TensorType_UINT8, pattern_bytes(36, 2), {w_s}, {128}, 0, "dw/weights"});
  const int b2 = m.add({{4}, tfl::TensorType_INT32, int32_bytes({1, 2, 3, 4}), {act_s * w_s}, {0}, 0, "dw/bias"});
  const int y2 = act({1, 4, 4, 4}, "dw/out");
  const int y3 = act({1, 1, 1, 4}, "pool/out");
  const int shp = m.add({{2}, tfl::TensorType_INT32, int32_bytes({1, 4}), {}, {}, 0, "reshape/shape"});
  const int y4 = act({1, 4}, "reshape/out");
  const int w5 = m.add({{10, 4}, tfl::TensorType_UINT8, pattern_bytes(40, 3), {w_s}, {127}, 0, "fc/weights"});
  const int b5 = m.add(
      {{10}, tfl::TensorType_INT32, int32_bytes({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), {act_s * w_s}, {0}, 0, "fc/bias"});
  const int y5 = act({1, 10}, "fc/out", 0.1f, 100);
  const int y6 = act({1, 10}, "softmax/out", 1.0f / 256, 0);
  m.ops.push_back(
      {tfl::BuiltinOperator_CONV_2D,
       {x, w1, b1},
       {y1},
       tfl::BuiltinOptions_Conv2DOptions,
       [](flatbuffers::FlatBufferBuilder& b) {
         return tfl::CreateConv2DOptions(b, tfl::Padding_SAME, 2, 2, tfl::ActivationFunctionType_RELU6).Union();
       }});
  m.ops.push_back({tfl::BuiltinOperator_DEPTHWISE_CONV_2D,
                   {y1, w2, b2},
                   {y2},
                   tfl::BuiltinOptions_DepthwiseConv2DOptions,
                   [](flatbuffers::FlatBufferBuilder& b) {
                     return tfl::CreateDepthwiseConv2DOptions(b, tfl::Padding_SAME, 1, 1, 1,
                                                              tfl::ActivationFunctionType_RELU6)
                         .Union();
                   }});
  m.ops.push_back({tfl::BuiltinOperator_AVERAGE_POOL_2D,
                   {y2},
                   {y3},
                   tfl::BuiltinOptions_Pool2DOptions,
                   [](flatbuffers::FlatBufferBuilder& b) {
                     return tfl::CreatePool2DOptions(b, tfl::Padding_VALID, 2, 2, 4, 4).Union();
                   }});
  m.ops.push_back({tfl::BuiltinOperator_RESHAPE,
                   {y3, shp},
                   {y4},
                   tfl::BuiltinOptions_ReshapeOptions,
                   [](flatbuffers::FlatBufferBuilder& b) {
                     return tfl::CreateReshapeOptions(b, b.CreateVector(std::vector<int>{1, 4})).Union();
                   }});
  m.ops.push_back({tfl::BuiltinOperator_FULLY_CONNECTED,
                   {y4, w5, b5},
                   {y5},
                   tfl::BuiltinOptions_FullyConnectedOptions,
                   [](flatbuffers::FlatBufferBuilder& b) { return tfl::CreateFullyConnectedOptions(b).Union(); }});
  m.ops.push_back({tfl::BuiltinOperator_SOFTMAX,
                   {y5},
                   {y6},
                   tfl::BuiltinOptions_SoftmaxOptions,
                   [](flatbuffers::FlatBufferBuilder& b) { return tfl::CreateSoftmaxOptions(b, 1.0f).Union(); }});
  m.inputs = {x};
  m.outputs = {y6};
  return m;
}

/// Tiny model with a residual ADD, PAD, MAX_POOL_2D, CONCATENATION, MEAN, SQUEEZE, QUANTIZE and
/// DEQUANTIZE: input [1,4,4,2] uint8.
inline ModelDef tiny_misc_def() {
  ModelDef m;
  auto act = [&](std::vector<int> shape, std::string name, tfl::TensorType t = tfl::TensorType_UINT8) {
    if (t == tfl::TensorType_FLOAT32) return m.add({std::move(shape), t, {}, {}, {}, 0, std::move(name)});
    return m.add({std::move(shape), t, {}, {0.1f}, {t == tfl::TensorType_INT8 ? 0 : 128}, 0, std::move(name)});
  };
  const int x = act({1, 4, 4, 2}, "input");
  const int a = act({1, 4, 4, 2}, "add/out");
  const int pads =
      m.add({{4, 2}, tfl::TensorType_INT32, int32_bytes({0, 0, 1, 1, 1, 1, 0, 0}), {}, {}, 0, "pad/paddings"});
  const int p = act({1, 6, 6, 2}, "pad/out");
  const int mp = act({1, 3, 3, 2}, "maxpool/out");
  const int c = act({1, 3, 3, 4}, "concat/out");
  const int axes = m.add({{2}, tfl::TensorType_INT32, int32_bytes({1, 2}), {}, {}, 0, "mean/axes"});
  const int mean = act({1, 1, 1, 4}, "mean/out");
  const int sq = act({1, 4}, "squeeze/out");
  const int q = act({1, 4}, "quantize/out", tfl::TensorType_INT8);
  const int dq = act({1, 4}, "dequantize/out", tfl::TensorType_FLOAT32);
  m.ops.push_back(
      {tfl::BuiltinOperator_ADD, {x, x}, {a}, tfl::BuiltinOptions_AddOptions, [](flatbuffers::FlatBufferBuilder& b) {
         return tfl::CreateAddOptions(b, tfl::ActivationFunctionType_RELU).Union();
       }});
  m.ops.push_back(
      {tfl::BuiltinOperator_PAD, {a, pads}, {p}, tfl::BuiltinOptions_PadOptions, [](flatbuffers::FlatBufferBuilder& b) {
         return tfl::CreatePadOptions(b).Union();
       }});
  m.ops.push_back({tfl::BuiltinOperator_MAX_POOL_2D,
                   {p},
                   {mp},
                   tfl::BuiltinOptions_Pool2DOptions,
                   [](flatbuffers::FlatBufferBuilder& b) {
                     return tfl::CreatePool2DOptions(b, tfl::Padding_VALID, 2, 2, 2, 2).Union();
                   }});
  m.ops.push_back({tfl::BuiltinOperator_CONCATENATION,
                   {mp, mp},
                   {c},
                   tfl::BuiltinOptions_ConcatenationOptions,
                   [](flatbuffers::FlatBufferBuilder& b) { return tfl::CreateConcatenationOptions(b, -1).Union(); }});
  m.ops.push_back({tfl::BuiltinOperator_MEAN,
                   {c, axes},
                   {mean},
                   tfl::BuiltinOptions_ReducerOptions,
                   [](flatbuffers::FlatBufferBuilder& b) { return tfl::CreateReducerOptions(b, true).Union(); }});
  m.ops.push_back({tfl::BuiltinOperator_SQUEEZE,
                   {mean},
                   {sq},
                   tfl::BuiltinOptions_SqueezeOptions,
                   [](flatbuffers::FlatBufferBuilder& b) {
                     return tfl::CreateSqueezeOptions(b, b.CreateVector(std::vector<int>{1, 2})).Union();
                   }});
  m.ops.push_back({tfl::BuiltinOperator_QUANTIZE, {sq}, {q}});
  m.ops.push_back({tfl::BuiltinOperator_DEQUANTIZE, {q}, {dq}});
  m.inputs = {x};
  m.outputs = {dq};
  return m;
}

}  // namespace bitscale::test
