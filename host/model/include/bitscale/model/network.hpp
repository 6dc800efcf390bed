// A network ready to run: the canonical graph (graph.hpp) with its float forward pass, the
// floating-point baseline. bitscale/quant runs the same graph in dynamic fixed point through
// the driver.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bitscale/golden/float_ops.hpp"
#include "bitscale/model/graph.hpp"

namespace bitscale::model {

/// Every activation tensor of one float forward pass (index = model tensor index;
/// constants and unused entries empty).
struct FloatTrace {
  std::vector<golden::FloatTensor> tensors;
  std::vector<float> probabilities;
};

class Network {
 public:
  /// Checks the graph's tensor indices; throws ModelError naming the model otherwise.
  explicit Network(Model model);

  [[nodiscard]] const Model& model() const { return model_; }
  [[nodiscard]] const std::string& name() const { return model_.name; }
  [[nodiscard]] int input_h() const { return input_shape().h; }
  [[nodiscard]] int input_w() const { return input_shape().w; }
  [[nodiscard]] int input_c() const { return input_shape().c; }
  [[nodiscard]] int input_tensor() const { return model_.input; }
  [[nodiscard]] int output_tensor() const { return model_.output; }
  [[nodiscard]] const std::vector<Op>& ops() const { return model_.ops; }
  [[nodiscard]] const std::vector<Shape3>& shapes() const { return model_.shapes; }
  [[nodiscard]] const std::vector<std::string>& tensor_names() const { return model_.tensor_names; }
  /// True when the last operator is a SOFTMAX (otherwise run_* apply one to the output).
  [[nodiscard]] bool ends_in_softmax() const { return ends_in_softmax_; }
  /// Multiply-accumulates of one forward pass (MAC operators).
  [[nodiscard]] std::int64_t macs() const;

  /// The float input tensor of an RGB HWC uint8 image of input_h x input_w (Model::input_encoding).
  [[nodiscard]] golden::FloatTensor input_values(std::span<const std::uint8_t> rgb) const;
  /// Float forward pass: class probabilities (output size, e.g. 1001 with 0 = background).
  [[nodiscard]] std::vector<float> run_float(std::span<const std::uint8_t> rgb) const;
  /// Same, keeping every activation tensor (calibration, debugging).
  [[nodiscard]] FloatTrace trace_float(std::span<const std::uint8_t> rgb) const;
  /// Same from input values given directly (shape of the input tensor; ONNX conformance tests).
  [[nodiscard]] FloatTrace trace_float(golden::FloatTensor input) const;

 private:
  [[nodiscard]] const Shape3& input_shape() const { return model_.shapes[static_cast<std::size_t>(model_.input)]; }
  /// One operator of the float pass on the tensors computed so far.
  [[nodiscard]] golden::FloatTensor run_op(const Op& op, const std::vector<golden::FloatTensor>& v) const;

  Model model_;
  bool ends_in_softmax_ = false;
};

}  // namespace bitscale::model
