// `bitscale downscale`: smaller copies of JPEG images (area average, re-encoded with libjpeg), the
// maintenance command that made the embedded image set (data/README.md).
#include <fmt/format.h>

#include <memory>
#include <string>

#include "bitscale/data/downscale.hpp"
#include "command.hpp"
#include "options.hpp"

namespace bitscale::cli {
namespace {

const RegisterCommand kDownscale([](CLI::App& app) -> std::function<int()> {
  auto job = std::make_shared<data::DownscaleSetJob>();
  auto* cmd = app.add_subcommand(
      "downscale",
      "Maintenance: smaller copies of the JPEG images of a directory, as the embedded data/images were made\n"
      "(data/README.md): shorter side shrunk to --short-side by area averaging (never enlarged: smaller files\n"
      "are copied unchanged), re-encoded at --quality; grayscale files stay 1-component.");
  cmd->add_option("--images", job->images, "Source image directory")->required();
  cmd->add_option("--out", job->out, "Destination directory (created; must be new or empty)")->required();
  add_count_option(cmd, "--count", job->count,
                   "Take this many images spread evenly over the sorted list (positions floor(i * n / count)); 0: all");
  cmd->add_option("--short-side", job->short_side, "Shorter side of the copies in pixels")
      ->check(CLI::Range(1, 30000))
      ->capture_default_str();
  cmd->add_option("--quality", job->quality, "JPEG quality of the re-encoded copies (libjpeg's 1..100)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  return [job]() {
    const data::DownscaleSetResult r = data::downscale_images(*job, print_to_stderr);
    fmt::print("{}", data::downscale_summary(*job, r));
    return 0;
  };
});

}  // namespace
}  // namespace bitscale::cli
