// Model IR helpers: element counts, dequantization of constant data, names.
#include "bitscale/model/graph.hpp"

#include <cstring>

namespace bitscale::model {
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

std::vector<float> Tensor::to_float() const {
  const std::size_t esize = type_size(type);
  const std::size_t n = data.size() / esize;
  std::vector<float> out(n);
  const bool dequant = type != DType::kFloat32 && !quant.empty();
  // Per-channel: element i belongs to channel (i / inner) % channels, inner = product of the
  // dimensions after the quantized one.
  std::size_t inner = 1, channels = 1;
  const bool per_channel = dequant && quant.scale.size() > 1;
  if (per_channel && quant.axis >= 0 && static_cast<std::size_t>(quant.axis) < shape.size()) {
    channels = static_cast<std::size_t>(shape[static_cast<std::size_t>(quant.axis)]);
    for (std::size_t d = static_cast<std::size_t>(quant.axis) + 1; d < shape.size(); ++d) {
      inner *= static_cast<std::size_t>(shape[d]);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double q = raw_value(type, data.data() + i * esize);
    if (!dequant) {
      out[i] = static_cast<float>(q);
      continue;
    }
    std::size_t c = 0;
    if (per_channel && channels > 0 && inner > 0) c = (i / inner) % channels;
    if (c >= quant.scale.size()) c = 0;
    const double zp = c < quant.zero_point.size() ? static_cast<double>(quant.zero_point[c]) : 0.0;
    out[i] = static_cast<float>(static_cast<double>(quant.scale[c]) * (q - zp));
  }
  return out;
}

std::size_t type_size(DType t) {
  switch (t) {
    case DType::kFloat32:
      return 4;
    case DType::kUInt8:
      return 1;
    case DType::kInt8:
      return 1;
    case DType::kInt32:
      return 4;
    case DType::kInt64:
      return 8;
    case DType::kInt16:
      return 2;
  }
  return 1;
}

std::string to_string(OpType t) {
  switch (t) {
    case OpType::kConv2D:
      return "CONV_2D";
    case OpType::kDepthwiseConv2D:
      return "DEPTHWISE_CONV_2D";
    case OpType::kFullyConnected:
      return "FULLY_CONNECTED";
    case OpType::kAdd:
      return "ADD";
    case OpType::kAveragePool2D:
      return "AVERAGE_POOL_2D";
    case OpType::kMaxPool2D:
      return "MAX_POOL_2D";
    case OpType::kMean:
      return "MEAN";
    case OpType::kReshape:
      return "RESHAPE";
    case OpType::kSqueeze:
      return "SQUEEZE";
    case OpType::kSoftmax:
      return "SOFTMAX";
    case OpType::kQuantize:
      return "QUANTIZE";
    case OpType::kDequantize:
      return "DEQUANTIZE";
    case OpType::kPad:
      return "PAD";
    case OpType::kConcatenation:
      return "CONCATENATION";
  }
  return "?";
}

std::string to_string(DType t) {
  switch (t) {
    case DType::kFloat32:
      return "float32";
    case DType::kUInt8:
      return "uint8";
    case DType::kInt8:
      return "int8";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
    case DType::kInt16:
      return "int16";
  }
  return "?";
}

std::string to_string(Activation a) {
  switch (a) {
    case Activation::kNone:
      return "NONE";
    case Activation::kRelu:
      return "RELU";
    case Activation::kRelu6:
      return "RELU6";
    case Activation::kReluN1To1:
      return "RELU_N1_TO_1";
  }
  return "?";
}

}  // namespace bitscale::model
