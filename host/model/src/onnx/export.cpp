// A quantized TFLite model written as an ONNX QDQ model (opset 13): quantized constants stay
// integer initializers behind DequantizeLinear (per tensor, or per axis for per-channel
// weights), every quantized activation passes QuantizeLinear -> DequantizeLinear with its
// TFLite scale and zero point, NHWC becomes NCHW, OHWI / 1HWC filters OIHW, SAME padding
// explicit pads, fused activations Relu / Clip nodes. Checked with onnx::checker.
#include <fmt/format.h>
#include <onnx/checker.h>

#include <cstring>

#include "proto.hpp"

namespace bitscale::model::onnx {

namespace {

namespace tfl = model::tflite;
using TP = ::onnx::TensorProto;

class Exporter {
 public:
  explicit Exporter(const tfl::Model& m) : m_(m) {}

  ::onnx::ModelProto run() {
    ::onnx::ModelProto out;
    out.set_ir_version(7);
    out.set_producer_name("bitscale");
    out.set_producer_version("convert");
    auto* o = out.add_opset_import();
    o->set_domain("");
    o->set_version(13);
    g_ = out.mutable_graph();
    g_->set_name(m_.name);
    if (m_.inputs.size() != 1 || m_.outputs.size() != 1) throw fail("expected one input and one output");
    // Graph input: the integer input as it is (NCHW), dequantized once.
    const tfl::Tensor& in = tensor(m_.inputs[0]);
    const int in_type = elem(in.type);
    auto* vi = g_->add_input();
    vi->set_name(in.name);
    vi->mutable_type()->mutable_tensor_type()->set_elem_type(in_type);
    for (auto d : nchw(in.shape))
      vi->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
    if (in.quant.empty()) {
      names_[m_.inputs[0]] = in.name;
    } else {
      names_[m_.inputs[0]] = dequantized(in.name, in, in.name);
    }
    for (std::size_t i = 0; i < m_.ops.size(); ++i) op(m_.ops[i], static_cast<int>(i));
    const tfl::Tensor& y = tensor(m_.outputs[0]);
    // The output as float (dequantized).
    node("Identity", {value(m_.outputs[0])}, {y.name + "_out"}, "output");
    auto* ov = g_->add_output();
    ov->set_name(y.name + "_out");
    ov->mutable_type()->mutable_tensor_type()->set_elem_type(TP::FLOAT);
    for (auto d : nchw(y.shape))
      ov->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
    return out;
  }

 private:
  [[nodiscard]] ModelError fail(const std::string& what) const {
    return ModelError(fmt::format("{}: ONNX export: {}", m_.name, what));
  }
  [[nodiscard]] const tfl::Tensor& tensor(int t) const { return m_.tensors.at(static_cast<std::size_t>(t)); }

  static std::vector<std::int64_t> nchw(const std::vector<int>& s) {
    if (s.size() == 4) return {s[0], s[3], s[1], s[2]};
    return {s.begin(), s.end()};
  }
  int elem(tfl::DType t) const {
    switch (t) {
      case tfl::DType::kFloat32:
        return TP::FLOAT;
      case tfl::DType::kUInt8:
        return TP::UINT8;
      case tfl::DType::kInt8:
        return TP::INT8;
      case tfl::DType::kInt32:
        return TP::INT32;
      case tfl::DType::kInt64:
        return TP::INT64;
      case tfl::DType::kInt16:
        return TP::INT16;
    }
    throw fail("tensor type");
  }

  ::onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& in,
                          const std::vector<std::string>& out, const std::string& name) {
    auto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : in) n->add_input(i);
    for (const auto& o : out) n->add_output(o);
    return n;
  }
  static void ints(::onnx::NodeProto* n, const std::string& k, const std::vector<std::int64_t>& v) {
    auto* a = n->add_attribute();
    a->set_name(k);
    a->set_type(::onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void one_int(::onnx::NodeProto* n, const std::string& k, std::int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(k);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(v);
  }

  /// A new initializer; raw little-endian data of `type`.
  std::string initializer(const std::string& name, int type, const std::vector<std::int64_t>& dims, std::string raw) {
    auto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (auto d : dims) t->add_dims(d);
    t->set_raw_data(std::move(raw));
    return name;
  }
  std::string float_init(const std::string& name, const std::vector<float>& v, const std::vector<std::int64_t>& dims) {
    std::string raw(v.size() * 4, '\0');
    std::memcpy(raw.data(), v.data(), raw.size());
    return initializer(name, TP::FLOAT, dims, std::move(raw));
  }
  /// Zero points in the tensor's type (one per scale).
  std::string zero_init(const std::string& name, const tfl::Tensor& t, const std::vector<std::int64_t>& dims) {
    std::string raw;
    for (std::size_t i = 0; i < t.quant.scale.size(); ++i) {
      const std::int64_t z = i < t.quant.zero_point.size() ? t.quant.zero_point[i] : 0;
      if (t.type == tfl::DType::kInt32) {
        const auto v = static_cast<std::int32_t>(z);
        raw.append(reinterpret_cast<const char*>(&v), 4);
      } else {
        raw.push_back(static_cast<char>(static_cast<std::uint8_t>(z)));
      }
    }
    return initializer(name, elem(t.type), dims, std::move(raw));
  }

  /// DequantizeLinear of `src` (quantized like t, per tensor or along `axis`) as `out`.
  std::string dequantized(const std::string& src, const tfl::Tensor& t, const std::string& base, int axis = -1) {
    const auto n = static_cast<std::int64_t>(t.quant.scale.size());
    const std::vector<std::int64_t> dims = n > 1 ? std::vector<std::int64_t>{n} : std::vector<std::int64_t>{};
    const std::string s = float_init(base + "_scale", t.quant.scale, dims);
    const std::string z = zero_init(base + "_zero_point", t, dims);
    auto* dq = node("DequantizeLinear", {src, s, z}, {base + "_dq"}, base + "_dequantize");
    if (n > 1) one_int(dq, "axis", axis);
    return base + "_dq";
  }

  [[nodiscard]] std::string value(int t) const {
    const auto it = names_.find(t);
    if (it == names_.end()) throw fail(fmt::format("tensor '{}' is read before it is written", tensor(t).name));
    return it->second;
  }

  /// A constant weight tensor permuted into ONNX's layout, quantized data behind a
  /// DequantizeLinear (`axis` of the per-channel scales in the ONNX layout).
  std::string weights(const tfl::Tensor& t, const std::vector<std::int64_t>& dims,
                      const std::vector<std::size_t>& src_index, int axis, const std::string& base) {
    const std::size_t es = tfl::type_size(t.type);
    std::string raw(src_index.size() * es, '\0');
    for (std::size_t i = 0; i < src_index.size(); ++i)
      std::memcpy(raw.data() + i * es, t.data.data() + src_index[i] * es, es);
    const std::string q = initializer(base + "_quantized", elem(t.type), dims, std::move(raw));
    if (t.quant.empty()) return q;
    return dequantized(q, t, base, axis);
  }

  /// The op's output: Q -> DQ with the output tensor's parameters (if quantized) and the fused
  /// activation before it.
  void finish(const tfl::Op& op, std::string y, const std::string& base) {
    switch (op.activation) {
      case tfl::Activation::kNone:
        break;
      case tfl::Activation::kRelu:
        node("Relu", {y}, {base + "_relu"}, base + "_relu");
        y = base + "_relu";
        break;
      case tfl::Activation::kRelu6:
      case tfl::Activation::kReluN1To1: {
        const bool six = op.activation == tfl::Activation::kRelu6;
        const std::string lo = float_init(base + "_clip_min", {six ? 0.0f : -1.0f}, {});
        const std::string hi = float_init(base + "_clip_max", {six ? 6.0f : 1.0f}, {});
        node("Clip", {y, lo, hi}, {base + "_clip"}, base + "_clip");
        y = base + "_clip";
        break;
      }
    }
    const int out = op.outputs.at(0);
    const tfl::Tensor& t = tensor(out);
    if (t.quant.empty() || t.quant.scale.size() != 1) {
      names_[out] = y;
      return;
    }
    const std::string s = float_init(base + "_out_scale", t.quant.scale, {});
    const std::string z = zero_init(base + "_out_zero_point", t, {});
    node("QuantizeLinear", {y, s, z}, {base + "_q"}, base + "_quantize");
    node("DequantizeLinear", {base + "_q", s, z}, {t.name}, base + "_dequantize");
    names_[out] = t.name;
  }

  void pads_strides(::onnx::NodeProto* n, const tfl::Op& op, const tfl::Tensor& in, int kh, int kw) {
    const auto ph = tfl::explicit_padding(op.padding, in.shape.at(1), kh, op.stride_h, op.dilation_h);
    const auto pw = tfl::explicit_padding(op.padding, in.shape.at(2), kw, op.stride_w, op.dilation_w);
    ints(n, "kernel_shape", {kh, kw});
    ints(n, "strides", {op.stride_h, op.stride_w});
    ints(n, "pads", {ph.before, pw.before, ph.after, pw.after});
  }

  void op(const tfl::Op& op, int index) {
    const std::string base = fmt::format("op{}_{}", index, tfl::to_string(op.type));
    const auto input = [&](std::size_t k) { return value(op.inputs.at(k)); };
    switch (op.type) {
      case tfl::OpType::kConv2D:
      case tfl::OpType::kDepthwiseConv2D: {
        const tfl::Tensor& x = tensor(op.inputs.at(0));
        const tfl::Tensor& f = tensor(op.inputs.at(1));
        const int kh = f.shape.at(1), kw = f.shape.at(2);
        std::vector<std::int64_t> dims;
        std::vector<std::size_t> idx;
        int group = 1;
        if (op.type == tfl::OpType::kConv2D) {
          const int o = f.shape[0], i = f.shape[3];
          dims = {o, i, kh, kw};
          group = x.shape.at(3) / i;
          for (int a = 0; a < o; ++a)
            for (int b = 0; b < i; ++b)
              for (int y = 0; y < kh; ++y)
                for (int z = 0; z < kw; ++z) idx.push_back(((static_cast<std::size_t>(a) * kh + y) * kw + z) * i + b);
        } else {
          const int o = f.shape[3];
          dims = {o, 1, kh, kw};
          group = x.shape.at(3);
          for (int a = 0; a < o; ++a)
            for (int y = 0; y < kh; ++y)
              for (int z = 0; z < kw; ++z) idx.push_back((static_cast<std::size_t>(y) * kw + z) * o + a);
        }
        const std::string w = weights(f, dims, idx, 0, base + "_weights");
        std::vector<std::string> in = {input(0), w};
        if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
          const tfl::Tensor& b = tensor(op.inputs[2]);
          std::vector<std::size_t> bi(static_cast<std::size_t>(b.elements()));
          for (std::size_t k = 0; k < bi.size(); ++k) bi[k] = k;
          in.push_back(weights(b, {b.elements()}, bi, 0, base + "_bias"));
        }
        auto* n = node("Conv", in, {base + "_y"}, base);
        pads_strides(n, op, x, kh, kw);
        ints(n, "dilations", {op.dilation_h, op.dilation_w});
        one_int(n, "group", group);
        return finish(op, base + "_y", base);
      }
      case tfl::OpType::kFullyConnected: {
        const tfl::Tensor& f = tensor(op.inputs.at(1));
        std::vector<std::size_t> idx(static_cast<std::size_t>(f.elements()));
        for (std::size_t k = 0; k < idx.size(); ++k) idx[k] = k;
        const std::string w = weights(f, {f.shape.at(0), f.shape.at(1)}, idx, 0, base + "_weights");
        node("Flatten", {input(0)}, {base + "_flat"}, base + "_flatten");
        std::vector<std::string> in = {base + "_flat", w};
        if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
          const tfl::Tensor& b = tensor(op.inputs[2]);
          std::vector<std::size_t> bi(static_cast<std::size_t>(b.elements()));
          for (std::size_t k = 0; k < bi.size(); ++k) bi[k] = k;
          in.push_back(weights(b, {b.elements()}, bi, 0, base + "_bias"));
        }
        one_int(node("Gemm", in, {base + "_y"}, base), "transB", 1);
        return finish(op, base + "_y", base);
      }
      case tfl::OpType::kAdd:
        node("Add", {input(0), input(1)}, {base + "_y"}, base);
        return finish(op, base + "_y", base);
      case tfl::OpType::kAveragePool2D:
      case tfl::OpType::kMaxPool2D: {
        const bool avg = op.type == tfl::OpType::kAveragePool2D;
        auto* n = node(avg ? "AveragePool" : "MaxPool", {input(0)}, {base + "_y"}, base);
        pads_strides(n, op, tensor(op.inputs.at(0)), op.filter_h, op.filter_w);
        return finish(op, base + "_y", base);
      }
      case tfl::OpType::kMean:
        node("GlobalAveragePool", {input(0)}, {base + "_y"}, base);
        if (!op.keep_dims) {
          const auto d = nchw(tensor(op.outputs.at(0)).shape);
          std::string raw(d.size() * 8, '\0');
          std::memcpy(raw.data(), d.data(), raw.size());
          const std::string s = initializer(base + "_shape", TP::INT64, {static_cast<std::int64_t>(d.size())}, raw);
          node("Reshape", {base + "_y", s}, {base + "_r"}, base + "_reshape");
          return finish(op, base + "_r", base);
        }
        return finish(op, base + "_y", base);
      case tfl::OpType::kReshape:
      case tfl::OpType::kSqueeze: {
        const auto d = nchw(tensor(op.outputs.at(0)).shape);
        std::string raw(d.size() * 8, '\0');
        std::memcpy(raw.data(), d.data(), raw.size());
        const std::string s = initializer(base + "_shape", TP::INT64, {static_cast<std::int64_t>(d.size())}, raw);
        node("Reshape", {input(0), s}, {base + "_y"}, base);
        return finish(op, base + "_y", base);
      }
      case tfl::OpType::kSoftmax:
        if (op.beta != 1.0f) throw fail("SOFTMAX with beta != 1");
        node("Softmax", {input(0)}, {base + "_y"}, base);
        return finish(op, base + "_y", base);
      case tfl::OpType::kQuantize:
      case tfl::OpType::kDequantize:
        node("Identity", {input(0)}, {base + "_y"}, base);
        return finish(op, base + "_y", base);
      case tfl::OpType::kPad: {
        const auto p = tfl::integers(tensor(op.inputs.at(1)), m_.name);
        if (p.size() != 8) throw fail("PAD of a tensor of rank != 4");
        // NHWC before/after pairs -> ONNX [n, c, h, w begin..., n, c, h, w end...].
        const std::vector<std::int64_t> pads = {p[0], p[6], p[2], p[4], p[1], p[7], p[3], p[5]};
        std::string raw(pads.size() * 8, '\0');
        std::memcpy(raw.data(), pads.data(), raw.size());
        const std::string s = initializer(base + "_pads", TP::INT64, {8}, raw);
        node("Pad", {input(0), s}, {base + "_y"}, base);
        return finish(op, base + "_y", base);
      }
      case tfl::OpType::kConcatenation: {
        std::vector<std::string> in;
        for (std::size_t k = 0; k < op.inputs.size(); ++k) in.push_back(input(k));
        const int r = static_cast<int>(tensor(op.outputs.at(0)).shape.size());
        int a = op.axis < 0 ? op.axis + r : op.axis;
        if (r == 4) a = a == 3 ? 1 : a == 0 ? 0 : a + 1;
        one_int(node("Concat", in, {base + "_y"}, base), "axis", a);
        return finish(op, base + "_y", base);
      }
    }
    throw fail(fmt::format("operator {}", tfl::to_string(op.type)));
  }

  const tfl::Model& m_;
  ::onnx::GraphProto* g_ = nullptr;
  std::map<int, std::string> names_;
};

}  // namespace

std::vector<std::uint8_t> export_tflite(const tflite::Model& m) {
  const ::onnx::ModelProto p = Exporter(m).run();
  std::string s;
  if (!p.SerializeToString(&s)) throw ModelError(fmt::format("{}: ONNX export: serialization failed", m.name));
  return {s.begin(), s.end()};
}

void check_model(std::span<const std::uint8_t> bytes, const std::string& name) {
  const ::onnx::ModelProto p = detail::parse_proto(bytes, name);
  try {
    ::onnx::checker::check_model(p);
  } catch (const std::exception& e) {
    throw ModelError(fmt::format("{}: ONNX checker: {}", name, e.what()));
  }
}

}  // namespace bitscale::model::onnx
