// Shards of a study (`--shard I/N`): a deterministic partition of the selected images so that N
// independent processes (Slurm array tasks, any machines) together record every image exactly
// once, each into its own files under one output directory; `bitscale merge` (merge.hpp) joins
// them into the records an unsharded run writes (docs/SCALE_OUT.md).
//
// Numbering is 1-based: shard I of N, 1 <= I <= N, holds the images at positions k (0-based) of
// the selection with k mod N = I - 1. The records of shard I go to `<stem>.shard-I-of-N.jsonl`
// beside the unsharded `<stem>.jsonl`, with the unsharded header plus the fields `model_hash`,
// `selection` ({images, hash} of the whole selection) and `shard` ("I/N"); the shard's image
// list (its header line, then one file per line) goes to `<stem>.shard-I-of-N.list`.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/study/records.hpp"

namespace bitscale::study {

struct Shard {
  std::size_t index = 0;  ///< 1-based: 1 .. count
  std::size_t count = 0;  ///< 0: no --shard, the whole selection (1/1 is a shard: shard files)
  [[nodiscard]] bool whole() const { return count == 0; }
  friend bool operator==(const Shard&, const Shard&) = default;
};

/// "I/N" with 1 <= I <= N; throws std::invalid_argument naming the text and the rule.
Shard parse_shard(std::string_view text);
/// "I/N".
std::string to_string(const Shard& s);

/// The images of shard s: positions k of `files` with k mod count = index - 1, in order.
std::vector<std::string> shard_of(const std::vector<std::string>& files, const Shard& s);

/// `dir/stem.jsonl` -> `dir/stem.shard-I-of-N.jsonl` (the path itself for a whole shard).
std::string shard_path(const std::string& path, const Shard& s);
/// `dir/stem.jsonl` -> `dir/stem.shard-I-of-N.list`.
std::string shard_list_path(const std::string& path, const Shard& s);

/// The unsharded records header `header` (a JSON object) with model_hash, selection and shard.
std::string shard_header(const std::string& header, const Shard& s, const std::string& model_hash,
                         const std::vector<std::string>& selection);
/// The unsharded header of a shard header (the text before ",\"model_hash\":" closed); the
/// header itself when it has no shard fields.
std::string unshard_header(const std::string& header);
/// Identifies a selection: 16 hex digits of fnv1a over the files joined by '\n'.
std::string selection_hash(const std::vector<std::string>& selection);

/// Where and how a shard records: with s.whole(), exactly record_images(path, header, files, ...).
/// Otherwise the shard's images are recorded into shard_path(path, s) under shard_header (a resume
/// must agree with it: same model content, options and selection), after writing the shard's list.
struct ShardRecording {
  std::string path;                ///< the unsharded records file
  std::string header;              ///< the unsharded header
  std::vector<std::string> files;  ///< the whole selection
  Shard shard;
  std::string model_hash;  ///< content_hash of the model (shards only)
};
RecordResult record_shard(const ShardRecording& r, const WorkerFactory& make_worker, const RecordOptions& opts = {});
/// The resume check of record_shard (check_resumable on the shard's file and header).
void check_shard_resumable(const ShardRecording& r, std::span<const std::string> ignore = {});

/// What a shard did (a command run with --shard records only; the outputs come after the merge).
struct ShardDone {
  Shard shard;
  std::string records;  ///< its records file
  std::size_t images = 0, resumed = 0, computed = 0;
};
/// The shard's recording from record_shard's result.
ShardDone shard_done(const ShardRecording& r, const RecordResult& res);
/// "shard I/N: K images recorded in F (R resumed); when every shard is done: bitscale merge ..."
std::string shard_summary(const ShardDone& d);

}  // namespace bitscale::study
