// Characterization and threshold sweep of the dynamic bit-width study, computed from records.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "bitscale/study/characterize.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/sweep.hpp"

namespace bitscale::study {

FloatBaseline float_correct(const std::vector<ImageRecord>& records, bool top5,
                            const std::function<void(const std::string&)>& warn) {
  FloatBaseline b;
  for (const auto& r : records) {
    if (!r.ok()) {
      ++b.errors;
      if (warn) warn(fmt::format("{}: {}", r.file, r.error));
      continue;
    }
    if (!r.label) ++b.unlabelled;
    if (!r.label || !r.fp) continue;
    ++b.labelled;
    if (top5 ? r.fp->correct5 : r.fp->correct1) {
      b.kept.push_back(r.file);
      b.runs[r.file] = *r.fp;
    }
  }
  return b;
}

std::optional<int> min_bits(const ImageRecord& r, std::span<const int> levels, bool top5) {
  std::optional<int> best;
  for (auto it = levels.rbegin(); it != levels.rend(); ++it) {
    const auto lv = r.levels.find(*it);
    if (lv == r.levels.end())
      throw std::invalid_argument(fmt::format("{}: no {} run recorded", r.file, level_label(*it)));
    const bool ok = top5 ? lv->second.correct5 : lv->second.correct1;
    if (!ok) break;
    best = *it;
  }
  return best;
}

std::vector<std::size_t> merge_small_bars(std::span<const std::size_t> counts, std::size_t total, double min_fraction) {
  std::vector<std::size_t> m(counts.begin(), counts.end());
  if (total == 0) return m;
  for (std::size_t i = 0; i + 1 < m.size(); ++i) {
    if (static_cast<double>(m[i]) < min_fraction * static_cast<double>(total)) {
      m[i + 1] += m[i];
      m[i] = 0;
    }
  }
  return m;
}

MarginStats margin_stats(std::span<const double> v) {
  MarginStats s;
  s.n = v.size();
  if (v.empty()) return s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  if (v.size() < 2) return s;
  double sq = 0;
  for (double x : v) sq += (x - s.mean) * (x - s.mean);
  s.stddev = std::sqrt(sq / static_cast<double>(v.size()));
  return s;
}

Characterization characterize(const std::vector<ImageRecord>& records, std::vector<int> levels, bool top5) {
  std::sort(levels.begin(), levels.end(), level_cheaper);
  if (levels.empty()) throw std::invalid_argument("characterization: no levels");
  Characterization c;
  c.levels = levels;
  c.top5 = top5;
  c.raw.assign(levels.size(), 0);
  std::map<std::pair<int, Metric>, std::vector<double>> easy_conf, difficult_conf;  // per (level, metric)
  for (const auto& r : records) {
    if (!r.ok()) continue;
    ++c.images;
    const auto mb = min_bits(r, levels, top5);
    if (!mb) {
      ++c.none;
    } else {
      c.raw[static_cast<std::size_t>(std::find(levels.begin(), levels.end(), *mb) - levels.begin())]++;
    }
    for (int b : levels) {
      const RunRecord& run = r.levels.at(b);
      const bool easy = top5 ? run.correct5 : run.correct1;
      (easy ? c.easy_margins : c.difficult_margins)[b].push_back(run.margin);
      for (const Metric m : kSeparationMetrics)
        (easy ? easy_conf : difficult_conf)[{b, m}].push_back(confidence(run, m));
      if (run.margin == 0) ++c.ties[b];
    }
  }
  c.merged = merge_small_bars(c.raw, c.images);
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (c.merged[i] > 0 || i + 1 == levels.size()) c.configurations.push_back(levels[i]);
  }
  for (int b : levels) {
    c.easy[b] = margin_stats(c.easy_margins[b]);
    c.difficult[b] = margin_stats(c.difficult_margins[b]);
    for (const Metric m : kSeparationMetrics) c.separation[b][m] = auroc(easy_conf[{b, m}], difficult_conf[{b, m}]);
    c.ties.try_emplace(b, 0);
  }
  return c;
}

std::vector<const ImageRecord*> sweep_records(const std::vector<ImageRecord>& records, std::span<const int> levels) {
  std::vector<const ImageRecord*> out;
  for (const auto& r : records) {
    if (!r.ok() || !r.label || !r.fp) continue;
    bool all = r.levels.contains(16) && r.levels.at(16).counters;
    for (int b : levels) all = all && r.levels.contains(b) && r.levels.at(b).counters;
    if (all) out.push_back(&r);
  }
  return out;
}

double float_top1(const SweepInput& in) {
  if (in.records.empty()) return 0;
  std::size_t c = 0;
  for (const auto* r : in.records) c += r->fp->correct1;
  return 100.0 * static_cast<double>(c) / static_cast<double>(in.records.size());
}

double static16_energy_pj(const SweepInput& in) {
  double e = 0;
  for (const auto* r : in.records) e += energy_pj(r->levels.at(16), in.table);
  return e;
}

StaticPoint evaluate_static(const SweepInput& in, int bits) {
  StaticPoint p;
  p.bits = bits;
  for (const auto* r : in.records) {
    const RunRecord& run = r->levels.at(bits);
    p.correct += run.correct1;
    p.energy_pj += energy_pj(run, in.table);
  }
  const double n = static_cast<double>(std::max<std::size_t>(in.records.size(), 1));
  p.top1 = 100.0 * static_cast<double>(p.correct) / n;
  p.drop = float_top1(in) - p.top1;
  const double e16 = static16_energy_pj(in);
  p.energy_rel = e16 > 0 ? p.energy_pj / e16 : 0;
  return p;
}

namespace {
SweepPoint evaluate_with(const SweepInput& in, double threshold, double ftop1, double e16) {
  const Controller ctl(in.levels, threshold);
  SweepPoint p;
  p.threshold = threshold;
  p.images = in.records.size();
  p.accepted.assign(in.levels.size(), 0);
  std::vector<double> margins(in.levels.size());
  std::size_t runs = 0;
  for (const auto* r : in.records) {
    for (std::size_t i = 0; i < in.levels.size(); ++i) margins[i] = confidence(r->levels.at(in.levels[i]), in.metric);
    const Decision d = ctl.decide(margins);
    for (int b : d.executed) p.energy_pj += energy_pj(r->levels.at(b), in.table);
    runs += d.executed.size();
    p.correct += r->levels.at(d.accepted_bits).correct1;
    p.accepted[static_cast<std::size_t>(std::find(in.levels.begin(), in.levels.end(), d.accepted_bits) -
                                        in.levels.begin())]++;
  }
  const double n = static_cast<double>(std::max<std::size_t>(p.images, 1));
  p.top1 = 100.0 * static_cast<double>(p.correct) / n;
  p.drop = ftop1 - p.top1;
  p.energy_rel = e16 > 0 ? p.energy_pj / e16 : 0;
  p.runs_per_image = static_cast<double>(runs) / n;
  return p;
}
}  // namespace

SweepPoint evaluate(const SweepInput& in, double threshold) {
  return evaluate_with(in, threshold, float_top1(in), static16_energy_pj(in));
}

std::vector<double> grid(double lo, double hi, double step) {
  if (!(step > 0) || hi < lo) throw std::invalid_argument("threshold grid: need step > 0 and hi >= lo");
  const auto n = static_cast<long>(std::floor((hi - lo) / step + 1e-9));
  std::vector<double> g;
  for (long i = 0; i <= n; ++i) g.push_back(std::min(hi, lo + static_cast<double>(i) * step));
  if (g.back() < hi - 1e-12) g.push_back(hi);
  return g;
}

std::optional<SweepPoint> search_threshold(const SweepInput& in, double max_drop) {
  std::vector<double> cand{0.0};
  for (const auto* r : in.records) {
    for (std::size_t i = 0; i + 1 < in.levels.size(); ++i) {
      const double m = confidence(r->levels.at(in.levels[i]), in.metric);
      const double t = std::nextafter(m, 2.0);
      if (t <= 1.0 && t > 0.0) cand.push_back(t);
    }
  }
  std::sort(cand.begin(), cand.end());
  cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
  const double ftop1 = float_top1(in), e16 = static16_energy_pj(in);
  for (double t : cand) {
    SweepPoint p = evaluate_with(in, t, ftop1, e16);
    if (p.drop <= max_drop + 1e-9) return p;
  }
  return std::nullopt;
}

std::vector<int> parse_levels(const std::string& text) {
  std::vector<int> levels;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    int b = 0;
    const bool digits =
        !item.empty() && std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      try {
        b = std::stoi(item);
      } catch (const std::exception&) {
        throw std::invalid_argument(fmt::format("levels '{}': '{}' is not a bit-width", text, item));
      }
      if (std::find(kPrecisions.begin(), kPrecisions.end(), b) == kPrecisions.end())
        throw std::invalid_argument(fmt::format("levels '{}': {} is not {}", text, b, fmt::join(kPrecisions, ", ")));
    } else {
      try {
        b = level_code(parse_rung(item));  // an Ax-BxP rung: 8c1, 8s, ... (docs/AXBXP.md)
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(
            fmt::format("levels '{}': '{}' is not a bit-width or an Ax-BxP rung: {}", text, item, e.what()));
      }
    }
    if (!levels.empty() && !level_cheaper(levels.back(), b)) {
      throw std::invalid_argument(fmt::format(
          "levels '{}': bit-widths must increase (Ax-BxP rungs of a bit-width before its exact level, e.g. 8c1,8,16)",
          text));
    }
    levels.push_back(b);
  }
  if (levels.size() < 1) throw std::invalid_argument(fmt::format("levels '{}': none given", text));
  return levels;
}

}  // namespace bitscale::study
