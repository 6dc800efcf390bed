// `bitscale info`: the layers of a TFLite model with shapes, options, parameters and MACs.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "bitscale/model/tflite.hpp"
#include "command.hpp"

namespace bitscale::cli {
namespace {

// The TFLite file as read, before its resolution into the canonical graph.
using model::tflite::Model;
using model::tflite::Op;
using model::tflite::OpType;
using model::tflite::Padding;
using model::tflite::Tensor;

struct InfoOptions {
  std::string model;
  std::string json;  // file, or "-" for stdout
};

struct Layer {
  int index = 0;
  const Op* op = nullptr;
  std::vector<int> in_shape, out_shape;
  std::int64_t params = 0;
  std::int64_t macs = 0;
};

std::string shape_str(const std::vector<int>& s) { return fmt::format("[{}]", fmt::join(s, ",")); }

bool spatial(OpType t) {
  return t == OpType::kConv2D || t == OpType::kDepthwiseConv2D || t == OpType::kAveragePool2D ||
         t == OpType::kMaxPool2D;
}

bool has_activation(OpType t) {
  return spatial(t) || t == OpType::kFullyConnected || t == OpType::kAdd || t == OpType::kConcatenation;
}

Layer describe(const Model& m, std::size_t i) {
  const Op& op = m.ops[i];
  Layer l;
  l.index = static_cast<int>(i);
  l.op = &op;
  auto tensor = [&](int t) -> const Tensor& { return m.tensors[static_cast<std::size_t>(t)]; };
  if (!op.inputs.empty() && op.inputs[0] >= 0) l.in_shape = tensor(op.inputs[0]).shape;
  if (!op.outputs.empty()) l.out_shape = tensor(op.outputs[0]).shape;
  const bool weighted =
      op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D || op.type == OpType::kFullyConnected;
  if (!weighted) return l;
  for (std::size_t k = 1; k < op.inputs.size(); ++k) {
    if (op.inputs[k] >= 0) l.params += tensor(op.inputs[k]).elements();
  }
  // The reader has checked the ranks and that the shapes agree.
  const auto& w = tensor(op.inputs[1]).shape;
  const auto& y = l.out_shape;
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

std::string quant_str(const Tensor& t) {
  if (t.quant.empty()) return to_string(t.type);
  if (t.quant.scale.size() > 1)
    return fmt::format("{} (per-channel, {} scales)", to_string(t.type), t.quant.scale.size());
  return fmt::format("{} (scale {:g}, zero point {})", to_string(t.type), t.quant.scale[0], t.quant.zero_point[0]);
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string json_shape(const std::vector<int>& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

std::string to_json(const Model& m, const std::vector<Layer>& layers, std::int64_t params, std::int64_t macs) {
  std::string j = "{\n";
  j += fmt::format("  \"model\": \"{}\",\n", json_escape(m.name));
  auto io = [&](const std::vector<int>& ts) {
    std::vector<std::string> items;
    for (int t : ts) {
      const Tensor& x = m.tensors[static_cast<std::size_t>(t)];
      std::string q;
      if (!x.quant.empty())
        q = fmt::format(", \"scale\": {}, \"zero_point\": {}", x.quant.scale[0], x.quant.zero_point[0]);
      items.push_back(fmt::format("{{\"tensor\": {}, \"name\": \"{}\", \"shape\": {}, \"type\": \"{}\"{}}}", t,
                                  json_escape(x.name), json_shape(x.shape), to_string(x.type), q));
    }
    return fmt::format("[{}]", fmt::join(items, ", "));
  };
  j += fmt::format("  \"inputs\": {},\n  \"outputs\": {},\n", io(m.inputs), io(m.outputs));
  j += fmt::format("  \"tensors\": {},\n  \"layers\": [\n", m.tensors.size());
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer& l = layers[i];
    const Op& op = *l.op;
    std::string extra;
    if (has_activation(op.type)) extra += fmt::format(", \"activation\": \"{}\"", to_string(op.activation));
    if (spatial(op.type)) {
      extra += fmt::format(", \"stride\": [{}, {}], \"padding\": \"{}\"", op.stride_h, op.stride_w,
                           op.padding == Padding::kSame ? "SAME" : "VALID");
    }
    if (op.type == OpType::kAveragePool2D || op.type == OpType::kMaxPool2D) {
      extra += fmt::format(", \"filter\": [{}, {}]", op.filter_h, op.filter_w);
    }
    if (op.type == OpType::kDepthwiseConv2D) extra += fmt::format(", \"depth_multiplier\": {}", op.depth_multiplier);
    j += fmt::format(
        "    {{\"index\": {}, \"op\": \"{}\", \"input_shape\": {}, \"output_shape\": {}{}, \"params\": {}, \"macs\": "
        "{}}}{}\n",
        l.index, to_string(op.type), json_shape(l.in_shape), json_shape(l.out_shape), extra, l.params, l.macs,
        i + 1 < layers.size() ? "," : "");
  }
  j += fmt::format("  ],\n  \"total_params\": {},\n  \"total_macs\": {}\n}}\n", params, macs);
  return j;
}

int run_info(const InfoOptions& o) {
  const Model m = model::tflite::read_file(o.model);
  std::vector<Layer> layers;
  std::int64_t params = 0, macs = 0;
  for (std::size_t i = 0; i < m.ops.size(); ++i) {
    layers.push_back(describe(m, i));
    params += layers.back().params;
    macs += layers.back().macs;
  }
  if (!o.json.empty()) {
    const std::string j = to_json(m, layers, params, macs);
    if (o.json == "-") {
      fmt::print("{}", j);
      return 0;
    }
    std::ofstream f(o.json);
    f << j;
    if (!f) throw std::runtime_error(fmt::format("cannot write '{}'", o.json));
  }

  fmt::print("model {}: {} operators, {} tensors\n", m.name, m.ops.size(), m.tensors.size());
  for (int t : m.inputs) {
    const Tensor& x = m.tensors[static_cast<std::size_t>(t)];
    fmt::print("  input  {} '{}' {} {}\n", t, x.name, shape_str(x.shape), quant_str(x));
  }
  for (int t : m.outputs) {
    const Tensor& x = m.tensors[static_cast<std::size_t>(t)];
    fmt::print("  output {} '{}' {} {}\n", t, x.name, shape_str(x.shape), quant_str(x));
  }
  fmt::print("\n{:>4}  {:<20} {:<16} {:<16} {:<6} {:<7} {:<6} {:>10} {:>12}\n", "#", "op", "input", "output", "act",
             "stride", "pad", "params", "MACs");
  for (const Layer& l : layers) {
    const Op& op = *l.op;
    std::string act = has_activation(op.type) ? to_string(op.activation) : "";
    std::string stride = spatial(op.type) ? fmt::format("{}x{}", op.stride_h, op.stride_w) : "";
    std::string pad = spatial(op.type) ? (op.padding == Padding::kSame ? "SAME" : "VALID") : "";
    std::string name = to_string(op.type);
    if (op.type == OpType::kAveragePool2D || op.type == OpType::kMaxPool2D) {
      name += fmt::format(" {}x{}", op.filter_h, op.filter_w);
    }
    fmt::print("{:>4}  {:<20} {:<16} {:<16} {:<6} {:<7} {:<6} {:>10} {:>12}\n", l.index, name, shape_str(l.in_shape),
               shape_str(l.out_shape), act, stride, pad, l.params, l.macs);
  }
  fmt::print("\ntotal: {} operators, {} parameters, {} MACs ({:.1f} M)\n", m.ops.size(), params, macs,
             static_cast<double>(macs) / 1e6);
  return 0;
}

const RegisterCommand kInfo([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand(
      "info",
      "Reads a TensorFlow Lite model and lists its layers in execution order: operator, input and output\n"
      "shapes, fused activation, stride and padding, parameters and MACs, with totals.");
  cmd->add_option("--model", o->model, "The .tflite file")->required();
  cmd->add_option("--json", o->json,
                  "Write the listing as JSON to this file ('-': standard output, instead of the table)");
  return [o]() { return run_info(*o); };
});

}  // namespace
}  // namespace bitscale::cli
