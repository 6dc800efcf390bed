// TensorFlow Lite model reader: verifies the FlatBuffer (generated Verifier) before reading
// anything, converts the first subgraph into a tflite::Model and validates everything that later
// code indexes (tensor and buffer indices, shapes, constant data sizes, quantization arrays,
// operator inputs and their shapes), so that a malformed file is a ModelError, never a crash.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>

#include "bitscale/model/tflite.hpp"
#include "tflite_subset_generated.h"

namespace bitscale::model::tflite {
namespace {

namespace fb = ::tflite;

// Our schema subset must keep the published type ids and enum values.
static_assert(fb::BuiltinOptions_Conv2DOptions == 1);
static_assert(fb::BuiltinOptions_DepthwiseConv2DOptions == 2);
static_assert(fb::BuiltinOptions_Pool2DOptions == 5);
static_assert(fb::BuiltinOptions_FullyConnectedOptions == 8);
static_assert(fb::BuiltinOptions_SoftmaxOptions == 9);
static_assert(fb::BuiltinOptions_ConcatenationOptions == 10);
static_assert(fb::BuiltinOptions_AddOptions == 11);
static_assert(fb::BuiltinOptions_ReshapeOptions == 17);
static_assert(fb::BuiltinOptions_PadOptions == 22);
static_assert(fb::BuiltinOptions_ReducerOptions == 27);
static_assert(fb::BuiltinOptions_SqueezeOptions == 30);
static_assert(fb::BuiltinOptions_DequantizeOptions == 38);
static_assert(fb::BuiltinOptions_QuantizeOptions == 89);
static_assert(fb::BuiltinOperator_CONV_2D == 3 && fb::BuiltinOperator_MEAN == 40 &&
              fb::BuiltinOperator_QUANTIZE == 114 && fb::BuiltinOperator_HARD_SWISH == 117 &&
              fb::BuiltinOperator_PLACEHOLDER_FOR_GREATER_OP_CODES == 127);
static_assert(fb::TensorType_UINT8 == 3 && fb::TensorType_INT8 == 9 && fb::TensorType_INT16 == 7);

constexpr std::size_t kMaxDims = 8;
constexpr std::int64_t kMaxElements = (std::int64_t{1} << 31) - 1;
constexpr std::uint64_t kMaxFileBytes = (std::uint64_t{1} << 31) - 1;  // FlatBuffers limit
constexpr std::uint32_t kSchemaVersion = 3;

struct OpInfo {
  fb::BuiltinOperator code;
  OpType type;
};
constexpr std::array kSupported = {
    OpInfo{fb::BuiltinOperator_ADD, OpType::kAdd},
    OpInfo{fb::BuiltinOperator_AVERAGE_POOL_2D, OpType::kAveragePool2D},
    OpInfo{fb::BuiltinOperator_CONCATENATION, OpType::kConcatenation},
    OpInfo{fb::BuiltinOperator_CONV_2D, OpType::kConv2D},
    OpInfo{fb::BuiltinOperator_DEPTHWISE_CONV_2D, OpType::kDepthwiseConv2D},
    OpInfo{fb::BuiltinOperator_DEQUANTIZE, OpType::kDequantize},
    OpInfo{fb::BuiltinOperator_FULLY_CONNECTED, OpType::kFullyConnected},
    OpInfo{fb::BuiltinOperator_MAX_POOL_2D, OpType::kMaxPool2D},
    OpInfo{fb::BuiltinOperator_RESHAPE, OpType::kReshape},
    OpInfo{fb::BuiltinOperator_SOFTMAX, OpType::kSoftmax},
    OpInfo{fb::BuiltinOperator_PAD, OpType::kPad},
    OpInfo{fb::BuiltinOperator_MEAN, OpType::kMean},
    OpInfo{fb::BuiltinOperator_SQUEEZE, OpType::kSqueeze},
    OpInfo{fb::BuiltinOperator_QUANTIZE, OpType::kQuantize},
};

// Element types and fused activations: the file's enum beside ours. Our names are the file's
// (tensor types in lower case).
struct TypeInfo {
  fb::TensorType code;
  DType type;
  std::size_t size;  // bytes
};
constexpr std::array kTypes = {
    TypeInfo{fb::TensorType_FLOAT32, DType::kFloat32, 4}, TypeInfo{fb::TensorType_UINT8, DType::kUInt8, 1},
    TypeInfo{fb::TensorType_INT8, DType::kInt8, 1},       TypeInfo{fb::TensorType_INT32, DType::kInt32, 4},
    TypeInfo{fb::TensorType_INT64, DType::kInt64, 8},     TypeInfo{fb::TensorType_INT16, DType::kInt16, 2},
};

struct ActivationInfo {
  fb::ActivationFunctionType code;
  Activation activation;
};
constexpr std::array kActivations = {
    ActivationInfo{fb::ActivationFunctionType_NONE, Activation::kNone},
    ActivationInfo{fb::ActivationFunctionType_RELU, Activation::kRelu},
    ActivationInfo{fb::ActivationFunctionType_RELU6, Activation::kRelu6},
    ActivationInfo{fb::ActivationFunctionType_RELU_N1_TO_1, Activation::kReluN1To1},
};

/// The entry of `table` whose member `key` equals `v`; nullptr if none.
template <typename Table, typename Key, typename V>
const typename Table::value_type* find_in(const Table& table, Key key, V v) {
  const auto it = std::find_if(table.begin(), table.end(), [&](const auto& e) { return e.*key == v; });
  return it == table.end() ? nullptr : &*it;
}

std::string supported_list() {
  std::vector<std::string> names;
  for (const auto& s : kSupported) names.push_back(to_string(s.type));
  std::sort(names.begin(), names.end());
  return fmt::format("{}", fmt::join(names, ", "));
}

std::string operator_name(int code) {
  if (code >= fb::BuiltinOperator_MIN && code <= fb::BuiltinOperator_MAX) {
    const char* n = fb::EnumNameBuiltinOperator(static_cast<fb::BuiltinOperator>(code));
    if (n != nullptr && *n != '\0') return n;
  }
  return fmt::format("builtin operator code {}", code);
}

/// The schema's name of an enum value, or "code N" for a value it does not name.
template <typename E>
std::string enum_name(const char* name, E code) {
  return (name != nullptr && *name != '\0') ? std::string(name) : fmt::format("code {}", static_cast<int>(code));
}

std::string shape_str(const std::vector<int>& s) { return fmt::format("[{}]", fmt::join(s, ",")); }

/// Printable rendering of untrusted bytes (file identifier, names) for messages.
std::string printable(std::string_view s, std::size_t max_len = 64) {
  std::string out;
  for (char c : s.substr(0, max_len)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }
  if (s.size() > max_len) out += "...";
  return out;
}

class Reader {
 public:
  Reader(std::span<const std::uint8_t> bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}

  Model read() {
    check_envelope();
    const fb::Model* m = fb::GetModel(bytes_.data());
    if (m->version() != kSchemaVersion) {
      fail("schema version {} is not supported (expected {})", m->version(), kSchemaVersion);
    }
    if (m->subgraphs() == nullptr || m->subgraphs()->size() == 0) fail("no subgraph");
    const fb::SubGraph* sg = m->subgraphs()->Get(0);

    Model model;
    model.name = name_;
    read_tensors(*m, *sg, model);
    model.inputs = read_index_list(sg->inputs(), model, "subgraph input");
    model.outputs = read_index_list(sg->outputs(), model, "subgraph output");
    if (model.inputs.empty()) fail("the subgraph has no inputs");
    if (model.outputs.empty()) fail("the subgraph has no outputs");
    read_ops(*m, *sg, model);
    check_dataflow(model);
    return model;
  }

 private:
  template <typename... A>
  [[noreturn]] void fail(fmt::format_string<A...> f, A&&... a) const {
    throw ModelError(fmt::format("model '{}': {}", name_, fmt::format(f, std::forward<A>(a)...)));
  }

  void check_envelope() {
    if (bytes_.empty()) fail("the file is empty");
    if (bytes_.size() < 8) fail("the file is too short to be a TFLite model ({} bytes)", bytes_.size());
    if (bytes_.size() >= kMaxFileBytes) fail("the file is larger than 2 GiB ({} bytes)", bytes_.size());
    if (!fb::ModelBufferHasIdentifier(bytes_.data())) {
      const std::string_view id(reinterpret_cast<const char*>(bytes_.data()) + 4, 4);
      fail("not a TensorFlow Lite model (file identifier '{}', expected '{}')", printable(id), fb::ModelIdentifier());
    }
    flatbuffers::Verifier verifier(bytes_.data(), bytes_.size());
    if (!fb::VerifyModelBuffer(verifier)) {
      fail("malformed FlatBuffer: the TFLite schema verifier rejects it (truncated or corrupt file)");
    }
  }

  std::vector<int> read_index_list(const flatbuffers::Vector<std::int32_t>* v, const Model& model,
                                   std::string_view what) const {
    std::vector<int> out;
    if (v == nullptr) return out;
    for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i) {
      const int t = v->Get(i);
      if (t < 0 || static_cast<std::size_t>(t) >= model.tensors.size()) {
        fail("{} {} refers to tensor {}, but there are {} tensors", what, i, t, model.tensors.size());
      }
      out.push_back(t);
    }
    return out;
  }

  static bool map_type(fb::TensorType t, DType& out) {
    const TypeInfo* e = find_in(kTypes, &TypeInfo::code, t);
    if (e != nullptr) out = e->type;
    return e != nullptr;
  }

  void read_tensors(const fb::Model& m, const fb::SubGraph& sg, Model& model) {
    const auto* tensors = sg.tensors();
    if (tensors == nullptr || tensors->size() == 0) fail("the subgraph has no tensors");
    const auto* buffers = m.buffers();
    const std::size_t nbuf = buffers == nullptr ? 0 : buffers->size();
    model.tensors.reserve(tensors->size());
    for (flatbuffers::uoffset_t i = 0; i < tensors->size(); ++i) {
      const fb::Tensor* t = tensors->Get(i);
      Tensor out;
      if (t->name() != nullptr) out.name = printable(t->name()->string_view(), 256);
      const std::string where = fmt::format("tensor {} ('{}')", i, out.name);

      if (!map_type(t->type(), out.type)) {
        fail("{} has type {}, which bitscale does not support (supported: float32, uint8, int8, int32, int64, int16)",
             where, enum_name(fb::EnumNameTensorType(t->type()), t->type()));
      }
      if (t->sparsity() != nullptr) fail("{} is sparse, which bitscale does not support", where);

      // Shape: at most kMaxDims non-negative dimensions, at most kMaxElements elements.
      std::int64_t elements = 1;
      if (t->shape() != nullptr) {
        if (t->shape()->size() > kMaxDims)
          fail("{} has {} dimensions (at most {} supported)", where, t->shape()->size(), kMaxDims);
        for (flatbuffers::uoffset_t d = 0; d < t->shape()->size(); ++d) {
          const int dim = t->shape()->Get(d);
          if (dim < 0) fail("{} has a negative dimension {} in shape", where, dim);
          out.shape.push_back(dim);
          elements *= dim;  // each factor < 2^31 and the product stays < 2^31 below: no overflow
          if (elements > kMaxElements) fail("{} is absurdly large: more than 2^31 elements", where);
        }
      }

      read_quantization(t->quantization(), out, where);

      // Constant data.
      const std::uint32_t b = t->buffer();
      if (b >= nbuf && !(b == 0 && nbuf == 0)) fail("{} refers to buffer {}, but there are {} buffers", where, b, nbuf);
      if (nbuf > 0) {
        const fb::Buffer* buf = buffers->Get(b);
        std::span<const std::uint8_t> data;
        if (buf->data() != nullptr && buf->data()->size() > 0) {
          data = {buf->data()->data(), buf->data()->size()};
        } else if (buf->offset() > 1 && buf->size() > 0) {
          const std::uint64_t off = buf->offset(), size = buf->size();
          if (off > bytes_.size() || size > bytes_.size() - off) {
            fail("{}: buffer {} lies outside the file (offset {}, size {}, file {} bytes)", where, b, off, size,
                 bytes_.size());
          }
          data = bytes_.subspan(off, size);
        }
        if (!data.empty()) {
          const auto expected = static_cast<std::uint64_t>(elements) * type_size(out.type);
          if (data.size() != expected) {
            fail("{} has {} bytes of constant data, but shape {} of {} needs {}", where, data.size(),
                 shape_str(out.shape), to_string(out.type), expected);
          }
          out.data.assign(data.begin(), data.end());
        }
      }
      model.tensors.push_back(std::move(out));
    }
  }

  void read_quantization(const fb::QuantizationParameters* q, Tensor& out, const std::string& where) const {
    if (q == nullptr || q->scale() == nullptr || q->scale()->size() == 0) return;
    if (q->details_type() != fb::QuantizationDetails_NONE)
      fail("{} uses custom quantization, which bitscale does not support", where);
    const auto* scale = q->scale();
    const std::size_t n = scale->size();
    const auto* zp = q->zero_point();
    if (zp != nullptr && zp->size() != n)
      fail("{} has {} quantization scales but {} zero points", where, n, zp->size());
    const int qdim = q->quantized_dimension();
    if (n > 1) {
      if (qdim < 0 || static_cast<std::size_t>(qdim) >= out.shape.size()) {
        fail("{} has per-channel quantization along dimension {}, but its shape is {}", where, qdim,
             shape_str(out.shape));
      }
      if (static_cast<std::size_t>(out.shape[static_cast<std::size_t>(qdim)]) != n) {
        fail("{} has {} per-channel scales, but dimension {} of shape {} has {} channels", where, n, qdim,
             shape_str(out.shape), out.shape[static_cast<std::size_t>(qdim)]);
      }
      out.quant.axis = qdim;
    } else {
      out.quant.axis = (qdim >= 0 && static_cast<std::size_t>(qdim) < out.shape.size()) ? qdim : 0;
    }
    for (flatbuffers::uoffset_t i = 0; i < n; ++i) {
      const float s = scale->Get(i);
      if (!std::isfinite(s) || s < 0.0f) fail("{} has an invalid quantization scale {}", where, s);
      out.quant.scale.push_back(s);
      std::int64_t z = 0;
      if (zp != nullptr)
        std::memcpy(&z, zp->Data() + std::size_t{i} * sizeof(std::int64_t), sizeof z);  // may be 4-aligned only
      const bool ok = out.type == DType::kUInt8   ? (z >= 0 && z <= 255)
                      : out.type == DType::kInt8  ? (z >= -128 && z <= 127)
                      : out.type == DType::kInt16 ? (z >= -32768 && z <= 32767)
                                                  : (z >= std::numeric_limits<std::int32_t>::min() &&
                                                     z <= std::numeric_limits<std::int32_t>::max());
      if (!ok) fail("{} has zero point {}, out of range for {}", where, z, to_string(out.type));
      out.quant.zero_point.push_back(z);
    }
  }

  Activation activation(fb::ActivationFunctionType a, const std::string& where) const {
    const ActivationInfo* e = find_in(kActivations, &ActivationInfo::code, a);
    if (e == nullptr) {
      fail("{} has fused activation {}, which bitscale does not support", where,
           enum_name(fb::EnumNameActivationFunctionType(a), a));
    }
    return e->activation;
  }

  Padding padding(fb::Padding p, const std::string& where) const {
    if (p == fb::Padding_SAME) return Padding::kSame;
    if (p == fb::Padding_VALID) return Padding::kValid;
    fail("{} has an invalid padding code {}", where, static_cast<int>(p));
  }

  void positive(int v, std::string_view what, const std::string& where) const {
    if (v < 1 || v > 65536) fail("{} has {} {} (must be 1..65536)", where, what, v);
  }

  OpType resolve(const fb::Model& m, const fb::Operator& op, std::size_t i) const {
    const auto* codes = m.operator_codes();
    const std::size_t ncodes = codes == nullptr ? 0 : codes->size();
    if (op.opcode_index() >= ncodes) {
      fail("operator {} refers to operator code {}, but there are {}", i, op.opcode_index(), ncodes);
    }
    const fb::OperatorCode* oc = codes->Get(op.opcode_index());
    // As TFLite: the 32-bit builtin_code supersedes the legacy 8-bit field when larger.
    const int code = std::max(static_cast<int>(oc->deprecated_builtin_code()), static_cast<int>(oc->builtin_code()));
    if (code == fb::BuiltinOperator_CUSTOM) {
      const std::string custom = oc->custom_code() != nullptr ? printable(oc->custom_code()->string_view()) : "";
      fail("operator {} is the custom operator '{}', which bitscale does not support (supported: {})", i, custom,
           supported_list());
    }
    for (const auto& s : kSupported) {
      if (s.code == code) return s.type;
    }
    fail("operator {} uses {}, which bitscale does not support (supported: {})", i, operator_name(code),
         supported_list());
  }

  void read_ops(const fb::Model& m, const fb::SubGraph& sg, Model& model) {
    const auto* ops = sg.operators();
    if (ops == nullptr || ops->size() == 0) fail("the subgraph has no operators");
    for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i) {
      const fb::Operator* fop = ops->Get(i);
      Op op;
      op.type = resolve(m, *fop, i);
      const std::string where = fmt::format("operator {} ({})", i, to_string(op.type));
      const bool has_bias = has_weights(op.type);
      auto indices = [&](const flatbuffers::Vector<std::int32_t>* v, bool inputs) {
        std::vector<int> out;
        if (v == nullptr) return out;
        for (flatbuffers::uoffset_t k = 0; k < v->size(); ++k) {
          const int t = v->Get(k);
          if (t == -1 && inputs && has_bias && k == 2) {
            out.push_back(-1);
            continue;
          }
          if (t < 0 || static_cast<std::size_t>(t) >= model.tensors.size()) {
            fail("{}: {} {} refers to tensor {}, but there are {} tensors", where, inputs ? "input" : "output", k, t,
                 model.tensors.size());
          }
          out.push_back(t);
        }
        return out;
      };
      op.inputs = indices(fop->inputs(), true);
      op.outputs = indices(fop->outputs(), false);
      read_options(*fop, op, where);
      check_op(model, op, where);
      model.ops.push_back(std::move(op));
    }
  }

  // Padding, strides and fused activation: the same fields in Conv2DOptions,
  // DepthwiseConv2DOptions and Pool2DOptions.
  template <typename Options>
  void window_options(const Options& o, Op& op, const std::string& where) const {
    op.padding = padding(o.padding(), where);
    op.stride_w = o.stride_w();
    op.stride_h = o.stride_h();
    op.activation = activation(o.fused_activation_function(), where);
  }

  void read_options(const fb::Operator& fop, Op& op, const std::string& where) const {
    switch (op.type) {
      case OpType::kConv2D: {
        const auto* o = fop.builtin_options_as_Conv2DOptions();
        if (o == nullptr) fail("{} has no Conv2DOptions", where);
        window_options(*o, op, where);
        op.dilation_w = o->dilation_w_factor();
        op.dilation_h = o->dilation_h_factor();
        break;
      }
      case OpType::kDepthwiseConv2D: {
        const auto* o = fop.builtin_options_as_DepthwiseConv2DOptions();
        if (o == nullptr) fail("{} has no DepthwiseConv2DOptions", where);
        window_options(*o, op, where);
        op.dilation_w = o->dilation_w_factor();
        op.dilation_h = o->dilation_h_factor();
        op.depth_multiplier = o->depth_multiplier();  // checked against the shapes, then taken from them
        break;
      }
      case OpType::kAveragePool2D:
      case OpType::kMaxPool2D: {
        const auto* o = fop.builtin_options_as_Pool2DOptions();
        if (o == nullptr) fail("{} has no Pool2DOptions", where);
        window_options(*o, op, where);
        op.filter_w = o->filter_width();
        op.filter_h = o->filter_height();
        break;
      }
      case OpType::kFullyConnected:
        if (const auto* o = fop.builtin_options_as_FullyConnectedOptions()) {
          op.activation = activation(o->fused_activation_function(), where);
          if (o->weights_format() != fb::FullyConnectedOptionsWeightsFormat_DEFAULT) {
            fail("{} uses shuffled weights, which bitscale does not support", where);
          }
        }
        break;
      case OpType::kAdd:
        if (const auto* o = fop.builtin_options_as_AddOptions())
          op.activation = activation(o->fused_activation_function(), where);
        break;
      case OpType::kConcatenation:
        if (const auto* o = fop.builtin_options_as_ConcatenationOptions()) {
          op.axis = o->axis();
          op.activation = activation(o->fused_activation_function(), where);
        }
        break;
      case OpType::kSoftmax:
        if (const auto* o = fop.builtin_options_as_SoftmaxOptions()) op.beta = o->beta();
        if (!std::isfinite(op.beta) || op.beta <= 0.0f) fail("{} has an invalid beta {}", where, op.beta);
        break;
      case OpType::kMean:
        if (const auto* o = fop.builtin_options_as_ReducerOptions()) op.keep_dims = o->keep_dims();
        break;
      default:
        break;
    }
    if (is_spatial(op.type)) {
      positive(op.stride_h, "stride_h", where);
      positive(op.stride_w, "stride_w", where);
      positive(op.dilation_h, "dilation_h", where);
      positive(op.dilation_w, "dilation_w", where);
    }
    if (is_pool(op.type)) {
      positive(op.filter_h, "filter height", where);
      positive(op.filter_w, "filter width", where);
    }
  }

  // ---- per-operator consistency of inputs, outputs and shapes ----

  void count(const Op& op, std::size_t min_in, std::size_t max_in, const std::string& where) const {
    if (op.inputs.size() < min_in || op.inputs.size() > max_in) {
      if (min_in == max_in) fail("{} has {} inputs, expected {}", where, op.inputs.size(), min_in);
      fail("{} has {} inputs, expected {} to {}", where, op.inputs.size(), min_in, max_in);
    }
    if (op.outputs.size() != 1) fail("{} has {} outputs, expected 1", where, op.outputs.size());
  }

  const Tensor& rank(const Model& model, int t, std::size_t r, std::string_view role, const std::string& where) const {
    const Tensor& x = model.tensors[static_cast<std::size_t>(t)];
    if (x.shape.size() != r)
      fail("{}: {} (tensor {}) has shape {}, expected {} dimensions", where, role, t, shape_str(x.shape), r);
    return x;
  }

  void constant(const Model& model, int t, std::string_view role, const std::string& where) const {
    if (!model.tensors[static_cast<std::size_t>(t)].is_const())
      fail("{}: {} (tensor {}) is not constant", where, role, t);
  }

  static int out_size(int in, int k, int stride, int dilation, Padding p) {
    const std::int64_t eff = std::int64_t{k - 1} * dilation + 1;
    if (p == Padding::kSame) return static_cast<int>((std::int64_t{in} + stride - 1) / stride);
    if (in < eff) return 0;
    return static_cast<int>((in - eff + stride) / stride);
  }

  void spatial(const Tensor& x, const Tensor& y, int kh, int kw, const Op& op, const std::string& where) const {
    const int oh = out_size(x.shape[1], kh, op.stride_h, op.dilation_h, op.padding);
    const int ow = out_size(x.shape[2], kw, op.stride_w, op.dilation_w, op.padding);
    if (oh < 1 || ow < 1 || y.shape[1] != oh || y.shape[2] != ow || y.shape[0] != x.shape[0]) {
      fail(
          "{}: output shape {} does not follow from input {}, kernel {}x{}, stride {}x{}, dilation {}x{}, {} padding "
          "(expected {}x{})",
          where, shape_str(y.shape), shape_str(x.shape), kh, kw, op.stride_h, op.stride_w, op.dilation_h, op.dilation_w,
          op.padding == Padding::kSame ? "SAME" : "VALID", oh, ow);
    }
  }

  void bias(const Model& model, const Op& op, int channels, const std::string& where) const {
    if (op.inputs.size() < 3 || op.inputs[2] < 0) return;
    const Tensor& b = rank(model, op.inputs[2], 1, "bias", where);
    constant(model, op.inputs[2], "bias", where);
    if (b.shape[0] != channels) fail("{}: bias has {} entries for {} output channels", where, b.shape[0], channels);
  }

  void check_op(const Model& model, Op& op, const std::string& where) const {
    // Every tensor an operator touches has a non-empty shape without zero dimensions (scalars
    // are allowed), and quantized tensors carry their scale and zero point.
    for (std::size_t k = 0; k < op.inputs.size() + op.outputs.size(); ++k) {
      const int t = k < op.inputs.size() ? op.inputs[k] : op.outputs[k - op.inputs.size()];
      if (t < 0) continue;
      const Tensor& x = model.tensors[static_cast<std::size_t>(t)];
      if (std::any_of(x.shape.begin(), x.shape.end(), [](int d) { return d == 0; })) {
        fail("{}: tensor {} has an empty shape {}", where, t, shape_str(x.shape));
      }
      if ((x.type == DType::kUInt8 || x.type == DType::kInt8) && x.quant.empty()) {
        fail("{}: tensor {} is {} without quantization parameters", where, t, to_string(x.type));
      }
    }
    auto in = [&](std::size_t k) -> const Tensor& { return model.tensors[static_cast<std::size_t>(op.inputs[k])]; };
    auto out = [&]() -> const Tensor& { return model.tensors[static_cast<std::size_t>(op.outputs[0])]; };
    auto same_elements = [&]() {
      if (in(0).elements() != out().elements()) {
        fail("{}: input {} and output {} differ in size", where, shape_str(in(0).shape), shape_str(out().shape));
      }
    };
    for (std::size_t k = 0; k < op.inputs.size(); ++k) {
      if (op.inputs[k] < 0 && !(k == 2)) fail("{}: input {} is missing", where, k);
    }
    switch (op.type) {
      case OpType::kConv2D: {
        count(op, 2, 3, where);
        const Tensor& x = rank(model, op.inputs[0], 4, "input", where);
        const Tensor& w = rank(model, op.inputs[1], 4, "filter", where);
        const Tensor& y = rank(model, op.outputs[0], 4, "output", where);
        constant(model, op.inputs[1], "filter", where);
        if (w.shape[3] != x.shape[3])
          fail("{}: filter {} does not match the {} input channels", where, shape_str(w.shape), x.shape[3]);
        if (y.shape[3] != w.shape[0])
          fail("{}: output {} does not match filter {}", where, shape_str(y.shape), shape_str(w.shape));
        spatial(x, y, w.shape[1], w.shape[2], op, where);
        bias(model, op, w.shape[0], where);
        break;
      }
      case OpType::kDepthwiseConv2D: {
        count(op, 2, 3, where);
        const Tensor& x = rank(model, op.inputs[0], 4, "input", where);
        const Tensor& w = rank(model, op.inputs[1], 4, "filter", where);
        const Tensor& y = rank(model, op.outputs[0], 4, "output", where);
        constant(model, op.inputs[1], "filter", where);
        if (w.shape[0] != 1 || w.shape[3] % x.shape[3] != 0) {
          fail("{}: filter {} does not fit {} input channels (expected [1,h,w,channels*multiplier])", where,
               shape_str(w.shape), x.shape[3]);
        }
        if (y.shape[3] != w.shape[3])
          fail("{}: output {} does not match filter {}", where, shape_str(y.shape), shape_str(w.shape));
        const int dm = w.shape[3] / x.shape[3];
        if (op.depth_multiplier != dm && op.depth_multiplier != 0 && x.shape[3] != 1) {
          fail("{}: depth_multiplier {} contradicts the shapes (input {}, filter {})", where, op.depth_multiplier,
               shape_str(x.shape), shape_str(w.shape));
        }
        op.depth_multiplier = dm;
        spatial(x, y, w.shape[1], w.shape[2], op, where);
        bias(model, op, w.shape[3], where);
        break;
      }
      case OpType::kFullyConnected: {
        count(op, 2, 3, where);
        const Tensor& w = rank(model, op.inputs[1], 2, "weights", where);
        constant(model, op.inputs[1], "weights", where);
        const Tensor& x = in(0);
        const Tensor& y = out();
        const std::int64_t k = w.shape[1], n = w.shape[0];
        if (x.elements() % k != 0)
          fail("{}: input {} is not a multiple of the {} weight columns", where, shape_str(x.shape), k);
        if (y.shape.empty() || y.shape.back() != n || y.elements() != x.elements() / k * n) {
          fail("{}: output {} does not follow from input {} and weights {}", where, shape_str(y.shape),
               shape_str(x.shape), shape_str(w.shape));
        }
        bias(model, op, w.shape[0], where);
        break;
      }
      case OpType::kAdd: {
        count(op, 2, 2, where);
        if (in(0).shape != in(1).shape || in(0).shape != out().shape) {
          fail("{}: shapes {} + {} -> {} differ (broadcasting is not supported)", where, shape_str(in(0).shape),
               shape_str(in(1).shape), shape_str(out().shape));
        }
        break;
      }
      case OpType::kAveragePool2D:
      case OpType::kMaxPool2D: {
        count(op, 1, 1, where);
        const Tensor& x = rank(model, op.inputs[0], 4, "input", where);
        const Tensor& y = rank(model, op.outputs[0], 4, "output", where);
        if (x.shape[3] != y.shape[3])
          fail("{}: input {} and output {} differ in channels", where, shape_str(x.shape), shape_str(y.shape));
        spatial(x, y, op.filter_h, op.filter_w, op, where);
        break;
      }
      case OpType::kMean: {
        count(op, 2, 2, where);
        const Tensor& x = in(0);
        const Tensor& axes = in(1);
        constant(model, op.inputs[1], "axes", where);
        if (axes.type != DType::kInt32) fail("{}: axes are {}, expected int32", where, to_string(axes.type));
        std::vector<bool> reduced(x.shape.size(), false);
        for (std::int64_t a : integers(axes, name_)) {
          std::int64_t ax = a;
          if (ax < 0) ax += static_cast<std::int64_t>(x.shape.size());
          if (ax < 0 || static_cast<std::size_t>(ax) >= x.shape.size())
            fail("{}: axis {} out of range for {}", where, a, shape_str(x.shape));
          reduced[static_cast<std::size_t>(ax)] = true;
        }
        std::int64_t kept = 1;
        for (std::size_t d = 0; d < x.shape.size(); ++d) kept *= reduced[d] ? 1 : x.shape[d];
        if (out().elements() != kept)
          fail("{}: output {} does not follow from input {}", where, shape_str(out().shape), shape_str(x.shape));
        break;
      }
      case OpType::kReshape:
        count(op, 1, 2, where);
        same_elements();
        break;
      case OpType::kSqueeze:
      case OpType::kSoftmax:
      case OpType::kQuantize:
      case OpType::kDequantize:
        count(op, 1, 1, where);
        same_elements();
        break;
      case OpType::kPad: {
        count(op, 2, 2, where);
        const Tensor& x = in(0);
        const Tensor& p = rank(model, op.inputs[1], 2, "paddings", where);
        constant(model, op.inputs[1], "paddings", where);
        if (p.type != DType::kInt32 && p.type != DType::kInt64)
          fail("{}: paddings are {}, expected int32", where, to_string(p.type));
        if (static_cast<std::size_t>(p.shape[0]) != x.shape.size() || p.shape[1] != 2 ||
            out().shape.size() != x.shape.size()) {
          fail("{}: paddings {} do not fit input {} / output {}", where, shape_str(p.shape), shape_str(x.shape),
               shape_str(out().shape));
        }
        const std::vector<std::int64_t> pv = integers(p, name_);
        for (std::size_t d = 0; d < x.shape.size(); ++d) {
          const std::int64_t before = pv[2 * d], after = pv[2 * d + 1];
          if (before < 0 || after < 0 || x.shape[d] + before + after != out().shape[d]) {
            fail("{}: padding {}+{} of dimension {} does not turn input {} into output {}", where, before, after, d,
                 shape_str(x.shape), shape_str(out().shape));
          }
        }
        break;
      }
      case OpType::kConcatenation: {
        count(op, 1, 4096, where);
        const Tensor& y = out();
        const int r = static_cast<int>(y.shape.size());
        int axis = op.axis < 0 ? op.axis + r : op.axis;
        if (axis < 0 || axis >= r) fail("{}: axis {} out of range for output {}", where, op.axis, shape_str(y.shape));
        std::int64_t sum = 0;
        for (std::size_t k = 0; k < op.inputs.size(); ++k) {
          const Tensor& x = in(k);
          bool ok = x.shape.size() == y.shape.size();
          for (int d = 0; ok && d < r; ++d)
            ok = d == axis || x.shape[static_cast<std::size_t>(d)] == y.shape[static_cast<std::size_t>(d)];
          if (!ok)
            fail("{}: input {} {} does not fit output {} along axis {}", where, k, shape_str(x.shape),
                 shape_str(y.shape), axis);
          sum += x.shape[static_cast<std::size_t>(axis)];
        }
        if (sum != y.shape[static_cast<std::size_t>(axis)])
          fail("{}: inputs add up to {} along axis {}, output has {}", where, sum, axis,
               y.shape[static_cast<std::size_t>(axis)]);
        op.axis = axis;
        break;
      }
    }
  }

  /// Operators in execution order: every non-constant input is a model input or the output of
  /// an earlier operator; outputs are written once and are not constants or model inputs.
  void check_dataflow(const Model& model) const {
    std::vector<bool> ready(model.tensors.size(), false);
    for (std::size_t t = 0; t < model.tensors.size(); ++t) ready[t] = model.tensors[t].is_const();
    for (int t : model.inputs) {
      if (model.tensors[static_cast<std::size_t>(t)].is_const()) fail("model input tensor {} is a constant", t);
      ready[static_cast<std::size_t>(t)] = true;
    }
    for (std::size_t i = 0; i < model.ops.size(); ++i) {
      const Op& op = model.ops[i];
      for (int t : op.inputs) {
        if (t >= 0 && !ready[static_cast<std::size_t>(t)]) {
          fail("operator {} ({}) reads tensor {} before any operator writes it", i, to_string(op.type), t);
        }
      }
      for (int t : op.outputs) {
        if (ready[static_cast<std::size_t>(t)]) {
          fail("operator {} ({}) writes tensor {}, which is a constant, a model input or written before", i,
               to_string(op.type), t);
        }
        ready[static_cast<std::size_t>(t)] = true;
      }
    }
    for (int t : model.outputs) {
      if (!ready[static_cast<std::size_t>(t)]) fail("model output tensor {} is never written", t);
    }
  }

  std::span<const std::uint8_t> bytes_;
  std::string name_;
};

}  // namespace

Model parse(std::span<const std::uint8_t> bytes, const std::string& name) {
  // FlatBuffers reads scalars in place: give it a suitably aligned copy if need be.
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % 16 != 0) {
    const std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
    return Reader(copy, name).read();
  }
  return Reader(bytes, name).read();
}

Model read_file(const std::string& path) {
  namespace fs = std::filesystem;
  const std::string name = fs::path(path).filename().string();
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status))
    throw ModelError(fmt::format("model '{}': cannot open '{}': no such file", name, path));
  if (!fs::is_regular_file(status)) throw ModelError(fmt::format("model '{}': '{}' is not a regular file", name, path));
  const auto size = fs::file_size(path, ec);
  if (ec) throw ModelError(fmt::format("model '{}': cannot read '{}': {}", name, path, ec.message()));
  if (size > kMaxFileBytes)
    throw ModelError(fmt::format("model '{}': the file is larger than 2 GiB ({} bytes)", name, size));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(fmt::format("model '{}': cannot open '{}'", name, path));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (static_cast<std::uintmax_t>(in.gcount()) != size)
    throw ModelError(fmt::format("model '{}': short read of '{}'", name, path));
  return parse(bytes, name);
}

std::size_t type_size(DType t) { return find_in(kTypes, &TypeInfo::type, t)->size; }

std::string to_string(DType t) {
  std::string name = fb::EnumNameTensorType(find_in(kTypes, &TypeInfo::type, t)->code);
  std::transform(name.begin(), name.end(), name.begin(), [](char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

std::string to_string(OpType t) { return fb::EnumNameBuiltinOperator(find_in(kSupported, &OpInfo::type, t)->code); }

std::string to_string(Activation a) {
  return fb::EnumNameActivationFunctionType(find_in(kActivations, &ActivationInfo::activation, a)->code);
}

}  // namespace bitscale::model::tflite
