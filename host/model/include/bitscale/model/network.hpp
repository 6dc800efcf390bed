// A network ready to run, built from an imported Model (model.hpp): padding resolved to
// explicit amounts (TFLite's SAME rule), depthwise filters converted to the grouped OHWI
// layout of golden::Layer, every weight and bias dequantized to float. The float forward
// pass (run_float) is the floating-point baseline; quant.hpp runs the same graph in dynamic
// fixed point through the driver.
//
// Input convention (input_values): for a uint8 input tensor, real = scale * (pixel - zero_point)
// with the model's input quantization; for int8, q = pixel - 128 then real = scale * (q - zero_point);
// for a float32 input, real = (pixel - 128) / 128 (the convention of the published MobileNets).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bitscale/golden/float_ops.hpp"
#include "bitscale/model/graph.hpp"

namespace bitscale::model {

/// One operator of the network, resolved.
struct NetOp {
  OpType type = OpType::kConv2D;
  std::vector<int> inputs;  ///< activation tensor indices (constant operands folded below)
  int output = -1;          ///< tensor index
  golden::FloatActivation act = golden::FloatActivation::kNone;
  // MAC operators (conv, depthwise, fully connected): weights OHWI, fully connected as 1x1 conv.
  golden::Window win;  ///< also pools (k = filter size)
  int groups = 1;
  int out_c = 0;
  std::vector<float> weights;  ///< out_c * k_h * k_w * (in_c / groups)
  std::vector<float> bias;     ///< empty or out_c
  // ADD with a constant operand.
  golden::FloatTensor constant;
  bool has_constant = false;
  // PAD: amounts per H, W, C.
  golden::PadAmounts pad_h, pad_w, pad_c;
  int axis = 2;       ///< CONCATENATION: 0 = H, 1 = W, 2 = C
  float beta = 1.0f;  ///< SOFTMAX
  [[nodiscard]] bool is_mac() const {
    return type == OpType::kConv2D || type == OpType::kDepthwiseConv2D || type == OpType::kFullyConnected;
  }
};

/// HWC shape of an activation tensor (rank-4 NHWC -> H,W,C; rank 2 [1,K] or rank 1 -> 1,1,K).
struct Shape3 {
  int h = 1, w = 1, c = 1;
  [[nodiscard]] std::int64_t size() const { return static_cast<std::int64_t>(h) * w * c; }
  friend bool operator==(const Shape3&, const Shape3&) = default;
};

/// Every activation tensor of one float forward pass (index = model tensor index;
/// constants and unused entries empty).
struct FloatTrace {
  std::vector<golden::FloatTensor> tensors;
  std::vector<float> probabilities;
};

class Network {
 public:
  /// Resolves the graph; throws ModelError naming the model and the operator on anything
  /// unsupported (e.g. batch > 1, MEAN over other axes, PAD of the batch).
  explicit Network(const Model& model);

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] int input_h() const { return shapes_[input_].h; }
  [[nodiscard]] int input_w() const { return shapes_[input_].w; }
  [[nodiscard]] int input_c() const { return shapes_[input_].c; }
  [[nodiscard]] int input_tensor() const { return input_; }
  [[nodiscard]] int output_tensor() const { return output_; }
  [[nodiscard]] const std::vector<NetOp>& ops() const { return ops_; }
  [[nodiscard]] const std::vector<Shape3>& shapes() const { return shapes_; }
  [[nodiscard]] const std::vector<std::string>& tensor_names() const { return names_; }
  /// True when the last operator is a SOFTMAX (otherwise run_* apply one to the output).
  [[nodiscard]] bool ends_in_softmax() const { return ends_in_softmax_; }
  /// Multiply-accumulates of one forward pass (MAC operators).
  [[nodiscard]] std::int64_t macs() const;

  /// The float input tensor of an RGB HWC uint8 image of input_h x input_w (convention above).
  [[nodiscard]] golden::FloatTensor input_values(std::span<const std::uint8_t> rgb) const;
  /// Float forward pass: class probabilities (output size, e.g. 1001 with 0 = background).
  [[nodiscard]] std::vector<float> run_float(std::span<const std::uint8_t> rgb) const;
  /// Same, keeping every activation tensor (calibration, debugging).
  [[nodiscard]] FloatTrace trace_float(std::span<const std::uint8_t> rgb) const;

 private:
  std::string name_;
  std::vector<NetOp> ops_;
  std::vector<Shape3> shapes_;
  std::vector<std::string> names_;
  int input_ = -1, output_ = -1;
  DType input_type_ = DType::kUInt8;
  float input_scale_ = 1.0f / 128.0f;
  float input_zero_ = 128.0f;
  bool ends_in_softmax_ = false;
};

/// Float values of a constant tensor: dequantized (per-tensor or per-channel) for integer
/// types, as stored for float32. Throws ModelError for non-constant tensors.
std::vector<float> dequantize_constant(const Tensor& t, const std::string& model_name);

}  // namespace bitscale::model
