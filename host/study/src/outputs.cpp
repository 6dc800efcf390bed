// Outputs of the dynamic bit-width study: JSON, CSV, SVG charts and Markdown fragments.
#include "bitscale/study/outputs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <ranges>

#include "bitscale/report/svg.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::study {

namespace svg = report::svg;
using util::read_file;
using util::write_file;
namespace {

namespace fs = std::filesystem;

// A threshold so that tiny values stay visible (4.9e-324 is not "0.0000").
std::string threshold_text(double t) { return fmt::format("{:.4g}", t); }

std::string bits_name(int b) { return level_label(b); }

std::string levels_name(const std::vector<int>& l) {
  std::string o;
  for (std::size_t i = 0; i < l.size(); ++i) o += (i ? "→" : "") + level_name(l[i]);
  return o;
}

std::string counts_json(const std::vector<int>& levels, const std::vector<std::size_t>& c, std::size_t none) {
  std::string o = "{";
  for (std::size_t i = 0; i < levels.size(); ++i)
    o += fmt::format("{}:{},", util::json_string(level_name(levels[i])), c[i]);
  return o + fmt::format("\"none\":{}}}", none);
}

double pct(std::size_t a, std::size_t n) { return n ? 100.0 * static_cast<double>(a) / static_cast<double>(n) : 0.0; }

std::string stats_cell(const MarginStats& s) {
  return s.n ? fmt::format("{:.3f} ± {:.3f} (n = {})", s.mean, s.stddev, s.n) : "— (n = 0)";
}

std::string point_json(const SweepPoint& p) {
  std::string acc = "[";
  for (std::size_t i = 0; i < p.accepted.size(); ++i) {
    if (i) acc += ',';
    acc += std::to_string(p.accepted[i]);
  }
  acc += "]";
  return fmt::format(
      "{{\"threshold\":{:.9g},\"images\":{},\"correct\":{},\"top1\":{:.4f},\"drop_pp\":{:.4f},\"energy_pj\":{:.6g},"
      "\"energy_rel_16\":{:.6f},\"saving_vs_16\":{:.6f},\"accepted_per_level\":{},\"runs_per_image\":{:.4f}}}",
      p.threshold, p.images, p.correct, p.top1, p.drop, p.energy_pj, p.energy_rel, 1.0 - p.energy_rel, acc,
      p.runs_per_image);
}

}  // namespace

namespace {

/// The AUROC of metric `m` at level `b` (nullopt when a class is empty or it was not computed).
std::optional<double> separation(const Characterization& c, int b, Metric m) {
  const auto it = c.separation.find(b);
  if (it == c.separation.end()) return std::nullopt;
  const auto jt = it->second.find(m);
  return jt == it->second.end() ? std::nullopt : jt->second;
}
/// Exact top-1/top-2 ties at level `b` (0 when not computed).
std::size_t ties(const Characterization& c, int b) { return c.ties.contains(b) ? c.ties.at(b) : 0; }

/// An AUROC in JSON: a number, or null when a class is empty.
std::string auroc_json(const std::optional<double>& a) { return a ? fmt::format("{:.6f}", *a) : "null"; }
/// An AUROC in a table: 3 decimals, or n/a when a class is empty.
std::string auroc_cell(const std::optional<double>& a) { return a ? fmt::format("{:.3f}", *a) : "n/a"; }

std::string characterization_json(const Characterization& c) {
  const auto& L = c.levels;
  std::string j = fmt::format("{{\"format\":\"bitscale-characterization-1\",\"levels\":{},\"criterion\":\"{}\",",
                              levels_json(L), c.top5 ? "top5" : "top1");
  j += fmt::format("\"images\":{},\"histogram\":{},\"histogram_merged\":{},\"configurations\":{},", c.images,
                   counts_json(L, c.raw, c.none), counts_json(L, c.merged, c.none), levels_json(c.configurations));
  j += "\"score_margin\":{";
  for (std::size_t i = 0; i < L.size(); ++i) {
    const auto& e = c.easy.at(L[i]);
    const auto& d = c.difficult.at(L[i]);
    j += fmt::format(
        "{}\"{}\":{{\"easy\":{{\"n\":{},\"mean\":{:.6f},\"std\":{:.6f}}},\"difficult\":{{\"n\":{},\"mean\":{:.6f},"
        "\"std\":{:.6f}}}}}",
        i ? "," : "", level_name(L[i]), e.n, e.mean, e.stddev, d.n, d.mean, d.stddev);
  }
  j += "},\"separation_auroc\":{";
  for (std::size_t i = 0; i < L.size(); ++i) {
    j += fmt::format("{}\"{}\":{{", i ? "," : "", level_name(L[i]));
    for (std::size_t k = 0; k < kSeparationMetrics.size(); ++k) {
      const Metric m = kSeparationMetrics[k];
      j += fmt::format("{}\"{}\":{}", k ? "," : "", to_string(m), auroc_json(separation(c, L[i], m)));
    }
    j += "}";
  }
  j += "},\"top1_top2_ties\":{";
  for (std::size_t i = 0; i < L.size(); ++i)
    j += fmt::format("{}\"{}\":{}", i ? "," : "", level_name(L[i]), ties(c, L[i]));
  j += "}}\n";
  return j;
}

std::string histogram_csv(const Characterization& c) {
  const auto& L = c.levels;
  std::string h = "min_bits,images,fraction,merged_images,merged_fraction\n";
  for (std::size_t i = 0; i < L.size(); ++i) {
    h += fmt::format("{},{},{:.6f},{},{:.6f}\n", level_name(L[i]), c.raw[i], pct(c.raw[i], c.images) / 100, c.merged[i],
                     pct(c.merged[i], c.images) / 100);
  }
  h += fmt::format("none,{},{:.6f},{},{:.6f}\n", c.none, pct(c.none, c.images) / 100, c.none,
                   pct(c.none, c.images) / 100);
  return h;
}

std::string margins_csv(const Characterization& c) {
  std::string m = "bits,class,n,mean,std\n";
  for (int b : c.levels) {
    m += fmt::format("{},easy,{},{:.6f},{:.6f}\n", level_name(b), c.easy.at(b).n, c.easy.at(b).mean,
                     c.easy.at(b).stddev);
    m += fmt::format("{},difficult,{},{:.6f},{:.6f}\n", level_name(b), c.difficult.at(b).n, c.difficult.at(b).mean,
                     c.difficult.at(b).stddev);
  }
  return m;
}

}  // namespace

std::string bitwidth_histogram_svg(const std::vector<int>& levels, const std::vector<std::size_t>& raw,
                                   const std::vector<std::size_t>& merged, std::size_t none, std::size_t images) {
  if (raw.size() != levels.size() || merged.size() != levels.size())
    throw std::invalid_argument(fmt::format("minimum bit-width histogram: {} levels but {} raw and {} merged counts",
                                            levels.size(), raw.size(), merged.size()));
  svg::BarChart bc;
  bc.title = fmt::format("Minimum bit-width per image ({} float-correct images)", images);
  bc.x_label = "minimum bit-width (none: wrong at every bit-width)";
  bc.y_label = "% of images";
  bc.groups = {{"raw", {}}, {"after merging bars < 1 %", {}}};
  bc.size = {700, 470};  // tall enough for ticks every 20 %
  for (std::size_t i = 0; i < levels.size(); ++i) {
    bc.categories.push_back(bits_name(levels[i]));
    bc.groups[0].values.push_back(pct(raw[i], images));
    bc.groups[1].values.push_back(pct(merged[i], images));
  }
  bc.categories.push_back("none");
  bc.groups[0].values.push_back(pct(none, images));
  bc.groups[1].values.push_back(pct(none, images));
  return svg::bar_chart(bc);
}

namespace {

/// Score margins of easy and difficult images at `b` bits.
std::string margins_svg(const Characterization& c, int b) {
  svg::Histogram sh;
  sh.title = fmt::format("Score margin at {} bits: easy vs difficult images", b);
  sh.x_label = "score margin P(top1) - P(top2)";
  sh.y_label = "fraction of images";
  sh.names = {fmt::format("easy (correct at {} bits, n={})", b, c.easy.at(b).n),
              fmt::format("difficult (n={})", c.difficult.at(b).n)};
  sh.samples = {c.easy_margins.count(b) ? c.easy_margins.at(b) : std::vector<double>{},
                c.difficult_margins.count(b) ? c.difficult_margins.at(b) : std::vector<double>{}};
  return svg::histogram(sh);
}

std::string characterization_markdown(const Characterization& c, const std::string& context) {
  const auto& L = c.levels;
  std::string md = "## Characterization\n\n" + context + "\n\n";
  md += "| minimum bit-width | images | % | after merging bars < 1 % | % |\n|---|---|---|---|---|\n";
  for (std::size_t i = 0; i < L.size(); ++i) {
    md += fmt::format("| {} | {} | {:.1f} | {} | {:.1f} |\n", bits_name(L[i]), c.raw[i], pct(c.raw[i], c.images),
                      c.merged[i], pct(c.merged[i], c.images));
  }
  md += fmt::format("| none (wrong at {} bits) | {} | {:.1f} | {} | {:.1f} |\n\n", L.back(), c.none,
                    pct(c.none, c.images), c.none, pct(c.none, c.images));
  md += fmt::format("Configurations kept: {} bits.\n\n", levels_name(c.configurations));
  md += "Score margin SM = P(top1) - P(top2) at each bit-width, mean ± standard deviation; easy = correct (" +
        std::string(c.top5 ? "top-5" : "top-1") + ") at that bit-width, difficult = the others:\n\n";
  md += "| bit-width | easy | difficult |\n|---|---|---|\n";
  for (int b : L)
    md += fmt::format("| {} | {} | {} |\n", bits_name(b), stats_cell(c.easy.at(b)), stats_cell(c.difficult.at(b)));
  md +=
      "\nHow well each confidence metric separates the easy images from the difficult ones at each "
      "bit-width: AUROC, the probability that a random easy image has a higher confidence than a random "
      "difficult one (ties count 1/2; 1 = perfectly separated, 0.5 = no better than chance; n/a when a class "
      "is empty). Confidence: score margin P(top1) - P(top2), top-1 probability, and 1 - normalised entropy. "
      "Ties: images whose top-1 and top-2 probabilities are exactly equal (score margin 0).\n\n";
  md +=
      "| bit-width | AUROC margin | AUROC max-prob | AUROC entropy | exact top-1/top-2 ties |\n"
      "|---|---|---|---|---|\n";
  for (int b : L) {
    md +=
        fmt::format("| {} | {} | {} | {} | {} of {} |\n", bits_name(b),
                    auroc_cell(separation(c, b, Metric::kScoreMargin)), auroc_cell(separation(c, b, Metric::kMaxProb)),
                    auroc_cell(separation(c, b, Metric::kEntropy)), ties(c, b), c.images);
  }
  md += "\n![minimum bit-width histogram](bitwidth_histogram.svg)\n\n";
  for (int b : L) md += fmt::format("![score margins at {} bits](sm_{}.svg)\n\n", level_name(b), level_name(b));
  return md;
}

}  // namespace

void write_characterization(const std::string& dir, const Characterization& c, const std::string& context) {
  fs::create_directories(dir);
  write_file(dir + "/characterization.json", characterization_json(c));
  write_file(dir + "/histogram.csv", histogram_csv(c));
  write_file(dir + "/margins.csv", margins_csv(c));
  write_file(dir + "/bitwidth_histogram.svg", bitwidth_histogram_svg(c.levels, c.raw, c.merged, c.none, c.images));
  for (int b : c.levels) write_file(dir + fmt::format("/sm_{}.svg", level_name(b)), margins_svg(c, b));
  write_file(dir + "/summary.md", characterization_markdown(c, context));
}

SweepSummary summarize_sweep(const SweepInput& in, double max_drop, double step,
                             const std::vector<std::vector<int>>& extra_level_sets) {
  SweepSummary s;
  s.in = in;
  s.max_drop = max_drop;
  for (double t : grid(0.0, 1.0, step)) s.curve.push_back(evaluate(in, t));
  // Every exact precision and every Ax-BxP rung of the levels run alone, in cost order.
  std::vector<int> alone(kPrecisions.begin(), kPrecisions.end());
  for (const int b : in.levels) {
    if (!level_exact(b)) alone.push_back(b);
  }
  std::sort(alone.begin(), alone.end(), level_cheaper);
  for (const int b : alone) s.statics.push_back(evaluate_static(in, b));
  s.dynamic.emplace_back(in.levels, search_threshold(in, max_drop));
  for (const auto& l : extra_level_sets) {
    if (l == in.levels) continue;
    SweepInput other = in;
    other.levels = l;
    s.dynamic.emplace_back(l, search_threshold(other, max_drop));
  }
  return s;
}

std::string headline_table(const SweepSummary& s) {
  const double ft = float_top1(s.in);
  std::string o = fmt::format(
      "| scheme | T_h | top-1 | top-1 drop vs float | energy vs static 16-bit | energy saving vs static 16-bit |\n"
      "|:---|---:|---:|---:|---:|---:|\n| float | — | {:.2f} % | 0 | — | — |\n",
      ft);
  for (auto it = s.statics.rbegin(); it != s.statics.rend(); ++it) {
    o += fmt::format("| static {} | — | {:.2f} % | {:.2f} pp | {:.1f} % | {:.1f} % |\n", level_label(it->bits),
                     it->top1, it->drop, 100 * it->energy_rel, 100 * (1 - it->energy_rel));
  }
  if (s.selected && s.selected_stats) {
    const Selection& sel = *s.selected;
    const ControllerStats& st = *s.selected_stats;
    o += fmt::format(
        "| **policy** dynamic {} ({}, T_h: smallest with the {:.0f} % upper bound of the drop ≤ {} pp{}) | {} | {} % | "
        "{} pp (upper bound {:.2f}) | {:.1f} % | **{} %** |\n",
        levels_name(s.in.levels), to_string(s.in.metric), 100 * st.level, s.max_drop,
        sel.qualified ? "" : "; none met it: every image escalates", threshold_text(sel.threshold), with_ci(st.top1),
        with_ci(st.drop_pp), sel.drop_upper_pp, 100 - st.saving_pct.value, with_ci(st.saving_pct, 1));
  }
  for (const auto& [levels, p] : s.dynamic) {
    if (p) {
      o += fmt::format(
          "| dynamic {} (smallest T_h with drop ≤ {} pp, chosen on the same images (optimistic)) | {} | {:.2f} % | "
          "{:.2f} pp | {:.1f} % | {:.1f} % |\n",
          levels_name(levels), s.max_drop, threshold_text(p->threshold), p->top1, p->drop, 100 * p->energy_rel,
          100 * (1 - p->energy_rel));
    } else {
      o += fmt::format("| dynamic {} | no T_h reaches drop ≤ {} pp | | | | |\n", levels_name(levels), s.max_drop);
    }
  }
  o += "| paper: CaffeNet, dynamic 8→16 (Jahier Pagliari et al., ISLPED 2018, Table 2 and Fig. 7) | — | — | 0.89 pp | "
       "50.8 % | 49.2 % |\n";
  return o;
}

namespace {

std::string sweep_json(const SweepSummary& s) {
  const double ft = float_top1(s.in);
  std::string j = fmt::format(
      "{{\"format\":\"bitscale-sweep-1\",\"levels\":{},\"images\":{},\"energy_table\":{},\"float_top1\":{:.4f},"
      "\"static16_energy_pj\":{:.6g},\"max_drop_pp\":{},\"static\":[",
      levels_json(s.in.levels), s.in.records.size(), util::json_string(s.in.table.source), ft, static16_energy_pj(s.in),
      s.max_drop);
  for (std::size_t i = 0; i < s.statics.size(); ++i) {
    const auto& p = s.statics[i];
    j += fmt::format(
        "{}{{\"bits\":{},\"correct\":{},\"top1\":{:.4f},\"drop_pp\":{:.4f},\"energy_pj\":{:.6g},"
        "\"energy_rel_16\":{:.6f},\"saving_vs_16\":{:.6f}}}",
        i ? "," : "", level_json(p.bits), p.correct, p.top1, p.drop, p.energy_pj, p.energy_rel, 1 - p.energy_rel);
  }
  j += "],\"dynamic\":[";
  for (std::size_t i = 0; i < s.dynamic.size(); ++i) {
    const auto& [levels, p] = s.dynamic[i];
    j += fmt::format("{}{{\"levels\":{},\"chosen\":{}}}", i ? "," : "", levels_json(levels),
                     p ? point_json(*p) : "null");
  }
  j += "]";
  if (s.selected) {
    j += fmt::format(
        ",\"policy\":{{\"metric\":\"{}\",\"threshold\":{:.17g},\"qualified\":{},\"drop_upper_pp\":{:.6f},"
        "\"point\":{}}}",
        to_string(s.in.metric), s.selected->threshold, s.selected->qualified, s.selected->drop_upper_pp,
        point_json(s.selected->point));
  }
  j += ",\"curve\":[";
  for (std::size_t i = 0; i < s.curve.size(); ++i) j += (i ? ",\n" : "\n") + point_json(s.curve[i]);
  j += "]}\n";
  return j;
}

std::string thresholds_csv(const SweepSummary& s) {
  std::string csv = "threshold,top1,drop_pp,energy_rel_16,saving_vs_16,runs_per_image";
  for (int b : s.in.levels) csv += fmt::format(",accepted_{}", level_name(b));
  csv += "\n";
  for (const auto& p : s.curve) {
    csv += fmt::format("{:.4f},{:.4f},{:.4f},{:.6f},{:.6f},{:.4f}", p.threshold, p.top1, p.drop, p.energy_rel,
                       1 - p.energy_rel, p.runs_per_image);
    for (auto a : p.accepted) csv += fmt::format(",{}", a);
    csv += "\n";
  }
  return csv;
}

std::string table_csv(const SweepSummary& s) {
  const double ft = float_top1(s.in);
  std::string t =
      "scheme,levels,threshold,top1,drop_pp,energy_rel_16,saving_vs_16\nfloat,,," + fmt::format("{:.4f},0,,\n", ft);
  for (const auto& p : s.statics) {
    t += fmt::format("static,{},,{:.4f},{:.4f},{:.6f},{:.6f}\n", level_name(p.bits), p.top1, p.drop, p.energy_rel,
                     1 - p.energy_rel);
  }
  for (const auto& [levels, p] : s.dynamic) {
    const std::string ln = fmt::format("{}", fmt::join(levels | std::views::transform(level_name), "-"));
    if (p) {
      t += fmt::format("dynamic,{},{:.9g},{:.4f},{:.4f},{:.6f},{:.6f}\n", ln, p->threshold, p->top1, p->drop,
                       p->energy_rel, 1 - p->energy_rel);
    } else {
      t += fmt::format("dynamic,{},,,,,\n", ln);
    }
  }
  t += "paper-caffenet,8-16,,,0.89,0.508,0.492\n";
  return t;
}

std::string accuracy_energy_svg(const SweepSummary& s) {
  const double ft = float_top1(s.in);
  svg::LineChart lc;
  lc.title = fmt::format("Dynamic {} bits: top-1 and energy vs threshold ({} images)", levels_name(s.in.levels),
                         s.in.records.size());
  lc.x_label = fmt::format("threshold T_h on the confidence ({})", to_string(s.in.metric));
  lc.y_label = "top-1 (%)";
  lc.y2_label = "energy vs static 16-bit (%)";
  svg::Series acc{.name = "dynamic top-1 (%)", .markers = false};
  svg::Series flt{.name = "float top-1 (%)", .markers = false};
  svg::Series en{.name = "energy vs static 16-bit (%)", .right_axis = true, .markers = false};
  for (const auto& p : s.curve) {
    acc.x.push_back(p.threshold);
    acc.y.push_back(p.top1);
    flt.x.push_back(p.threshold);
    flt.y.push_back(ft);
    en.x.push_back(p.threshold);
    en.y.push_back(100 * p.energy_rel);
  }
  lc.series = {acc, flt, en};
  if (s.dynamic.front().second) {
    lc.vlines.emplace_back(s.dynamic.front().second->threshold,
                           fmt::format("T_h = {} (drop ≤ {} pp on these images)",
                                       threshold_text(s.dynamic.front().second->threshold), s.max_drop));
  }
  return svg::line_chart(lc);
}

std::string sm_eval_svg(const SweepSummary& s) {
  // Score margins at the lowest level of the evaluation images: correct vs wrong there.
  const int low = s.in.levels.front();
  std::vector<double> easy, hard;
  for (const auto* r : s.in.records) {
    const auto& run = r->levels.at(low);
    (run.correct1 ? easy : hard).push_back(confidence(run, s.in.metric));
  }
  svg::Histogram sh;
  sh.title = fmt::format("Confidence ({}) at {} bits on the evaluation images", to_string(s.in.metric), low);
  sh.x_label = fmt::format("confidence ({})", to_string(s.in.metric));
  sh.y_label = "fraction of images";
  sh.names = {fmt::format("correct at {} bits (n={})", low, easy.size()), fmt::format("wrong (n={})", hard.size())};
  sh.samples = {easy, hard};
  return svg::histogram(sh);
}

std::string sweep_markdown(const SweepSummary& s, const std::string& context) {
  std::string md = "## Threshold sweep\n\n" + context + "\n\n" + headline_table(s) + "\n";
  md +=
      "Energy: sum over the executions each image needed of its counters' MACs per mode times the energy "
      "table (" +
      s.in.table.source +
      "). Top-1 drop in percentage points against the float network on the "
      "same images. Thresholds evaluated from the recorded confidences (" +
      to_string(s.in.metric) + ", no re-running).\n\n";
  md += "| T_h | top-1 | drop (pp) | energy vs 16-bit | runs/image |\n|---|---|---|---|---|\n";
  for (const auto& p : s.curve) {
    const long k = std::lround(p.threshold * 1000);
    if (k % 100 == 0 || k == 50 || k == 950 || k == 990) {
      md += fmt::format("| {:.2f} | {:.2f} % | {:.2f} | {:.1f} % | {:.2f} |\n", p.threshold, p.top1, p.drop,
                        100 * p.energy_rel, p.runs_per_image);
    }
  }
  md += "\n![top-1 and energy vs threshold](accuracy_energy.svg)\n\n![score margins](sm_eval.svg)\n\n";
  return md;
}

}  // namespace

void write_sweep(const std::string& dir, const SweepSummary& s, const std::string& context) {
  fs::create_directories(dir);
  write_file(dir + "/sweep.json", sweep_json(s));
  write_file(dir + "/thresholds.csv", thresholds_csv(s));
  write_file(dir + "/table.csv", table_csv(s));
  write_file(dir + "/accuracy_energy.svg", accuracy_energy_svg(s));
  write_file(dir + "/sm_eval.svg", sm_eval_svg(s));
  write_file(dir + "/summary.md", sweep_markdown(s, context));
}

std::string with_ci(const Estimate& e, int decimals) {
  return fmt::format("{:.{}f} [{:.{}f}, {:.{}f}]", e.value, decimals, e.ci.lo, decimals, e.ci.hi, decimals);
}

namespace {
std::string estimate_json(const Estimate& e) {
  return fmt::format("{{\"value\":{:.6f},\"ci95\":[{:.6f},{:.6f}]}}", e.value, e.ci.lo, e.ci.hi);
}
}  // namespace

void write_crossval(const std::string& dir, const CrossValidation& cv, const SweepInput& in, double max_drop) {
  const ControllerStats& st = cv.pooled;
  std::string j = fmt::format(
      "{{\"format\":\"bitscale-crossval-1\",\"folds\":{},\"levels\":{},\"metric\":\"{}\",\"target_drop_pp\":{},"
      "\"images\":{},\"float_top1\":{},\"top1\":{},\"top1_drop_pp\":{},\"energy_saving_pct\":{},\"accepted_pct\":[",
      cv.folds, levels_json(in.levels), to_string(in.metric), max_drop, st.images, estimate_json(st.float_top1),
      estimate_json(st.top1), estimate_json(st.drop_pp), estimate_json(st.saving_pct));
  for (std::size_t i = 0; i < st.accepted_pct.size(); ++i) j += (i ? "," : "") + estimate_json(st.accepted_pct[i]);
  j += "],\"per_fold\":[";
  std::string rows;
  for (std::size_t f = 0; f < cv.per_fold.size(); ++f) {
    const Fold& fd = cv.per_fold[f];
    j += fmt::format(
        "{}{{\"fold\":{},\"threshold\":{:.17g},\"qualified\":{},\"selection_images\":{},"
        "\"evaluation_images\":{},\"drop_upper_pp_on_selection\":{:.6f}}}",
        f ? "," : "", f, fd.selection.threshold, fd.selection.qualified, fd.selection_files.size(),
        fd.evaluation_files.size(), fd.selection.drop_upper_pp);
    rows +=
        fmt::format("| {} | {} | {}{} | {} |\n", f, fd.evaluation_files.size(), threshold_text(fd.selection.threshold),
                    fd.selection.qualified ? "" : " (none met the target: escalate all)", fd.selection_files.size());
  }
  j += "]}\n";
  write_file(dir + "/crossval.json", j);
  std::string md = fmt::format(
      "### {}-fold cross-validation\n\nFold f = the evaluation images at sorted positions i with i mod {} = f; each "
      "fold's T_h is chosen on the other folds (smallest T_h whose {:.0f} % bootstrap upper bound of the drop is ≤ {} "
      "pp) and applied to the fold; decisions pooled over the {} images. 95 % bootstrap intervals.\n\n"
      "| figure | value [95 % interval] |\n|---|---|\n| float top-1 | {} % |\n| dynamic top-1 | {} % |\n"
      "| top-1 drop vs float | {} pp |\n| energy saving vs static 16-bit | {} % |\n",
      cv.folds, cv.folds, 100 * st.level, max_drop, st.images, with_ci(st.float_top1), with_ci(st.top1),
      with_ci(st.drop_pp), with_ci(st.saving_pct, 1));
  for (std::size_t i = 0; i < in.levels.size(); ++i)
    md += fmt::format("| accepted at {} bits | {} % |\n", level_name(in.levels[i]), with_ci(st.accepted_pct[i], 1));
  md += "\n| fold | images | T_h | chosen on images |\n|---|---|---|---|\n" + rows + "\n";
  write_file(dir + "/summary.md", read_file(dir + "/summary.md") + md);
}

}  // namespace bitscale::study
