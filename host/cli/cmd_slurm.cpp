// `bitscale slurm`: writes the Slurm batch scripts of a sharded characterize, sweep or apply
// (study::write_slurm): calibration once, a job array filling --shard from
// SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, the merge after it (afterok), submit.sh.
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bitscale/study/slurm.hpp"
#include "command.hpp"
#include "options.hpp"

namespace bitscale::cli {
namespace {

const RegisterCommand kSlurm([](CLI::App& app) -> std::function<int()> {
  auto job = std::make_shared<study::SlurmJob>();
  auto* cmd = app.add_subcommand(
      "slurm",
      "Write the Slurm scripts of a sharded study: `bitscale slurm --array N --out DIR -- sweep --out S ...`\n"
      "writes DIR/calibrate.sbatch (characterize, sweep: the command with --calibrate-only, once),\n"
      "DIR/array.sbatch (task I of N runs the command with --shard I/N from SLURM_ARRAY_TASK_ID and\n"
      "SLURM_ARRAY_TASK_COUNT), DIR/merge.sbatch (bitscale merge, then the command on the merged records;\n"
      "submitted with --dependency=afterok on the array) and DIR/submit.sh, which submits all three.\n"
      "The scripts run this executable (--bitscale) in the current directory (docs/SCALE_OUT.md).");
  cmd->add_option("--array", job->array, "Array tasks = shards (1 or more)")->required()->check(CLI::Range(1, 100000));
  cmd->add_option("--partition", job->partition, "Slurm partition (default: the cluster's)");
  cmd->add_option("--time", job->time, "Time limit per task, e.g. 04:00:00");
  cmd->add_option("--account", job->account, "Slurm account");
  cmd->add_option("--mem", job->mem, "Memory per task, e.g. 4G");
  add_count_option(cmd, "--cpus-per-task", job->cpus_per_task, "CPUs per task (0: the command's --jobs, else 1)");
  cmd->add_option("--sbatch-option", job->sbatch_extra, "A further #SBATCH option, verbatim (repeatable)");
  cmd->add_option("--out", job->out_dir, "Directory of the scripts (and logs/)")->required();
  cmd->add_option("--bitscale", job->bitscale, "The executable the scripts run (default: this one)");
  cmd->add_option("command", job->command, "After --: the bitscale command to shard (characterize, sweep, apply)")
      ->required();
  return [job]() {
    namespace fs = std::filesystem;
    if (job->bitscale.empty()) job->bitscale = fs::canonical("/proc/self/exe").string();
    job->bitscale = fs::absolute(job->bitscale).string();
    job->workdir = fs::current_path().string();
    const study::SlurmScripts s = study::write_slurm(*job);
    fmt::print(
        "{}: {}array.sbatch ({} tasks of `bitscale {}`, shards in {}), merge.sbatch, submit.sh; run {}/submit.sh\n",
        job->out_dir, s.calibrate.empty() ? "" : "calibrate.sbatch, ", job->array, s.command, s.shard_dir,
        job->out_dir);
    return 0;
  };
});

}  // namespace
}  // namespace bitscale::cli
