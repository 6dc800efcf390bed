#include "bitscale/dv/scoreboard.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace bitscale::dv {

namespace {

using golden::PackedTensor;

Dims dims_of(const PackedTensor& t) { return {t.h, t.w, t.c, t.mode}; }

bool same_dims(const Dims& a, const Dims& b) { return a.h == b.h && a.w == b.w && a.c == b.c && a.mode == b.mode; }

// The word `i` of two tensors of equal dimensions, with its pixel and every channel it holds.
Mismatch word_mismatch(const PackedTensor& expected, const PackedTensor& actual, std::size_t i) {
  Mismatch m;
  m.kind = MismatchKind::kWord;
  const std::size_t wpp = expected.words_per_pixel();
  const std::size_t pix = i / wpp;
  m.word = i;
  m.y = static_cast<int>(pix / static_cast<std::size_t>(expected.w));
  m.x = static_cast<int>(pix % static_cast<std::size_t>(expected.w));
  m.expected = expected.words[i];
  m.actual = actual.words[i];
  const int lanes = golden::lanes(expected.mode);
  for (int l = 0; l < lanes; ++l) {
    const int ch = static_cast<int>(i % wpp) * lanes + l;
    if (ch >= expected.c) break;
    m.lanes.push_back({ch, expected.at(m.y, m.x, ch), actual.at(m.y, m.x, ch)});
  }
  return m;
}

Mismatch counter_mismatch(std::string_view name, std::uint64_t expected, std::uint64_t actual) {
  Mismatch m;
  m.kind = MismatchKind::kCounter;
  m.counter = name;
  m.expected = expected;
  m.actual = actual;
  return m;
}

// Every counter of rtl/bsa_regs.def, from the generated list (a counter added there is compared).
#define BITSCALE_SCOREBOARD_COUNTER(name, index) std::pair{#name, &driver::Counters::name},
constexpr std::pair<const char*, std::uint64_t driver::Counters::*> kCounters[] = {
    BITSCALE_REGMAP_COUNTERS(BITSCALE_SCOREBOARD_COUNTER)};
#undef BITSCALE_SCOREBOARD_COUNTER

}  // namespace

std::string_view to_string(MismatchKind kind) {
  constexpr std::string_view kNames[] = {"shape", "word", "counter"};
  return kNames[static_cast<int>(kind)];
}

std::string Comparison::summary() const {
  if (ok()) return {};
  const auto& an = actual_name;
  const auto& bn = expected_name;
  if (expected_dims && actual_dims && !same_dims(*expected_dims, *actual_dims)) {
    const Dims& a = *actual_dims;
    const Dims& b = *expected_dims;
    return fmt::format("shape {}x{}x{} ({}) vs {}x{}x{} ({})", a.h, a.w, a.c, an, b.h, b.w, b.c, bn);
  }
  if (!expected_dims) {  // counters
    std::string s;
    for (const Mismatch& m : mismatches) s += fmt::format(" {} {}={} {}={}", m.counter, an, m.actual, bn, m.expected);
    return s.empty() ? s : s.substr(1);
  }
  const Mismatch& m = mismatches.front();
  std::string lanes;
  for (const Lane& l : m.lanes) lanes += fmt::format(" c{}:{}/{}", l.channel, l.actual, l.expected);
  return fmt::format(
      "{} of {} words differ; first at pixel (y={}, x={}) word {}: {} {:#06x} vs {} {:#06x} (lanes {}/{}:{})",
      differing, compared, m.y, m.x,
      m.word % golden::packed_words(static_cast<std::size_t>(expected_dims->c), expected_dims->mode), an, m.actual, bn,
      m.expected, an, bn, lanes);
}

Scoreboard::Scoreboard(std::optional<std::uint64_t> seed, std::size_t max_recorded)
    : seed_(seed), max_recorded_(std::max<std::size_t>(max_recorded, 1)) {}

Comparison& Scoreboard::begin(std::string_view what, Sides sides) {
  Comparison& c = comparisons_.emplace_back();
  c.what = what;
  c.expected_name = sides.expected;
  c.actual_name = sides.actual;
  return c;
}

bool Scoreboard::compare(std::string_view what, const PackedTensor& expected, const PackedTensor& actual, Sides sides) {
  Comparison& c = begin(what, sides);
  c.expected_dims = dims_of(expected);
  c.actual_dims = dims_of(actual);
  if (!same_dims(*c.expected_dims, *c.actual_dims) || expected.words.size() != actual.words.size()) {
    c.compared = c.differing = 1;
    c.mismatches.emplace_back().kind = MismatchKind::kShape;
    return false;
  }
  c.compared = expected.words.size();
  for (std::size_t i = 0; i < expected.words.size(); ++i) {
    if (expected.words[i] == actual.words[i]) continue;
    if (c.differing++ < max_recorded_) c.mismatches.push_back(word_mismatch(expected, actual, i));
  }
  return c.ok();
}

bool Scoreboard::compare(std::string_view what, const driver::Counters& expected, const driver::Counters& actual,
                         Sides sides) {
  Comparison& c = begin(what, sides);
  for (const auto& [name, field] : kCounters) {
    ++c.compared;
    if (expected.*field == actual.*field) continue;
    if (c.differing++ < max_recorded_) {
      c.mismatches.push_back(counter_mismatch(name, expected.*field, actual.*field));
    }
  }
  return c.ok();
}

bool Scoreboard::compare(std::string_view what, const driver::LayerGroupWidths& expected,
                         const driver::LayerGroupWidths& actual, Sides sides) {
  Comparison& c = begin(what, sides);
  if (expected.pixels != actual.pixels || expected.groups_per_pixel != actual.groups_per_pixel ||
      expected.width.size() != actual.width.size()) {
    c.compared = c.differing = 1;
    c.mismatches.push_back(counter_mismatch(
        "groups (pixels x groups per pixel)",
        static_cast<std::uint64_t>(expected.pixels) * static_cast<std::uint64_t>(expected.groups_per_pixel),
        static_cast<std::uint64_t>(actual.pixels) * static_cast<std::uint64_t>(actual.groups_per_pixel)));
    return false;
  }
  const auto gpp = static_cast<std::size_t>(std::max(expected.groups_per_pixel, 1));
  for (std::size_t i = 0; i < expected.width.size(); ++i) {
    ++c.compared;
    if (expected.width[i] == actual.width[i]) continue;
    if (c.differing++ < max_recorded_) {
      c.mismatches.push_back(counter_mismatch(fmt::format("width(pixel {}, group {})", i / gpp, i % gpp),
                                              expected.width[i], actual.width[i]));
    }
  }
  return c.ok();
}

bool Scoreboard::compare(std::string_view what, std::string_view name, std::uint64_t expected, std::uint64_t actual,
                         Sides sides) {
  Comparison& c = begin(what, sides);
  c.compared = 1;
  if (expected != actual) {
    c.differing = 1;
    c.mismatches.push_back(counter_mismatch(name, expected, actual));
  }
  return c.ok();
}

bool Scoreboard::ok() const { return mismatch_count() == 0; }

std::uint64_t Scoreboard::mismatch_count() const {
  std::uint64_t n = 0;
  for (const Comparison& c : comparisons_) n += c.differing;
  return n;
}

std::string Scoreboard::report() const {
  std::string r;
  if (seed_) r += fmt::format("seed {}\n", *seed_);
  for (const Comparison& c : comparisons_) {
    if (c.ok()) continue;
    r += fmt::format("{} ({} vs {}): matched {} of {}; {}\n", c.what, c.actual_name, c.expected_name,
                     c.compared - c.differing, c.compared, c.summary());
    for (const Mismatch& m : c.mismatches) {
      if (m.kind != MismatchKind::kWord) continue;
      r += fmt::format("  pixel (y={}, x={}) word {}: {} {:#06x}, {} {:#06x}", m.y, m.x, m.word, c.actual_name,
                       m.actual, c.expected_name, m.expected);
      for (const Lane& l : m.lanes) {
        if (l.actual != l.expected)
          r += fmt::format("; channel {}: {} {}, {} {}", l.channel, c.actual_name, l.actual, c.expected_name,
                           l.expected);
      }
      r += '\n';
    }
  }
  return r;
}

nlohmann::ordered_json Scoreboard::to_json() const {
  nlohmann::ordered_json j;
  j["seed"] = seed_ ? nlohmann::ordered_json(*seed_) : nlohmann::ordered_json(nullptr);
  j["ok"] = ok();
  j["mismatches"] = mismatch_count();
  auto& list = j["comparisons"] = nlohmann::ordered_json::array();
  for (const Comparison& c : comparisons_) {
    nlohmann::ordered_json jc{{"what", c.what},
                              {"expected", c.expected_name},
                              {"actual", c.actual_name},
                              {"compared", c.compared},
                              {"differing", c.differing}};
    if (!c.ok()) jc["summary"] = c.summary();
    auto& ms = jc["mismatches"] = nlohmann::ordered_json::array();
    for (const Mismatch& m : c.mismatches) {
      nlohmann::ordered_json jm{{"kind", to_string(m.kind)}};
      if (m.kind == MismatchKind::kWord) {
        jm["y"] = m.y;
        jm["x"] = m.x;
        jm["word"] = m.word;
        auto& lanes = jm["lanes"] = nlohmann::ordered_json::array();
        for (const Lane& l : m.lanes)
          lanes.push_back({{"channel", l.channel}, {"expected", l.expected}, {"actual", l.actual}});
      }
      if (m.kind == MismatchKind::kCounter) jm["counter"] = m.counter;
      if (m.kind != MismatchKind::kShape) {
        jm["expected"] = m.expected;
        jm["actual"] = m.actual;
      }
      ms.push_back(std::move(jm));
    }
    list.push_back(std::move(jc));
  }
  return j;
}

}  // namespace bitscale::dv
