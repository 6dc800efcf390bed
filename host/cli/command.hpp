// Sub-command registry of the bitscale CLI: each cli/*.cpp file registers its commands, so
// that adding a command touches no other file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/report/svg.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/study.hpp"
#include "bitscale/util/file.hpp"

namespace bitscale::cli {

/// Adds a sub-command to `app` and returns the function that runs it (exit status).
using CommandSetup = std::function<std::function<int()>(CLI::App& app)>;

inline std::vector<CommandSetup>& command_registry() {
  static std::vector<CommandSetup> r;
  return r;
}

struct RegisterCommand {
  explicit RegisterCommand(CommandSetup s) { command_registry().push_back(std::move(s)); }
};

/// Accelerators of the array back-ends from the driver's factory (the study library does not
/// link the back-ends).
inline study::AcceleratorFactory accelerator_factory() {
  return [](driver::Backend b) { return driver::make_accelerator(b); };
}

/// The --weight-fl option of the commands that quantize a network (docs/QUANTIZATION.md).
inline void add_weight_fl_option(CLI::App* cmd, std::string& target) {
  cmd->add_option("--weight-fl", target,
                  "Weight fractional length per output 'channel', per 'group' of array columns (channels with\n"
                  "similar FLs share one, no extra tiles) or per 'layer' (the seed paper's rule)")
      ->check(CLI::IsMember({"channel", "group", "layer"}))
      ->capture_default_str();
}

}  // namespace bitscale::cli
