// Tiny ONNX models built with the onnx protobuf classes, for the importer's unit tests and as
// seeds of the ONNX fuzz replay.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace bitscale::test::onnxb {

/// A ModelProto under construction: opset 13 of the default domain, IR version 8.
struct Builder {
  ::onnx::ModelProto m;
  explicit Builder(int opset = 13) {
    m.set_ir_version(8);
    m.set_producer_name("bitscale-test");
    auto* o = m.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    m.mutable_graph()->set_name("g");
  }
  ::onnx::GraphProto& g() { return *m.mutable_graph(); }

  static void set_type(::onnx::ValueInfoProto* vi, const std::string& name, int type,
                       const std::vector<std::int64_t>& dims) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(type);
    auto* s = tt->mutable_shape();
    for (auto d : dims) s->add_dim()->set_dim_value(d);
  }
  Builder& input(const std::string& name, const std::vector<std::int64_t>& dims,
                 int type = ::onnx::TensorProto::FLOAT) {
    set_type(g().add_input(), name, type, dims);
    return *this;
  }
  Builder& output(const std::string& name, const std::vector<std::int64_t>& dims = {},
                  int type = ::onnx::TensorProto::FLOAT) {
    auto* vi = g().add_output();
    if (dims.empty()) {
      vi->set_name(name);
      vi->mutable_type()->mutable_tensor_type()->set_elem_type(type);
    } else {
      set_type(vi, name, type, dims);
    }
    return *this;
  }
  /// A float initializer (float_data).
  Builder& floats(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& v) {
    auto* t = g().add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
    return *this;
  }
  /// A float initializer as raw_data.
  Builder& raw_floats(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& v) {
    auto* t = g().add_initializer();
    t->set_name(name);
    t->set_data_type(::onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    std::string raw(v.size() * 4, '\0');
    std::memcpy(raw.data(), v.data(), raw.size());
    t->set_raw_data(raw);
    return *this;
  }
  /// An integer initializer (int32_data for 8/16/32-bit types, int64_data for INT64).
  Builder& ints(const std::string& name, int type, const std::vector<std::int64_t>& dims,
                const std::vector<std::int64_t>& v) {
    auto* t = g().add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (auto d : dims) t->add_dims(d);
    for (auto x : v) {
      if (type == ::onnx::TensorProto::INT64) {
        t->add_int64_data(x);
      } else {
        t->add_int32_data(static_cast<std::int32_t>(x));
      }
    }
    return *this;
  }
  ::onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& in,
                          const std::vector<std::string>& out, const std::string& name = "") {
    auto* n = g().add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(g().node_size()) : name);
    for (const auto& i : in) n->add_input(i);
    for (const auto& o : out) n->add_output(o);
    return *n;
  }
  std::vector<std::uint8_t> bytes() const {
    std::string s;
    m.SerializeToString(&s);
    return {s.begin(), s.end()};
  }
};

inline void attr_int(::onnx::NodeProto& n, const std::string& k, std::int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(k);
  a->set_type(::onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void attr_float(::onnx::NodeProto& n, const std::string& k, float v) {
  auto* a = n.add_attribute();
  a->set_name(k);
  a->set_type(::onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
inline void attr_ints(::onnx::NodeProto& n, const std::string& k, const std::vector<std::int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(k);
  a->set_type(::onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}
inline void attr_string(::onnx::NodeProto& n, const std::string& k, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(k);
  a->set_type(::onnx::AttributeProto::STRING);
  a->set_s(v);
}

/// A small CNN: Conv 3x3 (2 -> 4 channels, pads 1) + BatchNormalization + Relu, MaxPool 2x2,
/// GlobalAveragePool, Flatten, Gemm (transB) to 3 classes, Softmax. Input [1,2,6,6].
inline Builder tiny_cnn() {
  Builder b;
  b.input("x", {1, 2, 6, 6});
  std::vector<float> w(4 * 2 * 3 * 3);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 7) - 3) * 0.1f;
  b.raw_floats("w", {4, 2, 3, 3}, w);
  b.floats("bias", {4}, {0.1f, -0.2f, 0.0f, 0.3f});
  b.floats("bn_s", {4}, {1.0f, 0.5f, 2.0f, 1.5f});
  b.floats("bn_b", {4}, {0.0f, 0.1f, -0.1f, 0.2f});
  b.floats("bn_m", {4}, {0.05f, 0.0f, -0.1f, 0.1f});
  b.floats("bn_v", {4}, {1.0f, 0.25f, 4.0f, 0.5f});
  std::vector<float> fc(3 * 4);
  for (std::size_t i = 0; i < fc.size(); ++i) fc[i] = static_cast<float>(static_cast<int>(i % 5) - 2) * 0.25f;
  b.floats("fc_w", {3, 4}, fc);
  b.floats("fc_b", {3}, {0.01f, 0.02f, 0.03f});
  auto& conv = b.node("Conv", {"x", "w", "bias"}, {"c"}, "conv1");
  attr_ints(conv, "pads", {1, 1, 1, 1});
  attr_ints(conv, "kernel_shape", {3, 3});
  b.node("BatchNormalization", {"c", "bn_s", "bn_b", "bn_m", "bn_v"}, {"bn"}, "bn1");
  b.node("Relu", {"bn"}, {"r"}, "relu1");
  auto& mp = b.node("MaxPool", {"r"}, {"p"}, "pool1");
  attr_ints(mp, "kernel_shape", {2, 2});
  attr_ints(mp, "strides", {2, 2});
  b.node("GlobalAveragePool", {"p"}, {"gap"}, "gap");
  b.node("Flatten", {"gap"}, {"flat"}, "flatten");
  auto& gemm = b.node("Gemm", {"flat", "fc_w", "fc_b"}, {"logits"}, "fc");
  attr_int(gemm, "transB", 1);
  b.node("Softmax", {"logits"}, {"prob"}, "softmax");
  b.output("prob", {1, 3});
  return b;
}

}  // namespace bitscale::test::onnxb
