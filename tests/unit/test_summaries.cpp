// The text the commands print (study/summaries.hpp) and the netbench figures
// (study/netbench.hpp). Expected lines are worked out by hand from the inputs.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "bitscale/study/netbench.hpp"
#include "bitscale/study/summaries.hpp"

namespace bitscale::study {
namespace {

TEST(StudySummaries, StoppedJob) {
  EXPECT_EQ(stopped_summary(7), "stopped after 7 new images (--stop-after); run the same command again to resume\n");
}

EvalOutcome eval_outcome() {
  EvalOutcome r;
  r.model_path = "m.tflite";
  r.image_dir = "imgs";
  r.macs = 1000;
  r.images = 4;
  r.jobs = 2;
  r.seconds = 2.0;
  r.totals.done = 4;
  r.totals.labelled = 4;
  r.totals.top1 = 3;
  r.totals.top5 = 4;
  return r;
}

TEST(StudySummaries, EvalOnTheFloatBaseline) {
  // 3 of 4 top-1, 4 of 4 top-5; 4 images in 2 s = 2 images/s; no array figures.
  EXPECT_EQ(eval_summary(eval_outcome()),
            "model m.tflite (1000 MACs/image), back-end float, 4 images from imgs\n"
            "top-1 75.00% (3/4), top-5 100.00% (4/4) over labelled images; 0 errors\n"
            "2.00 images/s (2.0 s, 2 jobs)\n");
}

TEST(StudySummaries, EvalOnTheArrayComparedWithAnotherBackEnd) {
  EvalOutcome r = eval_outcome();
  r.backend = Backend::kGolden;
  r.compared_with = Backend::kRtl;
  r.on_array = true;
  r.bits = 4;
  r.weight_fl = quant::WeightFl::kGroup;
  r.images = 5;
  r.jobs = 1;
  r.seconds = 0.5;
  r.totals = {.done = 5, .errors = 1, .labelled = 4, .top1 = 1, .top5 = 2, .compared = 4, .matched = 3, .cycles = 1000};
  // 4 decoded images in 0.5 s: 8 images/s, 1000 cycles / 4 images = 250 per image.
  EXPECT_EQ(eval_summary(r),
            "model m.tflite (1000 MACs/image), back-end golden 4-bit (weight FL per group), 5 images from imgs\n"
            "top-1 25.00% (1/4), top-5 50.00% (2/4) over labelled images; 1 errors\n"
            "8.00 images/s (0.5 s, 1 jobs), 250 array cycles/image\n"
            "golden vs rtl: every MAC layer output and counter matched on 3 of 4 images\n");
}

TEST(StudySummaries, EvalWithOnlyErrorsHasNoCyclesPerImage) {
  EvalOutcome r = eval_outcome();
  r.on_array = true;
  r.backend = Backend::kGoldenDevice;
  r.seconds = 0;
  r.totals = {.done = 2, .errors = 2};
  const std::string s = eval_summary(r);
  // No labelled image: no percentage of nothing.
  EXPECT_NE(s.find("top-1 n/a, top-5 n/a (no labelled image); 2 errors\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("0/0"), std::string::npos) << s;
  EXPECT_NE(s.find("\n0.00 images/s (0.0 s, 2 jobs)\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("array cycles"), std::string::npos) << s;
}

ClassifyOutcome classify_outcome() {
  ClassifyOutcome r;
  r.image = "x.jpg";
  r.model_path = "m.tflite";
  // Model outputs 1, 0 (background) and 5: classes 0, none and 4.
  r.prediction.top = {.index = {1, 0, 5}, .prob = {0.5f, 0.25f, 0.125f}};
  r.prediction.margin = 0.25f;
  return r;
}

TEST(StudySummaries, ClassifyWithoutSynsetsNamesClassesByNumber) {
  EXPECT_EQ(classify_summary(classify_outcome()),
            "x.jpg: m.tflite on float\n"
            "  1.    0  0.500000  class 0\n"
            "  2.    -  0.250000  background\n"
            "  3.    4  0.125000  class 4\n"
            "score margin P(top1) - P(top2): 0.250000\n");
}

TEST(StudySummaries, ClassifyOnTheArrayWithSynsetsAndLabel) {
  std::string tsv;
  for (int k = 0; k < data::kNumClasses; ++k) tsv += fmt::format("{}\tn{:08d}\tname {}\n", k, k, k);
  ClassifyOutcome r = classify_outcome();
  r.synsets = data::Synsets::parse(tsv, "test.tsv");
  r.label = 3;
  r.backend = Backend::kGolden;
  r.on_array = true;
  r.bits = 8;
  r.weight_fl = quant::WeightFl::kLayer;
  r.calib_images = 25;
  r.prediction.top = {.index = {4}, .prob = {0.5f}};
  r.prediction.counters = driver::Counters{};
  r.prediction.counters->cycles = 1234;
  r.prediction.counters->mac8 = 100;
  r.prediction.counters->mac4 = 20;
  EXPECT_EQ(classify_summary(r),
            "x.jpg: m.tflite on golden (8-bit, weight FL per layer, calibrated on 25 images)\n"
            "label: 3 name 3\n"
            "  1.    3  0.500000  name 3\n"
            "score margin P(top1) - P(top2): 0.250000\n"
            "array: 1234 cycles, 120 MACs (20 4-bit, 100 8-bit)\n");  // MACs per mode when several
}

TEST(StudySummaries, SweepLines) {
  SweepOutcome r;
  r.model_name = "m.tflite";
  r.images = 10;
  r.backend = Backend::kGoldenDevice;
  r.resumed = 2;
  r.float_top1 = 70;
  r.headline = "TABLE";
  EXPECT_EQ(sweep_headline(r),
            "sweep of m.tflite on 10 images (golden-device back-end, 2 resumed), float top-1 70.00 %:\n\nTABLE\n");
  Confirmation c{.images = 4, .same = 3, .all_same = false, .markdown = {}};
  EXPECT_EQ(sweep_confirmation(c),
            "RTL confirmation: 3 of 4 images identical to golden (top-1, margins, counters at 4/8/16 bits); "
            "decisions and energy DIFFER\n");
  c.same = 4;
  c.all_same = true;
  EXPECT_TRUE(sweep_confirmation(c).starts_with("RTL confirmation: 4 of 4 images"));
  EXPECT_TRUE(sweep_confirmation(c).ends_with("decisions and energy identical\n"));
  EXPECT_EQ(sweep_outputs("out/s"),
            "outputs in out/s/ (records, sweep.json, thresholds.csv, table.csv, *.svg, summary.md)\n");
}

TEST(StudySummaries, CharacterizeLines) {
  FloatBaseline base;
  base.kept = {"a", "b", "c"};
  base.labelled = 5;
  base.errors = 1;
  base.unlabelled = 4;
  EXPECT_EQ(float_phase_summary(base, true, 2),
            "phase 1: float top-5 correct on 3 of 5 labelled images (1 unreadable, 4 unlabelled, 2 resumed)\n");
  EXPECT_TRUE(float_phase_summary(base, false, 0).starts_with("phase 1: float top-1 correct on 3 of 5"));

  CharacterizeJobOutcome r;
  r.model_name = "m.tflite";
  r.images = 10;
  Characterization c;
  c.levels = {4, 8, 16};
  c.images = 8;
  c.raw = {1, 3, 2};
  c.none = 2;
  c.merged = {0, 4, 2};
  c.configurations = {8, 16};
  c.easy = {{4, {1, 0.5, 0.25}}, {8, {4, 0.75, 0.5}}, {16, {6, 1.0, 0.0}}};
  c.difficult = {{4, {7, 0.125, 0.0}}, {8, {4, 0.25, 0.125}}, {16, {2, 0.375, 0.125}}};
  r.result = c;
  // Percentages of the 8 characterized images: 1 -> 12.5, 3 -> 37.5, 2 -> 25, 4 -> 50.
  EXPECT_EQ(characterize_summary(r),
            "characterization of m.tflite (8 float-correct images of 10), levels 4,8,16:\n"
            "  min  4-bit:    1 images ( 12.5 %), after merging bars < 1 %:    0 (  0.0 %)\n"
            "  min  8-bit:    3 images ( 37.5 %), after merging bars < 1 %:    4 ( 50.0 %)\n"
            "  min 16-bit:    2 images ( 25.0 %), after merging bars < 1 %:    2 ( 25.0 %)\n"
            "  none (wrong at 16 bits): 2 images (25.0 %)\n"
            "  configurations: 8,16\n"
            "  SM at  4-bit: easy 0.500 ± 0.250 (n=1), difficult 0.125 ± 0.000 (n=7)\n"
            "  SM at  8-bit: easy 0.750 ± 0.500 (n=4), difficult 0.250 ± 0.125 (n=4)\n"
            "  SM at 16-bit: easy 1.000 ± 0.000 (n=6), difficult 0.375 ± 0.125 (n=2)\n");
  EXPECT_EQ(characterize_outputs("o"),
            "outputs in o/ (characterization.json, histogram.csv, margins.csv, *.svg, summary.md)\n");
}

TEST(StudyNetBench, LayerKindsFromTheShape) {
  golden::ConvShape s;
  s.in_h = s.in_w = 8;
  s.in_c = s.out_c = 16;
  s.k_h = s.k_w = 3;
  EXPECT_EQ(layer_kind(s), "conv 3x3");
  s.groups = 16;
  EXPECT_EQ(layer_kind(s), "depthwise");
  s.groups = 4;
  EXPECT_EQ(layer_kind(s), "grouped conv");
  s.groups = 1;
  s.k_h = s.k_w = 1;
  EXPECT_EQ(layer_kind(s), "pointwise conv (1x1)");
  s.in_h = s.in_w = 1;
  EXPECT_EQ(layer_kind(s), "fully connected");
  s.k_h = 5;
  s.k_w = 1;
  s.in_h = 8;
  EXPECT_EQ(layer_kind(s), "conv 5x1");
}

TEST(StudyNetBench, RoundingAndUtilization) {
  EXPECT_DOUBLE_EQ(rounded(1.23456, 3), 1.235);
  EXPECT_DOUBLE_EQ(rounded(0.00004, 4), 0.0);
  EXPECT_DOUBLE_EQ(rounded(2.5, 0), 3.0);  // half away from zero
  NetBenchResult r;
  r.pes = 256;
  r.lanes = 2;
  LayerTypeFigures f;
  driver::Counters c;
  c.mac8 = 600;
  c.mac4 = 400;
  c.array = 4;
  c.busy = 6;
  c.cycles = 10;
  f.add(c);
  f.add(c);
  EXPECT_EQ(f.layers, 2);
  EXPECT_EQ(f.macs, 2000u);
  EXPECT_EQ(f.array, 8u);
  EXPECT_EQ(f.busy, 12u);
  EXPECT_EQ(f.cycles, 20u);
  // 2000 MACs / (8 array cycles x 256 PEs x 2 lanes) = 2000 / 4096.
  EXPECT_DOUBLE_EQ(r.utilization(f), 2000.0 / 4096.0);
  EXPECT_EQ(r.utilization(LayerTypeFigures{}), 0.0);  // no array cycles
}

TEST(StudyNetBench, ReportAndJson) {
  NetBenchResult r;
  r.model = "m.tflite";
  r.bits = 8;
  r.macs_per_image = 5000;
  r.golden_s = 0.05;
  r.golden_images = 20;
  r.pes = 256;
  r.lanes = 2;
  r.types = {{.type = "conv 3x3", .layers = 1, .macs = 1024, .array = 4, .cycles = 10},
             {.type = "depthwise", .layers = 2, .macs = 512, .array = 4, .cycles = 30}};
  r.total = {.type = "", .layers = 3, .macs = 1536, .array = 8, .cycles = 40};
  const std::string rep = netbench_report(r);
  EXPECT_TRUE(
      rep.starts_with("model m.tflite (5000 MACs/image), 8-bit\n"
                      "golden: 20.0 images/s on one core (50.0 ms per image, 20 images)\n"
                      "array utilization per layer type (MACs / (array cycles x 256 PEs x 2 lanes)):\n"))
      << rep;
  // conv: 1024 / (4 x 512) = 50 %, 10 of 40 cycles; depthwise 25 %, 30 of 40; all 1536 / 4096.
  EXPECT_NE(rep.find("conv 3x3"), std::string::npos);
  EXPECT_NE(rep.find("50.0%     25.0%\n"), std::string::npos) << rep;
  EXPECT_NE(rep.find("25.0%     75.0%\n"), std::string::npos) << rep;
  EXPECT_NE(rep.find("37.5%\n"), std::string::npos) << rep;
  EXPECT_EQ(rep.find("rtl:"), std::string::npos);  // not run
  r.rtl_images = 1;
  r.rtl_s = 2.0;
  r.rtl_cycles = 1000000;
  EXPECT_TRUE(netbench_report(r).ends_with(
      "rtl: 2.00 s per image (1000000 cycles per image, 500000 simulated cycles/s, 1 images)\n"));
  const std::string text = netbench_json(r);
  ASSERT_TRUE(text.ends_with("}\n"));
  EXPECT_EQ(text.find('\n'), text.size() - 1);  // one line
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("model"), "m.tflite");
  EXPECT_EQ(j.at("bits"), 8);
  EXPECT_DOUBLE_EQ(j.at("golden_images_per_s").get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(j.at("rtl_s_per_image").get<double>(), 2.0);
  EXPECT_EQ(j.at("rtl_cycles_per_image"), 1000000);
  EXPECT_DOUBLE_EQ(j.at("utilization").get<double>(), 0.375);
  ASSERT_EQ(j.at("layer_types").size(), 2u);
  EXPECT_EQ(j.at("layer_types")[1].at("type"), "depthwise");
  EXPECT_EQ(j.at("layer_types")[1].at("array_cycles"), 4);
  EXPECT_DOUBLE_EQ(j.at("layer_types")[1].at("utilization").get<double>(), 0.25);
}

}  // namespace
}  // namespace bitscale::study
