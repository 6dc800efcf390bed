// TFLite semantics resolved into the canonical graph (graph.hpp): shapes to HWC, the input
// quantization to an InputEncoding, and each operator's TFLite options to canonical ones (SAME
// padding to amounts, depthwise filters to grouped OHWI weights, fused activations, constants
// dequantized, axes to H/W/C).
#include <fmt/format.h>

#include <algorithm>

#include "bitscale/model/tflite.hpp"

namespace bitscale::model {
namespace tflite {

golden::PadAmounts explicit_padding(Padding p, int in, int k, int stride, int dilation) {
  if (p == Padding::kSame) return golden::same_padding(in, k, stride, dilation);
  return {};
}

golden::FloatActivation canonical_activation(Activation a) {
  switch (a) {
    case Activation::kNone:
      return golden::FloatActivation::kNone;
    case Activation::kRelu:
      return golden::FloatActivation::kRelu;
    case Activation::kRelu6:
      return golden::FloatActivation::kRelu6;
    case Activation::kReluN1To1:
      return golden::FloatActivation::kReluN1To1;
  }
  return golden::FloatActivation::kNone;
}

namespace {

/// Lowers one TFLite model; each member resolves one concern.
class Lowering {
 public:
  explicit Lowering(const Model& m) : m_(m) {}

  model::Model run() {
    model::Model g;
    g.name = m_.name;
    if (m_.inputs.size() != 1 || m_.outputs.size() != 1) {
      throw fail(
          fmt::format("expected one input and one output, found {} and {}", m_.inputs.size(), m_.outputs.size()));
    }
    g.tensor_names.reserve(m_.tensors.size());
    for (const Tensor& t : m_.tensors) {
      g.tensor_names.push_back(t.name);
      g.shapes.push_back(shape3(t));
    }
    shapes_ = &g.shapes;
    g.input = m_.inputs[0];
    g.output = m_.outputs[0];
    g.input_encoding = input_encoding(m_.tensors.at(g.input));
    for (const Op& op : m_.ops) g.ops.push_back(lower(op));
    return g;
  }

 private:
  [[nodiscard]] ModelError fail(const std::string& what) const {
    return ModelError(fmt::format("{}: {}", m_.name, what));
  }

  /// HWC shape: rank 4 NHWC (batch 1 for activations) -> H, W, C; rank 3 as is; rank 2 [N, K]
  /// or rank 1 -> 1, 1, N * K; scalars and higher ranks -> 1, 1, elements.
  [[nodiscard]] Shape3 shape3(const Tensor& t) const {
    const auto& s = t.shape;
    switch (s.size()) {
      case 4:
        if (s[0] != 1 && !t.is_const()) throw fail(fmt::format("tensor '{}' has batch {} (only 1)", t.name, s[0]));
        return {s[1], s[2], s[3]};
      case 3:
        return {s[0], s[1], s[2]};
      case 2:
        return {1, 1, s[0] * s[1]};
      case 1:
        return {1, 1, s[0]};
      default:
        return {1, 1, static_cast<int>(std::max<std::int64_t>(t.elements(), 1))};
    }
  }

  /// uint8: real = scale * (p - zero_point); int8: q = p - 128, real = scale * (q - zero_point);
  /// float32: real = (p - 128) / 128 (the convention of the published MobileNets).
  [[nodiscard]] InputEncoding input_encoding(const Tensor& in) const {
    if (in.type == DType::kFloat32) return {1.0f / 128.0f, 128.0f};
    if (in.type != DType::kUInt8 && in.type != DType::kInt8) {
      throw fail(fmt::format("unsupported input type {}", static_cast<int>(in.type)));
    }
    if (in.quant.empty()) throw fail("integer input without quantization parameters");
    const float zp = in.quant.zero_point.empty() ? 0.0f : static_cast<float>(in.quant.zero_point[0]);
    return {in.quant.scale[0], in.type == DType::kInt8 ? zp + 128.0f : zp};
  }

  [[nodiscard]] const Shape3& shape(int t) const { return shapes_->at(static_cast<std::size_t>(t)); }
  [[nodiscard]] const Tensor& tensor(int t) const { return m_.tensors.at(static_cast<std::size_t>(t)); }

  /// Input k of `op`, which must be an activation.
  [[nodiscard]] int activation_input(const Op& op, std::size_t k) const {
    if (k >= op.inputs.size() || op.inputs[k] < 0)
      throw fail(fmt::format("{}: missing input {}", to_string(op.type), k));
    const int t = op.inputs[k];
    if (tensor(t).is_const())
      throw fail(fmt::format("{}: input {} ('{}') is constant", to_string(op.type), k, tensor(t).name));
    return t;
  }

  [[nodiscard]] std::vector<float> optional_bias(const Op& op) const {
    if (op.inputs.size() > 2 && op.inputs[2] >= 0) return dequantize(tensor(op.inputs[2]), m_.name);
    return {};
  }

  model::Op lower(const Op& op) const {
    model::Op n;
    n.act = canonical_activation(op.activation);
    if (op.outputs.size() != 1) throw fail(fmt::format("{} with {} outputs", to_string(op.type), op.outputs.size()));
    n.output = op.outputs[0];
    switch (op.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D:
        convolution(op, n);
        break;
      case OpType::kFullyConnected:
        fully_connected(op, n);
        break;
      case OpType::kAdd:
        add(op, n);
        break;
      case OpType::kAveragePool2D:
      case OpType::kMaxPool2D:
        pool(op, n);
        break;
      case OpType::kMean:
        mean(op, n);
        break;
      case OpType::kReshape:
      case OpType::kSqueeze:
      case OpType::kQuantize:
      case OpType::kDequantize:
        reshape(op, n);
        break;
      case OpType::kSoftmax:
        n.type = model::OpType::kSoftmax;
        n.inputs = {activation_input(op, 0)};
        n.beta = op.beta;
        break;
      case OpType::kPad:
        pad(op, n);
        break;
      case OpType::kConcatenation:
        concatenation(op, n);
        break;
    }
    return n;
  }

  /// CONV_2D (OHWI filters, groups = in_c / filter depth) and DEPTHWISE_CONV_2D (1HW(C*m)
  /// filters become OHWI with groups = C: w[o][ky][kx][0] = f[0][ky][kx][o]).
  void convolution(const Op& op, model::Op& n) const {
    n.type = model::OpType::kConv2D;
    const int x = activation_input(op, 0);
    n.inputs = {x};
    const Shape3 is = shape(x);
    const Tensor& f = tensor(op.inputs.at(1));
    if (f.shape.size() != 4) throw fail(fmt::format("{}: filter '{}' is not rank 4", to_string(op.type), f.name));
    const std::vector<float> w = dequantize(f, m_.name);
    n.win.k_h = f.shape[1];
    n.win.k_w = f.shape[2];
    if (op.type == OpType::kConv2D) {
      n.out_c = f.shape[0];
      if (is.c % f.shape[3] != 0)
        throw fail(fmt::format("CONV_2D '{}': input channels {} vs filter {}", f.name, is.c, f.shape[3]));
      n.groups = is.c / f.shape[3];
      n.weights = w;
    } else {
      n.out_c = f.shape[3];
      n.groups = is.c;
      if (n.out_c % is.c != 0 || (op.depth_multiplier > 0 && n.out_c != is.c * op.depth_multiplier)) {
        throw fail(fmt::format("DEPTHWISE_CONV_2D '{}': {} output channels for {} inputs, multiplier {}", f.name,
                               n.out_c, is.c, op.depth_multiplier));
      }
      n.weights.resize(w.size());
      const int taps = n.win.k_h * n.win.k_w;
      for (int o = 0; o < n.out_c; ++o) {
        for (int t = 0; t < taps; ++t)
          n.weights[static_cast<std::size_t>(o) * taps + t] = w[static_cast<std::size_t>(t) * n.out_c + o];
      }
    }
    n.bias = optional_bias(op);
    n.win.stride_h = op.stride_h;
    n.win.stride_w = op.stride_w;
    n.win.dilation_h = op.dilation_h;
    n.win.dilation_w = op.dilation_w;
    set_padding(n.win, op.padding, is, op.dilation_h, op.dilation_w);
    const Shape3 os = shape(n.output);
    if (n.win.out_h(is.h) != os.h || n.win.out_w(is.w) != os.w || n.out_c != os.c) {
      throw fail(fmt::format("{}: output '{}' is {}x{}x{}, the geometry gives {}x{}x{}", to_string(op.type),
                             tensor(n.output).name, os.h, os.w, os.c, n.win.out_h(is.h), n.win.out_w(is.w), n.out_c));
    }
  }

  /// Window padding of a conv or pool over an input of `is`.
  static void set_padding(golden::Window& win, Padding p, const Shape3& is, int dilation_h, int dilation_w) {
    const auto ph = explicit_padding(p, is.h, win.k_h, win.stride_h, dilation_h);
    const auto pw = explicit_padding(p, is.w, win.k_w, win.stride_w, dilation_w);
    win.pad_top = ph.before, win.pad_bottom = ph.after, win.pad_left = pw.before, win.pad_right = pw.after;
  }

  void fully_connected(const Op& op, model::Op& n) const {
    n.type = model::OpType::kFullyConnected;
    const int x = activation_input(op, 0);
    n.inputs = {x};
    const Tensor& f = tensor(op.inputs.at(1));
    n.weights = dequantize(f, m_.name);
    n.out_c = f.shape.at(0);
    n.bias = optional_bias(op);
    if (static_cast<std::int64_t>(n.weights.size()) != n.out_c * shape(x).size() || shape(n.output).size() != n.out_c) {
      throw fail(fmt::format("FULLY_CONNECTED '{}': weights {} for {} inputs, {} outputs", f.name, n.weights.size(),
                             shape(x).size(), shape(n.output).size()));
    }
  }

  /// ADD of two activations, or of one and a constant (kept as a 1x1xN float tensor).
  void add(const Op& op, model::Op& n) const {
    n.type = model::OpType::kAdd;
    for (int k = 0; k < 2; ++k) {
      const int t = op.inputs.at(k);
      if (!tensor(t).is_const()) {
        n.inputs.push_back(t);
        continue;
      }
      if (n.has_constant) throw fail("ADD of two constants");
      const auto v = dequantize(tensor(t), m_.name);
      n.constant = golden::FloatTensor(1, 1, static_cast<int>(v.size()));
      n.constant.data = v;
      n.has_constant = true;
    }
  }

  void pool(const Op& op, model::Op& n) const {
    n.type = op.type == OpType::kAveragePool2D ? model::OpType::kAveragePool2D : model::OpType::kMaxPool2D;
    const int x = activation_input(op, 0);
    n.inputs = {x};
    const Shape3 is = shape(x);
    n.win.k_h = op.filter_h, n.win.k_w = op.filter_w;
    n.win.stride_h = op.stride_h, n.win.stride_w = op.stride_w;
    set_padding(n.win, op.padding, is, 1, 1);
    const Shape3 os = shape(n.output);
    if (n.win.out_h(is.h) != os.h || n.win.out_w(is.w) != os.w || is.c != os.c) {
      throw fail(fmt::format("{}: output '{}' does not match the window", to_string(op.type), tensor(n.output).name));
    }
  }

  void mean(const Op& op, model::Op& n) const {
    n.type = model::OpType::kMean;
    const int x = activation_input(op, 0);
    n.inputs = {x};
    auto axes = integers(tensor(op.inputs.at(1)), m_.name);
    for (auto& a : axes) a = a < 0 ? a + 4 : a;
    std::sort(axes.begin(), axes.end());
    if (axes != std::vector<std::int64_t>{1, 2} || tensor(x).shape.size() != 4) {
      throw fail("MEAN is supported over axes 1 and 2 (H, W) of a rank-4 tensor only");
    }
  }

  /// RESHAPE, SQUEEZE, QUANTIZE, DEQUANTIZE: the values pass unchanged (the float graph has no
  /// quantized tensors).
  void reshape(const Op& op, model::Op& n) const {
    n.type = model::OpType::kReshape;
    n.inputs = {activation_input(op, 0)};
    if (shape(n.inputs[0]).size() != shape(n.output).size()) {
      throw fail(fmt::format("{}: '{}' and '{}' differ in size", to_string(op.type), tensor(n.inputs[0]).name,
                             tensor(n.output).name));
    }
  }

  void pad(const Op& op, model::Op& n) const {
    n.type = model::OpType::kPad;
    n.inputs = {activation_input(op, 0)};
    const auto p = integers(tensor(op.inputs.at(1)), m_.name);
    if (p.size() != 8 || p[0] != 0 || p[1] != 0) throw fail("PAD: expected 4x2 paddings without batch padding");
    n.pad_h = {static_cast<int>(p[2]), static_cast<int>(p[3])};
    n.pad_w = {static_cast<int>(p[4]), static_cast<int>(p[5])};
    n.pad_c = {static_cast<int>(p[6]), static_cast<int>(p[7])};
    if (op.inputs.size() > 2 && op.inputs[2] >= 0) throw fail("PAD with a non-zero constant (PADV2) is not supported");
  }

  /// The axis of the output's rank (negative counts from the end) as 0 = H, 1 = W, 2 = C.
  void concatenation(const Op& op, model::Op& n) const {
    n.type = model::OpType::kConcatenation;
    for (std::size_t k = 0; k < op.inputs.size(); ++k) n.inputs.push_back(activation_input(op, k));
    const int rank = static_cast<int>(tensor(n.output).shape.size());
    const int a = op.axis < 0 ? op.axis + rank : op.axis;
    n.axis = a - (rank - 3);  // rank 4: 1..3 -> H, W, C; rank 2: 1 -> C
    if (rank < 2 || n.axis < 0 || n.axis > 2)
      throw fail(fmt::format("CONCATENATION along axis {} of a rank-{} tensor", op.axis, rank));
    if (rank == 2) n.axis = 2;
  }

  const Model& m_;
  const std::vector<Shape3>* shapes_ = nullptr;
};

}  // namespace

model::Model to_model(const Model& m) { return Lowering(m).run(); }

}  // namespace tflite

Model load_tflite(const std::string& path) { return tflite::to_model(tflite::read_file(path)); }

Model parse_tflite(std::span<const std::uint8_t> bytes, const std::string& name) {
  return tflite::to_model(tflite::parse(bytes, name));
}

}  // namespace bitscale::model
