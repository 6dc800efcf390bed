// `bitscale axbxp-search`: the per-layer Ax-BxP search (or the evaluation of a configuration
// file) with the uniform family points, on the golden back-end (study/axbxp.hpp, docs/AXBXP.md).
#include <fmt/format.h>

#include <memory>
#include <string>

#include "bitscale/study/axbxp.hpp"
#include "command.hpp"
#include "options.hpp"

namespace bitscale::cli {
namespace {

int axbxp_search(study::AxbxpJob& job) {
  job.factory = accelerator_factory();
  const study::AxbxpResult r = study::run_axbxp(job, print_to_stderr);
  fmt::print("{}", study::axbxp_report(r));
  return 0;
}

const RegisterCommand kAxbxpSearch([](CLI::App& app) -> std::function<int()> {
  auto job = std::make_shared<study::AxbxpJob>();
  auto* cmd = app.add_subcommand(
      "axbxp-search",
      "Ax-BxP (approximate block products) per layer at 8 bits: greedy search of the most aggressive family\n"
      "member per layer within a top-1 budget on the selection images (even positions), then top-1 and energy\n"
      "of the configuration, of every uniform family member, of exact 8-bit and of static 16-bit on the\n"
      "evaluation images (odd positions). Writes axbxp_config.json and axbxp.md to --out (docs/AXBXP.md).");
  add_model_option(cmd, job->model);
  add_images_option(cmd, job->images, "Image directory (even positions calibrate and select, odd ones evaluate)");
  add_synsets_option(cmd, job->synsets, "the labels of the images");
  add_labels_option(cmd, job->labels);
  add_calibration_options(cmd, CalibrationFields{job->calib, job->calib_limit},
                          "Calibration JSON or image directory (default: the even positions)");
  cmd->add_option("--max-drop", job->max_drop_pp,
                  "Top-1 budget of the search: drop vs exact 8-bit on the selection images, percentage points")
      ->check(kNonNegative)
      ->capture_default_str();
  add_choice_option(cmd, "--budget", job->budget, study::parse_budget_check, {"upper-bound", "point"},
                    "How --max-drop is checked on the selection images, by the search and by each ladder's T_h:\n"
                    "'upper-bound' the one-sided bootstrap upper bound of the paired drop (--budget-level; as the\n"
                    "threshold selection of sweep), 'point' the drop itself (docs/AXBXP.md)",
                    std::string(study::to_string(job->budget)));
  cmd->add_option("--budget-level", job->budget_level, "One-sided confidence of the upper bound (0.5 .. 0.9999)")
      ->check(CLI::Range(0.5, 0.9999))
      ->capture_default_str();
  add_count_option(cmd, "--select-limit", job->select_limit,
                   "Selection images (spread over the even positions; 0 = all)");
  add_count_option(cmd, "--eval-limit", job->eval_limit, "Evaluation images (spread over the odd positions; 0 = all)");
  cmd->add_option("--approx-config", job->config,
                  "Evaluate this configuration file (e.g. an earlier axbxp_config.json) instead of searching one")
      ->check(CLI::ExistingFile);
  add_choice_option(cmd, "--approx-compensation", job->compensation, quant::approx_compensation_from_string,
                    {"none", "mean"},
                    "Compensation of the skipped block products: 'mean' adds their expected sum per output channel\n"
                    "(block means of the calibration images) to the bias, 'none' drops them (docs/NUMERICS.md)",
                    std::string(quant::to_string(job->compensation)));
  cmd->add_option("--energy", job->energy, "Energy table file (docs/ENERGY.md; key blk_share for approximate MACs)");
  add_choice_option(cmd, "--energy-model", job->energy_model, study::parse_energy_model, {"mac", "memory"},
                    "MACs only (the seed paper's model) or MACs plus scratchpad and off-chip memory",
                    std::string(study::to_string(job->energy_model)));
  cmd->add_option("--ladder", job->ladders,
                  "A ladder of the dynamic controller to evaluate, rungs 16, 8, 4, <bits>c<N> (family member N) or 8s\n"
                  "(the per-layer configuration), e.g. 8c1,8,16; repeat for several (default: 8,16 8c1,8,16 8s,8,16 "
                  "8s,16)")
      ->check([](const std::string& s) {
        try {
          (void)study::parse_ladder(s);
          return std::string();
        } catch (const std::exception& e) {
          return std::string(e.what());
        }
      });
  add_jobs_option(cmd, job->jobs);
  add_out_dir_option(cmd, job->out);
  return [job]() { return axbxp_search(*job); };
});

}  // namespace
}  // namespace bitscale::cli
