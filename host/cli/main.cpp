// bitscale: command-line front end. Sub-commands live in cli/*.cpp and register themselves
// (command.hpp). Exceptions are caught here and reported with context; exit status 2.
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "command.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "bitscale: a precision-reconfigurable (16/8/4-bit, subword-packed) MAC array in SystemVerilog,\n"
      "verilated, with a bit-exact golden model and a driver that runs layers on either back-end.\n"
      "Docs: docs/ARCHITECTURE.md, docs/NUMERICS.md, docs/REGISTERS.md."};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
  for (const auto& setup : bitscale::cli::command_registry()) {
    const std::size_t before = app.get_subcommands({}).size();
    auto run = setup(app);
    auto subs = app.get_subcommands({});
    if (subs.size() != before + 1) {
      fmt::print(stderr, "bitscale: internal error: a command setup must add exactly one sub-command\n");
      return 2;
    }
    commands.emplace_back(subs.back(), std::move(run));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : commands) {
      if (sub->parsed()) return run();
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "bitscale: error: {}\n", e.what());
    return 2;
  }
  return 0;
}
