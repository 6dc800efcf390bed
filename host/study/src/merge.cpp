// `bitscale merge`: shard records joined into the unsharded records (merge.hpp).
#include "bitscale/study/merge.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <utility>

#include "bitscale/study/eval.hpp"
#include "bitscale/study/shard.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::study {

namespace fs = std::filesystem;

namespace {

/// One shard's files, read and checked on their own.
struct ShardFiles {
  std::size_t index = 0, count = 0;
  std::string path, list_path;
  std::string header;
  util::Json fields;                         ///< the header parsed
  std::vector<std::string> list;             ///< its images, in selection order
  std::map<std::string, std::string> lines;  ///< file -> its record's line
};

/// The lines of a text file that must end with a newline; `what` names it in errors.
std::vector<std::string> lines_of(const std::string& path, const std::string& what) {
  std::string t;
  try {
    t = util::read_file(path);
  } catch (const std::exception&) {
    throw StudyError(fmt::format("{}: missing or unreadable ({})", path, what));
  }
  if (!t.empty() && t.back() != '\n')
    throw StudyError(
        fmt::format("{}: incomplete last line (an interrupted shard: run it again to resume, then merge)", path));
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < t.size();) {
    const std::size_t nl = t.find('\n', pos);
    out.push_back(t.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

std::string name_of(const std::string& path) { return fs::path(path).filename().string(); }

/// Reads a shard's records and list; checks the header names this shard and that every image of
/// the list is recorded exactly once.
ShardFiles read_shard(std::size_t index, std::size_t count, const std::string& path) {
  ShardFiles s;
  s.index = index;
  s.count = count;
  s.path = path;
  s.list_path = path.substr(0, path.size() - 6) + ".list";
  const std::vector<std::string> rec = lines_of(path, "shard records");
  if (rec.empty()) throw StudyError(fmt::format("{}: empty (no header)", path));
  s.header = rec.front();
  try {
    s.fields = util::parse_json(s.header, path);
  } catch (const std::exception& e) {
    throw StudyError(fmt::format("{}:1: not a records header: {}", path, e.what()));
  }
  const std::string want = fmt::format("{}/{}", index, count);
  if (!s.fields.is_object() || !s.fields.contains("shard") || !s.fields.contains("model_hash") ||
      !s.fields.contains("selection"))
    throw StudyError(fmt::format("{}:1: not a shard's header (no shard, model_hash, selection)", path));
  if (s.fields["shard"] != want)
    throw StudyError(
        fmt::format("{}:1: the header says shard {}, the file name {}", path, s.fields["shard"].dump(), want));
  const std::vector<std::string> list = lines_of(s.list_path, "the shard's image list, written when it starts");
  if (list.empty() || list.front() != s.header)
    throw StudyError(
        fmt::format("{}: its header differs from {}'s: not the list of these records", s.list_path, name_of(path)));
  s.list.assign(list.begin() + 1, list.end());
  const bool eval = s.fields.value("kind", std::string()) == "eval";
  for (std::size_t no = 2; no <= rec.size(); ++no) {
    const std::string& text = rec[no - 1];
    if (text.empty()) continue;
    // Eval records (bitscale eval --shard) have their own line format.
    const std::string file = eval ? parse_eval_record(text, path, no).file : parse_record(text, path, no).file;
    if (!s.lines.emplace(file, text).second)
      throw StudyError(fmt::format("{}:{}: image {} recorded twice", path, no, file));
  }
  const std::set<std::string> listed(s.list.begin(), s.list.end());
  std::vector<std::string> missing, extra;
  for (const auto& f : s.list) {
    if (!s.lines.contains(f)) missing.push_back(f);
  }
  for (const auto& [f, line] : s.lines) {
    if (!listed.contains(f)) extra.push_back(f);
  }
  if (!missing.empty())
    throw StudyError(fmt::format(
        "{}: shard {} is incomplete: {} of its {} images not recorded (an interrupted shard: run it again to resume, "
        "then merge): {}",
        path, want, missing.size(), s.list.size(), fmt::join(missing, ", ")));
  if (!extra.empty())
    throw StudyError(fmt::format("{}: records of images not in the shard's list {}: {}", path, name_of(s.list_path),
                                 fmt::join(extra, ", ")));
  return s;
}

/// The fields of two headers that differ ("bits [4,8,16] vs [8,16]"), `shard` left out.
std::string field_differences(const util::Json& a, const util::Json& b) {
  std::vector<std::string> d;
  std::set<std::string> keys;
  for (const auto& [k, v] : a.items()) keys.insert(k);
  for (const auto& [k, v] : b.items()) keys.insert(k);
  for (const auto& k : keys) {
    if (k == "shard") continue;
    const std::string va = a.contains(k) ? a[k].dump() : "(none)", vb = b.contains(k) ? b[k].dump() : "(none)";
    if (va != vb) d.push_back(fmt::format("{} {} vs {}", k, va, vb));
  }
  return fmt::format("{}", fmt::join(d, "; "));
}

/// The shards of one stem, checked against each other; returns the merged text.
std::string merge_stem(const std::string& stem, const std::vector<ShardFiles>& shards) {
  const ShardFiles& first = shards.front();
  const auto model = [](const ShardFiles& s) {
    return fmt::format("{} (hash {})", s.fields.value("model", std::string("?")), s.fields["model_hash"].dump());
  };
  for (const ShardFiles& s : shards) {
    if (s.fields.value("model", std::string()) != first.fields.value("model", std::string()) ||
        s.fields["model_hash"] != first.fields["model_hash"])
      throw StudyError(fmt::format("{}: a shard of another model: {}, shard {}/{} ({}) has {}", s.path, model(s),
                                   first.index, first.count, first.path, model(first)));
    if (const std::string d = field_differences(s.fields, first.fields); !d.empty())
      throw StudyError(
          fmt::format("{}: header differs from shard {}/{} ({}): {}", s.path, first.index, first.count, first.path, d));
  }
  // Every image in one shard only.
  std::map<std::string, const ShardFiles*> owner;
  for (const ShardFiles& s : shards) {
    for (const auto& f : s.list) {
      if (const auto [it, fresh] = owner.emplace(f, &s); !fresh)
        throw StudyError(fmt::format("{}: image {} is in shard {}/{} ({}) and in shard {}/{} ({})", stem, f,
                                     it->second->index, it->second->count, it->second->path, s.index, s.count, s.path));
    }
  }
  // The selection's order: image k is image k / N of shard k mod N + 1.
  const util::Json& sel = first.fields["selection"];
  const auto total = sel.value("images", std::size_t{0});
  const std::size_t n = first.count;
  std::vector<std::string> order;
  for (std::size_t k = 0; k < total; ++k) {
    const ShardFiles& s = shards[k % n];
    if (k / n >= s.list.size())
      throw StudyError(fmt::format("{}: the selection has {} images, shard {}/{} lists only {} ({}): images missing",
                                   stem, total, s.index, n, s.list.size(), s.list_path));
    order.push_back(s.list[k / n]);
  }
  if (order.size() != owner.size())
    throw StudyError(fmt::format("{}: the shards list {} images, their selection {}: not the shards of one selection",
                                 stem, owner.size(), total));
  if (selection_hash(order) != sel.value("hash", std::string()))
    throw StudyError(
        fmt::format("{}: the shards' images are not the selection they were made from (selection hash {} vs {})", stem,
                    selection_hash(order), sel.value("hash", std::string())));
  std::string text = unshard_header(first.header) + '\n';
  for (std::size_t k = 0; k < order.size(); ++k) text += shards[k % n].lines.at(order[k]) + '\n';
  return text;
}

struct Found {
  std::map<std::string, std::map<std::size_t, std::vector<std::string>>> by_stem;  ///< stem -> I -> paths
  std::map<std::string, std::map<std::size_t, std::string>> counts;                ///< stem -> N -> an example
};

Found find_shards(const std::vector<std::string>& dirs) {
  static const std::regex kName(R"(^(.+)\.shard-([0-9]+)-of-([0-9]+)\.jsonl$)");
  Found f;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw StudyError(fmt::format("{}: not a directory", dir));
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      std::smatch m;
      if (!std::regex_match(name, m, kName)) continue;
      const std::string path = (fs::path(dir) / name).string();
      const std::size_t i = std::stoul(m[2].str()), n = std::stoul(m[3].str());
      if (n < 1 || i < 1 || i > n)
        throw StudyError(fmt::format("{}: shard {}/{} is not a shard of 1..{}", path, i, n, n));
      f.by_stem[m[1].str()][i].push_back(path);
      f.counts[m[1].str()].emplace(n, path);
    }
  }
  if (f.by_stem.empty())
    throw StudyError(fmt::format("no shard records (<name>.shard-I-of-N.jsonl) in {}", fmt::join(dirs, ", ")));
  return f;
}

/// The shards of one stem: 1..N, each once; read and checked.
std::vector<ShardFiles> shards_of(const std::string& stem, const Found& f) {
  const auto& counts = f.counts.at(stem);
  if (counts.size() > 1) {
    std::vector<std::string> ex;
    for (const auto& [n, path] : counts) ex.push_back(fmt::format("{} ({} shards)", path, n));
    throw StudyError(fmt::format("{}: shards of different runs: {}", stem, fmt::join(ex, ", ")));
  }
  const std::size_t n = counts.begin()->first;
  const auto& found = f.by_stem.at(stem);
  for (const auto& [i, paths] : found) {
    if (paths.size() > 1)
      throw StudyError(
          fmt::format("{}: shard {}/{} found {} times: {}", stem, i, n, paths.size(), fmt::join(paths, ", ")));
  }
  std::vector<std::string> missing;
  for (std::size_t i = 1; i <= n; ++i) {
    if (!found.contains(i)) missing.push_back(fmt::format("{}/{}", i, n));
  }
  if (!missing.empty()) {
    std::vector<std::size_t> have;
    for (const auto& [i, p] : found) have.push_back(i);
    throw StudyError(
        fmt::format("{}: shard{} {} missing (found {} of {}: {}); every shard must be complete before the merge", stem,
                    missing.size() > 1 ? "s" : "", fmt::join(missing, ", "), found.size(), n, fmt::join(have, ", ")));
  }
  std::vector<ShardFiles> out;
  for (const auto& [i, paths] : found) out.push_back(read_shard(i, n, paths.front()));
  return out;
}

/// A companion file (written once, before the shards): the same bytes wherever it is.
std::optional<std::pair<std::string, std::string>> companion(const std::vector<std::string>& dirs,
                                                             const std::string& name) {
  std::optional<std::pair<std::string, std::string>> got;  // (path, text)
  for (const auto& dir : dirs) {
    const std::string p = (fs::path(dir) / name).string();
    if (!fs::exists(p)) continue;
    std::string t = util::read_file(p);
    if (got && got->second != t)
      throw StudyError(fmt::format("{} and {} differ: shards of different calibration runs", got->first, p));
    if (!got) got.emplace(p, std::move(t));
  }
  return got;
}

/// Writes `text` to `path` unless it holds it already; refuses to replace other content.
void write_new(const std::string& path, const std::string& text) {
  if (fs::exists(path)) {
    if (util::read_file(path) == text) return;
    throw StudyError(fmt::format("{}: exists with other content; merge into another --out (or remove it)", path));
  }
  util::write_file(path, text);
}

}  // namespace

MergeOutcome run_merge(const MergeJob& job, const Inform& inform) {
  if (job.in.empty()) throw std::invalid_argument("merge: no --in directory");
  if (job.out_dir.empty()) throw std::invalid_argument("merge: no --out directory");
  const Found found = find_shards(job.in);
  // Everything is read and checked before anything is written.
  std::vector<std::pair<MergedRecords, std::string>> merged;
  for (const auto& [stem, by_index] : found.by_stem) {
    const std::vector<ShardFiles> shards = shards_of(stem, found);
    std::string text = merge_stem(stem, shards);
    const std::size_t images = std::count(text.begin(), text.end(), '\n') - 1;
    merged.push_back({{(fs::path(job.out_dir) / (stem + ".jsonl")).string(), shards.size(), images}, std::move(text)});
  }
  std::vector<std::pair<std::string, std::string>> companions;
  for (const std::string name : {"calibration.json", "float.jsonl"}) {
    if (auto c = companion(job.in, name)) companions.emplace_back(name, std::move(c->second));
  }
  fs::create_directories(job.out_dir);
  MergeOutcome out;
  for (auto& [m, text] : merged) {
    write_new(m.path, text);
    if (inform) inform(fmt::format("{}: {} images from {} shards", m.path, m.images, m.shards));
    out.merged.push_back(m);
  }
  for (const auto& [name, text] : companions) {
    const std::string p = (fs::path(job.out_dir) / name).string();
    write_new(p, text);
    out.copied.push_back(p);
  }
  return out;
}

std::string merge_summary(const MergeOutcome& r) {
  std::string s;
  for (const auto& m : r.merged) s += fmt::format("merged {} shards into {} ({} images)\n", m.shards, m.path, m.images);
  for (const auto& c : r.copied) s += fmt::format("copied {}\n", c);
  s += "next: the same command without --shard, with --out at the merged directory, writes the outputs\n";
  return s;
}

}  // namespace bitscale::study
