// Sub-command registry of the bitscale CLI: each cli/*.cpp file registers its commands, so
// that adding a command touches no other file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace bitscale::host::cli {

/// Adds a sub-command to `app` and returns the function that runs it (exit status).
using CommandSetup = std::function<std::function<int()>(CLI::App& app)>;

inline std::vector<CommandSetup>& command_registry() {
  static std::vector<CommandSetup> r;
  return r;
}

struct RegisterCommand {
  explicit RegisterCommand(CommandSetup s) { command_registry().push_back(std::move(s)); }
};

/// The --weight-fl option of the commands that quantize a network (docs/QUANTIZATION.md).
inline void add_weight_fl_option(CLI::App* cmd, std::string& target) {
  cmd->add_option("--weight-fl", target,
                  "Weight fractional length per output 'channel', per 'group' of array columns (channels with\n"
                  "similar FLs share one, no extra tiles) or per 'layer' (the seed paper's rule)")
      ->check(CLI::IsMember({"channel", "group", "layer"}))
      ->capture_default_str();
}

}  // namespace bitscale::host::cli
