// Hand-built TFLite models for unit tests (the importer's in-memory form, no FlatBuffer).
#pragma once

#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bitscale/model/tflite.hpp"

namespace bitscale::test {

/// n floats uniform in [lo, hi).
inline std::vector<float> random_floats(std::size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

/// Appends a float32 tensor named "t<index>" (with constant `data` if given); returns its index.
inline int add_tensor(model::tflite::Model& m, std::vector<int> shape, const std::vector<float>& data = {}) {
  model::tflite::Tensor t;
  t.name = "t" + std::to_string(m.tensors.size());
  t.shape = std::move(shape);
  t.type = model::tflite::DType::kFloat32;
  t.data.resize(data.size() * 4);
  if (!data.empty()) std::memcpy(t.data.data(), data.data(), t.data.size());
  m.tensors.push_back(std::move(t));
  return static_cast<int>(m.tensors.size()) - 1;
}

/// An operator reading `inputs` and writing `output`, with a padding and a fused activation.
inline model::tflite::Op make_op(model::tflite::OpType type, std::vector<int> inputs, int output,
                                 model::tflite::Padding padding = model::tflite::Padding::kValid,
                                 model::tflite::Activation activation = model::tflite::Activation::kNone) {
  model::tflite::Op op;
  op.type = type;
  op.inputs = std::move(inputs);
  op.outputs = {output};
  op.padding = padding;
  op.activation = activation;
  return op;
}

/// Appends a uint8 image input [1, side, side, 3] (scale 1/128, zero point 128); returns its index.
inline int add_image_input(model::tflite::Model& m, int side) {
  const int in = add_tensor(m, {1, side, side, 3});
  m.tensors[in].type = model::tflite::DType::kUInt8;
  m.tensors[in].quant.scale = {1.0f / 128};
  m.tensors[in].quant.zero_point = {128};
  return in;
}

/// Appends the classifier head of the test models after the operators already in `m`: an average
/// pool over the whole side × side map of tensor `x` (`channels` deep), a reshape, a fully
/// connected layer to `classes` (weights in [-1, 1), bias in [-0.1, 0.1) drawn from `rng`) and a
/// softmax. Returns the softmax output.
inline int add_classifier_head(model::tflite::Model& m, int x, int side, int channels, int classes, std::mt19937& rng) {
  namespace tfl = model::tflite;
  const int pooled = add_tensor(m, {1, 1, 1, channels});
  const int flat = add_tensor(m, {1, channels});
  const int w =
      add_tensor(m, {classes, channels}, random_floats(static_cast<std::size_t>(classes * channels), rng, -1.0f, 1.0f));
  const int b = add_tensor(m, {classes}, random_floats(static_cast<std::size_t>(classes), rng, -0.1f, 0.1f));
  const int logits = add_tensor(m, {1, classes});
  const int probs = add_tensor(m, {1, classes});
  tfl::Op pool = make_op(tfl::OpType::kAveragePool2D, {x}, pooled);
  pool.filter_h = pool.filter_w = side;
  m.ops.push_back(pool);
  m.ops.push_back(make_op(tfl::OpType::kReshape, {pooled}, flat));
  m.ops.push_back(make_op(tfl::OpType::kFullyConnected, {flat, w, b}, logits));
  m.ops.push_back(make_op(tfl::OpType::kSoftmax, {logits}, probs));
  return probs;
}

}  // namespace bitscale::test
