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
#include <system_error>

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
  if (skipped_files == 0 && skipped_dirs == 0) return "";
  std::string s = fmt::format("{}: skipped", dir);
  if (skipped_files > 0) {
    const bool one = skipped_files == 1;
    s += fmt::format(" {} {} ({}{})", skipped_files,
                     one ? "file that is not a JPEG image" : "files that are not JPEG images",
                     fmt::join(skipped_examples, ", "), skipped_files > skipped_examples.size() ? ", ..." : "");
  }
  if (skipped_dirs > 0)
    s += fmt::format("{} {} subdirector{} (not searched)", skipped_files > 0 ? " and" : "", skipped_dirs,
                     skipped_dirs == 1 ? "y" : "ies");
  return s;
}

ImageListing scan_images(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path root(dir);
  if (!fs::exists(root, ec)) throw LabelError(fmt::format("{}: image directory does not exist", dir));
  if (!fs::is_directory(root, ec)) throw LabelError(fmt::format("{}: not a directory", dir));
  std::vector<std::string> names, skipped;
  ImageListing out;
  fs::directory_iterator it(root, ec);
  if (ec) throw LabelError(fmt::format("{}: cannot list directory: {}", dir, ec.message()));
  for (const fs::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code type_ec;
    if (entry.is_directory(type_ec)) {
      ++out.skipped_dirs;
    } else if (!entry.is_regular_file(type_ec)) {
      continue;  // follows symlinks; broken links, sockets, ... are not files
    } else if (has_image_extension(name) || starts_like_jpeg(entry.path())) {
      names.push_back(name);
    } else {
      skipped.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  std::sort(skipped.begin(), skipped.end());
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
