// `bitscale info` of an ONNX model: its ports, the ONNX operators it uses and the canonical
// graph they were lowered to.
#include <fmt/format.h>

#include <map>

#include "bitscale/model/onnx.hpp"

namespace bitscale::model::onnx {

namespace {

std::string port_string(const Port& p) {
  std::string s = fmt::format("'{}' [{}] {}", p.name, fmt::join(p.dims, ","), to_string(p.type));
  if (p.type != DType::kFloat32) s += fmt::format(" (scale {}, zero point {})", p.scale, p.zero);
  return s;
}

}  // namespace

std::string summary_table(const Import& m) {
  const Model& g = m.model;
  std::string out = fmt::format("model {} (ONNX, opset {})\n", g.name, m.opset);
  out += fmt::format("input  {}\noutput {}\n", port_string(m.input), port_string(m.output));
  std::map<std::string, int> counts;
  for (const auto& op : m.node_ops) ++counts[op];
  out += fmt::format("{} ONNX nodes:", m.node_ops.size());
  for (const auto& [op, n] : counts) out += fmt::format(" {} x{}", op, n);
  out += fmt::format("\n\n{:>3}  {:<16} {:>14} {:>14} {:>10} {:>12}\n", "#", "operator", "input (HWC)", "output (HWC)",
                     "params", "MACs");
  std::int64_t params = 0, macs = 0;
  for (std::size_t i = 0; i < g.ops.size(); ++i) {
    const Op& op = g.ops[i];
    const Shape3 is = g.shapes[static_cast<std::size_t>(op.inputs.at(0))];
    const Shape3 os = g.shapes[static_cast<std::size_t>(op.output)];
    const auto p = static_cast<std::int64_t>(op.weights.size() + op.bias.size());
    const std::int64_t mac = op.is_mac() ? static_cast<std::int64_t>(op.weights.size()) * os.h * os.w : 0;
    params += p, macs += mac;
    out += fmt::format("{:>3}  {:<16} {:>14} {:>14} {:>10} {:>12}\n", i, to_string(op.type),
                       fmt::format("{}x{}x{}", is.h, is.w, is.c), fmt::format("{}x{}x{}", os.h, os.w, os.c), p, mac);
  }
  out += fmt::format("total: {} operators, {} parameters, {} MACs\n", g.ops.size(), params, macs);
  return out;
}

}  // namespace bitscale::model::onnx
