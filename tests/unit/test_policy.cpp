// The deployable controller: bootstrap statistics, threshold selection with an upper confidence
// bound, k-fold cross-validation, the policy file and its checks, and the data-independence of
// the array's counters that `apply` relies on for the static 16-bit reference.
// Expected values are derived by reasoning from the rules, not copied from the code's output.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <utility>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/regmap.hpp"
#include "bitscale/study/apply_job.hpp"
#include "bitscale/study/policy.hpp"
#include "bitscale/study/selection.hpp"
#include "bitscale/study/stats.hpp"
#include "bitscale/study/study.hpp"
#include "bitscale/study/summaries.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"
#include "study_records.hpp"
#include "test_files.hpp"

namespace bitscale::study {
namespace {

namespace fs = std::filesystem;

// ------------------------------------------------------------------ bootstrap

std::vector<double> bernoulli(std::size_t n, std::size_t ones) {
  std::vector<double> x(n, 0.0);
  for (std::size_t i = 0; i < ones; ++i) x[i * n / ones] = 1.0;
  return x;
}

TEST(Bootstrap, DeterministicForASeedAndDifferentForAnother) {
  const Bootstrap a{.seed = 7, .resamples = 50}, b{.seed = 8, .resamples = 50};
  const Resamples r1(30, a), r2(30, a), r3(30, b);
  bool differ = false;
  for (std::size_t k = 0; k < 50; ++k) {
    EXPECT_TRUE(std::ranges::equal(r1[k], r2[k]));
    differ = differ || !std::ranges::equal(r1[k], r3[k]);
    for (auto i : r1[k]) EXPECT_LT(i, 30u);
  }
  EXPECT_TRUE(differ);
  const auto x = bernoulli(40, 12);
  const Estimate e1 = bootstrap_mean(x, a), e2 = bootstrap_mean(x, a);
  EXPECT_EQ(e1.ci.lo, e2.ci.lo);
  EXPECT_EQ(e1.ci.hi, e2.ci.hi);
}

TEST(Bootstrap, IntervalContainsThePointEstimate) {
  for (std::size_t ones : {1u, 5u, 20u, 39u}) {
    const auto x = bernoulli(40, ones);
    const Estimate e = bootstrap_mean(x, {});
    EXPECT_DOUBLE_EQ(e.value, static_cast<double>(ones) / 40.0);
    EXPECT_TRUE(e.ci.contains(e.value)) << ones;
    EXPECT_GT(e.ci.width(), 0.0) << ones;
  }
}

TEST(Bootstrap, WidthShrinksAsOneOverSqrtN) {
  // Same proportion 0.3 on 100 and 400 images: the standard error halves, so does the width.
  const double w100 = bootstrap_mean(bernoulli(100, 30), {}).ci.width();
  const double w400 = bootstrap_mean(bernoulli(400, 120), {}).ci.width();
  // Normal approximation: 2 * 1.96 * sqrt(0.21 / n) = 0.180 and 0.090.
  EXPECT_NEAR(w100, 0.180, 0.03);
  EXPECT_NEAR(w100 / w400, 2.0, 0.35);
}

TEST(Bootstrap, IdenticalSampleHasZeroWidth) {
  const std::vector<double> x(50, 0.75);
  const Estimate e = bootstrap_mean(x, {});
  EXPECT_DOUBLE_EQ(e.value, 0.75);
  EXPECT_DOUBLE_EQ(e.ci.lo, 0.75);
  EXPECT_DOUBLE_EQ(e.ci.hi, 0.75);
}

TEST(Bootstrap, CoverageOfBernoulliProportionIsNear95Percent) {
  // 200 data sets of 100 Bernoulli(0.3) draws; the 95 % interval should hold 0.3 about 190 times.
  std::mt19937_64 rng(12345);
  std::bernoulli_distribution coin(0.3);
  int covered = 0;
  for (int t = 0; t < 200; ++t) {
    std::vector<double> x(100);
    for (auto& v : x) v = coin(rng) ? 1.0 : 0.0;
    covered += bootstrap_mean(x, {.seed = static_cast<std::uint64_t>(t), .resamples = 500}).ci.contains(0.3);
  }
  EXPECT_GE(covered, 176);  // 88 %
  EXPECT_LE(covered, 198);  // 99 %
}

TEST(Bootstrap, QuantileInterpolatesBetweenOrderStatistics) {
  std::vector<double> v{4, 1, 3, 2, 5};
  EXPECT_DOUBLE_EQ(quantile(v, 0.0), 1);
  EXPECT_DOUBLE_EQ(quantile(v, 1.0), 5);
  EXPECT_DOUBLE_EQ(quantile(v, 0.5), 3);
  EXPECT_DOUBLE_EQ(quantile(v, 0.125), 1.5);  // h = 0.5 between 1 and 2
}

TEST(Bootstrap, ControllerStatsArePairedOverImages) {
  // 4 images: float right on all, dynamic wrong on one: drop 25 pp; energy 1 of 4 per image at
  // the low level, 4 + 4 for the escalated one: saving 1 - (1+1+1+8)/16 = 31.25 %.
  std::vector<ImageOutcome> o{
      {true, true, 1, 4, 0}, {true, true, 1, 4, 0}, {true, true, 1, 4, 0}, {true, false, 8, 4, 1}};
  const ControllerStats s = controller_stats(o, 2, {});
  EXPECT_DOUBLE_EQ(s.drop_pp.value, 25.0);
  EXPECT_DOUBLE_EQ(s.saving_pct.value, 31.25);
  EXPECT_DOUBLE_EQ(s.accepted_pct[0].value, 75.0);
  EXPECT_DOUBLE_EQ(s.accepted_pct[1].value, 25.0);
  EXPECT_DOUBLE_EQ(s.float_top1.ci.lo, 100.0);  // all float-correct: no spread
  EXPECT_GE(s.drop_upper_pp, s.drop_pp.value);
  EXPECT_LE(s.drop_upper_pp, s.drop_pp.ci.hi);
  EXPECT_TRUE(s.drop_pp.ci.contains(25.0));
  EXPECT_THROW(controller_stats({}, 2, {}), std::invalid_argument);
}

// ------------------------------------------------------------------ selection

ImageRecord rec(const std::string& file, bool c8, double m8, bool c16 = true, bool float_ok = true) {
  ImageRecord r;
  r.file = file;
  r.label = 7;
  r.fp = bitscale::test::labelled_run(float_ok, 0.5);
  for (int b : {4, 8, 16}) {
    driver::Counters c;
    (b == 16 ? c.mac16 : b == 8 ? c.mac8 : c.mac4) = 1000;
    const bool ok = b == 16 ? c16 : c8;
    r.levels[b] = bitscale::test::labelled_run(ok, b == 8 ? m8 : 0.9, c);
  }
  return r;
}

SweepInput input(const std::vector<ImageRecord>& rs) {
  SweepInput in;
  for (const auto& r : rs) in.records.push_back(&r);
  in.levels = {8, 16};
  in.table = EnergyTable::envision();
  return in;
}

TEST(Selection, UpperBoundForcesAHigherThresholdThanThePointEstimate) {
  // 100 images, one wrong at 8 bits (margin 0.25), the others right (margin 0.75): at T = 0 the
  // drop is exactly 1 pp, so the point-estimate rule takes T = 0; its bootstrap 95 % upper bound
  // is about 3 pp (the wrong image drawn ~Poisson(1) times), so the upper-bound rule escalates
  // the 0.25 image: the smallest such threshold is the change point just above 0.25.
  std::vector<ImageRecord> rs;
  for (int i = 0; i < 100; ++i) rs.push_back(rec(fmt::format("i{:03}", i), i != 37, i == 37 ? 0.25 : 0.75));
  const SweepInput in = input(rs);
  const auto point = search_threshold(in, 1.0);
  ASSERT_TRUE(point);
  EXPECT_EQ(point->threshold, 0.0);
  const Selection s = select_threshold(in, {.max_drop = 1.0, .level = 0.95, .boot = {}, .step = 0.005});
  EXPECT_TRUE(s.qualified);
  EXPECT_EQ(s.threshold, std::nextafter(0.25, 2.0));
  EXPECT_EQ(s.drop_upper_pp, 0.0);
  EXPECT_EQ(s.point.drop, 0.0);
  EXPECT_EQ(s.point.accepted, (std::vector<std::size_t>{99, 1}));
  // The same resamples every time: the same choice.
  EXPECT_EQ(select_threshold(in, {.max_drop = 1.0, .level = 0.95, .boot = {}, .step = 0.005}).threshold, s.threshold);
}

TEST(Selection, NoQualifyingThresholdEscalatesEveryImage) {
  // Both levels lose the same 10 of 40 images against float: every threshold drops 25 pp.
  std::vector<ImageRecord> rs;
  for (int i = 0; i < 40; ++i) rs.push_back(rec(fmt::format("i{:03}", i), i % 4 != 0, 0.5, i % 4 != 0));
  const Selection s = select_threshold(input(rs), {.max_drop = 1.0, .level = 0.95, .boot = {}, .step = 0.005});
  EXPECT_FALSE(s.qualified);
  EXPECT_EQ(s.threshold, 1.0);
  EXPECT_GT(s.drop_upper_pp, 1.0);
}

TEST(Selection, MetricChangesTheConfidenceThresholded) {
  // Under max-prob the recorded max_prob (0 here) is the confidence: every candidate above 0
  // escalates; margin-based change points are not candidates.
  std::vector<ImageRecord> rs;
  for (int i = 0; i < 10; ++i) rs.push_back(rec(fmt::format("i{:03}", i), true, 0.25));
  SweepInput in = input(rs);
  const auto margins = candidate_thresholds(in, 0.5);
  EXPECT_TRUE(std::ranges::find(margins, std::nextafter(0.25, 2.0)) != margins.end());
  in.metric = Metric::kMaxProb;
  const auto probs = candidate_thresholds(in, 0.5);
  EXPECT_TRUE(std::ranges::find(probs, std::nextafter(0.25, 2.0)) == probs.end());
  EXPECT_EQ(probs.front(), 0.0);
  EXPECT_EQ(probs.back(), 1.0);
}

TEST(CrossValidation, FoldsPartitionTheImagesAndNeverOverlap) {
  std::vector<ImageRecord> rs;
  for (int i = 0; i < 23; ++i) rs.push_back(rec(fmt::format("i{:03}", i), i % 5 != 0, i % 5 == 0 ? 0.2 : 0.8));
  const SweepInput in = input(rs);
  const CrossValidation cv = cross_validate(
      in, 5,
      {.max_drop = 1.0, .level = 0.95, .boot = {.seed = Bootstrap::kDefaultSeed, .resamples = 200}, .step = 0.005});
  ASSERT_EQ(cv.per_fold.size(), 5u);
  std::set<std::string> evaluated;
  for (std::size_t f = 0; f < 5; ++f) {
    const Fold& fd = cv.per_fold[f];
    EXPECT_EQ(fd.evaluation_files.size(), f < 3 ? 5u : 4u);  // 23 = 5 + 5 + 5 + 4 + 4
    EXPECT_EQ(fd.selection_files.size() + fd.evaluation_files.size(), 23u);
    for (const auto& e : fd.evaluation_files) {
      EXPECT_TRUE(std::ranges::find(fd.selection_files, e) == fd.selection_files.end()) << e;
      EXPECT_TRUE(evaluated.insert(e).second) << e;
    }
    // Positions i mod 5 == f of the sorted names.
    EXPECT_EQ(fd.evaluation_files.front(), fmt::format("i{:03}", f));
  }
  EXPECT_EQ(evaluated.size(), 23u);
  EXPECT_EQ(cv.pooled.images, 23u);
  EXPECT_THROW(cross_validate(in, 1, {}), std::invalid_argument);
  EXPECT_THROW(cross_validate(in, 24, {}), std::invalid_argument);
}

// ------------------------------------------------------------------ the policy file

Policy sample_policy() {
  Policy p;
  p.model_file = "m.tflite";
  p.model_path = "../data/models/m.tflite";
  p.model_hash = "0123456789abcdef";
  p.calibration =
      util::parse_json(R"({"format":"bitscale-calibration-1","model":"m","images":["a.jpg"],"tensors":[]})").dump();
  p.weight_fl = quant::WeightFl::kGroup;
  p.quantization = {
      .classifier = quant::ClassifierPrecision::kWide, .rounding = quant::Rounding::kStochastic, .rounding_seed = 7};
  p.energy_model = EnergyModel::kMemory;
  p.levels = {8, 16};
  p.metric = Metric::kEntropy;
  p.threshold = 4.9406564584124654e-324;  // the smallest double: must survive the text
  p.max_drop_pp = 1.0;
  p.confidence_level = 0.95;
  p.drop_upper_pp = 0.8;
  p.selection_images = {{"x.JPEG", "00000000000000aa"}, {"y.JPEG", "00000000000000bb"}};
  p.calibration_images = {{"a.jpg", ""}};
  p.expected_drop_pp = {0.1, {-0.5, 0.7}};
  p.expected_saving_pct = {40.25, {38.0, 42.5}};
  p.bootstrap = {.seed = 99, .resamples = 123};
  p.energy_source = "Envision";
  p.backend = "golden";
  return p;
}

TEST(Policy, RoundTripsEveryField) {
  const Policy p = sample_policy();
  const std::string text = to_json(p);
  EXPECT_NE(text.find("\"format\":\"bitscale-policy-1\""), std::string::npos);
  const Policy q = parse_policy(text, "p.json");
  EXPECT_EQ(q, p);
  EXPECT_EQ(q.threshold, 4.9406564584124654e-324);
  const fs::path dir = test::temp_dir("policy");
  save_policy((dir / "policy.json").string(), p);
  EXPECT_EQ(load_policy((dir / "policy.json").string()), p);
}

void expect_refused(const std::string& text, const std::string& what) {
  try {
    (void)parse_policy(text, "bad.json");
    ADD_FAILURE() << "accepted; expected an error about " << what;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

std::string replaced(const std::string& text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.substr(0, at) + to + text.substr(at + from.size());
}

TEST(Policy, MalformedFieldsAreRefusedNamingFileAndField) {
  const std::string good = to_json(sample_policy());
  expect_refused("{", "invalid JSON");
  expect_refused(replaced(good, "bitscale-policy-1", "bitscale-policy-9"), "format");
  expect_refused(replaced(good, "\"threshold\":", "\"thresh\":"), "threshold: missing");
  expect_refused(replaced(good, "\"threshold\":4.9406564584124654e-324", "\"threshold\":1.5"), "threshold");
  expect_refused(replaced(good, "\"metric\":\"entropy\"", "\"metric\":\"vibes\""), "metric");
  expect_refused(replaced(good, "\"levels\":[8,16]", "\"levels\":[16,8]"), "levels");
  expect_refused(replaced(good, "\"levels\":[8,16]", "\"levels\":[]"), "levels");
  expect_refused(replaced(good, "0123456789abcdef", "xyz"), "model.hash");
  expect_refused(replaced(good, "\"weight_fl\":\"group\"", "\"weight_fl\":\"pixel\""), "weight_fl");
  expect_refused(replaced(good, "\"file\":\"x.JPEG\"", "\"file\":\"dir/x.JPEG\""), "selection_images[0].file");
  expect_refused(replaced(good, "\"resamples\":123", "\"resamples\":0"), "bootstrap.resamples");
  expect_refused(replaced(good, "\"ci95\":[-0.5,0.69999999999999996]", "\"ci95\":[1,0]"), "expected_drop_pp.ci95");
  expect_refused(replaced(good, "bitscale-calibration-1", "other"), "calibration.format");
  expect_refused(replaced(good, "\"rounding\":\"stochastic\"", "\"rounding\":\"up\""), "quantization.rounding");
  expect_refused(replaced(good, "\"classifier\":\"16\"", "\"classifier\":\"32\""), "quantization.classifier");
  expect_refused(replaced(good, "\"energy_model\":\"memory\"", "\"energy_model\":\"joules\""), "energy_model");
}

TEST(Policy, OverlapIsFoundByNameAndByContent) {
  const fs::path dir = test::temp_dir("policy_overlap");
  util::write_file((dir / "sel.JPEG").string(), "selection bytes");
  util::write_file((dir / "copy.JPEG").string(), "selection bytes");
  util::write_file((dir / "cal.JPEG").string(), "calibration bytes");
  util::write_file((dir / "new.JPEG").string(), "new bytes");
  Policy p = sample_policy();
  p.selection_images = {policy_image((dir / "sel.JPEG").string())};
  p.calibration_images = {{"cal.JPEG", ""}};
  EXPECT_EQ(p.selection_images[0].hash, fmt::format("{:016x}", fnv1a("selection bytes")));
  const std::vector<std::string> files{(dir / "cal.JPEG").string(), (dir / "copy.JPEG").string(),
                                       (dir / "new.JPEG").string(), (dir / "sel.JPEG").string()};
  const auto ov = policy_overlap(p, files);
  ASSERT_EQ(ov.size(), 3u);
  EXPECT_NE(ov[0].find("same name as calibration image cal.JPEG"), std::string::npos) << ov[0];
  EXPECT_NE(ov[1].find("same content as selection image sel.JPEG"), std::string::npos) << ov[1];
  EXPECT_NE(ov[2].find("same name as selection image sel.JPEG"), std::string::npos) << ov[2];
}

// ------------------------------------------------------------------ counters and the 16-bit reference

TEST(ApplyReference, ArrayCountersDependOnlyOnTheShapesNotTheImage) {
  const fs::path data = fs::path(BITSCALE_SOURCE_DIR) / "data";
  const fs::path model_path = data / "models" / "mobilenet_v1_0.25_128_quant.tflite";
  if (!fs::exists(model_path)) GTEST_SKIP() << "no embedded data";
  const model::Network net(model::load_tflite(model_path.string()));
  const auto files = data::list_images((data / "images").string());
  ASSERT_GE(files.size(), 2u);
  const quant::Calibration calib = quant::calibrate_files(net, {files[0]}, 1);
  const Engine e16(net, {.backend = Backend::kGolden, .bits = 16, .calib = &calib},
                   [](driver::Backend) { return std::make_unique<driver::Accelerator>(driver::default_hw_config()); });
  const auto s = e16.session();
  const auto a = s->run(data::load_for_model(files.front(), net.input_h(), net.input_w()).rgb);
  const auto b = s->run(data::load_for_model(files.back(), net.input_h(), net.input_w()).rgb);
  ASSERT_TRUE(a.counters && b.counters);
  EXPECT_NE(a.top.index, b.top.index);  // really different images
  // Except the group-width histogram (CNT_GW*, the widths of the outputs): its total, the number
  // of output groups, depends only on the shapes.
  driver::Counters ca = *a.counters, cb = *b.counters;
  std::uint64_t groups_a = 0, groups_b = 0;
  for (std::size_t w = 0; w < 16; ++w) {
    groups_a += std::exchange(ca.*driver::Counters::kFields[regmap::kCntGw1 + w], 0);
    groups_b += std::exchange(cb.*driver::Counters::kFields[regmap::kCntGw1 + w], 0);
  }
  EXPECT_EQ(ca, cb);
  EXPECT_EQ(groups_a, groups_b);
  EXPECT_GT(groups_a, 0u);
  EXPECT_GT(a.counters->mac16, 0u);
}

}  // namespace
}  // namespace bitscale::study

namespace bitscale::study {
namespace {

TEST(ApplySummary, LinesFromIdenticalImagesHaveZeroWidthIntervals) {
  // 4 images, all right in float and accepted right at 8 bits for 1 of the 4 pJ of 16 bits:
  // top-1 100 %, drop 0 pp, saving 75 %, 100 % accepted at 8 bits; every resample is the same.
  ApplyOutcome r;
  r.policy = sample_policy();
  r.policy.metric = Metric::kScoreMargin;
  r.policy.threshold = 0.25;
  r.policy_path = "p.json";
  r.image_dir = "imgs";
  const std::vector<ImageOutcome> o(4, ImageOutcome{true, true, 1.0, 4.0, 0});
  r.stats = controller_stats(o, 2, {.seed = 1, .resamples = 100});
  const std::string s = apply_summary(r);
  EXPECT_TRUE(
      s.starts_with("policy p.json (8→16 margin, T_h = 0.25 on m.tflite, target drop ≤ 1 pp) applied to 4 "
                    "images of imgs (golden back-end; 0 unreadable, 0 unlabelled; 0 resumed)\n"))
      << s;
  EXPECT_NE(s.find("  dynamic top-1:  100.00 [100.00, 100.00] %\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  top-1 drop:     0.00 [0.00, 0.00] pp (one-sided 95 % upper bound 0.00)\n"), std::string::npos)
      << s;
  EXPECT_NE(s.find("  energy saving vs static 16-bit: 75.0 [75.0, 75.0] %\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  accepted at  8-bit: 100.0 [100.0, 100.0] % of images\n"), std::string::npos) << s;
  EXPECT_NE(s.find("  accepted at 16-bit: 0.0 [0.0, 0.0] % of images\n"), std::string::npos) << s;
  EXPECT_NE(s.find("target met on these images: drop 0.00 pp ≤ 1 pp\n"), std::string::npos) << s;
  const std::string j = apply_json(r);
  EXPECT_NE(j.find("\"top1_drop_pp\":0.000000,\"top1_drop_pp_ci\":[0.000000,0.000000]"), std::string::npos) << j;
  EXPECT_NE(j.find("\"energy_saving_pct\":75.000000,\"energy_saving_pct_ci\":[75.000000,75.000000]"), std::string::npos)
      << j;
  EXPECT_NE(j.find("\"images\":4,"), std::string::npos) << j;
  EXPECT_NE(s.find("0 of 4 images (0.0 %) escalated beyond 8 bits\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("note:"), std::string::npos) << s;
}

TEST(ApplySummary, SaysInPlainWordsWhenTheSchemeDegeneratesOrCostsMore) {
  ApplyOutcome r;
  r.policy = sample_policy();
  r.policy.threshold = 0;
  r.policy_path = "p.json";
  r.image_dir = "imgs";
  r.stats = controller_stats(std::vector<ImageOutcome>(4, ImageOutcome{true, true, 1.0, 4.0, 0}), 2,
                             {.seed = 1, .resamples = 100});
  EXPECT_NE(apply_summary(r).find("T_h = 0, so no image escalates: the dynamic scheme degenerates to static 8-bit"),
            std::string::npos)
      << apply_summary(r);
  // All 4 images escalate to 16 bits, each paying 1 + 4 = 5 pJ against 4 pJ at static 16 bits: 25 % more.
  r.policy.threshold = 0.5;
  r.stats = controller_stats(std::vector<ImageOutcome>(4, ImageOutcome{true, true, 5.0, 4.0, 1}), 2,
                             {.seed = 1, .resamples = 100});
  const std::string s = apply_summary(r);
  EXPECT_NE(s.find("4 of 4 images (100.0 %) escalated beyond 8 bits\n"), std::string::npos) << s;
  EXPECT_NE(s.find("note: the 8→16 ladder cost 25.0 % more energy than static 16-bit here"), std::string::npos) << s;
}

}  // namespace
}  // namespace bitscale::study
