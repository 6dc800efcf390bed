#include "bitscale/dv/coverage.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <climits>

namespace bitscale::dv {

namespace {

// The coverpoints of one mode and their bins, in report order.
struct PointDef {
  const char* name;
  std::vector<std::string> bins;
};

std::vector<PointDef> point_defs(golden::Mode mode) {
  std::vector<std::string> lanes;
  for (int r = 0; r < golden::lanes(mode); ++r) lanes.push_back(std::to_string(r));
  return {
      {"kind", {"fc", "conv", "grouped", "depthwise"}},
      {"k", {"1", "2..64", "65..1024", "1025..90%_of_bank", "near_bank_limit"}},
      {"k_mod_lanes", lanes},
      {"rows", {"one_partial_tile", "whole_tiles", "ragged_last_tile"}},
      {"cols", {"one_partial_tile", "whole_tiles", "ragged_last_tile"}},
      {"shift", {"0", "1..15", "16..29", "30..47"}},
      {"relu", {"off", "on"}},
      {"clamp", {"off", "on"}},
      {"bias", {"none", "typical", "int32_extreme"}},
      {"shifts", {"per_layer", "per_channel"}},
      {"outputs", {"reach_min", "reach_max"}},
      {"tiles", {"1", "2..16", "17+"}},
  };
}

std::size_t mode_index(golden::Mode m) {
  return static_cast<std::size_t>(std::find(golden::kModes.begin(), golden::kModes.end(), m) - golden::kModes.begin());
}

// Rows or columns of a layer against the array size: one tile short of the size, whole tiles,
// or several tiles with a short last one.
std::string tiling_bin(int n, int size) {
  if (n < size) return "one_partial_tile";
  return n % size == 0 ? "whole_tiles" : "ragged_last_tile";
}

}  // namespace

int bank_k_limit(golden::Mode mode, int bank_words) { return bank_words * golden::lanes(mode); }

Coverage::Coverage(CoverGeometry g) : g_(g), sampled_(golden::kModes.size(), false) {
  for (const golden::Mode m : golden::kModes) {
    for (const PointDef& d : point_defs(m)) {
      CoverPoint p{m, d.name, {}};
      for (const std::string& b : d.bins) p.bins.push_back({b, 0});
      points_.push_back(std::move(p));
    }
  }
}

void Coverage::hit(golden::Mode mode, const std::string& point, const std::string& bin) {
  for (CoverPoint& p : points_) {
    if (p.mode != mode || p.name != point) continue;
    for (CoverBin& b : p.bins) {
      if (b.name == bin) {
        ++b.hits;
        return;
      }
    }
  }
  throw std::logic_error(fmt::format("coverage: no bin {} {}: {}", golden::to_string(mode), point, bin));
}

void Coverage::sample(const Case& c, const golden::PackedTensor& reference, const driver::Counters& counters) {
  const golden::Layer& l = c.layer;
  const golden::ConvShape& s = l.shape;
  const golden::Mode m = l.mode;
  sampled_[mode_index(m)] = true;
  hit(m, "kind", std::string(to_string(c.kind)));
  const int k = s.k(), limit = bank_k_limit(m, g_.bank_words);
  hit(m, "k",
      k == 1                    ? "1"
      : k <= 64                 ? "2..64"
      : k <= 1024               ? "65..1024"
      : 10LL * k <= 9LL * limit ? "1025..90%_of_bank"
                                : "near_bank_limit");
  hit(m, "k_mod_lanes", std::to_string(k % golden::lanes(m)));
  hit(m, "rows", tiling_bin(s.out_h() * s.out_w(), g_.rows));
  hit(m, "cols", tiling_bin(s.out_c, g_.cols));
  const auto shift_bin = [](int sh) { return sh == 0 ? "0" : sh <= 15 ? "1..15" : sh <= 29 ? "16..29" : "30..47"; };
  if (l.channel_shift.empty()) {
    hit(m, "shift", shift_bin(l.out.shift));
    hit(m, "shifts", "per_layer");
  } else {
    for (const int sh : l.channel_shift) hit(m, "shift", shift_bin(sh));
    hit(m, "shifts", "per_channel");
  }
  hit(m, "relu", l.out.relu ? "on" : "off");
  hit(m, "clamp", l.out.clamp ? "on" : "off");
  const bool extreme =
      std::any_of(l.bias.begin(), l.bias.end(), [](std::int32_t b) { return b == INT32_MIN || b == INT32_MAX; });
  hit(m, "bias", l.bias.empty() ? "none" : extreme ? "int32_extreme" : "typical");
  const std::vector<std::int32_t> v = reference.values();
  if (std::find(v.begin(), v.end(), golden::min_value(m)) != v.end()) hit(m, "outputs", "reach_min");
  if (std::find(v.begin(), v.end(), golden::max_value(m)) != v.end()) hit(m, "outputs", "reach_max");
  hit(m, "tiles", counters.tiles <= 1 ? "1" : counters.tiles <= 16 ? "2..16" : "17+");
}

std::size_t Coverage::bins() const {
  std::size_t n = 0;
  for (const CoverPoint& p : points_)
    if (sampled_[mode_index(p.mode)]) n += p.bins.size();
  return n;
}

std::size_t Coverage::hit() const {
  std::size_t n = 0;
  for (const CoverPoint& p : points_) {
    if (!sampled_[mode_index(p.mode)]) continue;
    n += static_cast<std::size_t>(
        std::count_if(p.bins.begin(), p.bins.end(), [](const CoverBin& b) { return b.hits > 0; }));
  }
  return n;
}

std::vector<std::string> Coverage::holes() const {
  std::vector<std::string> out;
  for (const CoverPoint& p : points_) {
    if (!sampled_[mode_index(p.mode)]) continue;
    for (const CoverBin& b : p.bins)
      if (b.hits == 0) out.push_back(fmt::format("{} {}: {}", golden::to_string(p.mode), p.name, b.name));
  }
  return out;
}

std::string Coverage::report() const {
  std::string s = fmt::format("coverage: {} of {} bins\n", hit(), bins());
  const std::vector<std::string> h = holes();
  if (!h.empty()) s += fmt::format("holes: {}\n", fmt::join(h, "; "));
  return s;
}

nlohmann::ordered_json Coverage::to_json() const {
  nlohmann::ordered_json j = {{"bins", bins()}, {"hit", hit()}, {"holes", holes()}};
  nlohmann::ordered_json points = nlohmann::ordered_json::array();
  for (const CoverPoint& p : points_) {
    if (!sampled_[mode_index(p.mode)]) continue;
    nlohmann::ordered_json bins = nlohmann::ordered_json::object();
    for (const CoverBin& b : p.bins) bins[b.name] = b.hits;
    points.push_back({{"mode", golden::bits(p.mode)}, {"point", p.name}, {"bins", std::move(bins)}});
  }
  j["points"] = std::move(points);
  return j;
}

}  // namespace bitscale::dv
