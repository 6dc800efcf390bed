// `bitscale report`: one page (Markdown or HTML) from the outputs of characterize and sweep.
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
  auto* cmd =
      app.add_subcommand("report",
                         "One page from the summary.md fragments that characterize and sweep write in --in (or its\n"
                         "sub-directories): .md links the SVG charts, .html embeds them.");
  cmd->add_option("--in", o->in, "Directory of characterize/sweep outputs (or their parent)")->required();
  cmd->add_option("--out", o->out, "report.md or report.html")->required();
  return [o]() {
    const std::size_t n = study::write_report(o->in, o->out);
    fmt::print("{}: report of {} result directories\n", o->out, n);
    return 0;
  };
});

}  // namespace
}  // namespace bitscale::cli
