// Shards of a study: partition, file names and headers (shard.hpp).
#include "bitscale/study/shard.hpp"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::study {

namespace {

constexpr std::string_view kShardFields = ",\"model_hash\":";

std::size_t parse_count(std::string_view part, std::string_view text) {
  std::size_t v = 0;
  const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
  if (part.empty() || ec != std::errc() || end != part.data() + part.size())
    throw std::invalid_argument(fmt::format("--shard '{}': expected I/N with whole numbers, 1 <= I <= N", text));
  return v;
}

/// `dir/stem.jsonl` -> `dir/stem.shard-I-of-N<ext>`.
std::string with_shard_suffix(const std::string& path, const Shard& s, std::string_view ext) {
  const std::string stem = path.ends_with(".jsonl") ? path.substr(0, path.size() - 6) : path;
  return fmt::format("{}.shard-{}-of-{}{}", stem, s.index, s.count, ext);
}

}  // namespace

Shard parse_shard(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos)
    throw std::invalid_argument(fmt::format("--shard '{}': expected I/N (e.g. 2/4), 1 <= I <= N", text));
  const Shard s{parse_count(text.substr(0, slash), text), parse_count(text.substr(slash + 1), text)};
  if (s.count < 1) throw std::invalid_argument(fmt::format("--shard '{}': N must be 1 or more", text));
  if (s.index < 1 || s.index > s.count)
    throw std::invalid_argument(
        fmt::format("--shard '{}': I must be in 1..{} (shards are numbered from 1)", text, s.count));
  return s;
}

std::string to_string(const Shard& s) { return s.whole() ? "none" : fmt::format("{}/{}", s.index, s.count); }

std::vector<std::string> shard_of(const std::vector<std::string>& files, const Shard& s) {
  if (s.whole()) return files;
  std::vector<std::string> out;
  for (std::size_t k = s.index - 1; k < files.size(); k += s.count) out.push_back(files[k]);
  return out;
}

std::string shard_path(const std::string& path, const Shard& s) {
  return s.whole() ? path : with_shard_suffix(path, s, ".jsonl");
}

std::string shard_list_path(const std::string& path, const Shard& s) { return with_shard_suffix(path, s, ".list"); }

std::string selection_hash(const std::vector<std::string>& selection) {
  std::string joined;
  for (const auto& f : selection) joined += f + '\n';
  return fmt::format("{:016x}", fnv1a(joined));
}

std::string shard_header(const std::string& header, const Shard& s, const std::string& model_hash,
                         const std::vector<std::string>& selection) {
  if (!header.ends_with('}') || header.find(kShardFields) != std::string::npos)
    throw std::invalid_argument("shard_header: not an unsharded records header: " + header);
  return fmt::format("{}{}{},\"selection\":{{\"images\":{},\"hash\":\"{}\"}},\"shard\":\"{}\"}}",
                     header.substr(0, header.size() - 1), kShardFields, util::json_string(model_hash), selection.size(),
                     selection_hash(selection), to_string(s));
}

std::string unshard_header(const std::string& header) {
  const auto pos = header.find(kShardFields);
  return pos == std::string::npos ? header : header.substr(0, pos) + "}";
}

void check_shard_resumable(const ShardRecording& r, std::span<const std::string> ignore) {
  if (r.shard.whole()) {
    check_resumable(r.path, r.header, ignore);
    return;
  }
  check_resumable(shard_path(r.path, r.shard), shard_header(r.header, r.shard, r.model_hash, r.files), ignore);
}

RecordResult record_shard(const ShardRecording& r, const WorkerFactory& make_worker, const RecordOptions& opts) {
  if (r.shard.whole()) return record_images(r.path, r.header, r.files, make_worker, opts);
  const std::string header = shard_header(r.header, r.shard, r.model_hash, r.files);
  const std::vector<std::string> mine = shard_of(r.files, r.shard);
  // Refuse a resume of other options before the list is rewritten.
  check_resumable(shard_path(r.path, r.shard), header);
  std::string list = header + '\n';
  for (const auto& f : mine) list += f + '\n';
  util::write_file(shard_list_path(r.path, r.shard), list);
  return record_images(shard_path(r.path, r.shard), header, mine, make_worker, opts);
}

ShardDone shard_done(const ShardRecording& r, const RecordResult& res) {
  return {r.shard, shard_path(r.path, r.shard), res.records.size(), res.resumed, res.computed};
}

std::string shard_summary(const ShardDone& d) {
  return fmt::format(
      "shard {}: {} images recorded in {} ({} resumed, {} computed); when every shard is done: bitscale merge --in "
      "<the shards' directories> --out M, then the same command without --shard and with --out M writes the "
      "outputs from the merged records\n",
      to_string(d.shard), d.images, d.records, d.resumed, d.computed);
}

}  // namespace bitscale::study
