// The TensorFlow Lite importer. Two steps:
//  1. read_file / parse: the .tflite FlatBuffer (verified before use) as a tflite::Model, a
//     faithful view of the file's first subgraph in TFLite's own terms (NHWC shapes, SAME/VALID
//     padding, fused activations, depth multiplier, quantized constants). `bitscale info`
//     prints this view.
//  2. to_model: every TFLite convention resolved into the canonical graph of graph.hpp (padding
//     amounts, depthwise filters as grouped OHWI weights, constants dequantized to float, input
//     quantization as an InputEncoding). Nothing outside this importer knows about TFLite.
// load_tflite / parse_tflite do both.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bitscale/golden/float_ops.hpp"
#include "bitscale/model/graph.hpp"

namespace bitscale::model {

namespace tflite {

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
};

/// The TFLite builtin operators bitscale reads.
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

/// TFLite's fused activation functions.
enum class Activation : std::uint8_t { kNone, kRelu, kRelu6, kReluN1To1 };
enum class Padding : std::uint8_t { kSame, kValid };

/// One operator with TFLite's options (those of its type are meaningful). Layouts: activations
/// NHWC, CONV_2D filters OHWI, DEPTHWISE_CONV_2D filters 1HW(C*multiplier), FULLY_CONNECTED
/// weights [out][in].
struct Op {
  OpType type = OpType::kConv2D;
  std::vector<int> inputs;   ///< tensor indices; -1 = optional input absent (e.g. no bias)
  std::vector<int> outputs;  ///< tensor indices
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

/// The first subgraph of a .tflite file.
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

/// Reads a .tflite file (first subgraph). Throws ModelError naming the file and the problem:
/// unreadable file, malformed FlatBuffer (verified before use), unsupported operator (named),
/// unsupported tensor type, inconsistent shapes, buffers out of range.
Model read_file(const std::string& path);
/// Same from memory; `name` is used in messages.
Model parse(std::span<const std::uint8_t> bytes, const std::string& name);

/// What `bitscale info` lists of one operator.
struct LayerSummary {
  int index = 0;                               ///< position in Model::ops
  const Op* op = nullptr;                      ///< into the summarized Model
  std::vector<int> input_shape, output_shape;  ///< of the first input and output (empty if absent)
  /// Elements of the constant operands (weights, bias) of CONV_2D, DEPTHWISE_CONV_2D and
  /// FULLY_CONNECTED; 0 for the other operators.
  std::int64_t params = 0;
  /// Multiply-accumulates, batch included: out elements * k_h * k_w * in_c (CONV_2D),
  /// out elements * k_h * k_w (DEPTHWISE_CONV_2D), out elements * in (FULLY_CONNECTED); 0 otherwise.
  std::int64_t macs = 0;
};

/// The operators of a Model with their totals. Refers into the Model, which must outlive it.
struct Summary {
  std::vector<LayerSummary> layers;
  std::int64_t params = 0, macs = 0;
};
Summary summarize(const Model& m);

/// A shape as `bitscale info` writes it: "[1,128,128,3]".
std::string shape_string(const std::vector<int>& shape);
/// A tensor's type and quantization: "UINT8 (scale 0.0078125, zero point 128)", "INT8 (per-channel, 8
/// scales)" or the type alone.
std::string quant_string(const Tensor& t);
/// The `bitscale info` listing: the model's inputs and outputs, one table row per operator
/// (index, operator, shapes, activation, stride, padding, parameters, MACs) and the totals.
std::string summary_table(const Model& m, const Summary& s);
/// The same as JSON text (2-space indent, ending in a newline; scales as the shortest decimal
/// that reads back to the stored float).
std::string summary_json(const Model& m, const Summary& s);

/// AVERAGE_POOL_2D, MAX_POOL_2D: operators with a filter size.
bool is_pool(OpType t);
/// Convolutions and pools: operators with stride and padding.
bool is_spatial(OpType t);
/// Operators with a fused activation.
bool has_activation(OpType t);
/// CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: weights and an optional bias.
bool has_weights(OpType t);

/// Float values of a constant tensor: dequantized (per tensor or per channel along quant.axis)
/// for integer types, as stored for float32. Throws ModelError naming `model` and the tensor
/// for a tensor that is not constant, has no quantization (integer types) or is inconsistent.
std::vector<float> dequantize(const Tensor& t, const std::string& model);
/// Integer values of a constant int32 or int64 tensor (shapes, axes, paddings), quantization
/// ignored. Throws ModelError naming `model` and the tensor otherwise.
std::vector<std::int64_t> integers(const Tensor& t, const std::string& model);

/// TFLite's padding rule for one spatial dimension as explicit amounts: VALID pads nothing;
/// SAME gives out = ceil(in / stride), total = max((out - 1) * stride + (k - 1) * dilation + 1 - in, 0),
/// before = total / 2, after = total - before.
golden::PadAmounts explicit_padding(Padding p, int in, int k, int stride, int dilation = 1);
/// TFLite's fused activation as the canonical one.
golden::FloatActivation canonical_activation(Activation a);

/// The canonical graph of a TFLite model (see the top of this file). Throws ModelError naming
/// the model and the operator on anything unsupported (e.g. batch > 1, MEAN over other axes,
/// PAD of the batch).
model::Model to_model(const Model& m);

}  // namespace tflite

/// tflite::to_model(tflite::read_file(path)).
Model load_tflite(const std::string& path);
/// tflite::to_model(tflite::parse(bytes, name)).
Model parse_tflite(std::span<const std::uint8_t> bytes, const std::string& name);

}  // namespace bitscale::model
