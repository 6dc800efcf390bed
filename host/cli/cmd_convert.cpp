// `bitscale convert --model M.tflite --to onnx --out F.onnx`: a quantized TFLite model written
// as an ONNX QDQ model, checked with ONNX's checker before it is written.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>

#include "bitscale/model/load.hpp"
#include "bitscale/model/onnx.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/util/file.hpp"
#include "command.hpp"

namespace bitscale::cli {
namespace {

struct ConvertCli {
  std::string model, to = "onnx", out;
};

int run_convert(const ConvertCli& o) {
  if (model::file_format(o.model) != model::ModelFormat::kTflite)
    throw std::invalid_argument(fmt::format("convert: '{}' is not a TensorFlow Lite model", o.model));
  const model::tflite::Model m = model::tflite::read_file(o.model);
  const auto bytes = model::onnx::export_tflite(m);
  model::onnx::check_model(bytes, o.out);
  // The written file must import as the TFLite model does (same operators).
  const auto im = model::onnx::parse(bytes, o.out);
  const model::Model ref = model::tflite::to_model(m);
  const auto mac_ops = [](const model::Model& g) {
    return std::count_if(g.ops.begin(), g.ops.end(), [](const model::Op& op) { return op.is_mac(); });
  };
  if (mac_ops(im.model) != mac_ops(ref)) {
    throw std::logic_error(fmt::format("convert: the ONNX file imports with {} MAC operators, the TFLite model has {}",
                                       mac_ops(im.model), mac_ops(ref)));
  }
  util::write_file(o.out, std::string(bytes.begin(), bytes.end()));
  fmt::print("{}: {} ONNX nodes (opset 13, QDQ), {} bytes, passes onnx::checker; imports as {} operators\n", o.out,
             im.node_ops.size(), bytes.size(), im.model.ops.size());
  return 0;
}

const RegisterCommand kConvert([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<ConvertCli>();
  auto* cmd = app.add_subcommand(
      "convert",
      "Writes a quantized TensorFlow Lite model as ONNX (QDQ: integer weights behind DequantizeLinear,\n"
      "QuantizeLinear/DequantizeLinear on every activation, NCHW), checked with onnx::checker.");
  cmd->add_option("--model", o->model, "The .tflite file")->required();
  cmd->add_option("--to", o->to, "Target format")->check(CLI::IsMember({"onnx"}))->default_str("onnx");
  cmd->add_option("--out", o->out, "The .onnx file to write")->required();
  return [o]() { return run_convert(*o); };
});

}  // namespace
}  // namespace bitscale::cli
