// `bitscale conformance DIR...`: ONNX node tests (model.onnx with test_data_set_*) through the
// ONNX importer and the float reference, one line per test and the totals.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bitscale/model/onnx.hpp"
#include "command.hpp"

namespace bitscale::cli {
namespace {

struct ConformanceCli {
  std::vector<std::string> dirs;
  bool quiet = false;
  std::vector<std::string> ops;  ///< only tests whose nodes all have these types (empty: all)
};

int run_conformance(const ConformanceCli& o) {
  namespace onnx = model::onnx;
  std::vector<onnx::NodeTestResult> results;
  for (const auto& d : o.dirs) {
    for (const auto& t : onnx::node_test_dirs(d)) {
      if (!o.ops.empty()) {
        const auto used = onnx::node_test_ops(t);
        const bool only = !used.empty() && std::all_of(used.begin(), used.end(), [&](const std::string& u) {
          return std::find(o.ops.begin(), o.ops.end(), u) != o.ops.end();
        });
        if (!only) continue;
      }
      results.push_back(onnx::run_node_test(t));
      const auto& r = results.back();
      if (o.quiet && r.status == onnx::TestStatus::kPassed) continue;
      fmt::print("{} {}{}\n", to_string(r.status), r.name, r.reason.empty() ? "" : ": " + r.reason);
    }
  }
  fmt::print("{}\n", onnx::conformance_totals(results));
  for (const auto& r : results)
    if (r.status == onnx::TestStatus::kFailed) return 1;
  return 0;
}

const RegisterCommand kConformance([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<ConformanceCli>();
  auto* cmd = app.add_subcommand(
      "conformance",
      "Runs ONNX node tests (directories with model.onnx and test_data_set_*/input_*.pb, output_*.pb, e.g.\n"
      "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding, or their parent directory)\n"
      "through the ONNX importer and the float reference and compares with the expected outputs\n"
      "(rtol 1e-3, atol 1e-7, as ONNX's runner). Prints pass / FAIL / skip per test with the reason and\n"
      "'N passed, N failed, N skipped'; exits 1 if a test fails.");
  cmd->add_option("dirs", o->dirs, "Test directories, or directories holding them")->required();
  cmd->add_option("--ops", o->ops,
                  "Run only the tests whose nodes all have one of these operator types (e.g. --ops Conv Relu)");
  cmd->add_flag("--quiet", o->quiet, "Print only failed and skipped tests");
  return [o]() { return run_conformance(*o); };
});

}  // namespace
}  // namespace bitscale::cli
