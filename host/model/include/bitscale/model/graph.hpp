// In-memory network graph imported from a TensorFlow Lite model: the interface between the
// model reader (tflite.cpp), the float reference, the quantizer and the network executor.
// Layouts follow TFLite: activations NHWC, CONV_2D filters OHWI, DEPTHWISE_CONV_2D filters
// 1HW(C*multiplier), FULLY_CONNECTED weights [out][in].
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace bitscale::model {

/// A model that cannot be read or is not supported; the message names the model and what.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class DType : std::uint8_t { kFloat32, kUInt8, kInt8, kInt32, kInt64, kInt16 };

/// Affine quantization: real = scale * (q - zero_point); per tensor (one entry) or per
/// channel along `axis`.
struct Quantization {
  std::vector<float> scale;
  std::vector<std::int64_t> zero_point;
  int axis = 0;
  [[nodiscard]] bool empty() const { return scale.empty(); }
};

struct Tensor {
  std::string name;
  std::vector<int> shape;  ///< e.g. {1, 224, 224, 3}
  DType type = DType::kFloat32;
  Quantization quant;
  std::vector<std::uint8_t> data;  ///< constant data (little-endian raw bytes); empty for activations
  [[nodiscard]] bool is_const() const { return !data.empty(); }
  [[nodiscard]] std::int64_t elements() const;
  /// Constant data as float: dequantized for integer types (per-channel aware), as is for float32.
  [[nodiscard]] std::vector<float> to_float() const;
};

enum class OpType : std::uint8_t {
  kConv2D,
  kDepthwiseConv2D,
  kFullyConnected,
  kAdd,
  kAveragePool2D,
  kMaxPool2D,
  kMean,
  kReshape,
  kSqueeze,
  kSoftmax,
  kQuantize,
  kDequantize,
  kPad,
  kConcatenation,
};

enum class Activation : std::uint8_t { kNone, kRelu, kRelu6, kReluN1To1 };
enum class Padding : std::uint8_t { kSame, kValid };

struct Op {
  OpType type = OpType::kConv2D;
  std::vector<int> inputs;   ///< tensor indices; -1 = optional input absent (e.g. no bias)
  std::vector<int> outputs;  ///< tensor indices
  // Options (those of the op's type are meaningful).
  Padding padding = Padding::kValid;
  int stride_h = 1, stride_w = 1;
  int dilation_h = 1, dilation_w = 1;
  int filter_h = 1, filter_w = 1;  ///< pools
  int depth_multiplier = 1;        ///< depthwise
  Activation activation = Activation::kNone;
  int axis = 0;            ///< concatenation
  bool keep_dims = false;  ///< mean
  float beta = 1.0f;       ///< softmax
};

struct Model {
  std::string name;  ///< file name, for messages
  std::vector<Tensor> tensors;
  std::vector<Op> ops;  ///< in execution order
  std::vector<int> inputs, outputs;
};

/// Bytes per element.
std::size_t type_size(DType t);
std::string to_string(OpType t);
std::string to_string(DType t);
std::string to_string(Activation a);

}  // namespace bitscale::model
