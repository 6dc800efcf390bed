// `bitscale classify`: one image through a network on the float baseline or on the array.
#include <fmt/format.h>

#include <functional>
#include <memory>
#include <string>

#include "bitscale/study/classify_job.hpp"
#include "bitscale/study/summaries.hpp"
#include "command.hpp"
#include "options.hpp"

namespace bitscale::cli {
namespace {

const RegisterCommand kClassify([](CLI::App& app) -> std::function<int()> {
  auto job = std::make_shared<study::ClassifyJob>();
  auto gating = std::make_shared<driver::Gating>(driver::Gating::kOff);
  auto* cmd = app.add_subcommand(
      "classify",
      "Classify one image: the float baseline (--backend float) or dynamic fixed point on the array through\n"
      "the driver (--backend golden|rtl, --bits 4|8|16; docs/QUANTIZATION.md). Prints the top-5 classes\n"
      "and the score margin P(top1) - P(top2).");
  add_model_option(cmd, job->data.model);
  cmd->add_option("--image", job->image, "JPEG image")->required();
  add_network_run_options(cmd, {job->backend, job->bits, job->weight_fl});
  add_zero_gating_flag(cmd, *gating);
  add_quantization_options(cmd, job->quantization);
  add_calibration_options(cmd, {job->calib, job->calib_limit, &job->save_calib},
                          "Calibration: a JSON file (from --save-calib) or an image directory (default: the "
                          "even-position\nhalf of the default image directory)");
  add_synsets_option(cmd, job->data.synsets, "class names and labels");
  add_labels_option(cmd, job->data.labels);
  add_jobs_option(cmd, job->jobs, "Threads for the calibration");
  add_approx_options(
      cmd, job->approx_config, nullptr,
      "Apply this Ax-BxP configuration (axbxp_config.json of axbxp-search) on the array (docs/AXBXP.md)");
  return [job, gating]() {
    job->factory = accelerator_factory(*gating);
    fmt::print("{}", study::classify_summary(study::run_classify(*job, print_to_stderr)));
    return 0;
  };
});

}  // namespace
}  // namespace bitscale::cli
