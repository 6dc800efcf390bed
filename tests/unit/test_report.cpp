// The report page (study::write_report) and the chart/HTML builders it adds: grouped bars, interval
// bands, reference lines, markers-only series, table alignment and inline charts. The study
// directory is built by hand (records, sweep.json, policy.json, apply.json/csv,
// characterization.json); expected figures are worked out from those inputs below.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/report/html.hpp"
#include "bitscale/report/svg.hpp"
#include "bitscale/study/outputs.hpp"
#include "bitscale/study/policy.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/selection.hpp"
#include "bitscale/study/stats.hpp"
#include "bitscale/study/sweep.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"
#include "study_records.hpp"
#include "test_files.hpp"

namespace bitscale::study {
namespace {

namespace fs = std::filesystem;
namespace svg = report::svg;

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// Numbers of attribute `attr` of the elements whose start tag contains `marker`.
std::vector<double> attr_numbers(const std::string& doc, const std::string& marker, const std::string& attr) {
  std::vector<double> r;
  const std::regex tag("<[^>]*>");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), tag); it != std::sregex_iterator(); ++it) {
    const std::string t = it->str();
    if (!has(t, marker)) continue;
    std::smatch m;
    if (std::regex_search(t, m, std::regex(" " + attr + "=\"([^\"]*)\""))) r.push_back(std::stod(m[1]));
  }
  return r;
}

// (x, y) pairs of a points="..." attribute of the first element containing `marker`.
std::vector<std::pair<double, double>> points(const std::string& doc, const std::string& marker) {
  const std::size_t at = doc.find(marker);
  if (at == std::string::npos) return {};
  const std::size_t p0 = doc.find("points=\"", doc.rfind('<', at)) + 8;
  const std::string pts = doc.substr(p0, doc.find('"', p0) - p0);
  std::vector<std::pair<double, double>> r;
  const std::regex pair("(-?[0-9.]+),(-?[0-9.]+)");
  for (auto it = std::sregex_iterator(pts.begin(), pts.end(), pair); it != std::sregex_iterator(); ++it)
    r.emplace_back(std::stod((*it)[1]), std::stod((*it)[2]));
  return r;
}

// ------------------------------------------------------------------ charts

TEST(ReportSvg, GroupedBarsOneColouredBarPerSeriesWithLegend) {
  svg::BarChart c;
  c.title = "Minimum bit-width";
  c.categories = {"4-bit", "8-bit", "16-bit", "none"};
  c.groups = {{"raw", {0, 80, 15, 5}}, {"after merging bars < 1 %", {0, 80, 20, 0}}};
  const std::string doc = svg::bar_chart(c);
  // Zero-height bars are drawn too: one rect per (series, category).
  const auto h0 = attr_numbers(doc, "class=\"bar s0\"", "height");
  const auto h1 = attr_numbers(doc, "class=\"bar s1\"", "height");
  ASSERT_EQ(h0.size(), 4u);
  ASSERT_EQ(h1.size(), 4u);
  EXPECT_NEAR(h0[1], 80.0 / 15 * h0[2], 0.05);  // heights proportional to the values
  EXPECT_NEAR(h1[2], 20.0 / 15 * h0[2], 0.05);
  EXPECT_EQ(h1[3], 0);
  // Side by side: in each category the merged bar starts right of the raw one.
  const auto x0 = attr_numbers(doc, "class=\"bar s0\"", "x");
  const auto x1 = attr_numbers(doc, "class=\"bar s1\"", "x");
  const auto w0 = attr_numbers(doc, "class=\"bar s0\"", "width");
  for (std::size_t i = 0; i < 4; ++i) EXPECT_GE(x1[i], x0[i] + w0[i]) << i;
  EXPECT_LT(x1[0] + w0[0], x0[1]);  // categories do not overlap
  // A legend names both series; no single-series "bar" class.
  EXPECT_TRUE(has(doc, ">raw</text>"));
  EXPECT_TRUE(has(doc, ">after merging bars &lt; 1 %</text>"));
  EXPECT_EQ(count(doc, "class=\"bar\""), 0u);
  EXPECT_EQ(count(doc, "class=\"value s0\""), 4u);
}

TEST(ReportSvg, GroupedBarsRejectInconsistentInput) {
  svg::BarChart c;
  c.categories = {"a", "b"};
  c.groups = {{"one", {1, 2}}, {"two", {1}}};
  try {
    (void)svg::bar_chart(c);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_TRUE(has(e.what(), "series 1 (\"two\") has 1 values but 2 categories")) << e.what();
  }
  c.groups = {{"one", {1, 2}}};
  c.values = {1, 2};
  EXPECT_THROW((void)svg::bar_chart(c), std::invalid_argument);
}

TEST(ReportSvg, BandEnclosesTheLineAndReferenceLinesAreDrawn) {
  svg::LineChart c;
  c.title = "drop";
  svg::Series s{"ladder", {0, 0.5, 1}, {2, 1, 0}, false, false};
  s.lo = {1, 0.5, -1};
  s.hi = {3, 2, 0.5};
  c.series = {s};
  c.hlines = {{1.0, "target 1 pp"}};
  c.vlines = {{0.25, "T_h"}};
  const std::string doc = svg::line_chart(c);
  const auto band = points(doc, "class=\"band s0\"");
  const auto line = points(doc, "class=\"line\"");
  ASSERT_EQ(band.size(), 6u);  // upper bounds left to right, then lower bounds right to left
  ASSERT_EQ(line.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& up = band[i];
    const auto& low = band[5 - i];
    EXPECT_EQ(up.first, line[i].first);
    EXPECT_EQ(low.first, line[i].first);
    EXPECT_LT(up.second, line[i].second) << i;  // SVG y grows downwards: hi is above the line
    EXPECT_GT(low.second, line[i].second) << i;
  }
  // The target line sits at y = 1: between the line's points at y = 2 (x = 0) and y = 0 (x = 1),
  // at the height of the middle point (y = 1).
  const auto hy = attr_numbers(doc, "class=\"hline\"", "y1");
  ASSERT_EQ(hy.size(), 1u);
  EXPECT_NEAR(hy[0], line[1].second, 0.02);
  EXPECT_TRUE(has(doc, ">target 1 pp</text>"));
  EXPECT_EQ(count(doc, "class=\"vline\""), 1u);
  // The band widens the y axis: hi 3 and lo -1 are inside the plot (ticks reach them).
  s.lo = {1};
  c.series = {s};
  EXPECT_THROW((void)svg::line_chart(c), std::invalid_argument);
}

TEST(ReportSvg, MarkersOnlySeriesHasNoLine) {
  svg::LineChart c;
  c.series = {{"curve", {0, 1, 2}, {0, 1, 4}, false, false}, {"reference", {1}, {2}, false, true, {}, {}, false}};
  const std::string doc = svg::line_chart(c);
  EXPECT_EQ(count(doc, "class=\"line\""), 1u);
  EXPECT_EQ(count(doc, "r=\"5\""), 1u);  // the reference point (its legend swatch has r=4)
  EXPECT_EQ(count(doc, "r=\"4\""), 1u);
}

// ------------------------------------------------------------------ HTML

TEST(ReportHtml, TableCellsFollowTheSeparatorAlignmentAndChartsAreInlined) {
  const std::string md =
      "| scheme | saving |\n|:---|---:|\n| static 8-bit | 80.7 % |\n\n![chart](a.svg)\n\n![missing](b.svg)\n";
  const std::string html = report::markdown_to_html(md, "t", "", {{"a.svg", "<svg id=\"mine\"></svg>"}});
  EXPECT_TRUE(has(html, "<td align=\"left\">static 8-bit</td>")) << html;
  EXPECT_TRUE(has(html, "<td align=\"right\">80.7 %</td>")) << html;
  EXPECT_TRUE(has(html, "<svg id=\"mine\"></svg>"));
  EXPECT_FALSE(has(html, "src=\"a.svg\""));
  EXPECT_TRUE(has(html, "src=\"b.svg\""));  // not available: left as an image
  // The style does not override the cells' alignment with one rule for every cell.
  EXPECT_FALSE(has(html, "td,th{border:1px solid #999;padding:2px 6px;text-align:right"));
  EXPECT_TRUE(has(html, "td[align=right]"));
}

// ------------------------------------------------------------------ the report

// 20 images: float-correct 0..17; at 16 bits the same; at 8 bits correct 0..13 (margin 0.6),
// wrong 14..19 (margin 0.05); at 4 bits all wrong (margin 0.3). Counters: 1e6 MACs in the
// level's mode, so with the Envision table an execution costs 7.6316 (16), 1.4737 (8) and
// 0.2 (4) µJ.
std::vector<ImageRecord> hand_records(std::optional<std::uint64_t> offchip = std::nullopt) {
  std::vector<ImageRecord> recs;
  for (int i = 0; i < 20; ++i) {
    ImageRecord r;
    r.file = fmt::format("img{:02}.JPEG", i);
    r.label = 7;
    r.fp = test::labelled_run(i < 18, 0.5);
    for (int b : {4, 8, 16}) {
      driver::Counters c;
      (b == 16 ? c.mac16 : b == 8 ? c.mac8 : c.mac4) = 1000000;
      const bool ok = b == 16 ? i < 18 : b == 8 ? i < 14 : false;
      const double margin = b == 4 ? 0.3 : b == 16 ? 0.5 : (i < 14 ? 0.6 : 0.05);
      r.levels[b] = test::labelled_run(ok, margin, c);
      r.levels[b].offchip_bytes = offchip;
    }
    recs.push_back(r);
  }
  return recs;
}

Policy hand_policy(double threshold) {
  Policy p;
  p.model_file = "net.tflite";
  p.model_path = "net.tflite";
  p.model_hash = "0123456789abcdef";
  p.calibration =
      util::parse_json(R"({"format":"bitscale-calibration-1","model":"m","images":["c.jpg"],"tensors":[]})").dump();
  p.levels = {8, 16};
  p.threshold = threshold;
  p.drop_upper_pp = 0.9;
  p.selection_images = {{"img00.JPEG", ""}};
  p.calibration_images = {{"c.jpg", ""}};
  p.expected_drop_pp = {0.0, {-1.0, 1.0}};
  p.expected_saving_pct = {50.69, {48.0, 53.0}};
  p.bootstrap = {.seed = 5, .resamples = 200};
  p.energy_source = EnergyTable::envision().source;
  p.backend = "golden";
  return p;
}

// A complete study directory: char/, sweep/ (records, sweep.json, policy.json) and apply.{json,csv}.
fs::path study_dir(const std::string& name, double threshold = 0.1,
                   std::optional<std::uint64_t> offchip = std::nullopt) {
  const fs::path d = test::temp_dir(name);
  fs::create_directories(d / "char");
  fs::create_directories(d / "sweep");
  util::write_file(
      (d / "char" / "characterization.json").string(),
      R"({"format":"bitscale-characterization-1","levels":[4,8,16],"criterion":"top1","images":18,)"
      R"("histogram":{"4":0,"8":14,"16":4,"none":0},"histogram_merged":{"4":0,"8":14,"16":4,"none":0},)"
      R"("configurations":[8,16],"score_margin":{"4":{"easy":{"n":0,"mean":0,"std":0},"difficult":{"n":18,"mean":0.3,"std":0}},)"
      R"("8":{"easy":{"n":14,"mean":0.6,"std":0},"difficult":{"n":4,"mean":0.05,"std":0}},)"
      R"("16":{"easy":{"n":18,"mean":0.5,"std":0},"difficult":{"n":0,"mean":0,"std":0}}},)"
      R"("separation_auroc":{"4":{"margin":null,"max-prob":null,"entropy":null},"8":{"margin":1,"max-prob":1,"entropy":0.5},)"
      R"("16":{"margin":null,"max-prob":null,"entropy":null}},"top1_top2_ties":{"4":0,"8":0,"16":0}})");
  std::string lines = "{\"header\":\"hand-made\"}\n";
  for (const auto& r : hand_records(offchip)) lines += to_json_line(r) + "\n";
  util::write_file((d / "sweep" / "records.jsonl").string(), lines);
  // The sweep's table: static points and the smallest T_h per ladder (values of the records above:
  // float 90 %; static 8-bit 70 %, saving 80.7 %; 8→16 at T_h 0.05000001: 90 %, saving 50.7 %).
  util::write_file(
      (d / "sweep" / "sweep.json").string(),
      fmt::format(
          R"({{"format":"bitscale-sweep-1","levels":[8,16],"images":20,"energy_table":{},)"
          R"("float_top1":90.0,"static16_energy_pj":1.5e8,"max_drop_pp":1,"static":[)"
          R"({{"bits":4,"correct":0,"top1":0,"drop_pp":90,"energy_pj":4e6,"energy_rel_16":0.026,"saving_vs_16":0.974}},)"
          R"({{"bits":8,"correct":14,"top1":70,"drop_pp":20,"energy_pj":2.9e7,"energy_rel_16":0.193,"saving_vs_16":0.807}},)"
          R"({{"bits":16,"correct":18,"top1":90,"drop_pp":0,"energy_pj":1.5e8,"energy_rel_16":1,"saving_vs_16":0}}],)"
          R"("dynamic":[{{"levels":[8,16],"chosen":{{"threshold":0.05000001,"top1":90,"drop_pp":0,"saving_vs_16":0.507}}}},)"
          R"({{"levels":[4,8,16],"chosen":{{"threshold":0.30000001,"top1":90,"drop_pp":0,"saving_vs_16":-0.045}}}}],"curve":[]}})",
          util::json_string(EnergyTable::envision().source)));
  save_policy((d / "sweep" / "policy.json").string(), hand_policy(threshold));
  // apply: 10 labelled images, 3 escalated (30 %), plus one unlabelled row not counted.
  util::write_file(
      (d / "apply.json").string(),
      R"({"format":"bitscale-apply-1","images_dir":"odd-images","backend":"golden","levels":[8,16],)"
      R"("metric":"margin","threshold":0.1,"target_drop_pp":1,"images":10,"unreadable":0,"unlabelled":1,)"
      R"("float_top1":60,"float_top1_ci":[30,90],"top1":60,"top1_ci":[30,90],"top1_drop_pp":0.5,)"
      R"("top1_drop_pp_ci":[-1,2],"top1_drop_pp_upper":1.5,"energy_saving_pct":50.69,)"
      R"("energy_saving_pct_ci":[45.1,55.2],"accepted":[{"bits":8,"pct":70,"pct_ci":[40,100]},)"
      R"({"bits":16,"pct":30,"pct_ci":[0,60]}],"bootstrap":{"seed":5,"resamples":200},"target_met":true})");
  std::string csv =
      "file,label,levels_run,confidence,accepted_bits,float_correct,correct,energy_pj,energy16_pj,error\n";
  for (int i = 0; i < 10; ++i)
    csv += fmt::format("e{}.JPEG,7,{},0.5,{},1,1,1,1,\n", i, i < 3 ? "8;16" : "8", i < 3 ? 16 : 8);
  csv += "u.JPEG,,8;16,0.01;0.5,16,0,0,1,1,\n";
  util::write_file((d / "apply.csv").string(), csv);
  return d;
}

TEST(Report, LadderCurveFiguresFromTheRecords) {
  const auto recs = hand_records();
  SweepInput in;
  in.records = sweep_records(recs, std::vector<int>{8, 16});
  in.levels = {8, 16};
  in.table = EnergyTable::envision();
  const LadderCurve c = ladder_curve(in, {.seed = 1, .resamples = 300}, {0.0, 0.1, 0.7});
  ASSERT_EQ(c.t.size(), 3u);
  // T_h = 0: static 8-bit, 14 of 20 correct against 18: 20 pp; saving 1 - 56/290 = 80.69 %.
  EXPECT_NEAR(c.drop[0].value, 20.0, 1e-9);
  EXPECT_NEAR(c.saving[0].value, 100 * (1 - 56.0 / 290.0), 1e-6);
  // T_h = 0.1: the 6 images with margin 0.05 re-run at 16 bits: 18 correct, drop 0; energy per
  // image 56/290 + 6/20 of a 16-bit run: saving 100 (1 - 0.1931 - 0.3) = 50.69 %.
  EXPECT_NEAR(c.drop[1].value, 0.0, 1e-9);
  EXPECT_NEAR(c.saving[1].value, 100 * (1 - 56.0 / 290.0 - 0.3), 1e-6);
  // T_h = 0.7: every image re-runs: 16-bit results, saving -56/290.
  EXPECT_NEAR(c.saving[2].value, -100 * 56.0 / 290.0, 1e-6);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(c.drop[i].ci.contains(c.drop[i].value));
    EXPECT_TRUE(c.saving[i].ci.contains(c.saving[i].value));
  }
  EXPECT_GT(c.drop[0].ci.width(), 0);    // 20 images: the drop varies between resamples
  EXPECT_EQ(c.saving[0].ci.width(), 0);  // every image costs the same at static 8-bit
  EXPECT_GT(c.saving[1].ci.width(), 0);  // how many re-run varies
  // The same figures and intervals as controller_stats (what sweep and apply report) at each T_h.
  for (std::size_t i = 0; i < 3; ++i) {
    const ControllerStats st = controller_stats(image_outcomes(in, c.t[i]), 2, {.seed = 1, .resamples = 300});
    EXPECT_EQ(c.drop[i], st.drop_pp) << i;
    EXPECT_EQ(c.saving[i], st.saving_pct) << i;
  }
}

TEST(Report, PolicyFirstEveryLadderPaperRowAndEnergy) {
  const fs::path d = study_dir("report_full");
  const std::string out = (d / "report.md").string();
  EXPECT_EQ(write_report(d.string(), out), 4u);  // characterization, sweep, policy, apply
  const std::string md = util::read_file(out);
  // Headings by meaning, the policy first.
  const std::vector<std::string> headings{"## Deployed policy on unseen images",
                                          "### What it did on the evaluation images",
                                          "## Energy saving against top-1 drop, every ladder",
                                          "## Where the energy goes",
                                          "## How much precision the images need",
                                          "## Inputs of this report"};
  std::size_t last = 0;
  for (const auto& h : headings) {
    const std::size_t at = md.find(h);
    ASSERT_NE(at, std::string::npos) << h;
    EXPECT_GT(at, last) << h;
    last = at;
  }
  EXPECT_FALSE(has(md, "## char")) << "folder names are not headings";
  EXPECT_FALSE(has(md, "## sweep"));
  // The apply figures in plain words and in the table, with intervals and the number of images.
  EXPECT_TRUE(has(md, "on 10 images it was never chosen or calibrated on (`odd-images`)"));
  EXPECT_TRUE(has(md, "**0.50 [-1.00, 2.00] pp**"));
  EXPECT_TRUE(has(md, "**50.7 [45.1, 55.2] %**"));
  EXPECT_TRUE(has(md, "| top-1 drop vs float | 0.50 [-1.00, 2.00] pp | 10 |"));
  EXPECT_TRUE(has(md, "| accepted at 16 bits | 30.0 [0.0, 60.0] % | 10 |"));
  // Escalations from the per-image rows: 3 of the 10 labelled rows ran 16 bits (the unlabelled
  // one is not counted).
  EXPECT_TRUE(has(md, "| escalated to 16 bits (re-run) | 30.0 [")) << md;
  // The one-sided bound (1.5 pp) is above the target although the estimate meets it.
  EXPECT_TRUE(has(md, "upper bound of the drop, 1.50 pp, is above the target"));
  EXPECT_FALSE(has(md, "degenerated"));
  // The policy: ladder, metric, T_h, target, selection images.
  EXPECT_TRUE(has(md, "| threshold T_h | 0.1 |"));
  EXPECT_TRUE(has(md, "| ladder | 8→16 bits |"));
  EXPECT_TRUE(has(md, "| selection images | 1 (never used to measure it) |"));
  EXPECT_TRUE(has(md, "| expected energy saving on the selection images | 50.7 [48.0, 53.0] % |"));
  // The paper's own scheme and figure.
  EXPECT_TRUE(has(md,
                  "| Paper: CaffeNet, dynamic 8→16 (Jahier Pagliari et al., ISLPED 2018, Table 2 and Fig. 7) | — | — | "
                  "0.89 pp | 49.2 % |"));
  // A ladder costing more than static 16-bit is called out.
  EXPECT_TRUE(
      has(md, "**Costs more than static 16-bit** at its smallest threshold meeting the target: 4→8→16 (-4.5 %)"));
  // Text columns left, numbers right.
  EXPECT_TRUE(has(md,
                  "| scheme | T_h | top-1 | top-1 drop vs float | energy saving vs static 16-bit |\n"
                  "|:---|---:|---:|---:|---:|"));
  // Every ladder's curves (the policy's 8→16 and the sweep's 4→8→16), written beside the page.
  for (const char* chart : {"ladders_tradeoff", "ladders_drop", "ladders_saving"}) {
    const std::string file = (d / fmt::format("report.{}.svg", chart)).string();
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_TRUE(has(md, fmt::format("](report.{}.svg)", chart)));
    const std::string doc = util::read_file(file);
    EXPECT_TRUE(has(doc, ">dynamic 8→16</text>")) << chart;
    EXPECT_TRUE(has(doc, ">dynamic 4→8→16</text>")) << chart;
  }
  const std::string drop = util::read_file((d / "report.ladders_drop.svg").string());
  EXPECT_TRUE(has(drop, "class=\"band s0\""));
  EXPECT_TRUE(has(drop, "class=\"band s1\""));
  EXPECT_TRUE(has(drop, "top-1 drop vs float (pp)"));  // axis label
  EXPECT_TRUE(has(util::read_file((d / "report.ladders_tradeoff.svg").string()), "paper: CaffeNet 8→16"));
  // Where the energy goes: 8-bit execution 1.47 µJ = 19.3 % of 7.63 µJ; the policy on the
  // evaluation images: every image at 8 bits + 30 % re-run at 16: 1.4737 + 0.3 * 7.6316 = 3.76 µJ,
  // saving 100 (1 - 3.763 / 7.632) = 50.7 %.
  EXPECT_TRUE(has(md, "| 8-bit | 1.47 | 0.00 | 0.00 | 1.47 | 19.3 % |")) << md;
  EXPECT_TRUE(has(md, "3.76 µJ against 7.63 µJ at static 16-bit (saving 50.7 %"));
  EXPECT_TRUE(has(md, "| 16-bit (re-runs) | 30.0 % | 2.29 |"));
  // Records without off-chip bytes cannot be priced with memory: said, not a crash.
  EXPECT_TRUE(has(md, "| with memory (default memory table) | — | not priced:"));
  // The histogram as grouped bars (raw and merged) with a legend.
  const std::string hist = util::read_file((d / "report.min_bitwidth.svg").string());
  EXPECT_TRUE(has(hist, "class=\"bar s0\""));
  EXPECT_TRUE(has(hist, "class=\"bar s1\""));
  EXPECT_TRUE(has(hist, ">after merging bars &lt; 1 %</text>"));
  fs::remove_all(d);
}

TEST(Report, WithOffChipBytesTheSameDecisionsArePricedWithMemoryToo) {
  // 1000 off-chip bytes per execution at 162.5 pJ/byte (the default memory table, no scratchpad
  // words counted here) add 0.1625 µJ to every execution: 16-bit 7.7941, 8-bit 1.6362 µJ. The
  // policy (every image at 8 bits, 30 % re-run at 16): 1.6362 + 0.3 * 7.7941 = 3.9744 µJ, a
  // saving of 100 (1 - 3.9744 / 7.7941) = 49.0 % instead of 50.7 % with the MACs alone.
  const fs::path d = study_dir("report_memory", 0.1, 1000);
  const std::string out = (d / "r.md").string();
  write_report(d.string(), out);
  const std::string md = util::read_file(out);
  EXPECT_TRUE(has(md, "| with memory (default memory table) | 16-bit | 7.63 | 0.00 | 0.16 | 7.79 | 100.0 % |")) << md;
  EXPECT_TRUE(
      has(md,
          "Priced with memory (default memory table), the same decisions cost 3.97 µJ per image against 7.79 µJ "
          "at static 16-bit: a saving of **49.0 %** instead of 50.7 %."))
      << md;
  EXPECT_TRUE(has(md, "30.0 [0.0, 60.0] % of the images escalated to 16 bits"));
  // A policy priced with memory: the comparison goes the other way, with the MACs alone.
  Policy p = hand_policy(0.1);
  p.energy_model = EnergyModel::kMemory;
  p.energy_source = EnergyTable::envision_with_memory().source;
  save_policy((d / "sweep" / "policy.json").string(), p);
  write_report(d.string(), out);
  const std::string mem = util::read_file(out);
  EXPECT_TRUE(has(mem, "| the study's table (memory) | 16-bit | 7.63 | 0.00 | 0.16 | 7.79 | 100.0 % |")) << mem;
  EXPECT_TRUE(has(mem,
                  "Priced with the MACs only (the paper's model), the same decisions cost 3.76 µJ per image against "
                  "7.63 µJ at static 16-bit: a saving of **50.7 %** instead of 49.0 %."))
      << mem;
  fs::remove_all(d);
}

TEST(Report, HtmlAlignsTextLeftAndNumbersRightAndEmbedsTheCharts) {
  const fs::path d = study_dir("report_html");
  const std::string out = (d / "report.html").string();
  write_report(d.string(), out);
  const std::string html = util::read_file(out);
  EXPECT_TRUE(has(html, "<td align=\"left\">static 8-bit</td>"));
  EXPECT_TRUE(has(html, "<td align=\"right\">70.00 %</td>"));
  EXPECT_TRUE(has(html, "<h2>Deployed policy on unseen images</h2>"));
  EXPECT_FALSE(has(html, "<img src=\"ladders_drop.svg\""));
  EXPECT_GE(count(html, "<svg xmlns="), 5u);  // 3 ladder charts, energy terms, histogram (+ none on disk)
  EXPECT_FALSE(fs::exists(d / "report.ladders_drop.svg"));
  fs::remove_all(d);
}

TEST(Report, MissingApplySaysSoAndDegenerateThresholdIsStated) {
  const fs::path d = study_dir("report_missing", 0.0);
  fs::remove(d / "apply.json");
  fs::remove(d / "apply.csv");
  const std::string out = (d / "r.md").string();
  EXPECT_EQ(write_report(d.string(), out), 3u);
  const std::string md = util::read_file(out);
  EXPECT_TRUE(has(md, "**It has not been measured on unseen images**: there is no `apply.json`"));
  EXPECT_TRUE(has(md, "**The dynamic scheme degenerated to static 8-bit execution: T_h = 0**"));
  EXPECT_TRUE(has(md, "| policy on the evaluation images | not found |"));
  EXPECT_FALSE(has(md, "### What it did on the evaluation images"));
  fs::remove_all(d);
}

TEST(Report, EscalateAllAndCostlierThanStatic16AreStated) {
  const fs::path d = study_dir("report_escalate");
  Policy p = hand_policy(1.0);
  p.escalate_all = true;
  save_policy((d / "sweep" / "policy.json").string(), p);
  std::string a = util::read_file((d / "apply.json").string());
  a.replace(a.find("\"energy_saving_pct\":50.69"), 25, "\"energy_saving_pct\":-19.3");
  util::write_file((d / "apply.json").string(), a);
  const std::string out = (d / "r.md").string();
  write_report(d.string(), out);
  const std::string md = util::read_file(out);
  EXPECT_TRUE(has(md, "**The dynamic scheme degenerated: no threshold met the target.**"));
  EXPECT_TRUE(has(md, "**This ladder costs more than static 16-bit** on the evaluation images (saving -19.3 %)"));
  fs::remove_all(d);
}

TEST(Report, NoEscalationOnTheEvaluationImagesIsStatedAndSelectionImagesListed) {
  const fs::path d = study_dir("report_noesc");
  std::string a = util::read_file((d / "apply.json").string());
  a.replace(a.find("\"pct\":70,"), 9, "\"pct\":100,");
  a.replace(a.find("\"pct\":30,"), 9, "\"pct\":0,");
  util::write_file((d / "apply.json").string(), a);
  const std::string out = (d / "r.md").string();
  write_report(d.string(), out);
  const std::string md = util::read_file(out);
  EXPECT_TRUE(has(md, "**No evaluation image escalated**: every one was confident enough at 8 bits")) << md;
  EXPECT_TRUE(has(md, "<details><summary>The 1 selection image</summary>\n\n`img00.JPEG`\n\n</details>"));
  // Every image at 8 bits only: 1.47 µJ against 7.63 µJ, the saving of static 8-bit.
  EXPECT_TRUE(has(md, "1.47 µJ against 7.63 µJ at static 16-bit (saving 80.7 %"));
  fs::remove_all(d);
}

TEST(Report, OnlyAnApplyResultOrACharacterizationIsEnough) {
  const fs::path d = study_dir("report_parts");
  fs::remove_all(d / "sweep");
  const std::string out = (d / "r.md").string();
  EXPECT_EQ(write_report(d.string(), out), 2u);
  const std::string md = util::read_file(out);
  EXPECT_TRUE(has(md, "## Deployed policy on unseen images"));  // from apply.json alone
  EXPECT_TRUE(has(md, "| sweep | not found |"));
  EXPECT_FALSE(has(md, "## Energy saving against top-1 drop"));
  fs::remove_all(d);
}

TEST(Report, AnInvalidPartIsNamedAndTheRestReported) {
  const fs::path d = study_dir("report_invalid");
  const std::string policy = (d / "sweep" / "policy.json").string();
  std::string text = util::read_file(policy);
  const std::size_t at = text.find("\"threshold\":");
  text.replace(at, text.find(',', at) - at, "\"threshold\":1.5");
  util::write_file(policy, text);
  const std::string out = (d / "r.md").string();
  write_report(d.string(), out);
  const std::string md = util::read_file(out);
  EXPECT_TRUE(has(md, "- Could not be read: " + policy + ": threshold")) << md;
  // The deployed ladder and threshold then come from apply.json.
  EXPECT_TRUE(has(md, "re-runs it at the next level of the ladder 8→16 bits while the confidence"));
  EXPECT_TRUE(has(md, "below T_h = 0.1."));
  EXPECT_FALSE(has(md, "### What was deployed"));
  fs::remove_all(d);
}

TEST(Report, RefusesADirectoryWithNothingToReport) {
  const fs::path d = test::temp_dir("report_empty");
  util::write_file((d / "notes.json").string(), "{\"format\":\"something-else\"}");
  util::write_file((d / "broken.json").string(), "{");
  try {
    write_report(d.string(), (d / "r.html").string());
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(has(e.what(), d.string() + ": nothing to report")) << e.what();
  }
  EXPECT_FALSE(fs::exists(d / "r.html"));
  try {
    write_report((d / "absent").string(), (d / "r.html").string());
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(has(e.what(), "not a directory")) << e.what();
  }
  fs::remove_all(d);
}

}  // namespace
}  // namespace bitscale::study
