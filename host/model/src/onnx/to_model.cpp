// ONNX semantics resolved into the canonical graph (graph.hpp, onnx.hpp): NCHW to HWC,
// OIHW to OHWI, pads / auto_pad / ceil_mode to window amounts, fused Relu / Clip,
// BatchNormalization folded, Gemm / MatMul to fully connected or 1x1 convolutions, QDQ and
// QLinear / Integer operators to real-valued operators on dequantized constants.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>

#include "proto.hpp"

namespace bitscale::model::onnx::detail {

namespace {

using ::onnx::AttributeProto;
using ::onnx::NodeProto;

/// Most elements of one activation tensor (the float reference allocates it).
constexpr std::int64_t kMaxActivation = std::int64_t{1} << 26;

/// How the canonical tensor of a value orders the ONNX elements.
enum class Layout : std::uint8_t {
  kRowMajor,  ///< same order ([a,b,c] -> HWC a,b,c; [a,b] -> 1,a,b; [n] -> 1,1,n)
  kNchw,      ///< rank 4 [1,C,H,W] held as HWC
  kFlatChw,   ///< [1, C*H*W] flattened from NCHW, held in HWC order (only Gemm / MatMul read it)
};

struct Value {
  int tensor = -1;
  std::vector<std::int64_t> dims;
  DType type = DType::kFloat32;
  float scale = 1.0f, zero = 0.0f;  ///< integer types: canonical = scale * (q - zero)
  Layout layout = Layout::kRowMajor;
  int fc = 1, fh = 1, fw = 1;  ///< kFlatChw: the C, H, W it was flattened from
};

bool is_int(DType t) { return t != DType::kFloat32 && t != DType::kFloat64; }

std::string dims_string(const std::vector<std::int64_t>& d) { return fmt::format("[{}]", fmt::join(d, ",")); }

std::int64_t product(std::span<const std::int64_t> d) {
  std::int64_t n = 1;
  for (auto x : d) n *= x;
  return n;
}

/// Round half to even, as ONNX's QuantizeLinear.
double round_even(double x) { return std::nearbyint(x); }

class Lowering {
 public:
  Lowering(const ::onnx::ModelProto& m, const std::string& name, const std::vector<Const>& bound)
      : m_(m), name_(name), bound_(bound) {}

  Import run() {
    const auto& g = m_.graph();
    opset_ = 0;
    for (const auto& o : m_.opset_import())
      if (o.domain().empty() || o.domain() == "ai.onnx") opset_ = static_cast<int>(o.version());
    if (opset_ <= 0) throw fail("no opset of the default ONNX domain is imported");
    out_.opset = opset_;
    out_.model.name = name_;
    for (const Const& c : bound_) consts_[c.name] = c;
    for (const auto& t : g.initializer()) {
      if (consts_.count(t.name()) != 0 && !is_bound(t.name()))
        throw fail(fmt::format("initializer '{}' appears twice", t.name()));
      if (!is_bound(t.name())) consts_[t.name()] = decode(t, name_);
    }
    if (g.sparse_initializer_size() > 0) throw fail("sparse initializers are not supported");

    // The one activation input and the one output.
    std::vector<const ::onnx::ValueInfoProto*> inputs;
    for (const auto& vi : g.input())
      if (consts_.count(vi.name()) == 0) inputs.push_back(&vi);
    if (inputs.size() != 1) {
      std::vector<std::string> names;
      for (const auto* vi : inputs) names.push_back("'" + vi->name() + "'");
      throw fail(fmt::format("expected one activation input, found {} ({})", inputs.size(), fmt::join(names, ", ")));
    }
    if (g.output_size() != 1) throw fail(fmt::format("expected one graph output, found {}", g.output_size()));
    for (const auto& n : g.node()) {
      for (const auto& i : n.input())
        if (!i.empty()) ++consumers_[i];
      out_.node_ops.push_back(n.op_type());
    }
    ++consumers_[g.output(0).name()];

    define_input(*inputs[0]);
    for (int i : topological_order()) {
      node_ = &g.node(i);
      node_index_ = i;
      try {
        lower(*node_);
      } catch (const std::invalid_argument& e) {
        throw fail(e.what());
      }
    }
    node_ = nullptr;
    finish_output(g.output(0));
    return std::move(out_);
  }

 private:
  // ---- messages -------------------------------------------------------------------------
  [[nodiscard]] ModelError fail(const std::string& what) const {
    if (node_ != nullptr) {
      const std::string who =
          node_->name().empty() ? fmt::format("node #{}", node_index_) : fmt::format("node '{}'", node_->name());
      return ModelError(fmt::format("{}: {} ({}): {}", name_, who, node_->op_type(), what));
    }
    return ModelError(fmt::format("{}: {}", name_, what));
  }

  [[nodiscard]] bool is_bound(const std::string& n) const {
    return std::any_of(bound_.begin(), bound_.end(), [&](const Const& c) { return c.name == n; });
  }

  // ---- attributes -----------------------------------------------------------------------
  [[nodiscard]] const AttributeProto* attr(const NodeProto& n, const std::string& key) const {
    for (const auto& a : n.attribute())
      if (a.name() == key) return &a;
    return nullptr;
  }
  [[nodiscard]] std::int64_t attr_int(const NodeProto& n, const std::string& key, std::int64_t def) const {
    const auto* a = attr(n, key);
    if (a == nullptr) return def;
    if (a->type() != AttributeProto::INT) throw fail(fmt::format("attribute '{}' is not an integer", key));
    return a->i();
  }
  [[nodiscard]] float attr_float(const NodeProto& n, const std::string& key, float def) const {
    const auto* a = attr(n, key);
    if (a == nullptr) return def;
    if (a->type() != AttributeProto::FLOAT) throw fail(fmt::format("attribute '{}' is not a float", key));
    return a->f();
  }
  [[nodiscard]] std::vector<std::int64_t> attr_ints(const NodeProto& n, const std::string& key) const {
    const auto* a = attr(n, key);
    if (a == nullptr) return {};
    if (a->type() != AttributeProto::INTS) throw fail(fmt::format("attribute '{}' is not a list of integers", key));
    return {a->ints().begin(), a->ints().end()};
  }
  [[nodiscard]] std::string attr_string(const NodeProto& n, const std::string& key, const std::string& def) const {
    const auto* a = attr(n, key);
    if (a == nullptr) return def;
    if (a->type() != AttributeProto::STRING) throw fail(fmt::format("attribute '{}' is not a string", key));
    return a->s();
  }

  // ---- operands ---------------------------------------------------------------------------
  [[nodiscard]] bool present(std::size_t k) const {
    return static_cast<int>(k) < node_->input_size() && !node_->input(static_cast<int>(k)).empty();
  }
  [[nodiscard]] const Value& act(std::size_t k) const {
    if (!present(k)) throw fail(fmt::format("missing input {}", k));
    const std::string& n = node_->input(static_cast<int>(k));
    const auto it = values_.find(n);
    if (it == values_.end()) {
      throw fail(fmt::format("input {} ('{}') is a constant; bitscale needs an activation there", k, n));
    }
    return it->second;
  }
  [[nodiscard]] const Const* opt_const(std::size_t k) const {
    if (!present(k)) return nullptr;
    const std::string& n = node_->input(static_cast<int>(k));
    const auto it = consts_.find(n);
    if (it == consts_.end())
      throw fail(fmt::format("input {} ('{}') must be a constant (initializer or Constant)", k, n));
    return &it->second;
  }
  [[nodiscard]] const Const& cst(std::size_t k) const {
    const Const* c = opt_const(k);
    if (c == nullptr) throw fail(fmt::format("missing input {}", k));
    return *c;
  }
  [[nodiscard]] bool is_const_input(std::size_t k) const {
    return present(k) && consts_.count(node_->input(static_cast<int>(k))) != 0;
  }
  /// One value of a scalar-like constant (one element).
  [[nodiscard]] double scalar(const Const& c, const char* what) const {
    if (c.v.size() != 1) throw fail(fmt::format("{} '{}' has {} values, expected one", what, c.name, c.v.size()));
    return c.v[0];
  }
  /// An integer-valued constant entry (shape, axes, pads); refuses non-integers and huge values.
  [[nodiscard]] std::int64_t integer(double v, const char* what) const {
    if (!(std::abs(v) <= 9.0e15) || v != std::trunc(v))
      throw fail(fmt::format("{} entry {} is not an integer in range", what, v));
    return static_cast<std::int64_t>(v);
  }
  [[nodiscard]] const std::string& out_name(int k = 0) const {
    if (node_->output_size() <= k || node_->output(k).empty()) throw fail(fmt::format("missing output {}", k));
    return node_->output(k);
  }
  /// Only the first output may be used (e.g. Dropout's mask, MaxPool's indices).
  void only_first_output() const {
    for (int k = 1; k < node_->output_size(); ++k) {
      if (!node_->output(k).empty() && consumers_.count(node_->output(k)) != 0)
        throw fail(fmt::format("output {} ('{}') is used; only the first output is supported", k, node_->output(k)));
    }
  }

  // ---- canonical tensors ------------------------------------------------------------------
  [[nodiscard]] Shape3 shape3(const std::vector<std::int64_t>& d, Layout layout, const std::string& what) const {
    const std::int64_t n = checked_elements(d, fmt::format("{}: {}", name_, what));
    if (n == 0) throw fail(fmt::format("{} is empty ({})", what, dims_string(d)));
    if (n > kMaxActivation)
      throw fail(fmt::format("{} {} has {} elements (at most {})", what, dims_string(d), n, kMaxActivation));
    const auto i = [](std::int64_t x) { return static_cast<int>(x); };
    switch (layout) {
      case Layout::kNchw:
        if (d.size() != 4) throw fail(fmt::format("{}: NCHW layout of rank {}", what, d.size()));
        if (d[0] != 1) throw fail(fmt::format("{} {} has batch {} (only 1)", what, dims_string(d), d[0]));
        return {i(d[2]), i(d[3]), i(d[1])};
      case Layout::kFlatChw:
        return {1, 1, i(n)};
      case Layout::kRowMajor:
        break;
    }
    switch (d.size()) {
      case 0:
        return {1, 1, 1};
      case 1:
        return {1, 1, i(d[0])};
      case 2:
        return {1, i(d[0]), i(d[1])};
      case 3:
        return {i(d[0]), i(d[1]), i(d[2])};
      default:
        throw fail(fmt::format("{} {}: rank {} is not supported", what, dims_string(d), d.size()));
    }
  }
  static Layout layout_for(const std::vector<std::int64_t>& d) {
    return d.size() == 4 ? Layout::kNchw : Layout::kRowMajor;
  }

  /// A new canonical tensor for ONNX value `name`.
  int new_tensor(const std::string& name, const Shape3& s) {
    auto& g = out_.model;
    g.tensor_names.push_back(name);
    g.shapes.push_back(s);
    const auto it = consumers_.find(name);
    uses_.push_back(it == consumers_.end() ? 0 : it->second);
    producer_.push_back(-1);
    return static_cast<int>(g.shapes.size()) - 1;
  }
  /// Defines ONNX value `name` as a new canonical tensor written by `op` (appended).
  Value& emit(model::Op op, const std::string& name, Value v) {
    const Shape3 s = shape3(v.dims, v.layout, fmt::format("output '{}'", name));
    v.tensor = new_tensor(name, s);
    op.output = v.tensor;
    producer_[static_cast<std::size_t>(v.tensor)] = static_cast<int>(out_.model.ops.size());
    out_.model.ops.push_back(std::move(op));
    return define(name, v);
  }
  Value& define(const std::string& name, const Value& v) {
    if (values_.count(name) != 0 || consts_.count(name) != 0)
      throw fail(fmt::format("value '{}' is defined twice", name));
    return values_[name] = v;
  }
  /// ONNX value `name` is `v`'s canonical tensor under another ONNX shape or type.
  void alias(const std::string& name, const Value& v) {
    const auto it = consumers_.find(name);
    uses_[static_cast<std::size_t>(v.tensor)] += (it == consumers_.end() ? 0 : it->second) - 1;
    define(name, v);
  }
  [[nodiscard]] const Shape3& shape(int t) const { return out_.model.shapes[static_cast<std::size_t>(t)]; }
  /// The operator writing tensor t if nothing else reads t (so it may take a fused activation).
  [[nodiscard]] model::Op* sole_producer(int t) {
    const int p = producer_[static_cast<std::size_t>(t)];
    if (p < 0 || uses_[static_cast<std::size_t>(t)] != 1) return nullptr;
    return &out_.model.ops[static_cast<std::size_t>(p)];
  }

  /// y = w[c] * x + b[c] per channel of tensor t (a depthwise 1x1 convolution).
  int affine(int t, std::span<const float> w, std::span<const float> b, const std::string& name) {
    const Shape3 s = shape(t);
    model::Op op;
    op.type = model::OpType::kConv2D;
    op.inputs = {t};
    op.groups = s.c;
    op.out_c = s.c;
    for (int c = 0; c < s.c; ++c) {
      op.weights.push_back(w.size() == 1 ? w[0] : w[static_cast<std::size_t>(c)]);
      op.bias.push_back(b.size() == 1 ? b[0] : b[static_cast<std::size_t>(c)]);
    }
    const int o = new_tensor(name, s);
    uses_[static_cast<std::size_t>(o)] = 1;
    op.output = o;
    producer_[static_cast<std::size_t>(o)] = static_cast<int>(out_.model.ops.size());
    out_.model.ops.push_back(std::move(op));
    return o;
  }

  /// The canonical tensor holding s * (q - z) for the integer value v.
  int integer_input(const Value& v, double s, double z, const char* what) {
    if (!is_int(v.type)) throw fail(fmt::format("{} is {}, expected an integer type", what, to_string(v.type)));
    if (!(s > 0) || !std::isfinite(s)) throw fail(fmt::format("{} scale {} is not positive", what, s));
    if (std::abs(s - v.scale) <= 1e-7 * s && z == v.zero) return v.tensor;
    const float w = static_cast<float>(s / v.scale);
    const float b = static_cast<float>(s * (v.zero - z));
    return affine(v.tensor, std::span<const float>(&w, 1), std::span<const float>(&b, 1),
                  out_.model.tensor_names[static_cast<std::size_t>(v.tensor)] + "/requantized");
  }

  // ---- graph structure --------------------------------------------------------------------
  void define_input(const ::onnx::ValueInfoProto& vi) {
    const std::string what = fmt::format("input '{}'", vi.name());
    if (!vi.type().has_tensor_type()) throw fail(what + " is not a tensor");
    const auto& tt = vi.type().tensor_type();
    Value v;
    v.type = dtype(tt.elem_type(), fmt::format("{}: {}", name_, what));
    if (!tt.has_shape()) throw fail(what + " has no shape");
    for (int k = 0; k < tt.shape().dim_size(); ++k) {
      const auto& d = tt.shape().dim(k);
      if (d.has_dim_param()) {
        throw fail(fmt::format("{} has a dynamic dimension '{}' (dimension {}); bitscale needs fixed shapes", what,
                               d.dim_param(), k));
      }
      if (!d.has_dim_value() || d.dim_value() <= 0)
        throw fail(fmt::format("{} has an unknown or non-positive dimension {}", what, k));
      v.dims.push_back(d.dim_value());
    }
    v.layout = layout_for(v.dims);
    InputEncoding enc{1.0f / 128.0f, 128.0f};
    if (is_int(v.type)) {
      // Read as the DequantizeLinear that consumes it, when all its consumers agree.
      std::optional<std::pair<double, double>> q;
      bool all = true;
      for (const auto& n : m_.graph().node()) {
        bool reads = false;
        for (const auto& i : n.input()) reads = reads || i == vi.name();
        if (!reads) continue;
        std::optional<std::pair<double, double>> p;
        if (n.op_type() == "DequantizeLinear" && n.input_size() >= 2 && n.input(0) == vi.name()) {
          const auto s = consts_.find(n.input(1));
          const auto z = n.input_size() > 2 ? consts_.find(n.input(2)) : consts_.end();
          if (s != consts_.end() && s->second.v.size() == 1 &&
              (n.input_size() <= 2 || n.input(2).empty() || (z != consts_.end() && z->second.v.size() == 1))) {
            p = std::make_pair(s->second.v[0], z == consts_.end() ? 0.0 : z->second.v[0]);
          }
        }
        if (!p || (q && *q != *p)) all = false;
        if (p && !q) q = p;
      }
      if (all && q && q->first > 0) v.scale = static_cast<float>(q->first), v.zero = static_cast<float>(q->second);
      enc = {v.scale, v.type == DType::kInt8 ? v.zero + 128.0f : v.zero};
    }
    v.tensor = new_tensor(vi.name(), shape3(v.dims, v.layout, what));
    define(vi.name(), v);
    out_.model.input = v.tensor;
    out_.model.input_encoding = enc;
    out_.input = {vi.name(), v.type, v.dims, v.scale, v.zero, v.tensor};
  }

  /// Kahn's order (file order among ready nodes); cycles and undefined inputs are errors.
  std::vector<int> topological_order() {
    const auto& g = m_.graph();
    const int n = g.node_size();
    std::map<std::string, int> producer;
    for (int i = 0; i < n; ++i) {
      node_ = &g.node(i);
      node_index_ = i;
      for (const auto& o : g.node(i).output()) {
        if (o.empty()) continue;
        if (producer.count(o) != 0 || consts_.count(o) != 0 || values_.count(o) != 0)
          throw fail(fmt::format("value '{}' is defined twice", o));
        producer[o] = i;
      }
    }
    std::vector<int> missing(static_cast<std::size_t>(n), 0);
    std::vector<std::vector<int>> next(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      node_ = &g.node(i);
      node_index_ = i;
      for (const auto& in : g.node(i).input()) {
        if (in.empty() || consts_.count(in) != 0 || values_.count(in) != 0) continue;
        const auto it = producer.find(in);
        if (it == producer.end()) throw fail(fmt::format("input '{}' is not defined in the graph", in));
        ++missing[static_cast<std::size_t>(i)];
        next[static_cast<std::size_t>(it->second)].push_back(i);
      }
    }
    node_ = nullptr;
    std::set<int> ready;
    for (int i = 0; i < n; ++i)
      if (missing[static_cast<std::size_t>(i)] == 0) ready.insert(i);
    std::vector<int> order;
    while (!ready.empty()) {
      const int i = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(i);
      for (int j : next[static_cast<std::size_t>(i)])
        if (--missing[static_cast<std::size_t>(j)] == 0) ready.insert(j);
    }
    if (static_cast<int>(order.size()) != n) {
      std::vector<std::string> stuck;
      for (int i = 0; i < n && stuck.size() < 4; ++i) {
        if (missing[static_cast<std::size_t>(i)] > 0)
          stuck.push_back(fmt::format("'{}' ({})", g.node(i).name(), g.node(i).op_type()));
      }
      throw fail(fmt::format("the graph has a cycle: {} nodes wait on each other, e.g. {}", n - order.size(),
                             fmt::join(stuck, ", ")));
    }
    return order;
  }

  void finish_output(const ::onnx::ValueInfoProto& vi) {
    const auto it = values_.find(vi.name());
    if (it == values_.end()) {
      throw fail(consts_.count(vi.name()) != 0 ? fmt::format("output '{}' is a constant", vi.name())
                                               : fmt::format("output '{}' is not produced by any node", vi.name()));
    }
    const Value& v = it->second;
    if (v.layout == Layout::kFlatChw)
      throw fail(fmt::format("output '{}' is flattened from NCHW with H*W > 1; not supported", vi.name()));
    if (vi.type().has_tensor_type() && vi.type().tensor_type().has_shape()) {
      const auto& s = vi.type().tensor_type().shape();
      bool fixed = true;
      std::vector<std::int64_t> d;
      for (const auto& x : s.dim()) {
        fixed = fixed && x.has_dim_value();
        d.push_back(x.dim_value());
      }
      if (fixed && d != v.dims) {
        throw fail(fmt::format("output '{}' is declared {} but the graph computes {}", vi.name(), dims_string(d),
                               dims_string(v.dims)));
      }
    }
    out_.model.output = v.tensor;
    out_.output = {vi.name(), v.type, v.dims, v.scale, v.zero, v.tensor};
  }

  // ---- operators --------------------------------------------------------------------------
  void lower(const NodeProto& n) {
    if (!n.domain().empty() && n.domain() != "ai.onnx")
      throw fail(fmt::format("operator domain '{}' is not supported", n.domain()));
    const std::string& op = n.op_type();
    if (op == "Constant") return constant();
    // Operators on constants only are folded (weights stored quantized, shape arithmetic).
    bool all_const = true;
    for (int k = 0; k < n.input_size(); ++k) all_const = all_const && (n.input(k).empty() || is_const_input(k));
    if (all_const && n.input_size() > 0) return fold();
    if (op == "Conv") return conv();
    if (op == "ConvInteger") return conv_integer();
    if (op == "QLinearConv") return qlinear_conv();
    if (op == "Gemm") return gemm();
    if (op == "MatMul") return matmul();
    if (op == "MatMulInteger") return matmul_integer();
    if (op == "QLinearMatMul") return qlinear_matmul();
    if (op == "Relu" || op == "Clip") return clip();
    if (op == "BatchNormalization") return batch_norm();
    if (op == "Add" || op == "Sum") return add();
    if (op == "Concat") return concat();
    if (op == "Softmax") return softmax();
    if (op == "Flatten" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze") return reshape();
    if (op == "GlobalAveragePool") return global_pool(false);
    if (op == "GlobalMaxPool") return global_pool(true);
    if (op == "MaxPool" || op == "AveragePool") return pool();
    if (op == "QuantizeLinear") return quantize();
    if (op == "DequantizeLinear") return dequantize();
    if (op == "Identity" || op == "Dropout") {
      only_first_output();
      return alias(out_name(), act(0));
    }
    if (op == "Pad") return pad();
    throw fail("unsupported operator");
  }

  void constant() {
    const NodeProto& n = *node_;
    if (n.attribute_size() != 1) throw fail("expected one attribute");
    const auto& a = n.attribute(0);
    Const c;
    if (a.name() == "value" && a.type() == AttributeProto::TENSOR) {
      c = decode(a.t(), name_);
    } else if (a.name() == "value_float" && a.type() == AttributeProto::FLOAT) {
      c.v = {a.f()};
    } else if (a.name() == "value_floats" && a.type() == AttributeProto::FLOATS) {
      c.v.assign(a.floats().begin(), a.floats().end());
      c.dims = {static_cast<std::int64_t>(c.v.size())};
    } else if (a.name() == "value_int" && a.type() == AttributeProto::INT) {
      c.type = DType::kInt64;
      c.v = {static_cast<double>(a.i())};
    } else if (a.name() == "value_ints" && a.type() == AttributeProto::INTS) {
      c.type = DType::kInt64;
      c.v.assign(a.ints().begin(), a.ints().end());
      c.dims = {static_cast<std::int64_t>(c.v.size())};
    } else {
      throw fail(fmt::format("attribute '{}' is not supported", a.name()));
    }
    if (c.v.empty()) throw fail("empty constant");
    c.name = out_name();
    set_const(c);
  }
  void set_const(Const c) {
    if (values_.count(c.name) != 0 || consts_.count(c.name) != 0)
      throw fail(fmt::format("value '{}' is defined twice", c.name));
    consts_[c.name] = std::move(c);
  }

  /// Per-axis parameters of a (de)quantization: index of element i's scale.
  [[nodiscard]] std::vector<std::size_t> axis_index(const Const& x, std::size_t nparams, std::int64_t axis) const {
    std::vector<std::size_t> idx(x.v.size(), 0);
    if (nparams == 1) return idx;
    const auto r = static_cast<std::int64_t>(x.dims.size());
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r || x.dims[static_cast<std::size_t>(axis)] != static_cast<std::int64_t>(nparams))
      throw fail(fmt::format("{} quantization parameters for axis {} of {}", nparams, axis, dims_string(x.dims)));
    const std::int64_t inner = product(std::span(x.dims).subspan(static_cast<std::size_t>(axis) + 1));
    for (std::size_t i = 0; i < idx.size(); ++i)
      idx[i] = static_cast<std::size_t>((static_cast<std::int64_t>(i) / inner) % static_cast<std::int64_t>(nparams));
    return idx;
  }

  /// Folds an operator whose inputs are all constants.
  void fold() {
    const std::string& op = node_->op_type();
    Const c;
    c.name = out_name();
    const Const& x = cst(0);
    if (op == "DequantizeLinear" || op == "QuantizeLinear") {
      const Const& s = cst(1);
      const Const* z = opt_const(2);
      if (z != nullptr && z->v.size() != s.v.size()) throw fail("scale and zero point differ in size");
      const auto idx = axis_index(x, s.v.size(), attr_int(*node_, "axis", 1));
      c.dims = x.dims;
      c.v.resize(x.v.size());
      if (op == "DequantizeLinear") {
        c.type = DType::kFloat32;
        for (std::size_t i = 0; i < c.v.size(); ++i)
          c.v[i] = static_cast<float>(s.v[idx[i]] * (x.v[i] - (z == nullptr ? 0.0 : z->v[idx[i]])));
      } else {
        c.type = z == nullptr ? DType::kUInt8 : z->type;
        const auto [lo, hi] = int_range(c.type);
        for (std::size_t i = 0; i < c.v.size(); ++i) {
          const double q = round_even(x.v[i] / s.v[idx[i]]) + (z == nullptr ? 0.0 : z->v[idx[i]]);
          c.v[i] = std::clamp(q, lo, hi);
        }
      }
    } else if (op == "Identity" || op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" ||
               op == "Cast") {
      c = x;
      c.name = out_name();
      if (op != "Identity" && op != "Cast") c.dims = reshaped_dims(x.dims);
      if (op == "Cast") {
        c.type = dtype(static_cast<int>(attr_int(*node_, "to", 1)), fmt::format("{}: Cast", name_));
        if (is_int(c.type))
          for (auto& v : c.v) v = std::trunc(v);
      }
    } else if (op == "Transpose") {
      const auto r = x.dims.size();
      auto perm = attr_ints(*node_, "perm");
      if (perm.empty())
        for (std::size_t k = 0; k < r; ++k) perm.push_back(static_cast<std::int64_t>(r - 1 - k));
      if (perm.size() != r) throw fail("perm does not match the rank");
      {
        auto sorted = perm;
        std::sort(sorted.begin(), sorted.end());
        for (std::size_t k = 0; k < r; ++k)
          if (sorted[k] != static_cast<std::int64_t>(k))
            throw fail(fmt::format("perm {} is not a permutation", dims_string(perm)));
      }
      c = x;
      c.name = out_name();
      std::vector<std::int64_t> in_stride(r, 1);
      for (std::size_t k = r; k-- > 1;) in_stride[k - 1] = in_stride[k] * x.dims[k];
      for (std::size_t k = 0; k < r; ++k) {
        if (perm[k] < 0 || perm[k] >= static_cast<std::int64_t>(r)) throw fail("perm out of range");
        c.dims[k] = x.dims[static_cast<std::size_t>(perm[k])];
      }
      std::vector<std::int64_t> idx(r, 0);
      for (std::size_t o = 0; o < c.v.size(); ++o) {
        std::int64_t src = 0;
        for (std::size_t k = 0; k < r; ++k) src += idx[k] * in_stride[static_cast<std::size_t>(perm[k])];
        c.v[o] = x.v[static_cast<std::size_t>(src)];
        for (std::size_t k = r; k-- > 0;) {
          if (++idx[k] < c.dims[k]) break;
          idx[k] = 0;
        }
      }
    } else {
      throw fail(
          "operator on constants only is not supported (constant folding covers Quantize/DequantizeLinear, "
          "Identity, Cast, Reshape, Flatten, Squeeze, Unsqueeze, Transpose)");
    }
    set_const(std::move(c));
  }

  /// The output shape of Reshape, Flatten, Squeeze, Unsqueeze on an input of shape d.
  [[nodiscard]] std::vector<std::int64_t> reshaped_dims(const std::vector<std::int64_t>& d) const {
    const std::string& op = node_->op_type();
    const auto r = static_cast<std::int64_t>(d.size());
    const std::int64_t total = product(d);
    std::vector<std::int64_t> out;
    if (op == "Flatten") {
      std::int64_t axis = attr_int(*node_, "axis", 1);
      if (axis < 0) axis += r;
      if (axis < 0 || axis > r) throw fail(fmt::format("axis {} of a rank-{} tensor", axis, r));
      const std::int64_t a = product(std::span(d).first(static_cast<std::size_t>(axis)));
      return {a, a == 0 ? 0 : total / a};
    }
    if (op == "Reshape") {
      const Const& s = cst(1);
      const bool allowzero = attr_int(*node_, "allowzero", 0) != 0;
      std::int64_t known = 1;
      int infer = -1;
      for (std::size_t k = 0; k < s.v.size(); ++k) {
        auto v = integer(s.v[k], "shape");
        if (v == 0 && !allowzero) {
          if (static_cast<std::int64_t>(k) >= r) throw fail("shape copies a dimension the input does not have");
          v = d[k];
        }
        if (v == -1) {
          if (infer >= 0) throw fail("shape has two -1 entries");
          infer = static_cast<int>(k);
        } else if (v < 0) {
          throw fail(fmt::format("shape entry {}", v));
        } else {
          if (v != 0 && known > kMaxElements / v) throw fail("shape too large");
          known *= v;
        }
        out.push_back(v);
      }
      if (infer >= 0) {
        if (known == 0 || total % known != 0) throw fail("shape -1 cannot be inferred");
        out[static_cast<std::size_t>(infer)] = total / known;
      }
    } else {
      std::vector<std::int64_t> axes = attr_ints(*node_, "axes");
      if (axes.empty() && present(1)) {
        for (double v : cst(1).v) axes.push_back(integer(v, "axes"));
      }
      if (op == "Squeeze") {
        for (auto& a : axes) a = a < 0 ? a + r : a;
        for (std::int64_t k = 0; k < r; ++k) {
          const bool listed = std::find(axes.begin(), axes.end(), k) != axes.end();
          if (listed && d[static_cast<std::size_t>(k)] != 1) throw fail(fmt::format("squeezing dimension {} != 1", k));
          if (!(listed || (axes.empty() && d[static_cast<std::size_t>(k)] == 1)))
            out.push_back(d[static_cast<std::size_t>(k)]);
        }
      } else {
        const auto orank = r + static_cast<std::int64_t>(axes.size());
        for (auto& a : axes) a = a < 0 ? a + orank : a;
        std::size_t src = 0;
        for (std::int64_t k = 0; k < orank; ++k) {
          if (std::find(axes.begin(), axes.end(), k) != axes.end()) {
            out.push_back(1);
          } else {
            if (src >= d.size()) throw fail("Unsqueeze axes out of range");
            out.push_back(d[src++]);
          }
        }
      }
    }
    if (product(out) != total) throw fail(fmt::format("cannot reshape {} into {}", dims_string(d), dims_string(out)));
    return out;
  }

  /// Geometry of a convolution or pool window: kernel, strides, dilations, pads / auto_pad and
  /// (pools) ceil_mode, over an input of shape `is`.
  golden::Window window(const Shape3& is, int k_h, int k_w, bool dilated, bool ceil_mode) const {
    const NodeProto& n = *node_;
    if (k_h < 1 || k_w < 1 || k_h > 65536 || k_w > 65536)
      throw fail(fmt::format("kernel {}x{} out of range", k_h, k_w));
    golden::Window w;
    w.k_h = k_h, w.k_w = k_w;
    const auto ks = attr_ints(n, "kernel_shape");
    if (!ks.empty() && (ks.size() != 2 || ks[0] != k_h || ks[1] != k_w))
      throw fail(fmt::format("kernel_shape {} does not match the weights {}x{}", dims_string(ks), k_h, k_w));
    const auto two = [&](const char* key, int def) {
      auto v = attr_ints(n, key);
      if (v.empty()) return std::pair<int, int>{def, def};
      if (v.size() != 2 || v[0] < 1 || v[1] < 1 || v[0] > 4096 || v[1] > 4096)
        throw fail(fmt::format("{} {}: expected two positive values (2-D only)", key, dims_string(v)));
      return std::pair<int, int>{static_cast<int>(v[0]), static_cast<int>(v[1])};
    };
    std::tie(w.stride_h, w.stride_w) = two("strides", 1);
    if (dilated) std::tie(w.dilation_h, w.dilation_w) = two("dilations", 1);
    const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
    const auto pads = attr_ints(n, "pads");
    if (auto_pad == "NOTSET") {
      if (!pads.empty()) {
        if (pads.size() != 4) throw fail(fmt::format("pads {}: expected 4 values (2-D)", dims_string(pads)));
        for (auto p : pads)
          if (p < 0 || p > 65536) throw fail(fmt::format("pads {}: out of range", dims_string(pads)));
        w.pad_top = static_cast<int>(pads[0]), w.pad_left = static_cast<int>(pads[1]);
        w.pad_bottom = static_cast<int>(pads[2]), w.pad_right = static_cast<int>(pads[3]);
      }
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const auto ph = golden::same_padding(is.h, k_h, w.stride_h, w.dilation_h);
      const auto pw = golden::same_padding(is.w, k_w, w.stride_w, w.dilation_w);
      const bool lower = auto_pad == "SAME_LOWER";
      w.pad_top = lower ? ph.after : ph.before, w.pad_bottom = lower ? ph.before : ph.after;
      w.pad_left = lower ? pw.after : pw.before, w.pad_right = lower ? pw.before : pw.after;
    } else if (auto_pad != "VALID") {
      throw fail(fmt::format("auto_pad '{}'", auto_pad));
    }
    if (ceil_mode) {
      // out = ceil((in + pads - eff_k) / stride) + 1: the missing cells become extra end padding.
      const auto extend = [](int in, int k, int s, int d, int before, int& after) {
        const int span = in + before + after - ((k - 1) * d + 1);
        if (span < 0) return;
        const int out = (span + s - 1) / s + 1;
        after += (out - 1) * s - span;
      };
      extend(is.h, k_h, w.stride_h, w.dilation_h, w.pad_top, w.pad_bottom);
      extend(is.w, k_w, w.stride_w, w.dilation_w, w.pad_left, w.pad_right);
    }
    (void)w.out_h(is.h), (void)w.out_w(is.w);  // throws when the window does not fit
    return w;
  }

  [[nodiscard]] const Value& spatial_input(std::size_t k) const {
    const Value& x = act(k);
    if (x.layout != Layout::kNchw)
      throw fail(fmt::format("input {}: expected a 2-D NCHW tensor [1,C,H,W]", dims_string(x.dims)));
    return x;
  }

  /// Per-output-channel values of a scale or zero point (one value or `n`).
  [[nodiscard]] std::vector<double> per_channel(const Const* c, std::size_t n, double def, const char* what) const {
    if (c == nullptr) return std::vector<double>(n, def);
    if (c->v.size() == 1) return std::vector<double>(n, c->v[0]);
    if (c->v.size() != n)
      throw fail(fmt::format("{} '{}' has {} values for {} channels", what, c->name, c->v.size(), n));
    return c->v;
  }

  /// A 2-D convolution of tensor `x` (NCHW value) with OIHW weights W: real weight
  /// ws[o] * (W - wz[o]), bias b (empty or per o); the output value gets `type`, `scale`, `zero`.
  void conv_like(const Value& xv, int x, const Const& W, const std::vector<double>& ws, const std::vector<double>& wz,
                 std::vector<float> bias, DType type, float scale, float zero) {
    if (W.dims.size() != 4)
      throw fail(fmt::format("weights '{}' {} are not OIHW (only 2-D convolutions)", W.name, dims_string(W.dims)));
    const Shape3 is = shape(x);
    const auto o_n = static_cast<int>(W.dims[0]), i_g = static_cast<int>(W.dims[1]);
    const auto kh = static_cast<int>(W.dims[2]), kw = static_cast<int>(W.dims[3]);
    const auto group = attr_int(*node_, "group", 1);
    if (group < 1 || group > 65536 || i_g * group != is.c || o_n % group != 0) {
      throw fail(
          fmt::format("weights {} with group {} do not fit {} input channels", dims_string(W.dims), group, is.c));
    }
    model::Op op;
    op.type = model::OpType::kConv2D;
    op.inputs = {x};
    op.groups = static_cast<int>(group);
    op.out_c = o_n;
    op.win = window(is, kh, kw, true, false);
    op.weights.resize(W.v.size());
    for (int o = 0; o < o_n; ++o) {
      for (int i = 0; i < i_g; ++i) {
        for (int y = 0; y < kh; ++y) {
          for (int z = 0; z < kw; ++z) {
            const std::size_t src = ((static_cast<std::size_t>(o) * i_g + i) * kh + y) * kw + z;
            const std::size_t dst = ((static_cast<std::size_t>(o) * kh + y) * kw + z) * i_g + i;
            op.weights[dst] =
                static_cast<float>(ws[static_cast<std::size_t>(o)] * (W.v[src] - wz[static_cast<std::size_t>(o)]));
          }
        }
      }
    }
    if (!bias.empty() && bias.size() != static_cast<std::size_t>(o_n))
      throw fail(fmt::format("{} biases for {} output channels", bias.size(), o_n));
    op.bias = std::move(bias);
    Value v;
    v.dims = {1, o_n, op.win.out_h(is.h), op.win.out_w(is.w)};
    v.layout = Layout::kNchw;
    v.type = type, v.scale = scale, v.zero = zero;
    (void)xv;
    emit(std::move(op), out_name(), v);
  }

  [[nodiscard]] std::vector<float> float_bias(const Const* b, double scale = 1.0,
                                              const std::vector<double>* per = nullptr) const {
    std::vector<float> out;
    if (b == nullptr) return out;
    if (per != nullptr && per->size() != b->v.size())
      throw fail(fmt::format("bias '{}' has {} values for {} output channels", b->name, b->v.size(), per->size()));
    for (std::size_t i = 0; i < b->v.size(); ++i)
      out.push_back(static_cast<float>(b->v[i] * scale * (per == nullptr ? 1.0 : (*per)[i])));
    return out;
  }

  void float_input(const Value& x) const {
    if (is_int(x.type))
      throw fail(
          fmt::format("input is {}; use DequantizeLinear first (or QLinearConv / ConvInteger)", to_string(x.type)));
  }

  void conv() {
    const Value& x = spatial_input(0);
    float_input(x);
    const Const& W = cst(1);
    const std::size_t o = W.dims.empty() ? 0 : static_cast<std::size_t>(W.dims[0]);
    conv_like(x, x.tensor, W, std::vector<double>(o, 1.0), std::vector<double>(o, 0.0), float_bias(opt_const(2)),
              DType::kFloat32, 1.0f, 0.0f);
  }

  void conv_integer() {
    const Value& x = spatial_input(0);
    const Const& W = cst(1);
    const double xz = present(2) ? scalar(cst(2), "x_zero_point") : 0.0;
    const std::size_t o = W.dims.empty() ? 0 : static_cast<std::size_t>(W.dims[0]);
    const int t = integer_input(x, 1.0, xz, "x");
    conv_like(x, t, W, std::vector<double>(o, 1.0), per_channel(opt_const(3), o, 0.0, "w_zero_point"), {},
              DType::kInt32, 1.0f, 0.0f);
  }

  void qlinear_conv() {
    const Value& x = spatial_input(0);
    const double xs = scalar(cst(1), "x_scale"), xz = scalar(cst(2), "x_zero_point");
    const Const& W = cst(3);
    const std::size_t o = W.dims.empty() ? 0 : static_cast<std::size_t>(W.dims[0]);
    const auto ws = per_channel(&cst(4), o, 1.0, "w_scale");
    const auto wz = per_channel(&cst(5), o, 0.0, "w_zero_point");
    const double ys = scalar(cst(6), "y_scale");
    const Const& yz = cst(7);
    const int t = integer_input(x, xs, xz, "x");
    conv_like(x, t, W, ws, wz, float_bias(opt_const(8), xs, &ws), yz.type, static_cast<float>(ys),
              static_cast<float>(scalar(yz, "y_zero_point")));
  }

  /// y = A W^T + b with A the value `av` read through tensor `a`, weights [N][K] in ONNX's K
  /// order. One row: fully connected; rows (row-major [.., M, K]): a 1x1 convolution.
  void matmul_like(const Value& av, int a, std::vector<float> w, int n_out, std::vector<float> bias,
                   const std::vector<float>& add_rows, DType type, float scale, float zero) {
    const std::int64_t k = av.dims.empty() ? 1 : av.dims.back();
    if (static_cast<std::int64_t>(w.size()) != k * n_out)
      throw fail(fmt::format("{} weights for K {} and N {}", w.size(), k, n_out));
    Value v;
    v.type = type, v.scale = scale, v.zero = zero;
    v.dims = av.dims;
    if (v.dims.empty()) throw fail("scalar input");
    v.dims.back() = n_out;
    model::Op op;
    op.inputs = {a};
    op.out_c = n_out;
    op.bias = std::move(bias);
    if (av.layout == Layout::kFlatChw) {
      // ONNX index c*H*W + y*W + x is canonical (y*W + x)*C + c.
      std::vector<float> p(w.size());
      const std::int64_t hw = static_cast<std::int64_t>(av.fh) * av.fw;
      for (int o = 0; o < n_out; ++o) {
        for (std::int64_t i = 0; i < k; ++i) {
          const std::int64_t c = i / hw, yx = i % hw;
          p[static_cast<std::size_t>(o * k + yx * av.fc + c)] = w[static_cast<std::size_t>(o * k + i)];
        }
      }
      w = std::move(p);
    } else if (av.layout != Layout::kRowMajor) {
      throw fail(fmt::format("input {} is NCHW; flatten it first", dims_string(av.dims)));
    }
    op.weights = std::move(w);
    const std::int64_t rows = product(av.dims) / k;
    if (rows == 1) {
      op.type = model::OpType::kFullyConnected;
      v.layout = Layout::kRowMajor;
    } else {
      op.type = model::OpType::kConv2D;
      if (av.dims.size() > 3) throw fail(fmt::format("input {}: rank above 3", dims_string(av.dims)));
    }
    if (add_rows.empty()) {
      emit(std::move(op), out_name(), v);
      return;
    }
    // A bias that differs per row: an ADD of the whole [M, N] constant.
    const std::string mid = out_name() + "/matmul";
    const Value& m = emit(std::move(op), mid, v);
    model::Op add;
    add.type = model::OpType::kAdd;
    add.inputs = {m.tensor};
    const Shape3 s = shape(m.tensor);
    add.constant = golden::FloatTensor(s.h, s.w, s.c);
    add.constant.data = add_rows;
    add.has_constant = true;
    uses_[static_cast<std::size_t>(m.tensor)] = 1;
    emit(std::move(add), out_name(), v);
  }

  /// B [K, N] (or [N, K] transposed) as weights [N][K] scaled per column.
  [[nodiscard]] std::vector<float> weights_nk(const Const& B, bool trans, const std::vector<double>& scale,
                                              const std::vector<double>& zero, int& n_out, std::int64_t k) const {
    if (B.dims.size() != 2) throw fail(fmt::format("B '{}' {} is not a matrix", B.name, dims_string(B.dims)));
    const std::int64_t bk = trans ? B.dims[1] : B.dims[0], bn = trans ? B.dims[0] : B.dims[1];
    if (bk != k) throw fail(fmt::format("B {} does not match K = {}", dims_string(B.dims), k));
    n_out = static_cast<int>(bn);
    std::vector<float> w(static_cast<std::size_t>(bn * bk));
    for (std::int64_t o = 0; o < bn; ++o) {
      const double s = scale.size() == 1 ? scale[0] : scale.at(static_cast<std::size_t>(o));
      const double z = zero.size() == 1 ? zero[0] : zero.at(static_cast<std::size_t>(o));
      for (std::int64_t i = 0; i < bk; ++i) {
        const double b = trans ? B.v[static_cast<std::size_t>(o * bk + i)] : B.v[static_cast<std::size_t>(i * bn + o)];
        w[static_cast<std::size_t>(o * bk + i)] = static_cast<float>(s * (b - z));
      }
    }
    return w;
  }

  void gemm() {
    const Value& a = act(0);
    float_input(a);
    const float alpha = attr_float(*node_, "alpha", 1.0f), beta = attr_float(*node_, "beta", 1.0f);
    const bool ta = attr_int(*node_, "transA", 0) != 0, tb = attr_int(*node_, "transB", 0) != 0;
    if (a.dims.size() != 2) throw fail(fmt::format("A {} is not a matrix", dims_string(a.dims)));
    Value av = a;
    if (ta) {
      if (a.dims[1] != 1) throw fail(fmt::format("transA of A {} with more than one column", dims_string(a.dims)));
      av.dims = {1, a.dims[0]};
    }
    const std::int64_t m = av.dims[0], k = av.dims[1];
    int n_out = 0;
    auto w = weights_nk(cst(1), tb, {alpha}, {0.0}, n_out, k);
    std::vector<float> bias, rows;
    if (const Const* c = opt_const(2)) {
      // Broadcast C to [M, N]; one row for all: a bias, otherwise an ADD.
      const auto& d = c->dims;
      const std::int64_t cm = d.size() == 2 ? d[0] : 1, cn = d.empty() ? 1 : d.back();
      if (d.size() > 2 || (cm != 1 && cm != m) || (cn != 1 && cn != n_out))
        throw fail(fmt::format("C {} does not broadcast to [{},{}]", dims_string(d), m, n_out));
      if (m * n_out > kMaxActivation) throw fail(fmt::format("output [{},{}] is too large", m, n_out));
      std::vector<float> full(static_cast<std::size_t>(m * n_out));
      bool same_rows = true;
      for (std::int64_t r = 0; r < m; ++r) {
        for (std::int64_t o = 0; o < n_out; ++o) {
          const double v = c->v[static_cast<std::size_t>((cm == 1 ? 0 : r) * cn + (cn == 1 ? 0 : o))];
          full[static_cast<std::size_t>(r * n_out + o)] = static_cast<float>(beta * v);
          same_rows = same_rows && full[static_cast<std::size_t>(r * n_out + o)] == full[static_cast<std::size_t>(o)];
        }
      }
      if (same_rows) {
        bias.assign(full.begin(), full.begin() + n_out);
      } else {
        rows = std::move(full);
      }
    }
    matmul_like(av, a.tensor, std::move(w), n_out, std::move(bias), rows, DType::kFloat32, 1.0f, 0.0f);
  }

  void matmul() {
    const Value& a = act(0);
    float_input(a);
    int n_out = 0;
    auto w = weights_nk(cst(1), false, {1.0}, {0.0}, n_out, a.dims.empty() ? 0 : a.dims.back());
    matmul_like(a, a.tensor, std::move(w), n_out, {}, {}, DType::kFloat32, 1.0f, 0.0f);
  }

  void matmul_integer() {
    const Value& a = act(0);
    const Const& B = cst(1);
    const double az = present(2) ? scalar(cst(2), "a_zero_point") : 0.0;
    const std::size_t n = B.dims.size() == 2 ? static_cast<std::size_t>(B.dims[1]) : 0;
    const auto bz = per_channel(opt_const(3), n, 0.0, "b_zero_point");
    const int t = integer_input(a, 1.0, az, "A");
    int n_out = 0;
    auto w = weights_nk(B, false, {1.0}, bz, n_out, a.dims.empty() ? 0 : a.dims.back());
    matmul_like(a, t, std::move(w), n_out, {}, {}, DType::kInt32, 1.0f, 0.0f);
  }

  void qlinear_matmul() {
    const Value& a = act(0);
    const double as = scalar(cst(1), "a_scale"), az = scalar(cst(2), "a_zero_point");
    const Const& B = cst(3);
    const std::size_t n = B.dims.size() == 2 ? static_cast<std::size_t>(B.dims[1]) : 0;
    const auto bs = per_channel(&cst(4), n, 1.0, "b_scale");
    const auto bz = per_channel(&cst(5), n, 0.0, "b_zero_point");
    const double ys = scalar(cst(6), "y_scale");
    const Const& yz = cst(7);
    const int t = integer_input(a, as, az, "a");
    int n_out = 0;
    auto w = weights_nk(B, false, bs, bz, n_out, a.dims.empty() ? 0 : a.dims.back());
    matmul_like(a, t, std::move(w), n_out, {}, {}, yz.type, static_cast<float>(ys),
                static_cast<float>(scalar(yz, "y_zero_point")));
  }

  /// Relu and Clip: fused into the producer when nothing else reads its output.
  void clip() {
    const Value& x = act(0);
    float_input(x);
    constexpr double kInf = std::numeric_limits<double>::infinity();
    double lo = 0, hi = kInf;
    if (node_->op_type() == "Clip") {
      if (opset_ < 11) {
        lo = attr_float(*node_, "min", -std::numeric_limits<float>::max());
        hi = attr_float(*node_, "max", std::numeric_limits<float>::max());
      } else {
        lo = present(1) ? scalar(cst(1), "min") : -kInf;
        hi = present(2) ? scalar(cst(2), "max") : kInf;
      }
      if (lo <= -std::numeric_limits<float>::max()) lo = -kInf;
      if (hi >= std::numeric_limits<float>::max()) hi = kInf;
    }
    golden::FloatActivation a;
    if (lo == -kInf && hi == kInf) return alias(out_name(), x);
    if (lo == 0 && hi == kInf) {
      a = golden::FloatActivation::kRelu;
    } else if (lo == 0 && hi == 6) {
      a = golden::FloatActivation::kRelu6;
    } else if (lo == -1 && hi == 1) {
      a = golden::FloatActivation::kReluN1To1;
    } else {
      throw fail(fmt::format("clip range [{}, {}] is not one of [0, inf), [0, 6], [-1, 1]", lo, hi));
    }
    model::Op* p = sole_producer(x.tensor);
    if (p != nullptr && p->act == golden::FloatActivation::kNone && p->type != model::OpType::kReshape &&
        p->type != model::OpType::kMean && p->type != model::OpType::kSoftmax && p->type != model::OpType::kPad &&
        p->type != model::OpType::kConcatenation) {
      p->act = a;
      return alias(out_name(), x);
    }
    model::Op op;  // a 1x1 max pool carrying the activation
    op.type = model::OpType::kMaxPool2D;
    op.inputs = {x.tensor};
    op.act = a;
    Value v = x;
    emit(std::move(op), out_name(), v);
  }

  void batch_norm() {
    only_first_output();
    if (attr_int(*node_, "training_mode", 0) != 0) throw fail("training_mode is not supported");
    const Value& x = act(0);
    float_input(x);
    const Const &sc = cst(1), &b = cst(2), &mean = cst(3), &var = cst(4);
    const float eps = attr_float(*node_, "epsilon", 1e-5f);
    if (x.dims.size() < 2) throw fail("input without a channel dimension");
    const auto c = static_cast<std::size_t>(x.dims[1]);
    if (!(x.layout == Layout::kNchw || (x.layout == Layout::kRowMajor && x.dims.size() == 2)))
      throw fail(fmt::format("input {}: channels are not the canonical C axis", dims_string(x.dims)));
    for (const Const* p : {&sc, &b, &mean, &var})
      if (p->v.size() != c) throw fail(fmt::format("'{}' has {} values for {} channels", p->name, p->v.size(), c));
    std::vector<float> k(c), add(c);
    for (std::size_t i = 0; i < c; ++i) {
      if (var.v[i] + eps <= 0) throw fail(fmt::format("variance {} of channel {}", var.v[i], i));
      k[i] = static_cast<float>(sc.v[i] / std::sqrt(var.v[i] + eps));
      add[i] = static_cast<float>(b.v[i] - mean.v[i] * k[i]);
    }
    model::Op* p = sole_producer(x.tensor);
    if (p != nullptr && p->is_mac() && p->act == golden::FloatActivation::kNone && p->out_c == static_cast<int>(c)) {
      const std::size_t per = p->weights.size() / c;
      for (std::size_t o = 0; o < c; ++o) {
        for (std::size_t i = 0; i < per; ++i) p->weights[o * per + i] *= k[o];
      }
      if (p->bias.empty()) p->bias.assign(c, 0.0f);
      for (std::size_t o = 0; o < c; ++o) p->bias[o] = p->bias[o] * k[o] + add[o];
      return alias(out_name(), x);
    }
    Value v = x;
    v.tensor = affine(x.tensor, k, add, out_name());
    define(out_name(), v);
    const auto it = consumers_.find(out_name());
    uses_[static_cast<std::size_t>(v.tensor)] = it == consumers_.end() ? 0 : it->second;
  }

  /// The canonical tensor of a constant broadcast onto activation `x` (one value, one per
  /// channel, or the same shape).
  [[nodiscard]] golden::FloatTensor broadcast(const Const& c, const Value& x) const {
    const Shape3 s = shape(x.tensor);
    std::vector<std::int64_t> d = c.dims;
    while (!d.empty() && d.front() == 1 && d.size() > x.dims.size()) d.erase(d.begin());
    if (d.size() > x.dims.size())
      throw fail(fmt::format("constant {} has a higher rank than {}", dims_string(c.dims), dims_string(x.dims)));
    d.insert(d.begin(), x.dims.size() - d.size(), 1);
    if (c.v.size() == 1) {
      golden::FloatTensor t(1, 1, 1);
      t.data[0] = static_cast<float>(c.v[0]);
      return t;
    }
    // One value per canonical channel.
    const std::size_t ch = x.layout == Layout::kNchw ? 1 : x.dims.size() - 1;
    bool per_channel = d[ch] == x.dims[ch];
    for (std::size_t k = 0; k < d.size(); ++k) per_channel = per_channel && (k == ch || d[k] == 1);
    if (per_channel && x.layout != Layout::kFlatChw) {
      golden::FloatTensor t(1, 1, s.c);
      for (int i = 0; i < s.c; ++i)
        t.data[static_cast<std::size_t>(i)] = static_cast<float>(c.v[static_cast<std::size_t>(i)]);
      return t;
    }
    if (d != x.dims || x.layout == Layout::kFlatChw)
      throw fail(fmt::format("constant {} does not broadcast onto {} (one value, one per channel or the same shape)",
                             dims_string(c.dims), dims_string(x.dims)));
    golden::FloatTensor t(s.h, s.w, s.c);
    if (x.layout == Layout::kNchw) {
      for (int ci = 0; ci < s.c; ++ci)
        for (int y = 0; y < s.h; ++y)
          for (int z = 0; z < s.w; ++z)
            t.at(y, z, ci) = static_cast<float>(c.v[(static_cast<std::size_t>(ci) * s.h + y) * s.w + z]);
    } else {
      for (std::size_t i = 0; i < t.data.size(); ++i) t.data[i] = static_cast<float>(c.v[i]);
    }
    return t;
  }

  void add() {
    if (node_->input_size() != 2) throw fail(fmt::format("{} inputs (two supported)", node_->input_size()));
    model::Op op;
    op.type = model::OpType::kAdd;
    Value v;
    if (is_const_input(0) || is_const_input(1)) {
      const std::size_t a = is_const_input(0) ? 1 : 0;
      const Value& x = act(a);
      float_input(x);
      op.inputs = {x.tensor};
      op.constant = broadcast(cst(1 - a), x);
      op.has_constant = true;
      v = x;
    } else {
      const Value &x = act(0), &y = act(1);
      float_input(x), float_input(y);
      if (x.dims != y.dims || x.layout != y.layout)
        throw fail(fmt::format("inputs {} and {} differ in shape (no broadcasting of activations)", dims_string(x.dims),
                               dims_string(y.dims)));
      op.inputs = {x.tensor, y.tensor};
      v = x;
    }
    emit(std::move(op), out_name(), v);
  }

  /// The canonical axis (0 = H, 1 = W, 2 = C) of ONNX axis `a` of value x, or -1.
  static int canonical_axis(const Value& x, std::int64_t a) {
    const auto r = static_cast<std::int64_t>(x.dims.size());
    if (x.layout == Layout::kNchw) return a == 1 ? 2 : a == 2 ? 0 : a == 3 ? 1 : -1;
    if (x.layout != Layout::kRowMajor) return -1;
    return static_cast<int>(a + (3 - r));
  }

  void concat() {
    const auto r = static_cast<std::int64_t>(act(0).dims.size());
    std::int64_t axis = attr_int(*node_, "axis", 0);
    if (r == 0) throw fail("concatenation of scalars");
    if (axis < 0) axis += r;
    model::Op op;
    op.type = model::OpType::kConcatenation;
    Value v = act(0);
    v.dims[static_cast<std::size_t>(std::clamp<std::int64_t>(axis, 0, std::max<std::int64_t>(r - 1, 0)))] = 0;
    for (int k = 0; k < node_->input_size(); ++k) {
      const Value& x = act(static_cast<std::size_t>(k));
      float_input(x);
      if (x.dims.size() != v.dims.size() || x.layout != v.layout) throw fail("inputs differ in rank or layout");
      for (std::size_t d = 0; d < x.dims.size(); ++d) {
        if (static_cast<std::int64_t>(d) == axis) {
          v.dims[d] += x.dims[d];
        } else if (x.dims[d] != v.dims[d]) {
          throw fail(fmt::format("inputs {} and {} differ outside axis {}", dims_string(act(0).dims),
                                 dims_string(x.dims), axis));
        }
      }
      op.inputs.push_back(x.tensor);
    }
    op.axis = canonical_axis(v, axis);
    if (axis < 0 || axis >= r || op.axis < 0 || op.axis > 2)
      throw fail(fmt::format("axis {} of {} (batch or rank)", attr_int(*node_, "axis", 0), dims_string(v.dims)));
    emit(std::move(op), out_name(), v);
  }

  void softmax() {
    const Value& x = act(0);
    float_input(x);
    const auto r = static_cast<std::int64_t>(x.dims.size());
    std::int64_t axis = attr_int(*node_, "axis", opset_ < 13 ? 1 : -1);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= std::max<std::int64_t>(r, 1))
      throw fail(fmt::format("axis {} of a rank-{} tensor", axis, r));
    // The canonical softmax runs over the whole tensor: every other dimension must be 1.
    for (std::int64_t k = 0; k < r; ++k) {
      const bool reduced = opset_ < 13 ? k >= axis : k == axis;
      if (!reduced && x.dims[static_cast<std::size_t>(k)] != 1)
        throw fail(fmt::format("softmax along axis {} of {}: only a softmax over the whole tensor is supported", axis,
                               dims_string(x.dims)));
    }
    model::Op op;
    op.type = model::OpType::kSoftmax;
    op.inputs = {x.tensor};
    emit(std::move(op), out_name(), x);
  }

  void reshape() {
    const Value& x = act(0);
    Value v = x;
    v.dims = reshaped_dims(x.dims);
    v.layout = layout_for(v.dims);
    const auto same_order = [](const std::vector<std::int64_t>& d, Layout l) {
      return l == Layout::kRowMajor || (l == Layout::kNchw && (d[1] == 1 || d[2] * d[3] == 1));
    };
    if (x.layout == Layout::kFlatChw || v.layout == Layout::kNchw) {
      if (!same_order(v.dims, v.layout) || x.layout == Layout::kFlatChw)
        throw fail(fmt::format("reshaping {} into {} reorders NCHW values; not supported", dims_string(x.dims),
                               dims_string(v.dims)));
    }
    if (!same_order(x.dims, x.layout)) {
      // NCHW with C > 1 and H * W > 1: only flattening it (for a Gemm / MatMul) is supported.
      if (!(v.dims.size() == 2 && v.dims[0] == 1) && v.dims.size() != 1)
        throw fail(fmt::format("reshaping {} into {} reorders NCHW values; not supported", dims_string(x.dims),
                               dims_string(v.dims)));
      v.layout = Layout::kFlatChw;
      v.fc = static_cast<int>(x.dims[1]), v.fh = static_cast<int>(x.dims[2]), v.fw = static_cast<int>(x.dims[3]);
      v.dims = {1, product(x.dims)};
    }
    if (shape3(v.dims, v.layout, "output") == shape(x.tensor)) return alias(out_name(), v);
    model::Op op;
    op.type = model::OpType::kReshape;
    op.inputs = {x.tensor};
    emit(std::move(op), out_name(), v);
  }

  void global_pool(bool max) {
    const Value& x = spatial_input(0);
    model::Op op;
    op.inputs = {x.tensor};
    if (max) {
      op.type = model::OpType::kMaxPool2D;
      op.win.k_h = static_cast<int>(x.dims[2]), op.win.k_w = static_cast<int>(x.dims[3]);
    } else {
      float_input(x);
      op.type = model::OpType::kMean;
    }
    Value v = x;
    v.dims = {1, x.dims[1], 1, 1};
    emit(std::move(op), out_name(), v);
  }

  void pool() {
    only_first_output();
    const bool avg = node_->op_type() == "AveragePool";
    const Value& x = spatial_input(0);
    if (avg) float_input(x);
    const auto ks = attr_ints(*node_, "kernel_shape");
    if (ks.size() != 2 || ks[0] < 1 || ks[1] < 1 || ks[0] > 65536 || ks[1] > 65536)
      throw fail(fmt::format("kernel_shape {}: 2-D pools only", dims_string(ks)));
    const bool ceil_mode = attr_int(*node_, "ceil_mode", 0) != 0;
    model::Op op;
    op.type = avg ? model::OpType::kAveragePool2D : model::OpType::kMaxPool2D;
    Shape3 is = shape(x.tensor);
    int in = x.tensor;
    if (avg && attr_int(*node_, "count_include_pad", 0) != 0) {
      // Padded cells count: pad with zeros first, then pool without padding.
      const golden::Window w0 = window(is, static_cast<int>(ks[0]), static_cast<int>(ks[1]), false, false);
      if (w0.pad_top + w0.pad_bottom + w0.pad_left + w0.pad_right > 0) {
        model::Op pad;
        pad.type = model::OpType::kPad;
        pad.inputs = {in};
        pad.pad_h = {w0.pad_top, w0.pad_bottom};
        pad.pad_w = {w0.pad_left, w0.pad_right};
        Value pv = x;
        pv.dims = {1, x.dims[1], x.dims[2] + w0.pad_top + w0.pad_bottom, x.dims[3] + w0.pad_left + w0.pad_right};
        in = emit(std::move(pad), out_name() + "/padded", pv).tensor;
        uses_[static_cast<std::size_t>(in)] = 1;
        is = shape(in);
        op.win = w0;
        op.win.pad_top = op.win.pad_bottom = op.win.pad_left = op.win.pad_right = 0;
        if (ceil_mode) throw fail("ceil_mode with count_include_pad is not supported");
      } else {
        op.win = window(is, static_cast<int>(ks[0]), static_cast<int>(ks[1]), false, ceil_mode);
      }
    } else {
      op.win = window(is, static_cast<int>(ks[0]), static_cast<int>(ks[1]), !avg, ceil_mode);
    }
    op.inputs = {in};
    Value v = x;
    v.dims = {1, x.dims[1], op.win.out_h(is.h), op.win.out_w(is.w)};
    emit(std::move(op), out_name(), v);
  }

  /// QuantizeLinear of an activation: the canonical value stays real (rounding is not modelled,
  /// as TFLite's QUANTIZE); the output records its type, scale and zero point.
  void quantize() {
    const Value& x = act(0);
    float_input(x);
    const double s = scalar(cst(1), "y_scale");
    const Const* z = opt_const(2);
    Value v = x;
    v.type = z == nullptr ? DType::kUInt8 : z->type;
    if (!is_int(v.type)) throw fail("zero point type is not an integer type");
    if (!(s > 0)) throw fail(fmt::format("scale {}", s));
    v.scale = static_cast<float>(s);
    v.zero = z == nullptr ? 0.0f : static_cast<float>(scalar(*z, "y_zero_point"));
    alias(out_name(), v);
  }

  void dequantize() {
    const Value& x = act(0);
    const double s = scalar(cst(1), "x_scale");
    const double z = present(2) ? scalar(cst(2), "x_zero_point") : 0.0;
    Value v = x;
    v.tensor = integer_input(x, s, z, "x");
    v.type = DType::kFloat32, v.scale = 1.0f, v.zero = 0.0f;
    if (v.tensor == x.tensor) return alias(out_name(), v);
    define(out_name(), v);
    const auto it = consumers_.find(out_name());
    uses_[static_cast<std::size_t>(v.tensor)] = it == consumers_.end() ? 0 : it->second;
  }

  void pad() {
    const Value& x = spatial_input(0);
    float_input(x);
    if (attr_string(*node_, "mode", "constant") != "constant") throw fail("only mode 'constant' is supported");
    std::vector<std::int64_t> p = attr_ints(*node_, "pads");
    if (p.empty()) {
      for (double v : cst(1).v) p.push_back(integer(v, "pads"));
    }
    if (present(2) && scalar(cst(2), "constant_value") != 0.0) throw fail("non-zero constant_value");
    if (p.size() != 8 || p[0] != 0 || p[4] != 0)
      throw fail(fmt::format("pads {}: expected 8 values, no batch padding", dims_string(p)));
    for (auto a : p)
      if (a < 0 || a > 65536) throw fail(fmt::format("pads {}: out of range", dims_string(p)));
    model::Op op;
    op.type = model::OpType::kPad;
    op.inputs = {x.tensor};
    const auto i = [](std::int64_t a) { return static_cast<int>(a); };
    op.pad_c = {i(p[1]), i(p[5])}, op.pad_h = {i(p[2]), i(p[6])}, op.pad_w = {i(p[3]), i(p[7])};
    Value v = x;
    v.dims = {1, x.dims[1] + p[1] + p[5], x.dims[2] + p[2] + p[6], x.dims[3] + p[3] + p[7]};
    emit(std::move(op), out_name(), v);
  }

  const ::onnx::ModelProto& m_;
  std::string name_;
  const std::vector<Const>& bound_;
  int opset_ = 0;
  std::map<std::string, Const> consts_;
  std::map<std::string, Value> values_;
  std::map<std::string, int> consumers_;
  std::vector<int> uses_, producer_;
  const NodeProto* node_ = nullptr;
  int node_index_ = 0;
  Import out_;
};

}  // namespace

std::pair<double, double> int_range(DType t) {
  switch (t) {
    case DType::kUInt8:
      return {0, 255};
    case DType::kInt8:
      return {-128, 127};
    case DType::kUInt16:
      return {0, 65535};
    case DType::kInt16:
      return {-32768, 32767};
    case DType::kInt32:
      return {-2147483648.0, 2147483647.0};
    default:
      return {-9.2e18, 9.2e18};
  }
}

Import lower(const ::onnx::ModelProto& m, const std::string& name, const std::vector<Const>& bound) {
  return Lowering(m, name, bound).run();
}

}  // namespace bitscale::model::onnx::detail
