// What `bitscale info` lists of a TFLite model: per operator its shapes, parameters and MACs.
#include "bitscale/model/tflite.hpp"

namespace bitscale::model::tflite {

bool is_pool(OpType t) { return t == OpType::kAveragePool2D || t == OpType::kMaxPool2D; }

bool is_spatial(OpType t) { return t == OpType::kConv2D || t == OpType::kDepthwiseConv2D || is_pool(t); }

bool has_activation(OpType t) {
  return is_spatial(t) || t == OpType::kFullyConnected || t == OpType::kAdd || t == OpType::kConcatenation;
}

bool has_weights(OpType t) {
  return t == OpType::kConv2D || t == OpType::kDepthwiseConv2D || t == OpType::kFullyConnected;
}

namespace {

LayerSummary summarize_op(const Model& m, std::size_t i) {
  const Op& op = m.ops[i];
  LayerSummary l;
  l.index = static_cast<int>(i);
  l.op = &op;
  auto tensor = [&](int t) -> const Tensor& { return m.tensors[static_cast<std::size_t>(t)]; };
  if (!op.inputs.empty() && op.inputs[0] >= 0) l.input_shape = tensor(op.inputs[0]).shape;
  if (!op.outputs.empty()) l.output_shape = tensor(op.outputs[0]).shape;
  if (!has_weights(op.type)) return l;
  for (std::size_t k = 1; k < op.inputs.size(); ++k) {
    if (op.inputs[k] >= 0) l.params += tensor(op.inputs[k]).elements();
  }
  // The reader has checked the ranks and that the shapes agree.
  const auto& w = tensor(op.inputs[1]).shape;
  const auto& y = l.output_shape;
  switch (op.type) {
    case OpType::kConv2D:  // out_h * out_w * out_c * k_h * k_w * in_c (batch included)
      l.macs = std::int64_t{y[0]} * y[1] * y[2] * y[3] * w[1] * w[2] * w[3];
      break;
    case OpType::kDepthwiseConv2D:  // out_h * out_w * out_c * k_h * k_w
      l.macs = std::int64_t{y[0]} * y[1] * y[2] * y[3] * w[1] * w[2];
      break;
    default:  // fully connected: rows * out * in
      l.macs = tensor(op.outputs[0]).elements() * w[1];
      break;
  }
  return l;
}

}  // namespace

Summary summarize(const Model& m) {
  Summary s;
  for (std::size_t i = 0; i < m.ops.size(); ++i) {
    s.layers.push_back(summarize_op(m, i));
    s.params += s.layers.back().params;
    s.macs += s.layers.back().macs;
  }
  return s;
}

}  // namespace bitscale::model::tflite
