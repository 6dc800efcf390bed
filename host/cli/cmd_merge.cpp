// `bitscale merge`: the records of the shards of a study (--shard I/N of characterize, sweep,
// apply), found in one or more directories, joined into the records of an unsharded run
// (study::run_merge); the same command without --shard on the merged directory then writes
// the outputs.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "bitscale/study/merge.hpp"
#include "command.hpp"

namespace bitscale::cli {
namespace {

const RegisterCommand kMerge([](CLI::App& app) -> std::function<int()> {
  auto job = std::make_shared<study::MergeJob>();
  auto* cmd = app.add_subcommand(
      "merge",
      "Join the records of shards (--shard I/N of characterize, sweep, apply: <name>.shard-I-of-N.jsonl and\n"
      ".list) into <name>.jsonl under --out, as an unsharded run writes them, byte for byte. Refuses, naming\n"
      "the problem, a missing, duplicated or incomplete shard, an image missing or in two shards, headers\n"
      "that disagree and a shard of another model. Copies calibration.json and float.jsonl. Then run the\n"
      "same command without --shard and with --out at the merged directory for the outputs.");
  cmd->add_option("--in", job->in, "Directories holding the shards' files (one or more)")->required()->expected(1, -1);
  cmd->add_option("--out", job->out_dir, "Output directory (may be one of --in)")->required();
  return [job]() {
    const study::MergeOutcome r = study::run_merge(*job);
    fmt::print("{}", study::merge_summary(r));
    return 0;
  };
});

}  // namespace
}  // namespace bitscale::cli
