#include "bitscale/data/labels.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numeric>
#include <set>
#include <system_error>
#include <tuple>
#include <utility>

namespace bitscale::data {
namespace {

bool looks_like_synset(std::string_view s) {
  return s.size() == 9 && s[0] == 'n' &&
         std::all_of(s.begin() + 1, s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

Synsets::Synsets(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LabelError(fmt::format("{}: cannot open synsets file", path));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw LabelError(fmt::format("{}: read error", path));
  *this = parse(text, path);
}

Synsets Synsets::parse(std::string_view text, const std::string& source) {
  Synsets s;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto fail = [&](const std::string& what) {
      return LabelError(fmt::format("{}:{}: {} (expected 'index<TAB>synset<TAB>name')", source, line_no, what));
    };
    if (line.empty()) throw fail("empty line");
    const std::size_t t1 = line.find('\t');
    const std::size_t t2 = t1 == std::string_view::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string_view::npos) throw fail("fewer than 3 tab-separated fields");
    const std::string_view index_text = line.substr(0, t1);
    const std::string_view synset = line.substr(t1 + 1, t2 - t1 - 1);
    const std::string_view name = line.substr(t2 + 1);
    const int expected = line_no - 1;
    if (index_text != std::to_string(expected)) {
      throw fail(fmt::format("index '{}' where {} was expected", index_text, expected));
    }
    if (!looks_like_synset(synset)) throw fail(fmt::format("'{}' is not a synset like n01440764", synset));
    if (!s.synsets_.empty() && !(s.synsets_.back() < synset)) {
      throw fail(fmt::format("synset {} is not after {} (duplicate or not sorted)", synset, s.synsets_.back()));
    }
    if (name.empty() || name.find('\t') != std::string_view::npos) throw fail("empty name or extra field");
    if (expected >= kNumClasses) throw fail(fmt::format("more than {} classes", kNumClasses));
    s.synsets_.emplace_back(synset);
    s.names_.emplace_back(name);
    s.index_.emplace(std::string(synset), expected);
  }
  if (s.size() != kNumClasses) {
    throw LabelError(fmt::format("{}: {} classes, expected {}", source, s.size(), kNumClasses));
  }
  return s;
}

std::optional<int> Synsets::index_of(std::string_view synset) const {
  const auto it = index_.find(std::string(synset));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void Synsets::check_index(int class_index) const {
  if (class_index < 0 || class_index >= size()) {
    throw LabelError(fmt::format("class index {} out of range 0..{}", class_index, size() - 1));
  }
}

const std::string& Synsets::synset(int class_index) const {
  check_index(class_index);
  return synsets_[static_cast<std::size_t>(class_index)];
}

const std::string& Synsets::name(int class_index) const {
  check_index(class_index);
  return names_[static_cast<std::size_t>(class_index)];
}

std::optional<int> label_from_filename(const std::string& path, const Synsets& synsets) {
  const std::string file = std::filesystem::path(path).filename().string();
  std::size_t end = file.find('_');
  if (end == std::string::npos) end = file.find('.');
  if (end == std::string::npos) end = file.size();
  const std::string_view prefix = std::string_view(file).substr(0, end);
  if (!looks_like_synset(prefix)) return std::nullopt;
  return synsets.index_of(prefix);
}

bool has_image_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".jpe" || ext == ".jfif";
}

namespace {

// Whether the file starts with the JPEG signature (SOI marker followed by another marker).
bool starts_like_jpeg(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  unsigned char b[3] = {0, 0, 0};
  in.read(reinterpret_cast<char*>(b), 3);
  return in.gcount() == 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

constexpr std::size_t kSkippedExamples = 3;

}  // namespace

std::string ImageListing::skipped_message(const std::string& dir) const {
  if (skipped_files == 0) return "";
  const bool one = skipped_files == 1;
  return fmt::format("{}: skipped {} {} ({}{})", dir, skipped_files,
                     one ? "file that is not a JPEG image" : "files that are not JPEG images",
                     fmt::join(skipped_examples, ", "), skipped_files > skipped_examples.size() ? ", ..." : "");
}

namespace {

// Collects the images (and skipped files) under `dir`, as paths relative to the root, searching
// each directory once (by its canonical path) so that a symbolic-link loop ends.
void scan_tree(const std::filesystem::path& dir, const std::filesystem::path& rel, std::set<std::string>& seen,
               std::vector<std::string>& images, std::vector<std::string>& skipped) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path canonical = fs::canonical(dir, ec);
  if (ec || !seen.insert(canonical.string()).second) return;
  fs::directory_iterator it(dir, ec);
  if (ec) throw LabelError(fmt::format("{}: cannot list directory: {}", dir.string(), ec.message()));
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    const std::string child = (rel / name).string();
    std::error_code type_ec;
    if (entry.is_directory(type_ec)) {
      scan_tree(entry.path(), rel / name, seen, images, skipped);
    } else if (!entry.is_regular_file(type_ec)) {
      continue;  // follows symlinks; broken links, sockets, ... are not files
    } else if (has_image_extension(name) || starts_like_jpeg(entry.path())) {
      images.push_back(child);
    } else {
      skipped.push_back(child);
    }
  }
}

}  // namespace

ImageListing scan_images(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root(dir);
  if (!fs::exists(root, ec)) throw LabelError(fmt::format("{}: image directory does not exist", dir));
  if (!fs::is_directory(root, ec)) throw LabelError(fmt::format("{}: not a directory", dir));
  std::vector<std::string> names, skipped;
  std::set<std::string> seen;
  scan_tree(root, fs::path(), seen, names, skipped);
  std::sort(names.begin(), names.end());
  std::sort(skipped.begin(), skipped.end());
  ImageListing out;
  out.images.reserve(names.size());
  for (const std::string& name : names) out.images.push_back((root / name).string());
  out.skipped_files = skipped.size();
  skipped.resize(std::min(skipped.size(), kSkippedExamples));
  out.skipped_examples = std::move(skipped);
  return out;
}

std::vector<std::string> list_images(const std::string& dir, const std::function<void(const std::string&)>& warn) {
  ImageListing l = scan_images(dir);
  if (warn) {
    if (const std::string m = l.skipped_message(dir); !m.empty()) warn(m);
  }
  return std::move(l.images);
}

namespace {

// The stem of a file name: directory and extension removed ("a/ILSVRC2012_val_1.JPEG" -> "ILSVRC2012_val_1").
std::string stem_of(std::string_view path) { return std::filesystem::path(std::string(path)).stem().string(); }

// The class named by a labels-file field: a synset, or an index 0..999 (sorted-synset order).
enum class ClassField { kClass, kNotAClass };
ClassField parse_class(std::string_view field, const Synsets& synsets, int& out, std::string& why) {
  if (looks_like_synset(field)) {
    if (const auto c = synsets.index_of(field)) {
      out = *c;
      return ClassField::kClass;
    }
    why = fmt::format("synset {} is not one of the {} classes", field, synsets.size());
    return ClassField::kNotAClass;
  }
  if (!field.empty() && std::all_of(field.begin(), field.end(),
                                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
    if (field.size() <= 4 && std::stoi(std::string(field)) < synsets.size()) {
      out = std::stoi(std::string(field));
      return ClassField::kClass;
    }
    why = fmt::format("class index {} is out of range 0..{}", field, synsets.size() - 1);
    return ClassField::kNotAClass;
  }
  why = fmt::format("'{}' is neither a synset (n01440764) nor a class index 0..{}", field, synsets.size() - 1);
  return ClassField::kNotAClass;
}

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

// The first whitespace-separated token of `s` and the rest.
std::pair<std::string_view, std::string_view> first_token(std::string_view s) {
  s = trim(s);
  const std::size_t end = s.find_first_of(" \t");
  if (end == std::string_view::npos) return {s, {}};
  return {s.substr(0, end), trim(s.substr(end))};
}

}  // namespace

LabelsFile::LabelsFile(const std::string& path, const Synsets& synsets) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LabelError(fmt::format("{}: cannot open labels file", path));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw LabelError(fmt::format("{}: read error", path));
  *this = parse(text, path, synsets);
}

LabelsFile LabelsFile::parse(std::string_view text, const std::string& source, const Synsets& synsets) {
  LabelsFile f;
  std::unordered_map<std::string, int> line_of;
  int line_no = 0;
  bool first = true;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    const auto fail = [&](const std::string& what) {
      return LabelError(
          fmt::format("{}:{}: {} (expected '<image> <class>' or '<image>,<class>', the class a synset "
                      "or an index 0..{})",
                      source, line_no, what, synsets.size() - 1));
    };
    std::string_view image, rest;
    if (const std::size_t comma = line.find(','); comma != std::string_view::npos) {
      image = trim(line.substr(0, comma));
      rest = line.substr(comma + 1);
      if (const std::size_t next = rest.find(','); next != std::string_view::npos) rest = rest.substr(0, next);
    } else {
      std::tie(image, rest) = first_token(line);
    }
    const std::string_view field = first_token(rest).first;
    if (image.empty() || field.empty()) {
      throw fail(fmt::format("one field only{}", line.find_first_of(" \t,") == std::string_view::npos &&
                                                         std::isdigit(static_cast<unsigned char>(line.front())) != 0
                                                     ? " (the devkit's ground truth, one ILSVRC2012_ID per line, "
                                                       "has no image names and another class order: not accepted)"
                                                     : ""));
    }
    int c = 0;
    std::string why;
    const ClassField kind = parse_class(field, synsets, c, why);
    const bool header = first;
    first = false;
    if (kind == ClassField::kNotAClass) {
      if (header && !looks_like_synset(field) && !std::isdigit(static_cast<unsigned char>(field.front()))) continue;
      throw fail(why);
    }
    std::string key = stem_of(image);
    if (const auto [it, inserted] = f.classes_.emplace(key, c); !inserted && it->second != c) {
      throw fail(fmt::format("image {} listed again with another class ({} here, {} on line {})", key, c, it->second,
                             line_of[key]));
    }
    line_of.emplace(std::move(key), line_no);
  }
  if (f.classes_.empty()) throw LabelError(fmt::format("{}: no labels (no '<image> <class>' line)", source));
  return f;
}

std::optional<int> LabelsFile::find(const std::string& path) const {
  const auto it = classes_.find(stem_of(path));
  if (it == classes_.end()) return std::nullopt;
  return it->second;
}

Labeler::Labeler(Synsets synsets, std::optional<LabelsFile> labels)
    : synsets_(std::make_shared<const Synsets>(std::move(synsets))) {
  if (labels) labels_ = std::make_shared<const LabelsFile>(std::move(*labels));
}

Labeler Labeler::with_file(const Synsets& synsets, const std::string& labels_path) {
  if (labels_path.empty()) return Labeler(synsets);
  return Labeler(synsets, LabelsFile(labels_path, synsets));
}

std::optional<int> Labeler::operator()(const std::string& path) const {
  if (labels_) {
    if (const auto c = labels_->find(path)) return c;
  }
  if (const auto c = label_from_filename(path, *synsets_)) return c;
  const std::string folder = std::filesystem::path(path).parent_path().filename().string();
  if (looks_like_synset(folder)) return synsets_->index_of(folder);
  return std::nullopt;
}

Split split_even_odd(const std::vector<std::string>& files) {
  Split s;
  for (std::size_t i = 0; i < files.size(); ++i) (i % 2 == 0 ? s.calibration : s.evaluation).push_back(files[i]);
  return s;
}

Split split_random(const std::vector<std::string>& files, std::uint64_t seed, double fraction) {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw LabelError(fmt::format("split fraction {} is not in [0, 1]", fraction));
  const std::size_t n = files.size();
  const auto n_cal = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(n)));
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::uint64_t state = seed;
  for (std::size_t i = n; i > 1; --i) {  // Fisher-Yates, j uniform in [0, i) up to a negligible bias
    const std::size_t j = static_cast<std::size_t>(splitmix64(state) % i);
    std::swap(order[i - 1], order[j]);
  }
  std::vector<bool> is_cal(n, false);
  for (std::size_t k = 0; k < n_cal; ++k) is_cal[order[k]] = true;
  Split s;
  for (std::size_t i = 0; i < n; ++i) (is_cal[i] ? s.calibration : s.evaluation).push_back(files[i]);
  return s;
}

}  // namespace bitscale::data
