// The text of `bitscale info`: a table or JSON of what summarize() lists.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "bitscale/model/tflite.hpp"

namespace bitscale::model::tflite {

namespace {

using J = nlohmann::ordered_json;

// A float as the shortest decimal that reads back to it (not the digits of its double).
double shortest(float f) { return std::strtod(fmt::format("{}", f).c_str(), nullptr); }

const Tensor& tensor(const Model& m, int t) { return m.tensors[static_cast<std::size_t>(t)]; }

std::string padding_name(Padding p) { return p == Padding::kSame ? "SAME" : "VALID"; }

J io_json(const Model& m, const std::vector<int>& ts) {
  J items = J::array();
  for (int t : ts) {
    const Tensor& x = tensor(m, t);
    J item{{"tensor", t}, {"name", x.name}, {"shape", x.shape}, {"type", to_string(x.type)}};
    if (!x.quant.empty()) {
      item["scale"] = shortest(x.quant.scale[0]);
      item["zero_point"] = x.quant.zero_point[0];
    }
    items.push_back(std::move(item));
  }
  return items;
}

J layer_json(const LayerSummary& l) {
  const Op& op = *l.op;
  J e{{"index", l.index}, {"op", to_string(op.type)}, {"input_shape", l.input_shape}, {"output_shape", l.output_shape}};
  if (has_activation(op.type)) e["activation"] = to_string(op.activation);
  if (is_spatial(op.type)) {
    e["stride"] = {op.stride_h, op.stride_w};
    e["padding"] = padding_name(op.padding);
  }
  if (is_pool(op.type)) e["filter"] = {op.filter_h, op.filter_w};
  if (op.type == OpType::kDepthwiseConv2D) e["depth_multiplier"] = op.depth_multiplier;
  e["params"] = l.params;
  e["macs"] = l.macs;
  return e;
}

std::string io_lines(const Model& m, const std::vector<int>& ts, const char* what) {
  std::string s;
  for (int t : ts) {
    const Tensor& x = tensor(m, t);
    s += fmt::format("  {} {} '{}' {} {}\n", what, t, x.name, shape_string(x.shape), quant_string(x));
  }
  return s;
}

std::string table_row(const LayerSummary& l) {
  const Op& op = *l.op;
  const std::string act = has_activation(op.type) ? to_string(op.activation) : "";
  const std::string stride = is_spatial(op.type) ? fmt::format("{}x{}", op.stride_h, op.stride_w) : "";
  const std::string pad = is_spatial(op.type) ? padding_name(op.padding) : "";
  std::string name = to_string(op.type);
  if (is_pool(op.type)) name += fmt::format(" {}x{}", op.filter_h, op.filter_w);
  return fmt::format("{:>4}  {:<20} {:<16} {:<16} {:<6} {:<7} {:<6} {:>10} {:>12}\n", l.index, name,
                     shape_string(l.input_shape), shape_string(l.output_shape), act, stride, pad, l.params, l.macs);
}

}  // namespace

std::string shape_string(const std::vector<int>& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

std::string quant_string(const Tensor& t) {
  if (t.quant.empty()) return to_string(t.type);
  if (t.quant.scale.size() > 1)
    return fmt::format("{} (per-channel, {} scales)", to_string(t.type), t.quant.scale.size());
  return fmt::format("{} (scale {:g}, zero point {})", to_string(t.type), t.quant.scale[0], t.quant.zero_point[0]);
}

std::string summary_table(const Model& m, const Summary& summary) {
  std::string s = fmt::format("model {}: {} operators, {} tensors\n", m.name, m.ops.size(), m.tensors.size());
  s += io_lines(m, m.inputs, "input ");
  s += io_lines(m, m.outputs, "output");
  s += fmt::format("\n{:>4}  {:<20} {:<16} {:<16} {:<6} {:<7} {:<6} {:>10} {:>12}\n", "#", "op", "input", "output",
                   "act", "stride", "pad", "params", "MACs");
  for (const LayerSummary& l : summary.layers) s += table_row(l);
  s += fmt::format("\ntotal: {} operators, {} parameters, {} MACs ({:.1f} M)\n", m.ops.size(), summary.params,
                   summary.macs, static_cast<double>(summary.macs) / 1e6);
  return s;
}

std::string summary_json(const Model& m, const Summary& summary) {
  J j{{"model", m.name},
      {"inputs", io_json(m, m.inputs)},
      {"outputs", io_json(m, m.outputs)},
      {"tensors", m.tensors.size()}};
  J& list = j["layers"] = J::array();
  for (const LayerSummary& l : summary.layers) list.push_back(layer_json(l));
  j["total_params"] = summary.params;
  j["total_macs"] = summary.macs;
  return j.dump(2, ' ', false, J::error_handler_t::replace) + "\n";
}

}  // namespace bitscale::model::tflite
