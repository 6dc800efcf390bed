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

}  // namespace bitscale::test
