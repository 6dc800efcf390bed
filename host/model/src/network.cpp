#include "bitscale/model/network.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace bitscale::model {
namespace {

using golden::FloatTensor;

golden::FloatActivation float_act(Activation a) {
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

template <typename T>
T load_le(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // little-endian hosts only (x86, arm64)
  return v;
}

std::int64_t shape_elements(const std::vector<int>& shape) {
  std::int64_t n = 1;
  for (int d : shape) n *= d;
  return n;
}

std::vector<std::int64_t> constant_ints(const Tensor& t, const std::string& model) {
  if (!t.is_const()) throw ModelError(fmt::format("{}: tensor '{}' must be constant", model, t.name));
  std::vector<std::int64_t> v;
  const std::size_t n = t.data.size() / type_size(t.type);
  for (std::size_t i = 0; i < n; ++i) {
    switch (t.type) {
      case DType::kInt32:
        v.push_back(load_le<std::int32_t>(&t.data[4 * i]));
        break;
      case DType::kInt64:
        v.push_back(load_le<std::int64_t>(&t.data[8 * i]));
        break;
      default:
        throw ModelError(fmt::format("{}: tensor '{}' must hold int32 or int64", model, t.name));
    }
  }
  return v;
}

}  // namespace

std::vector<float> dequantize_constant(const Tensor& t, const std::string& model) {
  if (!t.is_const()) throw ModelError(fmt::format("{}: tensor '{}' is not constant", model, t.name));
  const std::size_t es = type_size(t.type);
  const std::size_t n = t.data.size() / es;
  if (static_cast<std::int64_t>(n) != shape_elements(t.shape)) {
    throw ModelError(
        fmt::format("{}: tensor '{}' holds {} values, its shape says {}", model, t.name, n, shape_elements(t.shape)));
  }
  std::vector<float> out(n);
  if (t.type == DType::kFloat32) {
    for (std::size_t i = 0; i < n; ++i) out[i] = load_le<float>(&t.data[4 * i]);
    return out;
  }
  if (t.quant.empty()) {
    throw ModelError(fmt::format("{}: integer tensor '{}' has no quantization parameters", model, t.name));
  }
  // Per-channel: channel of element i along `axis`.
  std::size_t inner = 1;
  std::size_t channels = t.quant.scale.size();
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
    double q = 0;
    switch (t.type) {
      case DType::kUInt8:
        q = t.data[i];
        break;
      case DType::kInt8:
        q = static_cast<std::int8_t>(t.data[i]);
        break;
      case DType::kInt16:
        q = load_le<std::int16_t>(&t.data[2 * i]);
        break;
      case DType::kInt32:
        q = load_le<std::int32_t>(&t.data[4 * i]);
        break;
      case DType::kInt64:
        q = static_cast<double>(load_le<std::int64_t>(&t.data[8 * i]));
        break;
      case DType::kFloat32:
        break;
    }
    out[i] = static_cast<float>(scale * (q - zp));
  }
  return out;
}

Network::Network(const Model& model) : name_(model.name) {
  const auto& ts = model.tensors;
  const auto fail = [&](const std::string& what) { return ModelError(fmt::format("{}: {}", name_, what)); };
  if (model.inputs.size() != 1 || model.outputs.size() != 1) {
    throw fail(
        fmt::format("expected one input and one output, found {} and {}", model.inputs.size(), model.outputs.size()));
  }
  shapes_.resize(ts.size());
  names_.resize(ts.size());
  for (std::size_t i = 0; i < ts.size(); ++i) {
    names_[i] = ts[i].name;
    const auto& s = ts[i].shape;
    Shape3 sh;
    if (s.size() == 4) {
      if (s[0] != 1 && !ts[i].is_const())
        throw fail(fmt::format("tensor '{}' has batch {} (only 1)", ts[i].name, s[0]));
      sh = {s[1], s[2], s[3]};
    } else if (s.size() == 3) {
      sh = {s[0], s[1], s[2]};
    } else if (s.size() == 2) {
      sh = {1, 1, s[0] * s[1]};
    } else if (s.size() == 1) {
      sh = {1, 1, s[0]};
    } else {
      sh = {1, 1, static_cast<int>(std::max<std::int64_t>(shape_elements(s), 1))};
    }
    shapes_[i] = sh;
  }
  input_ = model.inputs[0];
  output_ = model.outputs[0];
  const Tensor& in = ts.at(input_);
  input_type_ = in.type;
  if (in.type == DType::kUInt8 || in.type == DType::kInt8) {
    if (in.quant.empty()) throw fail("integer input without quantization parameters");
    input_scale_ = in.quant.scale[0];
    input_zero_ = in.quant.zero_point.empty() ? 0.0f : static_cast<float>(in.quant.zero_point[0]);
  } else if (in.type != DType::kFloat32) {
    throw fail(fmt::format("unsupported input type {}", static_cast<int>(in.type)));
  }

  const auto act_in = [&](const Op& op, std::size_t k) {
    if (k >= op.inputs.size() || op.inputs[k] < 0)
      throw fail(fmt::format("{}: missing input {}", to_string(op.type), k));
    const int t = op.inputs[k];
    if (ts.at(t).is_const())
      throw fail(fmt::format("{}: input {} ('{}') is constant", to_string(op.type), k, ts[t].name));
    return t;
  };

  for (const Op& op : model.ops) {
    NetOp n;
    n.type = op.type;
    n.act = float_act(op.activation);
    if (op.outputs.size() != 1) throw fail(fmt::format("{} with {} outputs", to_string(op.type), op.outputs.size()));
    n.output = op.outputs[0];
    const Shape3 out_shape = shapes_.at(n.output);
    switch (op.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D: {
        const int x = act_in(op, 0);
        n.inputs = {x};
        const Shape3 is = shapes_[x];
        const Tensor& f = ts.at(op.inputs.at(1));
        if (f.shape.size() != 4) throw fail(fmt::format("{}: filter '{}' is not rank 4", to_string(op.type), f.name));
        const std::vector<float> w = dequantize_constant(f, name_);
        n.win.k_h = f.shape[1];
        n.win.k_w = f.shape[2];
        if (op.type == OpType::kConv2D) {
          n.out_c = f.shape[0];
          if (is.c % f.shape[3] != 0)
            throw fail(fmt::format("CONV_2D '{}': input channels {} vs filter {}", f.name, is.c, f.shape[3]));
          n.groups = is.c / f.shape[3];
          n.weights = w;
        } else {
          // 1 x KH x KW x (C*m) -> OHWI with groups = C: w[n][ky][kx][0] = f[0][ky][kx][n].
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
        if (op.inputs.size() > 2 && op.inputs[2] >= 0) n.bias = dequantize_constant(ts.at(op.inputs[2]), name_);
        n.win.stride_h = op.stride_h;
        n.win.stride_w = op.stride_w;
        n.win.dilation_h = op.dilation_h;
        n.win.dilation_w = op.dilation_w;
        if (op.padding == Padding::kSame) {
          const auto ph = golden::same_padding(is.h, n.win.k_h, op.stride_h, op.dilation_h);
          const auto pw = golden::same_padding(is.w, n.win.k_w, op.stride_w, op.dilation_w);
          n.win.pad_top = ph.before, n.win.pad_bottom = ph.after, n.win.pad_left = pw.before,
          n.win.pad_right = pw.after;
        }
        if (n.win.out_h(is.h) != out_shape.h || n.win.out_w(is.w) != out_shape.w || n.out_c != out_shape.c) {
          throw fail(fmt::format("{}: output '{}' is {}x{}x{}, the geometry gives {}x{}x{}", to_string(op.type),
                                 names_[n.output], out_shape.h, out_shape.w, out_shape.c, n.win.out_h(is.h),
                                 n.win.out_w(is.w), n.out_c));
        }
        break;
      }
      case OpType::kFullyConnected: {
        const int x = act_in(op, 0);
        n.inputs = {x};
        const Tensor& f = ts.at(op.inputs.at(1));
        n.weights = dequantize_constant(f, name_);
        n.out_c = f.shape.at(0);
        if (op.inputs.size() > 2 && op.inputs[2] >= 0) n.bias = dequantize_constant(ts.at(op.inputs[2]), name_);
        if (static_cast<std::int64_t>(n.weights.size()) != n.out_c * shapes_[x].size() || out_shape.size() != n.out_c) {
          throw fail(fmt::format("FULLY_CONNECTED '{}': weights {} for {} inputs, {} outputs", f.name, n.weights.size(),
                                 shapes_[x].size(), out_shape.size()));
        }
        break;
      }
      case OpType::kAdd: {
        for (int k = 0; k < 2; ++k) {
          const int t = op.inputs.at(k);
          if (ts.at(t).is_const()) {
            if (n.has_constant) throw fail("ADD of two constants");
            const auto v = dequantize_constant(ts[t], name_);
            n.constant = FloatTensor(1, 1, static_cast<int>(v.size()));
            n.constant.data = v;
            n.has_constant = true;
          } else {
            n.inputs.push_back(t);
          }
        }
        break;
      }
      case OpType::kAveragePool2D:
      case OpType::kMaxPool2D: {
        const int x = act_in(op, 0);
        n.inputs = {x};
        const Shape3 is = shapes_[x];
        n.win.k_h = op.filter_h, n.win.k_w = op.filter_w;
        n.win.stride_h = op.stride_h, n.win.stride_w = op.stride_w;
        if (op.padding == Padding::kSame) {
          const auto ph = golden::same_padding(is.h, n.win.k_h, op.stride_h);
          const auto pw = golden::same_padding(is.w, n.win.k_w, op.stride_w);
          n.win.pad_top = ph.before, n.win.pad_bottom = ph.after, n.win.pad_left = pw.before,
          n.win.pad_right = pw.after;
        }
        if (n.win.out_h(is.h) != out_shape.h || n.win.out_w(is.w) != out_shape.w || is.c != out_shape.c) {
          throw fail(fmt::format("{}: output '{}' does not match the window", to_string(op.type), names_[n.output]));
        }
        break;
      }
      case OpType::kMean: {
        const int x = act_in(op, 0);
        n.inputs = {x};
        auto axes = constant_ints(ts.at(op.inputs.at(1)), name_);
        for (auto& a : axes) a = a < 0 ? a + 4 : a;
        std::sort(axes.begin(), axes.end());
        if (axes != std::vector<std::int64_t>{1, 2} || ts.at(x).shape.size() != 4) {
          throw fail("MEAN is supported over axes 1 and 2 (H, W) of a rank-4 tensor only");
        }
        break;
      }
      case OpType::kReshape:
      case OpType::kSqueeze:
      case OpType::kQuantize:
      case OpType::kDequantize: {
        n.inputs = {act_in(op, 0)};
        if (shapes_[n.inputs[0]].size() != out_shape.size()) {
          throw fail(fmt::format("{}: '{}' and '{}' differ in size", to_string(op.type), names_[n.inputs[0]],
                                 names_[n.output]));
        }
        break;
      }
      case OpType::kSoftmax: {
        n.inputs = {act_in(op, 0)};
        n.beta = op.beta;
        break;
      }
      case OpType::kPad: {
        const int x = act_in(op, 0);
        n.inputs = {x};
        const auto p = constant_ints(ts.at(op.inputs.at(1)), name_);
        if (p.size() != 8 || p[0] != 0 || p[1] != 0) throw fail("PAD: expected 4x2 paddings without batch padding");
        n.pad_h = {static_cast<int>(p[2]), static_cast<int>(p[3])};
        n.pad_w = {static_cast<int>(p[4]), static_cast<int>(p[5])};
        n.pad_c = {static_cast<int>(p[6]), static_cast<int>(p[7])};
        if (op.inputs.size() > 2 && op.inputs[2] >= 0)
          throw fail("PAD with a non-zero constant (PADV2) is not supported");
        break;
      }
      case OpType::kConcatenation: {
        for (std::size_t k = 0; k < op.inputs.size(); ++k) n.inputs.push_back(act_in(op, k));
        const int rank = static_cast<int>(ts.at(n.output).shape.size());
        int a = op.axis < 0 ? op.axis + rank : op.axis;
        n.axis = a - (rank - 3);  // rank 4: 1..3 -> H, W, C; rank 2: 1 -> C
        if (rank < 2 || n.axis < 0 || n.axis > 2)
          throw fail(fmt::format("CONCATENATION along axis {} of a rank-{} tensor", op.axis, rank));
        if (rank == 2) n.axis = 2;
        break;
      }
    }
    ops_.push_back(std::move(n));
  }
  ends_in_softmax_ = !ops_.empty() && ops_.back().type == OpType::kSoftmax && ops_.back().output == output_;
}

std::int64_t Network::macs() const {
  std::int64_t m = 0;
  for (const auto& op : ops_) {
    if (!op.is_mac()) continue;
    m += static_cast<std::int64_t>(op.weights.size()) * shapes_[op.output].h * shapes_[op.output].w;
  }
  return m;
}

FloatTensor Network::input_values(std::span<const std::uint8_t> rgb) const {
  const Shape3 s = shapes_[input_];
  if (static_cast<std::int64_t>(rgb.size()) != s.size()) {
    throw std::invalid_argument(
        fmt::format("{}: input of {} values, the model takes {}x{}x{}", name_, rgb.size(), s.h, s.w, s.c));
  }
  FloatTensor t(s.h, s.w, s.c);
  for (std::size_t i = 0; i < rgb.size(); ++i) {
    const float p = rgb[i];
    switch (input_type_) {
      case DType::kUInt8:
        t.data[i] = input_scale_ * (p - input_zero_);
        break;
      case DType::kInt8:
        t.data[i] = input_scale_ * ((p - 128.0f) - input_zero_);
        break;
      default:
        t.data[i] = (p - 128.0f) / 128.0f;
        break;
    }
  }
  return t;
}

FloatTrace Network::trace_float(std::span<const std::uint8_t> rgb) const {
  FloatTrace tr;
  auto& v = tr.tensors;
  v.resize(shapes_.size());
  v[input_] = input_values(rgb);
  for (const NetOp& op : ops_) {
    const Shape3 os = shapes_[op.output];
    const FloatTensor& x = v[op.inputs.at(0)];
    FloatTensor y;
    switch (op.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D:
        y = golden::conv2d(x, op.weights, op.bias, op.out_c, op.groups, op.win, op.act);
        break;
      case OpType::kFullyConnected:
        y = FloatTensor(1, 1, op.out_c);
        y.data = golden::fully_connected(x.data, op.weights, op.bias, op.out_c, op.act);
        break;
      case OpType::kAdd:
        y = golden::add(x, op.has_constant ? op.constant : v[op.inputs.at(1)], op.act);
        break;
      case OpType::kAveragePool2D:
        y = golden::average_pool(x, op.win, op.act);
        break;
      case OpType::kMaxPool2D:
        y = golden::max_pool(x, op.win, op.act);
        break;
      case OpType::kMean:
        y = golden::mean_hw(x);
        break;
      case OpType::kReshape:
      case OpType::kSqueeze:
      case OpType::kQuantize:
      case OpType::kDequantize:
        y = x;
        break;
      case OpType::kSoftmax:
        y = x;
        y.data = golden::softmax(x.data, op.beta);
        break;
      case OpType::kPad:
        y = golden::pad(x, op.pad_h, op.pad_w, op.pad_c);
        break;
      case OpType::kConcatenation: {
        std::vector<FloatTensor> parts;
        for (int t : op.inputs) parts.push_back(v[t]);
        y = golden::concatenate(parts, op.axis);
        break;
      }
    }
    if (static_cast<std::int64_t>(y.size()) != os.size()) {
      throw std::logic_error(fmt::format("{}: {} produced {} values for '{}' ({})", name_, to_string(op.type), y.size(),
                                         names_[op.output], os.size()));
    }
    y.h = os.h, y.w = os.w, y.c = os.c;
    v[op.output] = std::move(y);
  }
  const auto& out = v[output_].data;
  tr.probabilities = ends_in_softmax_ ? out : golden::softmax(out);
  return tr;
}

std::vector<float> Network::run_float(std::span<const std::uint8_t> rgb) const {
  return trace_float(rgb).probabilities;
}

}  // namespace bitscale::model
