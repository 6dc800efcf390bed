// The Slurm scripts of a sharded study (slurm.hpp).
#include "bitscale/study/slurm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "bitscale/util/file.hpp"

namespace bitscale::study {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& word) {
  if (!word.empty() &&
      word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+=.,/:@%") ==
          std::string::npos)
    return word;
  std::string q = "'";
  for (char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

namespace {

/// The value of option `name` in `args` ("--out X" or "--out=X").
std::optional<std::string> option_value(const std::vector<std::string>& args, const std::string& name) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) return args[i + 1];
    if (args[i].starts_with(name + "=")) return args[i].substr(name.size() + 1);
  }
  return std::nullopt;
}

bool has_option(const std::vector<std::string>& args, const std::string& name) {
  return std::any_of(args.begin(), args.end(),
                     [&name](const std::string& a) { return a == name || a.starts_with(name + "="); });
}

std::string joined(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + shell_quote(w);
  return s;
}

/// The #SBATCH lines and the start of every script.
std::string preamble(const SlurmJob& job, const std::string& command, const std::string& name, bool array,
                     std::size_t cpus) {
  std::string s = "#!/bin/bash\n";
  s += fmt::format("# Written by `bitscale slurm` (docs/SCALE_OUT.md): the {} step of a sharded `bitscale {}`.\n", name,
                   command);
  s += fmt::format("#SBATCH --job-name=bitscale-{}-{}\n", command, name);
  if (array) s += fmt::format("#SBATCH --array=1-{}\n", job.array);
  s += fmt::format(
      "#SBATCH --output={}\n",
      shell_quote((fs::path(job.out_dir) / "logs" / (array ? name + "-%A_%a.out" : name + "-%j.out")).string()));
  s += fmt::format("#SBATCH --ntasks=1\n#SBATCH --cpus-per-task={}\n", cpus);
  if (!job.partition.empty()) s += fmt::format("#SBATCH --partition={}\n", job.partition);
  if (!job.time.empty()) s += fmt::format("#SBATCH --time={}\n", job.time);
  if (!job.account.empty()) s += fmt::format("#SBATCH --account={}\n", job.account);
  if (!job.mem.empty()) s += fmt::format("#SBATCH --mem={}\n", job.mem);
  for (const auto& x : job.sbatch_extra) s += fmt::format("#SBATCH {}\n", x);
  s += fmt::format("set -euo pipefail\ncd {}\n", shell_quote(job.workdir));
  return s;
}

}  // namespace

SlurmScripts slurm_scripts(const SlurmJob& job) {
  if (job.array < 1) throw std::invalid_argument("slurm: --array must be 1 or more");
  if (job.out_dir.empty()) throw std::invalid_argument("slurm: no --out directory");
  std::vector<std::string> cmd = job.command;
  if (!cmd.empty() && (cmd.front() == "bitscale" || cmd.front().ends_with("/bitscale"))) cmd.erase(cmd.begin());
  if (cmd.empty()) throw std::invalid_argument("slurm: no command after --");
  SlurmScripts r;
  r.command = cmd.front();
  if (r.command != "characterize" && r.command != "sweep" && r.command != "apply" && r.command != "eval")
    throw std::invalid_argument(fmt::format(
        "slurm: '{}' cannot be sharded; the commands that record per image are characterize, sweep, apply and eval",
        r.command));
  for (const char* o : {"--shard", "--calibrate-only", "--stop-after"}) {
    if (has_option(cmd, o))
      throw std::invalid_argument(fmt::format("slurm: the command already has {}; the scripts add what they need", o));
  }
  const auto out = option_value(cmd, "--out");
  if (!out)
    throw std::invalid_argument(fmt::format("slurm: the {} command needs --out (where the shards write)", r.command));
  r.shard_dir = r.command == "apply" || r.command == "eval" ? fs::path(*out).parent_path().string() : *out;
  if (r.shard_dir.empty()) r.shard_dir = ".";
  std::size_t cpus = job.cpus_per_task;
  if (cpus == 0) {
    cpus = 1;
    if (const auto j = option_value(cmd, "--jobs")) {
      std::size_t v = 0;
      const auto [end, ec] = std::from_chars(j->data(), j->data() + j->size(), v);
      if (ec == std::errc() && end == j->data() + j->size() && v > 0) cpus = v;
    }
  }
  if (!has_option(cmd, "--no-progress")) cmd.push_back("--no-progress");
  const std::string run = shell_quote(job.bitscale) + " " + joined(cmd);
  const bool calibrates = r.command != "apply" && r.command != "eval";
  if (calibrates) {
    r.calibrate = preamble(job, r.command, "calibrate", false, cpus) +
                  "# Once, before the array: the float phase / calibration the shards read (they never write it).\n" +
                  fmt::format("exec {} --calibrate-only\n", run);
  }
  r.array = preamble(job, r.command, "array", true, cpus) +
            ": \"${SLURM_ARRAY_TASK_ID:?not a Slurm array task: submit with sbatch (submit.sh)}\"\n"
            ": \"${SLURM_ARRAY_TASK_COUNT:?not a Slurm array task: submit with sbatch (submit.sh)}\"\n" +
            fmt::format(
                "if [ \"$SLURM_ARRAY_TASK_COUNT\" != {} ]; then\n"
                "  echo \"array of $SLURM_ARRAY_TASK_COUNT tasks, the scripts were written for {}\" >&2\n"
                "  exit 2\n"
                "fi\n"
                "# Task I of N (I = 1..N) records shard I/N: image k of the selection when k mod N = I - 1.\n"
                "exec {} --shard \"${{SLURM_ARRAY_TASK_ID}}/${{SLURM_ARRAY_TASK_COUNT}}\"\n",
                job.array, job.array, run);
  r.merge = preamble(job, r.command, "merge", false, cpus) +
            "# After every array task succeeded: the shards' records merged (checked), then the outputs.\n" +
            fmt::format("{} merge --in {} --out {}\nexec {}\n", shell_quote(job.bitscale), shell_quote(r.shard_dir),
                        shell_quote(r.shard_dir), run);
  r.submit = fmt::format(
      "#!/bin/sh\n"
      "# Written by `bitscale slurm`: submits {}the {}-task array{} and the merge after every task succeeded.\n"
      "set -eu\n"
      "cd \"$(dirname \"$0\")\"\n"
      "mkdir -p logs\n",
      calibrates ? "the calibration, " : "", job.array, calibrates ? " after it" : "");
  if (calibrates) {
    r.submit +=
        "cal=$(sbatch --parsable calibrate.sbatch)\n"
        "arr=$(sbatch --parsable --dependency=afterok:${cal%%;*} array.sbatch)\n";
  } else {
    r.submit += "arr=$(sbatch --parsable array.sbatch)\n";
  }
  r.submit +=
      "mrg=$(sbatch --parsable --dependency=afterok:${arr%%;*} merge.sbatch)\n"
      "echo \"array ${arr%%;*}, merge ${mrg%%;*}\"\n";
  return r;
}

SlurmScripts write_slurm(const SlurmJob& job) {
  SlurmScripts r = slurm_scripts(job);
  fs::create_directories(fs::path(job.out_dir) / "logs");
  const auto put = [&job](const std::string& name, const std::string& text) {
    if (text.empty()) return;
    const std::string p = (fs::path(job.out_dir) / name).string();
    util::write_file(p, text);
    fs::permissions(p, fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);
  };
  put("calibrate.sbatch", r.calibrate);
  put("array.sbatch", r.array);
  put("merge.sbatch", r.merge);
  put("submit.sh", r.submit);
  return r;
}

}  // namespace bitscale::study
