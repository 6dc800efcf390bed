// TFLite file model helpers: the values of constant tensors (the one dequantizer of bitscale).
#include <fmt/format.h>

#include <cstring>

#include "bitscale/model/tflite.hpp"

namespace bitscale::model::tflite {
namespace {

template <typename T>
T load_le(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // little-endian host (x86-64, AArch64)
  return v;
}

double raw_value(DType t, const std::uint8_t* p) {
  switch (t) {
    case DType::kFloat32:
      return load_le<float>(p);
    case DType::kUInt8:
      return *p;
    case DType::kInt8:
      return static_cast<std::int8_t>(*p);
    case DType::kInt32:
      return load_le<std::int32_t>(p);
    case DType::kInt64:
      return static_cast<double>(load_le<std::int64_t>(p));
    case DType::kInt16:
      return load_le<std::int16_t>(p);
  }
  return 0.0;
}

}  // namespace

std::int64_t Tensor::elements() const {
  std::int64_t n = 1;
  for (int d : shape) n *= d;
  return n;
}

std::vector<float> dequantize(const Tensor& t, const std::string& model) {
  if (!t.is_const()) throw ModelError(fmt::format("{}: tensor '{}' is not constant", model, t.name));
  const std::size_t es = type_size(t.type);
  const std::size_t n = t.data.size() / es;
  if (static_cast<std::int64_t>(n) != t.elements()) {
    throw ModelError(fmt::format("{}: tensor '{}' holds {} values, its shape says {}", model, t.name, n, t.elements()));
  }
  std::vector<float> out(n);
  if (t.type == DType::kFloat32) {
    for (std::size_t i = 0; i < n; ++i) out[i] = load_le<float>(&t.data[4 * i]);
    return out;
  }
  if (t.quant.empty()) {
    throw ModelError(fmt::format("{}: integer tensor '{}' has no quantization parameters", model, t.name));
  }
  // Per channel: element i belongs to channel (i / inner) % channels, inner = product of the
  // dimensions after the quantized one.
  std::size_t inner = 1;
  const std::size_t channels = t.quant.scale.size();
  if (channels > 1) {
    if (t.quant.axis < 0 || t.quant.axis >= static_cast<int>(t.shape.size()) ||
        static_cast<std::size_t>(t.shape[t.quant.axis]) != channels) {
      throw ModelError(
          fmt::format("{}: tensor '{}': {} scales do not match axis {}", model, t.name, channels, t.quant.axis));
    }
    for (std::size_t d = t.quant.axis + 1; d < t.shape.size(); ++d) inner *= t.shape[d];
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t ch = channels > 1 ? (i / inner) % channels : 0;
    const double scale = t.quant.scale[ch];
    const double zp = ch < t.quant.zero_point.size() ? static_cast<double>(t.quant.zero_point[ch]) : 0.0;
    out[i] = static_cast<float>(scale * (raw_value(t.type, &t.data[es * i]) - zp));
  }
  return out;
}

std::vector<std::int64_t> integers(const Tensor& t, const std::string& model) {
  if (!t.is_const()) throw ModelError(fmt::format("{}: tensor '{}' must be constant", model, t.name));
  if (t.type != DType::kInt32 && t.type != DType::kInt64) {
    throw ModelError(fmt::format("{}: tensor '{}' must hold int32 or int64", model, t.name));
  }
  const std::size_t es = type_size(t.type);
  std::vector<std::int64_t> v;
  for (std::size_t i = 0; i + es <= t.data.size(); i += es) {
    v.push_back(t.type == DType::kInt64 ? load_le<std::int64_t>(&t.data[i]) : load_le<std::int32_t>(&t.data[i]));
  }
  return v;
}

}  // namespace bitscale::model::tflite
