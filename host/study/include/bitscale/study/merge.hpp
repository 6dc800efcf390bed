// `bitscale merge`: the records of the shards of a study (shard.hpp), found in one or more
// directories, joined into the records an unsharded run of the same options writes, byte for
// byte; running the same command without --shard on the merged directory then writes every output
// from them (docs/SCALE_OUT.md).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "bitscale/study/sweep_run.hpp"

namespace bitscale::study {

struct MergeJob {
  std::vector<std::string> in;  ///< directories holding <stem>.shard-I-of-N.jsonl (and .list) files
  std::string out_dir;          ///< gets <stem>.jsonl per stem, and the companions below
};

struct MergedRecords {
  std::string path;  ///< out_dir/<stem>.jsonl
  std::size_t shards = 0, images = 0;
};

struct MergeOutcome {
  std::vector<MergedRecords> merged;  ///< by stem
  std::vector<std::string> copied;    ///< companions copied (calibration.json, float.jsonl)
};

/// Checks, per stem, that shards 1..N are all there once, complete (every image of the shard's
/// list recorded, once), with headers that agree (same model name and content hash, options,
/// selection; the shard field I/N matching the name) and lists that partition the selection, then
/// writes out_dir/<stem>.jsonl: the unsharded header, then the records in the selection's order.
/// The companions calibration.json and float.jsonl (written once, before the shards) are copied
/// from the input directories, which must not hold differing copies. Throws StudyError naming the
/// problem (missing or duplicated shard or image, mismatched headers, a shard of another model),
/// before anything is written.
MergeOutcome run_merge(const MergeJob& job, const Inform& inform = {});

/// What merge did, and the next step.
std::string merge_summary(const MergeOutcome& r);

}  // namespace bitscale::study
