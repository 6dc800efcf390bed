// `bitscale slurm`: the batch scripts of a sharded study on a Slurm cluster (docs/SCALE_OUT.md):
// a calibration job (characterize and sweep: the same command with --calibrate-only, once), a job
// array whose task I of N runs the command with --shard I/N (SLURM_ARRAY_TASK_ID,
// SLURM_ARRAY_TASK_COUNT), a merge job (`bitscale merge`, then the command without --shard on the
// merged records) that starts after every task succeeded (--dependency=afterok), and submit.sh.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace bitscale::study {

struct SlurmJob {
  std::size_t array = 0;                  ///< tasks (shards), >= 1
  std::string partition;                  ///< "": the cluster's default
  std::string time;                       ///< per task, e.g. "02:00:00" ("": the default)
  std::string account;                    ///< "": none
  std::string mem;                        ///< per task, e.g. "4G" ("": the default)
  std::size_t cpus_per_task = 0;          ///< 0: the command's --jobs, else 1
  std::vector<std::string> sbatch_extra;  ///< further #SBATCH options, verbatim (e.g. "--qos=long")
  std::string out_dir;                    ///< the scripts and logs/ go here
  std::string bitscale;                   ///< the executable the scripts run (absolute)
  std::string workdir;                    ///< where the command runs (absolute; its relative paths)
  std::vector<std::string> command;       ///< a bitscale command line without the program name
};

/// The four scripts (calibrate is empty for apply, which needs none).
struct SlurmScripts {
  std::string calibrate, array, merge, submit;
  std::string command;    ///< characterize, sweep or apply
  std::string shard_dir;  ///< where the shards write (the command's --out, or its directory for apply)
};

/// The scripts of `job`; throws std::invalid_argument when the command cannot be sharded (not
/// characterize, sweep or apply; without --out; with --shard, --calibrate-only or --stop-after already)
/// or the array is empty.
SlurmScripts slurm_scripts(const SlurmJob& job);

/// Writes them under job.out_dir (calibrate.sbatch, array.sbatch, merge.sbatch, submit.sh; logs/)
/// and returns them.
SlurmScripts write_slurm(const SlurmJob& job);

/// A word quoted for a POSIX shell when it needs it ('...' with embedded quotes escaped).
std::string shell_quote(const std::string& word);

}  // namespace bitscale::study
