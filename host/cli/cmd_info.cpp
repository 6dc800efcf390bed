// `bitscale info`: the layers of a TFLite model with shapes, options, parameters and MACs.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "bitscale/model/load.hpp"
#include "bitscale/model/onnx.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/util/file.hpp"
#include "command.hpp"

namespace bitscale::cli {
namespace {

struct InfoCli {
  std::string model;
  std::string json;  ///< file, or "-" for stdout
};

int run_info(const InfoCli& o) {
  if (model::file_format(o.model) == model::ModelFormat::kOnnx) {
    if (!o.json.empty()) throw std::invalid_argument("info --json: ONNX models are listed as a table only");
    fmt::print("{}", model::onnx::summary_table(model::onnx::read_file(o.model)));
    return 0;
  }
  namespace tflite = model::tflite;
  const tflite::Model m = tflite::read_file(o.model);
  const tflite::Summary summary = tflite::summarize(m);
  if (o.json == "-") {
    fmt::print("{}", tflite::summary_json(m, summary));
    return 0;
  }
  if (!o.json.empty()) {
    util::write_file(o.json, tflite::summary_json(m, summary));
  }
  fmt::print("{}", tflite::summary_table(m, summary));
  return 0;
}

const RegisterCommand kInfo([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<InfoCli>();
  auto* cmd = app.add_subcommand("info",
                                 "Reads a TensorFlow Lite or ONNX model (detected from the content) and lists its "
                                 "layers in execution order: operator, input and output\n"
                                 "shapes, fused activation, stride and padding, parameters and MACs, with totals.");
  cmd->add_option("--model", o->model, "The .tflite or .onnx file")->required();
  cmd->add_option("--json", o->json,
                  "Write the listing as JSON to this file ('-': standard output, instead of the table)");
  return [o]() { return run_info(*o); };
});

}  // namespace
}  // namespace bitscale::cli
