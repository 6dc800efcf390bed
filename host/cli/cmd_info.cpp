// `bitscale info`: the layers of a TFLite model with shapes, options, parameters and MACs.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bitscale/model/tflite.hpp"
#include "command.hpp"

namespace bitscale::cli {
namespace {

// The TFLite file as read, before its resolution into the canonical graph.
using model::tflite::has_activation;
using model::tflite::is_pool;
using model::tflite::is_spatial;
using model::tflite::LayerSummary;
using model::tflite::Model;
using model::tflite::Op;
using model::tflite::Padding;
using model::tflite::Summary;
using model::tflite::Tensor;

struct InfoOptions {
  std::string model;
  std::string json;  // file, or "-" for stdout
};

std::string shape_str(const std::vector<int>& s) { return fmt::format("[{}]", fmt::join(s, ",")); }

std::string quant_str(const Tensor& t) {
  if (t.quant.empty()) return to_string(t.type);
  if (t.quant.scale.size() > 1)
    return fmt::format("{} (per-channel, {} scales)", to_string(t.type), t.quant.scale.size());
  return fmt::format("{} (scale {:g}, zero point {})", to_string(t.type), t.quant.scale[0], t.quant.zero_point[0]);
}

// A float as the shortest decimal that reads back to it (not the digits of its double).
double shortest(float f) { return std::strtod(fmt::format("{}", f).c_str(), nullptr); }

nlohmann::ordered_json to_json(const Model& m, const Summary& summary) {
  using J = nlohmann::ordered_json;
  auto io = [&](const std::vector<int>& ts) {
    J items = J::array();
    for (int t : ts) {
      const Tensor& x = m.tensors[static_cast<std::size_t>(t)];
      J item{{"tensor", t}, {"name", x.name}, {"shape", x.shape}, {"type", to_string(x.type)}};
      if (!x.quant.empty()) {
        item["scale"] = shortest(x.quant.scale[0]);
        item["zero_point"] = x.quant.zero_point[0];
      }
      items.push_back(std::move(item));
    }
    return items;
  };
  J j{{"model", m.name}, {"inputs", io(m.inputs)}, {"outputs", io(m.outputs)}, {"tensors", m.tensors.size()}};
  J& list = j["layers"] = J::array();
  for (const LayerSummary& l : summary.layers) {
    const Op& op = *l.op;
    J e{{"index", l.index},
        {"op", to_string(op.type)},
        {"input_shape", l.input_shape},
        {"output_shape", l.output_shape}};
    if (has_activation(op.type)) e["activation"] = to_string(op.activation);
    if (is_spatial(op.type)) {
      e["stride"] = {op.stride_h, op.stride_w};
      e["padding"] = op.padding == Padding::kSame ? "SAME" : "VALID";
    }
    if (is_pool(op.type)) e["filter"] = {op.filter_h, op.filter_w};
    if (op.type == model::tflite::OpType::kDepthwiseConv2D) e["depth_multiplier"] = op.depth_multiplier;
    e["params"] = l.params;
    e["macs"] = l.macs;
    list.push_back(std::move(e));
  }
  j["total_params"] = summary.params;
  j["total_macs"] = summary.macs;
  return j;
}

int run_info(const InfoOptions& o) {
  const Model m = model::tflite::read_file(o.model);
  const Summary summary = model::tflite::summarize(m);
  if (!o.json.empty()) {
    const std::string j =
        to_json(m, summary).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
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
  for (const LayerSummary& l : summary.layers) {
    const Op& op = *l.op;
    std::string act = has_activation(op.type) ? to_string(op.activation) : "";
    std::string stride = is_spatial(op.type) ? fmt::format("{}x{}", op.stride_h, op.stride_w) : "";
    std::string pad = is_spatial(op.type) ? (op.padding == Padding::kSame ? "SAME" : "VALID") : "";
    std::string name = to_string(op.type);
    if (is_pool(op.type)) {
      name += fmt::format(" {}x{}", op.filter_h, op.filter_w);
    }
    fmt::print("{:>4}  {:<20} {:<16} {:<16} {:<6} {:<7} {:<6} {:>10} {:>12}\n", l.index, name, shape_str(l.input_shape),
               shape_str(l.output_shape), act, stride, pad, l.params, l.macs);
  }
  fmt::print("\ntotal: {} operators, {} parameters, {} MACs ({:.1f} M)\n", m.ops.size(), summary.params, summary.macs,
             static_cast<double>(summary.macs) / 1e6);
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
