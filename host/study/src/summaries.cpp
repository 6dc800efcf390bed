#include "bitscale/study/summaries.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>
#include <ranges>

#include "bitscale/data/labels.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/outputs.hpp"

namespace bitscale::study {

namespace {

// The name of a model output: "background", the synset's name, or "class <k>" without synsets.
std::string class_name(int output_index, const std::optional<data::Synsets>& syn) {
  const auto c = data::class_from_model_index(output_index);
  if (!c) return "background";
  return syn ? syn->name(*c) : fmt::format("class {}", *c);
}

double percent(std::size_t n, std::size_t of) { return 100.0 * static_cast<double>(n) / static_cast<double>(of); }

}  // namespace

std::string stopped_summary(std::size_t computed) {
  return fmt::format("stopped after {} new images (--stop-after); run the same command again to resume\n", computed);
}

std::string eval_summary(const EvalOutcome& r) {
  const EvalTotals& t = r.totals;
  const std::size_t ok = t.done - t.errors;
  std::string s = fmt::format(
      "model {} ({} MACs/image), back-end {}{}, {} images from {}\n", r.model_path, r.macs, to_string(r.backend),
      r.on_array ? fmt::format(" {}-bit (weight FL per {})", r.bits, quant::to_string(r.weight_fl)) : "", r.images,
      r.image_dir);
  if (t.labelled == 0) {
    s += fmt::format("top-1 n/a, top-5 n/a (no labelled image); {} errors\n", t.errors);
  } else {
    s += fmt::format("top-1 {:.2f}% ({}/{}), top-5 {:.2f}% ({}/{}) over labelled images; {} errors\n", t.top1_percent(),
                     t.top1, t.labelled, t.top5_percent(), t.top5, t.labelled, t.errors);
  }
  s += fmt::format("{:.2f} images/s ({:.1f} s, {} jobs)", static_cast<double>(ok) / std::max(r.seconds, 1e-9),
                   r.seconds, r.jobs);
  if (r.on_array && ok > 0)
    s += fmt::format(", {:.0f} array cycles/image", static_cast<double>(t.cycles) / static_cast<double>(ok));
  s += "\n";
  if (r.compared_with) {
    s += fmt::format("{} vs {}: every MAC layer output and counter matched on {} of {} images\n", to_string(r.backend),
                     to_string(*r.compared_with), t.matched, t.compared);
  }
  return s;
}

std::string classify_summary(const ClassifyOutcome& r) {
  const Prediction& p = r.prediction;
  std::string s = fmt::format("{}: {} on {}{}\n", r.image, r.model_path, to_string(r.backend),
                              r.on_array ? fmt::format(" ({}-bit, weight FL per {}, calibrated on {} images)", r.bits,
                                                       quant::to_string(r.weight_fl), r.calib_images)
                                         : "");
  if (r.label && r.synsets) s += fmt::format("label: {} {}\n", *r.label, r.synsets->name(*r.label));
  for (std::size_t i = 0; i < p.top.index.size(); ++i) {
    const int k = p.top.index[i];
    const auto c = data::class_from_model_index(k);
    s += fmt::format("  {}. {:>4}  {:.6f}  {}\n", i + 1, c ? fmt::format("{}", *c) : std::string("-"), p.top.prob[i],
                     class_name(k, r.synsets));
  }
  s += fmt::format("score margin P(top1) - P(top2): {:.6f}\n", p.margin);
  if (p.counters) {
    const driver::Counters& c = *p.counters;
    std::vector<std::string> parts;  // MACs per mode: the classifier is 16-bit in a lower level (--classifier 16)
    for (const auto& [n, b] : {std::pair{c.mac4, 4}, std::pair{c.mac8, 8}, std::pair{c.mac16, 16}}) {
      if (n > 0) parts.push_back(fmt::format("{} {}-bit", n, b));
    }
    if (parts.size() > 1) {
      s += fmt::format("array: {} cycles, {} MACs ({})\n", c.cycles, c.macs_total(), fmt::join(parts, ", "));
    } else {
      s += fmt::format("array: {} cycles, {} MACs ({}-bit)\n", c.cycles, c.macs_total(), r.bits);
    }
  }
  return s;
}

std::string sweep_headline(const SweepOutcome& r) {
  std::string s = fmt::format(
      "sweep of {} on {} images ({} back-end, {} resumed), float top-1 {:.2f} %{}:\n\n{}\n", r.model_name, r.images,
      to_string(r.backend), r.resumed, r.float_top1,
      r.levels.empty() ? std::string()
                       : fmt::format(", levels {} ({})", fmt::join(r.levels | std::views::transform(level_name), ","),
                                     r.levels_reason),
      r.headline);
  if (!r.policy_path.empty()) {
    s += fmt::format("policy: T_h = {:.4g}{} written to {} (measure it on other images with `bitscale apply`)\n",
                     r.threshold,
                     r.escalate_all ? " (no threshold met the target with 95 % confidence: every image escalates, "
                                      "i.e. the dynamic scheme degenerates to the highest level)"
                                    : "",
                     r.policy_path);
  }
  if (r.crossval) {
    const ControllerStats& st = r.crossval->pooled;
    s += fmt::format(
        "{}-fold cross-validation ({} images, T_h chosen on the other folds): drop {} pp, saving {} % "
        "(95 % intervals)\n",
        r.crossval->folds, st.images, with_ci(st.drop_pp), with_ci(st.saving_pct, 1));
  }
  return s;
}

std::string sweep_confirmation(const Confirmation& c) {
  return fmt::format(
      "RTL confirmation: {} of {} images identical to golden (top-1, margins, counters at {} bits); decisions and "
      "energy {}\n",
      c.same, c.images, fmt::join(kPrecisions, "/"), c.all_same ? "identical" : "DIFFER");
}

std::string sweep_outputs(const std::string& out_dir) {
  return fmt::format("outputs in {}/ (records, sweep.json, thresholds.csv, table.csv, *.svg, summary.md)\n", out_dir);
}

std::string float_phase_summary(const FloatBaseline& base, bool top5, std::size_t resumed) {
  return fmt::format(
      "phase 1: float {} correct on {} of {} labelled images ({} unreadable, {} unlabelled, {} resumed)\n",
      top5 ? "top-5" : "top-1", base.kept.size(), base.labelled, base.errors, base.unlabelled, resumed);
}

std::string characterize_summary(const CharacterizeJobOutcome& r) {
  const Characterization& c = r.result.value();
  const std::vector<int>& levels = c.levels;
  // An exact level as " 8-bit", an Ax-BxP rung by its name ("8c1").
  const auto lv = [](int b) { return level_exact(b) ? fmt::format("{:>2}-bit", b) : level_name(b); };
  const auto names = levels | std::views::transform(level_name);
  std::string s = fmt::format("characterization of {} ({} float-correct images of {}), levels {}:\n", r.model_name,
                              c.images, r.images, fmt::join(names, ","));
  for (std::size_t i = 0; i < levels.size(); ++i) {
    s += fmt::format("  min {}: {:4} images ({:5.1f} %), after merging bars < 1 %: {:4} ({:5.1f} %)\n", lv(levels[i]),
                     c.raw[i], percent(c.raw[i], c.images), c.merged[i], percent(c.merged[i], c.images));
  }
  s += fmt::format("  none (wrong at {}): {} images ({:.1f} %)\n",
                   level_exact(levels.back()) ? fmt::format("{} bits", levels.back()) : level_name(levels.back()),
                   c.none, percent(c.none, c.images));
  s += fmt::format("  configurations: {}\n", fmt::join(c.configurations | std::views::transform(level_name), ","));
  for (int b : levels) {
    const MarginStats& e = c.easy.at(b);
    const MarginStats& h = c.difficult.at(b);
    s += fmt::format("  SM at {}: easy {:.3f} ± {:.3f} (n={}), difficult {:.3f} ± {:.3f} (n={})\n", lv(b), e.mean,
                     e.stddev, e.n, h.mean, h.stddev, h.n);
  }
  for (int b : levels) {
    if (!c.separation.contains(b) || !c.ties.contains(b)) continue;  // not computed by characterize()
    const auto& sep = c.separation.at(b);
    const auto cell = [](const std::optional<double>& a) { return a ? fmt::format("{:.3f}", *a) : std::string("n/a"); };
    s += fmt::format("  AUROC easy vs difficult at {}: margin {}, max-prob {}, entropy {}; top-1/top-2 ties: {}\n",
                     lv(b), cell(sep.at(Metric::kScoreMargin)), cell(sep.at(Metric::kMaxProb)),
                     cell(sep.at(Metric::kEntropy)), c.ties.at(b));
  }
  return s;
}

std::string characterize_outputs(const std::string& out_dir) {
  return fmt::format("outputs in {}/ (characterization.json, histogram.csv, margins.csv, *.svg, summary.md)\n",
                     out_dir);
}

}  // namespace bitscale::study

namespace bitscale::study {

std::string apply_summary(const ApplyOutcome& r) {
  const ControllerStats& s = r.stats.value();
  const Policy& p = r.policy;
  std::string o = fmt::format(
      "policy {} ({} {}, T_h = {:.4g} on {}, target drop ≤ {} pp) applied to {} images of {} ({} back-end; "
      "{} unreadable, {} unlabelled; {} resumed)\n",
      r.policy_path, fmt::join(p.levels | std::views::transform(level_name), "→"), to_string(p.metric), p.threshold,
      p.model_file, p.max_drop_pp, s.images, r.image_dir, to_string(r.backend), r.errors, r.unlabelled, r.resumed);
  o += fmt::format("  float top-1:    {} %\n", with_ci(s.float_top1));
  o += fmt::format("  dynamic top-1:  {} %\n", with_ci(s.top1));
  o +=
      fmt::format("  top-1 drop:     {} pp (one-sided 95 % upper bound {:.2f})\n", with_ci(s.drop_pp), s.drop_upper_pp);
  o += fmt::format("  energy saving vs static 16-bit: {} %{}\n", with_ci(s.saving_pct, 1),
                   p.offchip == quant::OffchipEncoding::kPerGroup
                       ? fmt::format(" ({} energy model, off-chip bytes encoded per group)", to_string(p.energy_model))
                       : "");
  for (std::size_t i = 0; i < p.levels.size(); ++i) {
    const int l = p.levels[i];
    o += fmt::format("  accepted at {}: {} % of images\n", level_exact(l) ? fmt::format("{:>2}-bit", l) : level_name(l),
                     with_ci(s.accepted_pct[i], 1));
  }
  o += fmt::format("  (95 % bootstrap intervals, {} resamples, seed {})\n", p.bootstrap.resamples, p.bootstrap.seed);
  o += s.drop_pp.value <= p.max_drop_pp + 1e-9
           ? fmt::format("target met on these images: drop {:.2f} pp ≤ {} pp\n", s.drop_pp.value, p.max_drop_pp)
           : fmt::format("TARGET MISSED on these images: drop {:.2f} pp > {} pp\n", s.drop_pp.value, p.max_drop_pp);
  // What happened, in plain words.
  const double escalated_pct = 100.0 - s.accepted_pct.front().value;
  const std::size_t escalated = static_cast<std::size_t>(std::lround(escalated_pct * s.images / 100.0));
  if (p.escalate_all) {
    o += "note: no threshold met the target when the policy was chosen, so every image escalates to the highest "
         "level (the dynamic scheme degenerates)\n";
  } else if (p.threshold == 0) {
    o += fmt::format(
        "note: T_h = 0, so no image escalates: the dynamic scheme degenerates to static {} (on the selection "
        "images the {} results alone already met the target)\n",
        level_label(p.levels.front()), level_label(p.levels.front()));
  } else {
    o += fmt::format(
        "{} of {} images ({:.1f} %) escalated beyond {}\n", escalated, s.images, escalated_pct,
        level_exact(p.levels.front()) ? fmt::format("{} bits", p.levels.front()) : level_name(p.levels.front()));
  }
  if (s.saving_pct.value < 0)
    o += fmt::format(
        "note: the {} ladder cost {:.1f} % more energy than static 16-bit here: every image pays for its {} run "
        "before it escalates\n",
        fmt::join(p.levels | std::views::transform(level_name), "→"), -s.saving_pct.value,
        level_label(p.levels.front()));
  return o;
}

}  // namespace bitscale::study
