// `bitscale report`: one page for a reader (HTML or Markdown) from the JSON outputs of
// characterize, sweep and apply (study::write_report).
#include <fmt/format.h>

#include <memory>
#include <string>

#include "bitscale/study/study.hpp"
#include "command.hpp"

namespace bitscale::cli {
namespace {

struct ReportOptions {
  std::string in, out;
};

const RegisterCommand kReport([](CLI::App& app) -> std::function<int()> {
  auto o = std::make_shared<ReportOptions>();
  auto* cmd = app.add_subcommand(
      "report",
      "One page from the outputs of characterize, sweep and apply found in --in and its sub-directories\n"
      "(characterization.json, sweep.json + records.jsonl, policy.json, crossval.json, apply.json + apply.csv):\n"
      "the deployed policy and its result on unseen images first, every ladder's saving and drop vs T_h with\n"
      "95 % bootstrap bands, where the energy goes, the characterization. Missing parts are named in the page.\n"
      ".html embeds the charts; .md writes them beside the page.");
  cmd->add_option("--in", o->in, "Directory of characterize/sweep/apply outputs (or their parent)")->required();
  cmd->add_option("--out", o->out, "report.html or report.md")->required();
  return [o]() {
    const std::size_t n = study::write_report(o->in, o->out);
    fmt::print("{}: report of {} result file{} in {}\n", o->out, n, n == 1 ? "" : "s", o->in);
    return 0;
  };
});

}  // namespace
}  // namespace bitscale::cli
