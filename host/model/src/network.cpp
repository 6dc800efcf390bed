#include "bitscale/model/network.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace bitscale::model {

using golden::FloatTensor;

namespace {

/// The graph's indices are in range and its tables agree, so that nothing below indexes out of bounds.
void check_indices(const Model& m) {
  const auto n = static_cast<int>(m.shapes.size());
  const auto fail = [&](const std::string& what) { return ModelError(fmt::format("{}: {}", m.name, what)); };
  if (m.tensor_names.size() != m.shapes.size()) throw fail("tensor names and shapes differ in number");
  if (m.input < 0 || m.input >= n || m.output < 0 || m.output >= n) throw fail("input or output tensor out of range");
  for (std::size_t i = 0; i < m.ops.size(); ++i) {
    const Op& op = m.ops[i];
    bool ok = op.output >= 0 && op.output < n && !op.inputs.empty();
    for (int t : op.inputs) ok = ok && t >= 0 && t < n;
    if (!ok) throw fail(fmt::format("operator {} ({}) refers to a tensor out of range", i, to_string(op.type)));
  }
}

}  // namespace

Network::Network(Model model) : model_(std::move(model)) {
  check_indices(model_);
  const auto& ops = model_.ops;
  ends_in_softmax_ = !ops.empty() && ops.back().type == OpType::kSoftmax && ops.back().output == model_.output;
}

std::int64_t Network::macs() const {
  std::int64_t m = 0;
  for (const auto& op : ops()) {
    if (!op.is_mac()) continue;
    const Shape3& os = shapes()[op.output];
    m += static_cast<std::int64_t>(op.weights.size()) * os.h * os.w;
  }
  return m;
}

FloatTensor Network::input_values(std::span<const std::uint8_t> rgb) const {
  const Shape3 s = input_shape();
  if (static_cast<std::int64_t>(rgb.size()) != s.size()) {
    throw std::invalid_argument(
        fmt::format("{}: input of {} values, the model takes {}x{}x{}", name(), rgb.size(), s.h, s.w, s.c));
  }
  const InputEncoding& e = model_.input_encoding;
  FloatTensor t(s.h, s.w, s.c);
  for (std::size_t i = 0; i < rgb.size(); ++i) t.data[i] = e.scale * (static_cast<float>(rgb[i]) - e.zero);
  return t;
}

FloatTensor Network::run_op(const Op& op, const std::vector<FloatTensor>& v) const {
  const FloatTensor& x = v[op.inputs.at(0)];
  switch (op.type) {
    case OpType::kConv2D:
      return golden::conv2d(x, op.weights, op.bias, op.out_c, op.groups, op.win, op.act);
    case OpType::kFullyConnected: {
      FloatTensor y(1, 1, op.out_c);
      y.data = golden::fully_connected(x.data, op.weights, op.bias, op.out_c, op.act);
      return y;
    }
    case OpType::kAdd:
      return golden::add(x, op.has_constant ? op.constant : v[op.inputs.at(1)], op.act);
    case OpType::kAveragePool2D:
      return golden::average_pool(x, op.win, op.act);
    case OpType::kMaxPool2D:
      return golden::max_pool(x, op.win, op.act);
    case OpType::kMean:
      return golden::mean_hw(x);
    case OpType::kReshape:
      return x;
    case OpType::kSoftmax: {
      FloatTensor y = x;
      y.data = golden::softmax(x.data, op.beta);
      return y;
    }
    case OpType::kPad:
      return golden::pad(x, op.pad_h, op.pad_w, op.pad_c);
    case OpType::kConcatenation: {
      std::vector<FloatTensor> parts;
      for (int t : op.inputs) parts.push_back(v[t]);
      return golden::concatenate(parts, op.axis);
    }
  }
  throw std::logic_error(fmt::format("{}: unknown operator type {}", name(), static_cast<int>(op.type)));
}

FloatTrace Network::trace_float(std::span<const std::uint8_t> rgb) const { return trace_float(input_values(rgb)); }

FloatTrace Network::trace_float(golden::FloatTensor input) const {
  if (static_cast<std::int64_t>(input.size()) != input_shape().size()) {
    throw std::invalid_argument(
        fmt::format("{}: input of {} values, the model takes {}", name(), input.size(), input_shape().size()));
  }
  FloatTrace tr;
  auto& v = tr.tensors;
  v.resize(shapes().size());
  const Shape3 s = input_shape();
  input.h = s.h, input.w = s.w, input.c = s.c;
  v[input_tensor()] = std::move(input);
  for (const Op& op : ops()) {
    const Shape3 os = shapes()[op.output];
    FloatTensor y = run_op(op, v);
    if (static_cast<std::int64_t>(y.size()) != os.size()) {
      throw std::logic_error(fmt::format("{}: {} produced {} values for '{}' ({})", name(), to_string(op.type),
                                         y.size(), tensor_names()[op.output], os.size()));
    }
    y.h = os.h, y.w = os.w, y.c = os.c;
    v[op.output] = std::move(y);
  }
  const auto& out = v[output_tensor()].data;
  tr.probabilities = ends_in_softmax_ ? out : golden::softmax(out);
  return tr;
}

std::vector<float> Network::run_float(std::span<const std::uint8_t> rgb) const {
  return trace_float(rgb).probabilities;
}

}  // namespace bitscale::model
