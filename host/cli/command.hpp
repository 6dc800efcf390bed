// Sub-command registry of the bitscale CLI: each cli/*.cpp file registers its commands, so
// that adding a command touches no other file.
#pragma once

#include <functional>
#include <vector>

#include <CLI/CLI.hpp>

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

}  // namespace bitscale::host::cli
