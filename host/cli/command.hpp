// Sub-command registry of the bitscale CLI: each cli/*.cpp file registers its commands, so
// that adding a command touches no other file.
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstddef>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/summaries.hpp"

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
/// With driver::Gating::kZeroBlocks, every layer runs with exact zero-block gating (MODE.ZGATE).
inline study::AcceleratorFactory accelerator_factory(driver::Gating gating = driver::Gating::kOff) {
  return [gating](driver::Backend b) {
    driver::DeviceOptions opts;
    opts.gating = gating;
    return driver::make_accelerator(b, opts);
  };
}
/// The same, every accelerator made with `opts` (what --dpred sets, study::apply_dpred; the depthwise mapping).
inline study::AcceleratorFactory accelerator_factory(const driver::DeviceOptions& opts) {
  return [opts](driver::Backend b) { return driver::make_accelerator(b, opts); };
}

/// Prints a message of a library call on its own line of stderr.
inline void print_to_stderr(const std::string& message) { fmt::print(stderr, "{}\n", message); }

/// A resumable job stopped by --stop-after: says so on stderr; exit status 3.
inline int stopped_early(std::size_t computed) {
  fmt::print(stderr, "{}", study::stopped_summary(computed));
  return 3;
}

/// A file opened for writing; throws "cannot write '<path>'" when it cannot be.
inline std::ofstream open_output(const std::string& path) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error(fmt::format("cannot write '{}'", path));
  return f;
}

}  // namespace bitscale::cli
