// `bitscale report`: one page for a reader, from the JSON outputs of characterize, sweep and
// apply (found by their "format" field in a directory and its sub-directories): the deployed
// policy and its result on unseen images first, then every ladder's trade-off with bootstrap
// bands, where the energy goes, and the characterization.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <sstream>

#include "bitscale/report/html.hpp"
#include "bitscale/report/svg.hpp"
#include "bitscale/study/outputs.hpp"
#include "bitscale/study/policy.hpp"
#include "bitscale/study/selection.hpp"
#include "bitscale/study/stats.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::study {

namespace svg = report::svg;
using util::Json;
namespace fs = std::filesystem;

namespace {

std::string ladder_name(const std::vector<int>& l) {
  std::string o;
  for (std::size_t i = 0; i < l.size(); ++i) o += (i ? "→" : "") + std::to_string(l[i]);
  return o;
}

std::string th_text(double t) { return fmt::format("{:.4g}", t); }

std::string plural(std::size_t n, const char* one, const char* many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

/// The "format" field of a JSON file ("" when it is not a JSON object with one).
std::string format_of(const std::string& path) {
  try {
    const Json j = util::parse_json(util::read_file(path), path);
    return j.is_object() && j.contains("format") && j["format"].is_string() ? j["format"].get<std::string>() : "";
  } catch (const std::exception&) {
    return "";
  }
}

Estimate estimate_of(const Json& j, const std::string& key, const std::string& source) {
  // apply.json: key + key_ci; crossval.json: {value, ci95}.
  Estimate e;
  try {
    if (j.at(key).is_object()) {
      e.value = j.at(key).at("value").get<double>();
      e.ci = {j.at(key).at("ci95").at(0).get<double>(), j.at(key).at("ci95").at(1).get<double>()};
    } else {
      e.value = j.at(key).get<double>();
      e.ci = {j.at(key + "_ci").at(0).get<double>(), j.at(key + "_ci").at(1).get<double>()};
    }
  } catch (const Json::exception& x) {
    throw std::runtime_error(fmt::format("{}: {}: {}", source, key, x.what()));
  }
  return e;
}

/// The energy table a study used, from its description (EnergyTable::source): the built-in
/// tables, or the file it names. nullopt when it cannot be rebuilt.
std::optional<EnergyTable> table_from_source(const std::string& source, EnergyModel model) {
  for (const EnergyTable& t :
       {EnergyTable::envision(), EnergyTable::envision_with_memory(), EnergyTable::envision_with_memory().mac_only()}) {
    if (t.source == source) return t;
  }
  std::string path = source;
  const std::string suffix = " (MAC terms only)";
  if (path.ends_with(suffix)) path.resize(path.size() - suffix.size());
  try {
    if (!fs::is_regular_file(path)) return std::nullopt;
    const EnergyTable t = EnergyTable::load(path);
    return model == EnergyModel::kMac ? t.mac_only() : t;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// One apply row, as the report needs it.
struct ApplyRowLite {
  std::size_t levels_run = 0;
  bool usable = false;  ///< labelled and readable: counted in the figures
};

/// Rows of an apply CSV (header file,label,levels_run,...,error).
std::vector<ApplyRowLite> read_apply_csv(const std::string& path) {
  std::istringstream in(util::read_file(path));
  std::string line;
  std::getline(in, line);
  if (!line.starts_with("file,label,levels_run,"))
    throw std::runtime_error(fmt::format("{}: not the per-image rows of bitscale apply", path));
  std::vector<ApplyRowLite> rows;
  std::size_t n = 1;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::size_t pos = 0;
    for (int k = 0; k < 9; ++k) {  // the 10th field (error) may hold commas
      const std::size_t c = line.find(',', pos);
      if (c == std::string::npos) throw std::runtime_error(fmt::format("{}:{}: fewer than 10 fields", path, n));
      f.push_back(line.substr(pos, c - pos));
      pos = c + 1;
    }
    ApplyRowLite r;
    const std::string error = line.substr(pos);
    r.usable = !f[1].empty() && error.empty() && !f[2].empty();
    r.levels_run = f[2].empty() ? 0 : static_cast<std::size_t>(std::count(f[2].begin(), f[2].end(), ';')) + 1;
    rows.push_back(r);
  }
  return rows;
}

struct Inputs {
  std::string dir;
  std::string characterization, sweep, policy, crossval, apply, apply_rows, records, rtl_confirm;
  std::vector<std::string> extra;  ///< further files of a kind already found (not reported)
};

Inputs find_inputs(const std::string& dir) {
  if (!fs::is_directory(dir)) throw std::runtime_error(fmt::format("{}: not a directory", dir));
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) files.push_back(e.path());
  std::vector<fs::path> sub;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory())
      for (const auto& f : fs::directory_iterator(e.path()))
        if (f.is_regular_file()) sub.push_back(f.path());
  std::sort(files.begin(), files.end());
  std::sort(sub.begin(), sub.end());
  files.insert(files.end(), sub.begin(), sub.end());
  Inputs in;
  in.dir = dir;
  const std::map<std::string, std::string Inputs::*> kinds{{"bitscale-characterization-1", &Inputs::characterization},
                                                           {"bitscale-sweep-1", &Inputs::sweep},
                                                           {"bitscale-policy-1", &Inputs::policy},
                                                           {"bitscale-crossval-1", &Inputs::crossval},
                                                           {"bitscale-apply-1", &Inputs::apply}};
  for (const auto& f : files) {
    if (f.extension() != ".json") continue;
    const auto it = kinds.find(format_of(f.string()));
    if (it == kinds.end()) continue;
    std::string& slot = in.*(it->second);
    if (slot.empty())
      slot = f.string();
    else
      in.extra.push_back(f.string());
  }
  if (in.characterization.empty() && in.sweep.empty() && in.policy.empty() && in.apply.empty()) {
    throw std::runtime_error(fmt::format(
        "{}: nothing to report: no characterization.json, sweep.json, policy.json or apply.json (bitscale JSON "
        "outputs) here or in a sub-directory (run characterize, sweep and apply with --out/--json into it)",
        dir));
  }
  if (!in.apply.empty()) {
    const fs::path rows = fs::path(in.apply).replace_extension(".csv");
    if (fs::is_regular_file(rows)) in.apply_rows = rows.string();
  }
  const std::string sweep_dir = !in.sweep.empty()
                                    ? fs::path(in.sweep).parent_path().string()
                                    : (!in.policy.empty() ? fs::path(in.policy).parent_path().string() : std::string());
  if (!sweep_dir.empty()) {
    if (fs::is_regular_file(sweep_dir + "/records.jsonl")) in.records = sweep_dir + "/records.jsonl";
    if (fs::is_regular_file(sweep_dir + "/rtl_confirm.md")) in.rtl_confirm = sweep_dir + "/rtl_confirm.md";
  }
  return in;
}

/// A path as the report shows it: relative to the report's input directory.
std::string shown(const Inputs& in, const std::string& path) { return fs::relative(path, in.dir).generic_string(); }

}  // namespace

LadderCurve ladder_curve(const SweepInput& in, const Bootstrap& boot, const std::vector<double>& thresholds) {
  LadderCurve c;
  c.levels = in.levels;
  if (in.records.empty()) return c;
  // One set of resamples for every threshold (controller_stats would draw the same ones at each).
  const Resamples rs(in.records.size(), boot);
  std::vector<std::uint32_t> all(in.records.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint32_t>(i);
  for (double t : thresholds) {
    const std::vector<ImageOutcome> o = image_outcomes(in, t);
    // The saving of controller_stats: 100 (1 - sum energy / sum 16-bit energy) over the images drawn.
    const auto saving = [&o](std::span<const std::uint32_t> idx) {
      double e = 0, e16 = 0;
      for (auto i : idx) e += o[i].energy_pj, e16 += o[i].energy16_pj;
      return e16 > 0 ? 100.0 * (1.0 - e / e16) : 0.0;
    };
    const auto drop = [&o](std::span<const std::uint32_t> idx) { return drop_pp(o, idx); };
    Estimate d{drop(all), {}}, s{saving(all), {}};
    d.ci = percentile_interval(replicate(rs, drop), d.value);
    s.ci = percentile_interval(replicate(rs, saving), s.value);
    c.t.push_back(t);
    c.drop.push_back(d);
    c.saving.push_back(s);
  }
  return c;
}

namespace {

/// Everything read, each part optional; `problems` lists what could not be read.
struct Parts {
  std::optional<Json> characterization, sweep, crossval, apply;
  std::optional<Policy> policy;
  std::vector<ImageRecord> records;
  std::vector<ApplyRowLite> apply_rows;
  std::vector<std::string> problems;
};

Parts read_parts(const Inputs& in) {
  Parts p;
  const auto json = [&](const std::string& path, std::optional<Json>& slot) {
    if (path.empty()) return;
    try {
      slot = util::parse_json(util::read_file(path), path);
    } catch (const std::exception& e) {
      p.problems.push_back(e.what());
    }
  };
  json(in.characterization, p.characterization);
  json(in.sweep, p.sweep);
  json(in.crossval, p.crossval);
  json(in.apply, p.apply);
  if (!in.policy.empty()) {
    try {
      p.policy = load_policy(in.policy);
    } catch (const std::exception& e) {
      p.problems.push_back(e.what());
    }
  }
  if (!in.records.empty()) {
    try {
      p.records = read_records(in.records);
    } catch (const std::exception& e) {
      p.problems.push_back(e.what());
    }
  }
  if (!in.apply_rows.empty()) {
    try {
      p.apply_rows = read_apply_csv(in.apply_rows);
    } catch (const std::exception& e) {
      p.problems.push_back(e.what());
    }
  }
  return p;
}

/// The ladder, metric, threshold and target of the deployed policy (from the policy, else apply.json).
struct Deployed {
  std::vector<int> levels;
  std::string metric = "margin";
  double threshold = 0;
  double target = 1.0;
  bool escalate_all = false;
};

std::optional<Deployed> deployed(const Parts& p) {
  Deployed d;
  if (p.policy) {
    d.levels = p.policy->levels;
    d.metric = to_string(p.policy->metric);
    d.threshold = p.policy->threshold;
    d.target = p.policy->max_drop_pp;
    d.escalate_all = p.policy->escalate_all;
    return d;
  }
  if (p.apply) {
    const Json& a = *p.apply;
    d.levels = a.contains("levels") ? parse_levels_json(a.at("levels")) : std::vector<int>{};
    d.metric = a.value("metric", std::string("margin"));
    d.threshold = a.value("threshold", 0.0);
    d.target = a.value("target_drop_pp", 1.0);
    if (!d.levels.empty()) return d;
  }
  return std::nullopt;
}

std::string metric_words(const std::string& m) {
  if (m == "margin") return "score margin P(top1) − P(top2)";
  if (m == "max-prob") return "top-1 probability P(top1)";
  if (m == "entropy") return "1 − normalised entropy of the output";
  return m;
}

// ---------------------------------------------------------------- sections

class Page {
 public:
  std::string md;
  std::map<std::string, std::string> svgs;  ///< generated charts, by file name
  /// A chart file written by characterize or sweep: inlined from its path (HTML), else linked
  /// relative to the page.
  void file_chart(const fs::path& f, const std::string& alt) {
    if (!fs::is_regular_file(f)) return;
    md += fmt::format("![{}]({})\n\n", alt, html ? f.string() : fs::relative(f, out_dir).generic_string());
  }
  fs::path out_dir;
  bool html = false;
  void chart(const std::string& name, const std::string& alt, std::string svg) {
    md += fmt::format("![{}]({})\n\n", alt, name);
    svgs[name] = std::move(svg);
  }
};

void policy_section(Page& pg, const Inputs& in, const Parts& p) {
  pg.md += "## Deployed policy on unseen images\n\n";
  const auto d = deployed(p);
  if (!d) {
    pg.md += "No policy here (no `policy.json` from `bitscale sweep`, no `apply.json` from `bitscale apply`).\n\n";
    return;
  }
  const int low = d->levels.front(), top = d->levels.back();
  std::string words = fmt::format(
      "The policy runs every image at {} bits and re-runs it at the next level of the ladder {} bits while the "
      "confidence ({}) of the result is below T_h = {}. ",
      low, ladder_name(d->levels), metric_words(d->metric), th_text(d->threshold));
  std::vector<std::string> warnings;
  if (d->escalate_all) {
    warnings.push_back(fmt::format(
        "**The dynamic scheme degenerated: no threshold met the target.** On the selection images no T_h kept the "
        "one-sided 95 % upper bound of the top-1 drop within {} pp, so T_h = 1 and every image whose confidence is "
        "below 1 runs every level up to {} bits: static {}-bit execution plus the cost of the lower levels.",
        d->target, top, top));
  } else if (d->threshold == 0) {
    warnings.push_back(fmt::format(
        "**The dynamic scheme degenerated to static {}-bit execution: T_h = 0**, so no image is ever re-run. On the "
        "selection images the {}-bit results alone already met the target (drop ≤ {} pp), so the smallest threshold "
        "was 0; the figures below are those of static {}-bit, and the {}-bit level is never used.",
        low, low, d->target, low, top));
  }
  if (p.apply) {
    const Json& a = *p.apply;
    try {
      const Estimate drop = estimate_of(a, "top1_drop_pp", in.apply);
      const Estimate saving = estimate_of(a, "energy_saving_pct", in.apply);
      const auto n = a.at("images").get<std::size_t>();
      const double upper = a.value("top1_drop_pp_upper", drop.value);
      words += fmt::format(
          "Measured by `bitscale apply` on {} it was never chosen or calibrated on (`{}`): its top-1 drop against the "
          "float network was **{} pp** (target ≤ {} pp: {}) and it saved **{} %** of the energy of static 16-bit "
          "execution",
          plural(n, "image", "images"), a.value("images_dir", std::string("?")), with_ci(drop), d->target,
          drop.value <= d->target + 1e-9 ? "met" : "**missed**", with_ci(saving, 1));
      const Json& acc = a.at("accepted");
      if (acc.size() >= 2) {
        const Estimate top_share{
            acc.back().at("pct").get<double>(),
            {acc.back().at("pct_ci").at(0).get<double>(), acc.back().at("pct_ci").at(1).get<double>()}};
        words += d->levels.size() == 2
                     ? fmt::format("; {} % of the images escalated to {} bits", with_ci(top_share, 1), top)
                     : fmt::format("; {} % of the images were accepted only at {} bits", with_ci(top_share, 1), top);
      }
      words += fmt::format(" (95 % bootstrap intervals over the {} images).", n);
      if (drop.value <= d->target + 1e-9 && upper > d->target + 1e-9) {
        words += fmt::format(
            " The one-sided 95 % upper bound of the drop, {:.2f} pp, is above the target: {} are too few to prove it.",
            upper, plural(n, "image", "images"));
      }
      if (drop.value > d->target + 1e-9)
        warnings.push_back(fmt::format("**The drop target was missed on the evaluation images**: {:.2f} pp > {} pp.",
                                       drop.value, d->target));
      // T_h > 0 but every evaluation image was accepted at the lowest level: static in effect.
      if (!d->escalate_all && d->threshold > 0 && !acc.empty() && acc.front().at("pct").get<double>() >= 100 - 1e-9)
        warnings.push_back(fmt::format(
            "**No evaluation image escalated**: every one was confident enough at {} bits, so on these images the "
            "policy ran as static {}-bit execution.",
            low, low));
      if (saving.value < 0)
        warnings.push_back(fmt::format(
            "**This ladder costs more than static 16-bit** on the evaluation images (saving {:.1f} %): the images "
            "that escalate pay for every level they ran.",
            saving.value));
    } catch (const std::exception& e) {
      warnings.push_back(fmt::format("`{}` could not be read: {}", shown(in, in.apply), e.what()));
    }
  } else {
    words +=
        "**It has not been measured on unseen images**: there is no `apply.json` from `bitscale apply` here "
        "(run `bitscale apply --policy .../policy.json --images OTHER --json apply.json` on images the policy was "
        "not chosen on). The figures below come from the images the threshold was chosen on and are optimistic.";
    if (p.policy && p.policy->expected_saving_pct.value < 0)
      warnings.push_back(
          fmt::format("**This ladder costs more than static 16-bit** on the selection images (saving {:.1f} %).",
                      p.policy->expected_saving_pct.value));
  }
  pg.md += words + "\n\n";
  for (const auto& w : warnings) pg.md += "> " + w + "\n\n";

  if (p.policy) {
    const Policy& po = *p.policy;
    pg.md += "### What was deployed\n\n| policy | value |\n|:---|:---|\n";
    pg.md += fmt::format("| model | `{}` (hash {}) |\n", po.model_file, po.model_hash);
    pg.md += fmt::format("| ladder | {} bits |\n", ladder_name(po.levels));
    pg.md += fmt::format("| confidence | {} |\n", metric_words(to_string(po.metric)));
    pg.md += fmt::format("| threshold T_h | {} |\n",
                         po.escalate_all ? "1 (no candidate met the target: escalate all)" : th_text(po.threshold));
    pg.md += fmt::format(
        "| how T_h was chosen | the smallest threshold whose one-sided {:.0f} % bootstrap upper bound of the top-1 "
        "drop on the selection images is ≤ {} pp (bound at T_h: {:.2f} pp) |\n",
        100 * po.confidence_level, po.max_drop_pp, po.drop_upper_pp);
    pg.md += fmt::format("| selection images | {} (never used to measure it) |\n", po.selection_images.size());
    pg.md += fmt::format("| calibration images | {} |\n", po.calibration_images.size());
    pg.md += fmt::format("| expected top-1 drop on the selection images | {} pp (optimistic: chosen there) |\n",
                         with_ci(po.expected_drop_pp));
    pg.md +=
        fmt::format("| expected energy saving on the selection images | {} % |\n", with_ci(po.expected_saving_pct, 1));
    pg.md += fmt::format("| energy model | {} ({}) |\n", to_string(po.energy_model), po.energy_source);
    pg.md += fmt::format("| bootstrap | {} resamples, seed {} |\n\n", po.bootstrap.resamples, po.bootstrap.seed);
    if (!po.selection_images.empty()) {
      std::vector<std::string> names;
      for (const auto& im : po.selection_images) names.push_back(fmt::format("`{}`", im.file));
      pg.md += fmt::format("<details><summary>The {}</summary>\n\n{}\n\n</details>\n\n",
                           plural(po.selection_images.size(), "selection image", "selection images"),
                           fmt::join(names, ", "));
    }
  }

  if (p.apply) {
    try {
      const Json& a = *p.apply;
      const auto n = a.at("images").get<std::size_t>();
      pg.md += fmt::format(
          "### What it did on the evaluation images\n\n{} of `{}` ({} unreadable, {} unlabelled and not counted), "
          "back-end `{}`.\n\n| figure | value [95 % interval] | images |\n|:---|---:|---:|\n",
          plural(n, "image", "images"), a.value("images_dir", std::string("?")), a.value("unreadable", 0),
          a.value("unlabelled", 0), a.value("backend", std::string("?")));
      pg.md += fmt::format("| float top-1 | {} % | {} |\n", with_ci(estimate_of(a, "float_top1", in.apply)), n);
      pg.md += fmt::format("| dynamic top-1 | {} % | {} |\n", with_ci(estimate_of(a, "top1", in.apply)), n);
      pg.md +=
          fmt::format("| top-1 drop vs float | {} pp | {} |\n", with_ci(estimate_of(a, "top1_drop_pp", in.apply)), n);
      if (a.contains("top1_drop_pp_upper"))
        pg.md += fmt::format("| one-sided 95 % upper bound of the drop | {:.2f} pp | {} |\n",
                             a["top1_drop_pp_upper"].get<double>(), n);
      pg.md += fmt::format("| energy saving vs static 16-bit | {} % | {} |\n",
                           with_ci(estimate_of(a, "energy_saving_pct", in.apply), 1), n);
      for (const auto& l : a.at("accepted")) {
        const Estimate e{l.at("pct").get<double>(),
                         {l.at("pct_ci").at(0).get<double>(), l.at("pct_ci").at(1).get<double>()}};
        pg.md += fmt::format("| accepted at {} bits | {} % | {} |\n", level_name(parse_level_json(l.at("bits"))),
                             with_ci(e, 1), n);
      }
      // Escalations: images that ran level i (i >= 1), from the per-image rows.
      std::vector<ApplyRowLite> rows;
      for (const auto& r : p.apply_rows)
        if (r.usable) rows.push_back(r);
      if (!rows.empty() && d) {
        Bootstrap boot = p.policy ? p.policy->bootstrap : Bootstrap{};
        if (a.contains("bootstrap")) {
          boot.seed = a["bootstrap"].value("seed", boot.seed);
          boot.resamples = a["bootstrap"].value("resamples", boot.resamples);
        }
        for (std::size_t i = 1; i < d->levels.size(); ++i) {
          std::vector<double> x;
          for (const auto& r : rows) x.push_back(r.levels_run > i ? 100.0 : 0.0);
          pg.md += fmt::format("| escalated to {} bits (re-run) | {} % | {} |\n", d->levels[i],
                               with_ci(bootstrap_mean(x, boot), 1), rows.size());
        }
      }
      pg.md += "\n";
      if (rows.empty() && d && d->levels.size() > 2)
        pg.md += fmt::format("(Escalations per level need the per-image rows `{}`, not found.)\n\n",
                             fs::path(in.apply).replace_extension(".csv").filename().string());
    } catch (const std::exception& e) {
      pg.md += fmt::format("`{}` could not be read: {}\n\n", shown(in, in.apply), e.what());
    }
  }

  if (p.crossval) {
    try {
      const Json& c = *p.crossval;
      const auto n = c.at("images").get<std::size_t>();
      pg.md += fmt::format(
          "### {}-fold cross-validation on the selection images\n\nEach fold's T_h is chosen by the same rule on the "
          "other folds and applied to the fold; decisions pooled over {}.\n\n"
          "| figure | value [95 % interval] | images |\n|:---|---:|---:|\n",
          c.at("folds").get<int>(), plural(n, "image", "images"));
      pg.md += fmt::format("| top-1 drop vs float | {} pp | {} |\n",
                           with_ci(estimate_of(c, "top1_drop_pp", in.crossval)), n);
      pg.md += fmt::format("| energy saving vs static 16-bit | {} % | {} |\n",
                           with_ci(estimate_of(c, "energy_saving_pct", in.crossval), 1), n);
      std::vector<std::string> ts;
      for (const auto& f : c.at("per_fold")) ts.push_back(th_text(f.at("threshold").get<double>()));
      pg.md += fmt::format("\nT_h per fold: {}.\n\n", fmt::join(ts, ", "));
    } catch (const std::exception& e) {
      pg.md += fmt::format("`{}` could not be read: {}\n\n", shown(in, in.crossval), e.what());
    }
  }
}

constexpr const char* kPaperRow =
    "| Paper: CaffeNet, dynamic 8→16 (Jahier Pagliari et al., ISLPED 2018, Table 2 and Fig. 7) | — | — | 0.89 pp | "
    "49.2 % |\n";

void ladders_section(Page& pg, const Inputs& in, const Parts& p) {
  if (!p.sweep) return;
  const Json& s = *p.sweep;
  const auto d = deployed(p);
  const double target = s.value("max_drop_pp", d ? d->target : 1.0);
  pg.md += "## Energy saving against top-1 drop, every ladder\n\n";
  pg.md += fmt::format(
      "On the {} selection images of the sweep. Each dynamic row is the smallest T_h whose drop on these same images "
      "is ≤ {} pp (optimistic: chosen and measured on the same images); the deployed policy's T_h is chosen with an "
      "upper confidence bound instead (above).\n\n",
      s.value("images", 0), target);
  pg.md +=
      "| scheme | T_h | top-1 | top-1 drop vs float | energy saving vs static 16-bit |\n|:---|---:|---:|---:|---:|\n";
  pg.md += fmt::format("| float | — | {:.2f} % | 0 | — |\n", s.value("float_top1", 0.0));
  std::vector<std::string> costly;
  try {
    const auto& st = s.at("static");
    for (auto it = st.rbegin(); it != st.rend(); ++it)
      pg.md += fmt::format("| static {} | — | {:.2f} % | {:.2f} pp | {:.1f} % |\n",
                           level_label(parse_level_json((*it).at("bits"))), (*it).at("top1").get<double>(),
                           (*it).at("drop_pp").get<double>(), 100 * (*it).at("saving_vs_16").get<double>());
    for (const auto& dyn : s.at("dynamic")) {
      const auto levels = parse_levels_json(dyn.at("levels"));
      const Json& c = dyn.at("chosen");
      if (c.is_null()) {
        pg.md += fmt::format("| dynamic {} | no T_h reaches a drop ≤ {} pp | | | |\n", ladder_name(levels), target);
        continue;
      }
      const double saving = 100 * c.at("saving_vs_16").get<double>();
      pg.md += fmt::format("| dynamic {} | {} | {:.2f} % | {:.2f} pp | {:.1f} % |\n", ladder_name(levels),
                           th_text(c.at("threshold").get<double>()), c.at("top1").get<double>(),
                           c.at("drop_pp").get<double>(), saving);
      if (saving < 0) costly.push_back(fmt::format("{} ({:.1f} %)", ladder_name(levels), saving));
    }
  } catch (const std::exception& e) {
    pg.md += fmt::format("| `{}` could not be read: {} | | | | |\n", shown(in, in.sweep), e.what());
  }
  pg.md += kPaperRow;
  pg.md += "\n";
  if (!costly.empty())
    pg.md += fmt::format(
        "> **Costs more than static 16-bit** at its smallest threshold meeting the target: {}. The images that "
        "escalate pay for every level they ran, and too many must escalate to keep the drop within {} pp.\n\n",
        fmt::join(costly, ", "), target);

  // Curves of every ladder from the records, with bootstrap bands.
  std::vector<std::vector<int>> ladders;
  try {
    for (const auto& dyn : s.at("dynamic")) ladders.push_back(parse_levels_json(dyn.at("levels")));
  } catch (const std::exception&) {
  }
  if (d && std::find(ladders.begin(), ladders.end(), d->levels) == ladders.end())
    ladders.insert(ladders.begin(), d->levels);
  if (p.records.empty()) {
    pg.md += "(No sweep records (`records.jsonl` beside `sweep.json`): the curves of the ladders cannot be drawn.)\n\n";
    return;
  }
  const EnergyModel model = p.policy ? p.policy->energy_model : EnergyModel::kMac;
  const std::string source = p.policy ? p.policy->energy_source : s.value("energy_table", std::string());
  const auto table = table_from_source(source, model);
  if (!table) {
    pg.md += fmt::format("(The energy table \"{}\" cannot be read again: the curves of the ladders are not drawn.)\n\n",
                         source);
    return;
  }
  const Bootstrap boot = p.policy ? p.policy->bootstrap : Bootstrap{};
  const Metric metric = d ? parse_metric(d->metric) : Metric::kScoreMargin;
  std::vector<LadderCurve> curves;
  std::size_t images = 0;
  for (const auto& l : ladders) {
    SweepInput si;
    si.records = sweep_records(p.records, l);
    si.levels = l;
    si.table = *table;
    si.metric = metric;
    if (si.records.empty()) continue;
    images = si.records.size();
    // Every threshold where a decision changes (exact steps), a 0.01 grid and the policy's T_h.
    std::vector<double> ts = candidate_thresholds(si, 0.01);
    if (d && d->threshold > 0 && d->threshold < 1) ts.push_back(d->threshold);
    std::sort(ts.begin(), ts.end());
    ts.erase(std::unique(ts.begin(), ts.end()), ts.end());
    curves.push_back(ladder_curve(si, boot, ts));
  }
  if (curves.empty()) {
    pg.md += "(The sweep records hold no usable image for these ladders: no curves.)\n\n";
    return;
  }
  // Drops far beyond the target (e.g. static 4-bit at T_h = 0) would flatten every other curve.
  const double clip = std::max(5.0, 4 * target);
  const auto clipped = [&](const Estimate& e, double v) {
    return e.value > clip ? std::numeric_limits<double>::quiet_NaN() : v;
  };
  svg::LineChart trade, drop, saving;
  trade.title = fmt::format("Energy saving vs top-1 drop, every ladder ({} images)", images);
  trade.x_label = "top-1 drop vs float (pp)";
  trade.y_label = "energy saving vs static 16-bit (%)";
  drop.title = fmt::format("Top-1 drop vs threshold, every ladder ({} images)", images);
  drop.x_label = fmt::format("threshold T_h on the {}", metric_words(to_string(metric)));
  drop.y_label = "top-1 drop vs float (pp)";
  saving.title = fmt::format("Energy saving vs threshold, every ladder ({} images)", images);
  saving.x_label = drop.x_label;
  saving.y_label = "energy saving vs static 16-bit (%)";
  for (const auto& c : curves) {
    const std::string name = fmt::format("dynamic {}", ladder_name(c.levels));
    svg::Series tr{.name = name, .markers = false}, dr{.name = name, .markers = false},
        sv{.name = name, .markers = false};
    tr.dashed = dr.dashed = sv.dashed = &c != &curves.front();  // later ladders dashed: overlaps stay visible
    for (std::size_t i = 0; i < c.t.size(); ++i) {
      tr.x.push_back(clipped(c.drop[i], c.drop[i].value));
      tr.y.push_back(c.saving[i].value);
      dr.x.push_back(c.t[i]);
      dr.y.push_back(clipped(c.drop[i], c.drop[i].value));
      dr.lo.push_back(clipped(c.drop[i], c.drop[i].ci.lo));
      dr.hi.push_back(clipped(c.drop[i], std::min(c.drop[i].ci.hi, clip)));
      sv.x.push_back(c.t[i]);
      sv.y.push_back(c.saving[i].value);
      sv.lo.push_back(c.saving[i].ci.lo);
      sv.hi.push_back(c.saving[i].ci.hi);
    }
    trade.series.push_back(tr);
    drop.series.push_back(dr);
    saving.series.push_back(sv);
  }
  trade.series.push_back({"paper: CaffeNet 8→16 (ISLPED 2018, Fig. 7)", {0.89}, {49.2}, false, true, {}, {}, false});
  if (d && p.policy) {
    trade.series.push_back({fmt::format("policy {} on the selection images", ladder_name(d->levels)),
                            {p.policy->expected_drop_pp.value},
                            {p.policy->expected_saving_pct.value},
                            false,
                            true,
                            {},
                            {},
                            false});
  }
  if (p.apply) {
    try {
      trade.series.push_back({"policy on the evaluation images",
                              {estimate_of(*p.apply, "top1_drop_pp", in.apply).value},
                              {estimate_of(*p.apply, "energy_saving_pct", in.apply).value},
                              false,
                              true,
                              {},
                              {},
                              false});
    } catch (const std::exception&) {
    }
  }
  trade.vlines.emplace_back(target, fmt::format("target {} pp", target));
  drop.hlines.emplace_back(target, fmt::format("target {} pp", target));
  saving.hlines.emplace_back(0, "static 16-bit");
  if (d && !d->escalate_all) {
    drop.vlines.emplace_back(d->threshold, fmt::format("policy T_h = {}", th_text(d->threshold)));
    saving.vlines.emplace_back(d->threshold, fmt::format("policy T_h = {}", th_text(d->threshold)));
  }
  trade.size = drop.size = saving.size = {760, 440};
  pg.md += fmt::format(
      "Every ladder as T_h goes from 0 to 1 (at every threshold where a decision changes, on a 0.01 grid{}), evaluated "
      "from the recorded runs of the {} selection "
      "images; bands: 95 % bootstrap intervals ({} resamples, seed {}, the same resamples for every threshold). "
      "Drops above {:.0f} pp are off the charts.\n\n",
      d && d->threshold > 0 && d->threshold < 1 ? " and at the policy's T_h" : "", images, boot.resamples, boot.seed,
      clip);
  pg.chart("ladders_tradeoff.svg", "energy saving vs top-1 drop, every ladder", svg::line_chart(trade));
  pg.chart("ladders_drop.svg", "top-1 drop vs threshold, every ladder", svg::line_chart(drop));
  pg.chart("ladders_saving.svg", "energy saving vs threshold, every ladder", svg::line_chart(saving));
  if (fs::is_regular_file(fs::absolute(in.sweep).parent_path() / "sm_eval.svg"))
    pg.md +=
        "The confidence at the lowest level on the same images, for the images correct there and the wrong ones: "
        "a threshold can only catch the wrong ones where the two differ.\n\n";
  pg.file_chart(fs::absolute(in.sweep).parent_path() / "sm_eval.svg",
                "confidence at the lowest level, correct vs wrong");
}

void energy_section(Page& pg, const Inputs& in, const Parts& p) {
  if (p.records.empty()) return;
  const auto d = deployed(p);
  const EnergyModel model = p.policy ? p.policy->energy_model : EnergyModel::kMac;
  const std::string source =
      p.policy ? p.policy->energy_source : (p.sweep ? p.sweep->value("energy_table", std::string()) : std::string());
  std::vector<std::pair<std::string, EnergyTable>> tables;
  if (const auto t = table_from_source(source, model)) tables.emplace_back("the study's table", *t);
  if (tables.empty() || tables.front().second.pj_per_offchip_byte == 0)
    tables.emplace_back("with memory (default memory table)", EnergyTable::envision_with_memory());
  else
    tables.emplace_back("with the MACs only (the paper's model)", tables.front().second.mac_only());
  const std::vector<int> levels{4, 8, 16};
  pg.md += "## Where the energy goes\n\n";
  pg.md += fmt::format(
      "Energy of one execution of an image at each bit-width, mean over the {} sweep records, by term "
      "(docs/ENERGY.md); "
      "the counters depend only on the network's shapes, so every image costs the same at a given bit-width.\n\n",
      p.records.size());
  pg.md +=
      "| energy table | bit-width | MACs (µJ) | scratchpad (µJ) | off-chip (µJ) | total (µJ) | vs static 16-bit "
      "|\n|:---|---:|---:|---:|---:|---:|---:|\n";
  std::vector<std::pair<std::string, std::map<int, double>>> priced;  // per table priced: total per image, µJ
  std::optional<std::map<int, std::array<double, 3>>> chart_terms;
  std::string chart_table;
  for (std::size_t k = 0; k < tables.size(); ++k) {
    const auto& [label, t] = tables[k];
    std::map<int, std::array<double, 3>> terms;
    std::string failure;
    for (int b : levels) {
      std::array<double, 3> sum{0, 0, 0};
      std::size_t n = 0;
      try {
        for (const auto& r : p.records) {
          if (!r.ok() || !r.levels.contains(b) || !r.levels.at(b).counters) continue;
          const EnergyBreakdown e = energy_breakdown(r.levels.at(b), t);
          sum[0] += e.mac_pj, sum[1] += e.spad_pj, sum[2] += e.offchip_pj;
          ++n;
        }
      } catch (const std::exception& e) {
        failure = e.what();
        break;
      }
      if (n == 0) continue;
      for (double& v : sum) v /= static_cast<double>(n) * 1e6;
      terms[b] = sum;
    }
    if (!failure.empty() || !terms.contains(16)) {
      pg.md += fmt::format("| {} | — | not priced: {} | | | | |\n", label,
                           failure.empty() ? "no 16-bit run in the records" : failure);
      continue;
    }
    const double t16 = terms[16][0] + terms[16][1] + terms[16][2];
    priced.emplace_back(label, std::map<int, double>{});
    for (const auto& [b, e] : terms) {
      const double tot = e[0] + e[1] + e[2];
      priced.back().second[b] = tot;
      pg.md += fmt::format("| {} | {}-bit | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.1f} % |\n",
                           k == 0 ? fmt::format("{} ({})", label, to_string(model)) : label, b, e[0], e[1], e[2], tot,
                           100 * tot / t16);
    }
    if (!chart_terms || t.pj_per_offchip_byte > 0) chart_terms = terms, chart_table = label;
  }
  pg.md += "\n";
  if (chart_terms) {
    svg::BarChart bc;
    bc.title = fmt::format("Energy of one execution by term, {}", chart_table);
    bc.x_label = "bit-width of the execution";
    bc.y_label = "energy per image (µJ)";
    bc.value_format = "{:.1f}";
    bc.groups = {{"MACs", {}}, {"scratchpad", {}}, {"off-chip (DRAM)", {}}};
    for (const auto& [b, e] : *chart_terms) {
      bc.categories.push_back(fmt::format("{}-bit", b));
      for (std::size_t g = 0; g < 3; ++g) bc.groups[g].values.push_back(e[g]);
    }
    bc.size = {760, 400};
    pg.chart("energy_terms.svg", "energy of one execution by term", svg::bar_chart(bc));
  }
  // The policy's energy on the evaluation images, split by level, under each table priced.
  if (d && p.apply && !priced.empty()) {
    try {
      const Json& acc = p.apply->at("accepted");
      std::vector<double> ran(d->levels.size(), 0);  // % of images that ran level i
      for (std::size_t i = 0; i < d->levels.size() && i < acc.size(); ++i)
        for (std::size_t j = i; j < acc.size(); ++j) ran[i] += acc[j].at("pct").get<double>();
      const auto split = [&](const std::map<int, double>& e, std::vector<double>& spent) {
        double total = 0;
        for (std::size_t i = 0; i < d->levels.size(); ++i) {
          spent.push_back(ran[i] / 100 * e.at(d->levels[i]));
          total += spent.back();
        }
        return total;
      };
      const auto& [label0, e0] = priced.front();
      std::vector<double> spent;
      const double total = split(e0, spent);
      pg.md += fmt::format(
          "The deployed policy on the evaluation images, per image on average ({}): {:.2f} µJ against {:.2f} µJ at "
          "static 16-bit (saving {:.1f} %, from the shares accepted at each level).\n\n"
          "| level | images that ran it | energy per image (µJ) | share of the policy's energy "
          "|\n|:---|---:|---:|---:|\n",
          label0, total, e0.at(16), 100 * (1 - total / e0.at(16)));
      for (std::size_t i = 0; i < d->levels.size(); ++i)
        pg.md += fmt::format("| {}-bit{} | {:.1f} % | {:.2f} | {:.1f} % |\n", d->levels[i],
                             i == 0 ? " (every image)" : " (re-runs)", ran[i], spent[i],
                             total > 0 ? 100 * spent[i] / total : 0.0);
      pg.md += "\n";
      for (std::size_t k = 1; k < priced.size(); ++k) {
        std::vector<double> s;
        const double tk = split(priced[k].second, s);
        const double t16 = priced[k].second.at(16);
        pg.md += fmt::format(
            "Priced {}, the same decisions cost {:.2f} µJ per image against {:.2f} µJ at static 16-bit: a saving of "
            "**{:.1f} %** instead of {:.1f} %.\n\n",
            priced[k].first, tk, t16, 100 * (1 - tk / t16), 100 * (1 - total / e0.at(16)));
      }
    } catch (const std::exception& e) {
      pg.md += fmt::format("`{}` could not be read: {}\n\n", shown(in, in.apply), e.what());
    }
  }
}

void characterization_section(Page& pg, const Inputs& in, const Parts& p) {
  if (!p.characterization) return;
  const Json& c = *p.characterization;
  pg.md += "## How much precision the images need\n\n";
  try {
    const auto levels = parse_levels_json(c.at("levels"));
    const auto n = c.at("images").get<std::size_t>();
    const Json& raw = c.at("histogram");
    const Json& merged = c.at("histogram_merged");
    pg.md += fmt::format(
        "The characterization ran each of {} float-correct calibration images at every bit-width; an image's minimum "
        "bit-width is the lowest one at which it is still classified correctly ({}). Bars below 1 % are merged into "
        "the next bit-width; what remains are the configurations kept: **{} bits**.\n\n",
        n, c.value("criterion", std::string("top1")) == "top5" ? "top-5" : "top-1",
        ladder_name(c.contains("configurations") ? parse_levels_json(c.at("configurations")) : std::vector<int>{}));
    pg.md += "| minimum bit-width | images | % | after merging bars < 1 % | % |\n|:---|---:|---:|---:|---:|\n";
    const auto pctv = [n](std::size_t k) { return n ? 100.0 * static_cast<double>(k) / static_cast<double>(n) : 0.0; };
    std::vector<std::size_t> raw_n, merged_n;
    for (int b : levels) {
      const auto r = raw.at(level_name(b)).get<std::size_t>(), m = merged.at(level_name(b)).get<std::size_t>();
      pg.md += fmt::format("| {} | {} | {:.1f} | {} | {:.1f} |\n", level_label(b), r, pctv(r), m, pctv(m));
      raw_n.push_back(r);
      merged_n.push_back(m);
    }
    const auto none = raw.at("none").get<std::size_t>();
    pg.md += fmt::format("| none (wrong at {} bits) | {} | {:.1f} | {} | {:.1f} |\n\n", level_name(levels.back()), none,
                         pctv(none), none, pctv(none));
    pg.chart("min_bitwidth.svg", "minimum bit-width, raw and merged",
             bitwidth_histogram_svg(levels, raw_n, merged_n, none, n));
    pg.md +=
        "Confidence of easy images (correct at that bit-width) and difficult ones (the others): score margin mean ± "
        "standard deviation, and how well each confidence metric separates them (AUROC: 1 = perfectly, 0.5 = "
        "chance; n/a when a class is empty).\n\n"
        "| bit-width | easy: score margin | difficult: score margin | AUROC margin | AUROC max-prob | AUROC entropy | "
        "exact top-1/top-2 ties |\n|:---|---:|---:|---:|---:|---:|---:|\n";
    const auto cell = [](const Json& s) {
      return s.at("n").get<std::size_t>() ? fmt::format("{:.3f} ± {:.3f} (n = {})", s.at("mean").get<double>(),
                                                        s.at("std").get<double>(), s.at("n").get<std::size_t>())
                                          : std::string("— (n = 0)");
    };
    const auto auroc = [&](int b, const char* m) {
      if (!c.contains("separation_auroc")) return std::string("n/a");
      const Json& a = c["separation_auroc"].at(level_name(b));
      return a.contains(m) && a[m].is_number() ? fmt::format("{:.3f}", a[m].get<double>()) : std::string("n/a");
    };
    for (int b : levels) {
      const Json& sm = c.at("score_margin").at(level_name(b));
      const std::size_t ties =
          c.contains("top1_top2_ties") ? c["top1_top2_ties"].value(level_name(b), std::size_t{0}) : 0;
      pg.md +=
          fmt::format("| {} | {} | {} | {} | {} | {} | {} of {} |\n", level_label(b), cell(sm.at("easy")),
                      cell(sm.at("difficult")), auroc(b, "margin"), auroc(b, "max-prob"), auroc(b, "entropy"), ties, n);
    }
    pg.md += "\n";
    // The score-margin histograms written by characterize, beside characterization.json.
    const fs::path cdir = fs::absolute(in.characterization).parent_path();
    for (int b : levels) pg.file_chart(cdir / fmt::format("sm_{}.svg", b), fmt::format("score margins at {} bits", b));
  } catch (const std::exception& e) {
    pg.md += fmt::format("`{}` could not be read: {}\n\n", shown(in, in.characterization), e.what());
  }
}

void rtl_section(Page& pg, const Inputs& in) {
  if (in.rtl_confirm.empty()) return;
  pg.md += "## Golden model against the RTL\n\n";
  std::istringstream text(util::read_file(in.rtl_confirm));
  for (std::string line; std::getline(text, line);) {
    if (line.starts_with("#")) line = "###" + line.substr(line.find_first_not_of('#'));
    pg.md += line + "\n";
  }
  pg.md += "\n";
}

void inputs_section(Page& pg, const Inputs& in, const Parts& p) {
  pg.md += "## Inputs of this report\n\n| part | file |\n|:---|:---|\n";
  const std::pair<const char*, const std::string*> parts[] = {{"characterization", &in.characterization},
                                                              {"sweep", &in.sweep},
                                                              {"policy", &in.policy},
                                                              {"cross-validation", &in.crossval},
                                                              {"sweep records", &in.records},
                                                              {"policy on the evaluation images", &in.apply},
                                                              {"per-image rows of apply", &in.apply_rows},
                                                              {"RTL confirmation", &in.rtl_confirm}};
  for (const auto& [what, path] : parts)
    pg.md += fmt::format("| {} | {} |\n", what,
                         path->empty() ? std::string("not found") : fmt::format("`{}`", shown(in, *path)));
  pg.md += "\n";
  for (const auto& e : in.extra) pg.md += fmt::format("- Not reported (one of each kind is): `{}`\n", shown(in, e));
  for (const auto& e : p.problems) pg.md += fmt::format("- Could not be read: {}\n", e);
  if (!in.extra.empty() || !p.problems.empty()) pg.md += "\n";
}

}  // namespace

std::size_t write_report(const std::string& in_dir, const std::string& out) {
  const Inputs in = find_inputs(in_dir);
  const Parts p = read_parts(in);
  const fs::path out_path = fs::absolute(out);
  const fs::path out_dir = out_path.parent_path();
  const bool html = out.ends_with(".html") || out.ends_with(".htm");
  fs::create_directories(out_dir);
  Page pg;
  pg.out_dir = out_dir;
  pg.html = html;
  std::string model = p.policy ? p.policy->model_file : std::string();
  if (model.empty() && p.apply) model = fs::path(p.apply->value("model", std::string())).filename().string();
  const std::string title = model.empty() ? "bitscale: dynamic bit-width study"
                                          : fmt::format("bitscale: dynamic bit-width study of {}", model);
  pg.md = "# " + title + "\n\n";
  pg.md +=
      "The scheme of Jahier Pagliari et al. (ISLPED 2018): run each image at the lowest precision of a ladder of "
      "bit-widths and re-run it at the next one while the confidence of its result is below a threshold T_h. Top-1 "
      "drop: float top-1 minus dynamic top-1, in percentage points; energy saving: against running every image at "
      "static 16 bits.\n\n";
  policy_section(pg, in, p);
  ladders_section(pg, in, p);
  energy_section(pg, in, p);
  characterization_section(pg, in, p);
  rtl_section(pg, in);
  inputs_section(pg, in, p);
  if (html) {
    util::write_file(out, report::markdown_to_html(pg.md, title, "", pg.svgs));
  } else {
    // Markdown: the generated charts beside the page, <stem>.<name>.
    std::string md = pg.md;
    for (const auto& [name, doc] : pg.svgs) {
      const std::string file = out_path.stem().string() + "." + name;
      util::write_file((out_dir / file).string(), doc);
      for (std::size_t pos; (pos = md.find("](" + name + ")")) != std::string::npos;)
        md.replace(pos + 2, name.size(), file);
    }
    util::write_file(out, md);
  }
  std::size_t parts = 0;
  for (const std::string* s : {&in.characterization, &in.sweep, &in.policy, &in.crossval, &in.apply})
    parts += s->empty() ? 0 : 1;
  return parts;
}

}  // namespace bitscale::study
