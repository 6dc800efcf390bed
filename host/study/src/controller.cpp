#include "bitscale/study/controller.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace bitscale::study {

namespace {

constexpr int kConfigMember = 99;  // level_code of the per-layer configuration rung: bits * 100 + 99

golden::Mode mode_of_bits(int bits) {
  return bits == 16 ? golden::Mode::k16 : bits == 8 ? golden::Mode::k8 : golden::Mode::k4;
}

}  // namespace

Rung parse_rung(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return std::invalid_argument(fmt::format("ladder rung '{}': {} (expected 16, 8, 4, <bits>c<N> or 8s)", text, why));
  };
  std::size_t p = 0;
  while (p < text.size() && text[p] >= '0' && text[p] <= '9') ++p;
  Rung r;
  const std::string_view digits = text.substr(0, p);
  if (digits == "16")
    r.bits = 16;
  else if (digits == "8")
    r.bits = 8;
  else if (digits == "4")
    r.bits = 4;
  else
    throw bad("no bit-width 4, 8 or 16");
  const std::string_view rest = text.substr(p);
  if (rest.empty()) return r;
  if (rest == "s") {
    if (r.bits != 8) throw bad("the per-layer configuration is an 8-bit one");
    r.config = true;
    return r;
  }
  if (rest.size() < 2 || rest[0] != 'c') throw bad("unexpected text after the bit-width");
  int c = 0;
  for (const char ch : rest.substr(1)) {
    if (ch < '0' || ch > '9' || c > 100) throw bad("the family member is not a small number");
    c = 10 * c + (ch - '0');
  }
  const golden::Mode m = mode_of_bits(r.bits);
  if (c > golden::approx_family_max(m))
    throw bad(fmt::format("the {}-bit family has members 0 .. {}", r.bits, golden::approx_family_max(m)));
  r.c = c;
  return r;
}

std::string to_string(const Rung& r) {
  return r.config ? fmt::format("{}s", r.bits) : r.c ? fmt::format("{}c{}", r.bits, r.c) : fmt::format("{}", r.bits);
}

std::vector<Rung> parse_ladder(std::string_view text) {
  std::vector<Rung> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const Rung r = parse_rung(text.substr(start, comma - start));
    if (std::find(out.begin(), out.end(), r) != out.end())
      throw std::invalid_argument(fmt::format("ladder '{}': rung '{}' given twice", text, to_string(r)));
    out.push_back(r);
    start = comma + 1;
  }
  if (out.empty()) throw std::invalid_argument(fmt::format("ladder '{}': no rung", text));
  return out;
}

int level_code(const Rung& r) {
  if (r.exact()) return r.bits;
  return r.bits * 100 + (r.config ? kConfigMember : r.c);
}

Rung level_rung(int level) {
  if (std::find(kPrecisions.begin(), kPrecisions.end(), level) != kPrecisions.end()) return Rung{level, 0, false};
  const int bits = level / 100, member = level % 100;
  const bool known = std::find(kPrecisions.begin(), kPrecisions.end(), bits) != kPrecisions.end();
  if (known && member == kConfigMember && bits == 8) return Rung{bits, 0, true};
  if (known && member >= 1 && member <= golden::approx_family_max(mode_of_bits(bits))) return Rung{bits, member, false};
  throw std::invalid_argument(fmt::format("level {} is neither a bit-width 4, 8, 16 nor an Ax-BxP rung", level));
}

int level_bits(int level) { return level_rung(level).bits; }

bool level_exact(int level) { return level_rung(level).exact(); }

std::string level_name(int level) { return to_string(level_rung(level)); }

std::string level_label(int level) {
  const Rung r = level_rung(level);
  return r.exact() ? fmt::format("{}-bit", r.bits) : to_string(r);
}

std::string level_json(int level) {
  return level_exact(level) ? std::to_string(level) : util::json_string(level_name(level));
}

std::string levels_json(std::span<const int> levels) {
  std::string o = "[";
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (i) o += ',';
    o += level_json(levels[i]);
  }
  return o + "]";
}

int parse_level_json(const util::Json& v) {
  if (v.is_string()) return level_code(parse_rung(v.get<std::string>()));
  if (!v.is_number_integer())
    throw std::invalid_argument(fmt::format("level {} is not a bit-width or a rung", v.dump()));
  const int l = v.get<int>();
  (void)level_rung(l);  // throws for an int that is no level
  return l;
}

std::vector<int> parse_levels_json(const util::Json& v) {
  if (!v.is_array()) throw std::invalid_argument(fmt::format("levels {} are not an array", v.dump()));
  std::vector<int> out;
  for (const auto& e : v) out.push_back(parse_level_json(e));
  return out;
}

bool level_cheaper(int a, int b) {
  const auto key = [](int level) {
    const Rung r = level_rung(level);
    // Within a bit-width: family members by decreasing c (more skipped = cheaper), then the
    // per-layer configuration, then the exact level.
    const int within = r.exact() ? 1000 : r.config ? 500 : 100 - r.c;
    return r.bits * 10000 + within;
  };
  return key(a) < key(b);
}

Controller::Controller(std::vector<int> levels, double threshold) : levels_(std::move(levels)), threshold_(threshold) {
  if (levels_.empty()) throw std::invalid_argument("controller: no precision levels given");
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    const int b = levels_[i];
    try {
      (void)level_rung(b);
    } catch (const std::invalid_argument&) {
      throw std::invalid_argument(fmt::format(
          "controller: level {} is {}; levels must be 4, 8 or 16 bits or Ax-BxP rungs (8c1, 8s, ...)", i, b));
    }
    if (i > 0 && !level_cheaper(levels_[i - 1], b)) {
      throw std::invalid_argument(fmt::format("controller: levels must increase strictly in cost ({} after {})",
                                              level_name(b), level_name(levels_[i - 1])));
    }
  }
  if (!(threshold_ >= 0.0 && threshold_ <= 1.0)) {
    throw std::invalid_argument(fmt::format("controller: threshold {} is outside [0, 1]", threshold_));
  }
}

Decision Controller::decide(const std::function<double(int bits)>& run) const {
  Decision d;
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    const double m = run(levels_[i]);
    d.executed.push_back(levels_[i]);
    d.accepted_bits = levels_[i];
    d.margin = m;
    if (m >= threshold_) break;
  }
  return d;
}

Decision Controller::decide(std::span<const double> margins) const {
  if (margins.size() != levels_.size()) {
    throw std::invalid_argument(
        fmt::format("controller: {} margins given for {} levels", margins.size(), levels_.size()));
  }
  return decide([&](int bits) {
    for (std::size_t i = 0; i < levels_.size(); ++i) {
      if (levels_[i] == bits) return margins[i];
    }
    return 0.0;
  });
}

}  // namespace bitscale::study
