// The dynamic bit-width study: histogram post-processing, score-margin statistics, threshold
// evaluation and search, energy relative to static 16-bit, records and resumable runs.
// Expected values are derived from the rules by hand, not copied from the code's output.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/study/study.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"
#include "study_records.hpp"
#include "test_files.hpp"

namespace bitscale::study {

using namespace data;   // NOLINT(google-build-using-namespace)
using namespace model;  // NOLINT(google-build-using-namespace)
using namespace quant;  // NOLINT(google-build-using-namespace)
namespace {

namespace fs = std::filesystem;

// ------------------------------------------------------------------ histogram post-processing

TEST(StudyHistogram, BarUnderOnePercentMergesIntoNextHigher) {
  // 200 images: 4-bit 1 (0.5 %), 8-bit 60 (30 %), 16-bit 139 (69.5 %): 0.5 % < 1 % -> into 8.
  const std::vector<std::size_t> raw{1, 60, 139};
  EXPECT_EQ(merge_small_bars(raw, 200), (std::vector<std::size_t>{0, 61, 139}));
}

TEST(StudyHistogram, ExactlyOnePercentStaysAndMergingCascades) {
  // 2 of 200 = 1 %: not under 1 %, kept.
  EXPECT_EQ(merge_small_bars(std::vector<std::size_t>{2, 0, 198}, 200), (std::vector<std::size_t>{2, 0, 198}));
  // 1 (0.5 %) merges into 8-bit, which then holds 1 + 0 = 1 (0.5 %) and merges into 16-bit.
  EXPECT_EQ(merge_small_bars(std::vector<std::size_t>{1, 0, 199}, 200), (std::vector<std::size_t>{0, 0, 200}));
  // The highest bar is never merged, however small.
  EXPECT_EQ(merge_small_bars(std::vector<std::size_t>{150, 49, 1}, 200), (std::vector<std::size_t>{150, 49, 1}));
}

ImageRecord rec(const std::string& file, std::map<int, std::pair<bool, double>> runs, bool float_ok = true,
                std::uint64_t macs = 1000) {
  ImageRecord r;
  r.file = file;
  r.label = 7;
  r.fp = bitscale::test::labelled_run(float_ok, 0.5);
  for (const auto& [b, cm] : runs) {
    driver::Counters c;
    c.cycles = macs / 10;
    (b == 16 ? c.mac16 : b == 8 ? c.mac8 : c.mac4) = macs;
    r.levels[b] = bitscale::test::labelled_run(cm.first, cm.second, c);
  }
  return r;
}

TEST(StudyCharacterize, MinimumBitWidthIsTheDescentFromTheTop) {
  const std::vector<int> L{4, 8, 16};
  EXPECT_EQ(min_bits(rec("a", {{4, {false, 0}}, {8, {true, 0}}, {16, {true, 0}}}), L, false), 8);
  EXPECT_EQ(min_bits(rec("b", {{4, {true, 0}}, {8, {true, 0}}, {16, {true, 0}}}), L, false), 4);
  // Correct at 4 but not at 8: the descent stops at 8, so the minimum is 16.
  EXPECT_EQ(min_bits(rec("c", {{4, {true, 0}}, {8, {false, 0}}, {16, {true, 0}}}), L, false), 16);
  EXPECT_EQ(min_bits(rec("d", {{4, {true, 0}}, {8, {true, 0}}, {16, {false, 0}}}), L, false), std::nullopt);
}

TEST(StudyCharacterize, HistogramConfigurationsAndMarginStatistics) {
  std::vector<ImageRecord> rs;
  rs.push_back(rec("a", {{4, {false, 0.1}}, {8, {true, 0.5}}, {16, {true, 0.9}}}));
  rs.push_back(rec("b", {{4, {false, 0.3}}, {8, {true, 0.7}}, {16, {true, 0.9}}}));
  rs.push_back(rec("c", {{4, {true, 0.8}}, {8, {true, 0.9}}, {16, {true, 0.9}}}));
  rs.push_back(rec("d", {{4, {false, 0.2}}, {8, {false, 0.1}}, {16, {true, 0.4}}}));
  const Characterization c = characterize(rs, {4, 8, 16}, false);
  EXPECT_EQ(c.images, 4u);
  EXPECT_EQ(c.raw, (std::vector<std::size_t>{1, 2, 1}));
  EXPECT_EQ(c.merged, c.raw);  // every bar holds 25 %
  EXPECT_EQ(c.configurations, (std::vector<int>{4, 8, 16}));
  // Easy at 4 bits: c (0.8). Difficult: a, b, d (0.1, 0.3, 0.2): mean 0.2, population std
  // sqrt(((-0.1)^2 + 0.1^2 + 0) / 3) = sqrt(0.02 / 3).
  EXPECT_EQ(c.easy.at(4).n, 1u);
  EXPECT_NEAR(c.easy.at(4).mean, 0.8, 1e-12);
  EXPECT_EQ(c.difficult.at(4).n, 3u);
  EXPECT_NEAR(c.difficult.at(4).mean, 0.2, 1e-12);
  EXPECT_NEAR(c.difficult.at(4).stddev, std::sqrt(0.02 / 3), 1e-12);
}

TEST(StudyCharacterize, MarginStatsOnKnownValues) {
  const std::vector<double> v{0.1, 0.3, 0.5, 0.7};
  const MarginStats s = margin_stats(v);
  EXPECT_EQ(s.n, 4u);
  EXPECT_NEAR(s.mean, 0.4, 1e-12);
  // Deviations -0.3, -0.1, 0.1, 0.3: (0.09 + 0.01 + 0.01 + 0.09) / 4 = 0.05.
  EXPECT_NEAR(s.stddev, std::sqrt(0.05), 1e-12);
  EXPECT_EQ(margin_stats(std::vector<double>{}).n, 0u);
  EXPECT_EQ(margin_stats(std::vector<double>{0.3}).stddev, 0.0);
}

// ------------------------------------------------------------------ sweep

/// Four images, levels 8 -> 16, every run 1000 MACs; energy 2 pJ per 8-bit MAC, 4 pJ per
/// 16-bit MAC, so one image costs 2000 pJ at 8 bits and 4000 pJ at 16 bits.
struct SweepFixture : ::testing::Test {
  std::vector<ImageRecord> rs;
  SweepInput in;
  void SetUp() override {
    rs.push_back(rec("A", {{4, {false, 0}}, {8, {true, 0.9}}, {16, {true, 0.9}}}));
    rs.push_back(rec("B", {{4, {false, 0}}, {8, {false, 0.2}}, {16, {true, 0.9}}}));
    rs.push_back(rec("C", {{4, {false, 0}}, {8, {false, 0.6}}, {16, {true, 0.9}}}));
    rs.push_back(rec("D", {{4, {false, 0}}, {8, {true, 0.4}}, {16, {true, 0.9}}}));
    in.records = sweep_records(rs, std::vector<int>{8, 16});
    in.levels = {8, 16};
    in.table.pj_per_mac16 = 4;
    in.table.pj_per_mac8 = 2;
    in.table.pj_per_mac4 = 1;
  }
};

TEST_F(SweepFixture, EvaluatesThresholdsFromTheRecords) {
  ASSERT_EQ(in.records.size(), 4u);
  EXPECT_DOUBLE_EQ(float_top1(in), 100.0);
  EXPECT_DOUBLE_EQ(static16_energy_pj(in), 16000.0);
  // T = 0: everything accepted at 8 bits: A, D correct.
  SweepPoint p = evaluate(in, 0.0);
  EXPECT_EQ(p.correct, 2u);
  EXPECT_DOUBLE_EQ(p.drop, 50.0);
  EXPECT_DOUBLE_EQ(p.energy_rel, 0.5);
  EXPECT_EQ(p.accepted, (std::vector<std::size_t>{4, 0}));
  // T = 0.5: A (0.9) and C (0.6) stay at 8 bits (C wrong); B, D re-run at 16 bits.
  p = evaluate(in, 0.5);
  EXPECT_EQ(p.correct, 3u);
  EXPECT_DOUBLE_EQ(p.drop, 25.0);
  EXPECT_DOUBLE_EQ(p.energy_pj, 2 * 2000.0 + 2 * (2000.0 + 4000.0));
  EXPECT_DOUBLE_EQ(p.energy_rel, 1.0);
  EXPECT_DOUBLE_EQ(p.runs_per_image, 1.5);
  // T = 0.7: only A stays; all correct; 2000 + 3 * 6000 = 20000 pJ.
  p = evaluate(in, 0.7);
  EXPECT_EQ(p.correct, 4u);
  EXPECT_DOUBLE_EQ(p.energy_rel, 1.25);
  // A margin equal to the threshold is accepted (SM >= T_h).
  EXPECT_EQ(evaluate(in, 0.6).accepted, (std::vector<std::size_t>{2, 2}));
}

TEST_F(SweepFixture, StaticPointsAndEnergyRelativeTo16Bit) {
  const StaticPoint s8 = evaluate_static(in, 8);
  EXPECT_EQ(s8.correct, 2u);
  EXPECT_DOUBLE_EQ(s8.energy_rel, 0.5);
  const StaticPoint s16 = evaluate_static(in, 16);
  EXPECT_DOUBLE_EQ(s16.drop, 0.0);
  EXPECT_DOUBLE_EQ(s16.energy_rel, 1.0);
  // Envision: the same MAC counts at 8 bits cost 56 / 290 of 16 bits (E_MAC = 2 P / 76 GOPS).
  SweepInput env = in;
  env.table = EnergyTable::envision();
  EXPECT_NEAR(evaluate_static(env, 8).energy_rel, 56.0 / 290.0, 1e-9);
  EXPECT_NEAR(evaluate_static(env, 4).energy_rel, 7.6 / 290.0, 1e-9);
}

TEST_F(SweepFixture, SearchFindsTheSmallestThresholdMeetingTheDrop) {
  // Drop <= 0 needs C (margin 0.6) re-run: the smallest T_h is just above 0.6.
  auto p = search_threshold(in, 0.0);
  ASSERT_TRUE(p);
  EXPECT_GT(p->threshold, 0.6);
  EXPECT_LT(p->threshold, 0.6 + 1e-12);
  EXPECT_DOUBLE_EQ(p->drop, 0.0);
  EXPECT_DOUBLE_EQ(p->energy_rel, 1.25);
  // Drop <= 30 pp: re-running B (margin 0.2) suffices: 75 %, 3 * 2000 + 6000 pJ.
  p = search_threshold(in, 30.0);
  ASSERT_TRUE(p);
  EXPECT_GT(p->threshold, 0.2);
  EXPECT_LT(p->threshold, 0.2 + 1e-12);
  EXPECT_DOUBLE_EQ(p->drop, 25.0);
  EXPECT_DOUBLE_EQ(p->energy_rel, 0.75);
  // Drop <= 50: T_h = 0.
  EXPECT_EQ(search_threshold(in, 50.0)->threshold, 0.0);
}

TEST_F(SweepFixture, UnreachableTargetAndMonotoneEnergy) {
  // 16-bit wrong on every image: no threshold reaches drop 0.
  SweepInput bad = in;
  std::vector<ImageRecord> worse = rs;
  for (auto& r : worse) r.levels[16].correct1 = false;
  bad.records = sweep_records(worse, std::vector<int>{8, 16});
  EXPECT_FALSE(search_threshold(bad, 0.0));
  // Energy never decreases with the threshold (more re-runs), runs/image neither.
  double e = -1, runs = 0;
  for (double t : grid(0, 1, 0.005)) {
    const SweepPoint p = evaluate(in, t);
    EXPECT_GE(p.energy_rel, e);
    EXPECT_GE(p.runs_per_image, runs);
    e = p.energy_rel;
    runs = p.runs_per_image;
  }
}

TEST(StudySweep, GridAndLevels) {
  const auto g = grid(0, 1, 0.005);
  EXPECT_EQ(g.size(), 201u);
  EXPECT_EQ(g.front(), 0.0);
  EXPECT_EQ(g.back(), 1.0);
  EXPECT_EQ(parse_levels("4,8,16"), (std::vector<int>{4, 8, 16}));
  EXPECT_EQ(parse_levels("8,16"), (std::vector<int>{8, 16}));
  EXPECT_THROW(parse_levels("16,8"), std::invalid_argument);
  EXPECT_THROW(parse_levels("4,12"), std::invalid_argument);
  EXPECT_THROW(parse_levels("x"), std::invalid_argument);
}

// ------------------------------------------------------------------ records and resume

TEST(StudyRecords, JsonLineRoundTrip) {
  ImageRecord r = rec("dir/n01440764_x \"q\".JPEG", {{4, {false, 0.123456789f}}, {16, {true, 1.0f}}});
  r.levels[4].counters->spad_rd = 12345678901234ull;
  const std::string line = to_json_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(parse_record(line, "f", 1), r);
  ImageRecord e;
  e.file = "bad.jpg";
  e.error = "not a JPEG";
  EXPECT_EQ(parse_record(to_json_line(e), "f", 1), e);
}

TEST(StudyRecords, EveryCounterOfTheRegisterMapRoundTrips) {
  // Each counter a distinct value: a counter written under another's name, or not at all, differs.
  driver::Counters c;
  for (std::size_t i = 0; i < regmap::kNumCounters; ++i) c.*driver::Counters::kFields[i] = 1000 + 7 * i;
  const std::string text = counters_json(c);
  EXPECT_EQ(parse_counters(util::parse_json(text, "t"), "t: "), c);
  for (std::size_t i = 0; i < regmap::kNumCounters; ++i) {
    if (i >= regmap::kCntGw1 && i <= regmap::kCntGw16) continue;  // written as one array "gw"
    EXPECT_NE(text.find(fmt::format("\"{}\":{}", regmap::kCounters[i].name, 1000 + 7 * i)), std::string::npos)
        << regmap::kCounters[i].name << " in " << text;
  }
  // No group counted: no "gw" array; all-zero counters read back.
  EXPECT_EQ(counters_json(driver::Counters{}).find("gw"), std::string::npos);
  EXPECT_EQ(parse_counters(util::parse_json(counters_json(driver::Counters{}), "t"), "t: "), driver::Counters{});
  // A record written before CNT_BLK existed: the counters added later read as 0.
  const auto old = parse_counters(util::parse_json("{\"cycles\":5,\"busy\":4,\"array\":3,\"mac16\":2,\"mac8\":1,"
                                                   "\"mac4\":0,\"spad_rd\":9,\"spad_wr\":8,\"tiles\":1}",
                                                   "t"),
                                  "t: ");
  EXPECT_EQ(old.cycles, 5u);
  EXPECT_EQ(old.spad_wr, 8u);
  EXPECT_EQ(old.blk, 0u);
  EXPECT_EQ(old.zskip, 0u);
  // Missing first counters, negative counts and a short histogram are refused, naming where.
  const auto refused = [](const std::string& json, const std::string& what) {
    try {
      (void)parse_counters(util::parse_json(json, "t"), "rec:3: counters: ");
      ADD_FAILURE() << "accepted " << json;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("rec:3: counters: "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  refused("{\"busy\":1}", "\"cycles\"");
  refused(
      "{\"cycles\":-1,\"busy\":0,\"array\":0,\"mac16\":0,\"mac8\":0,\"mac4\":0,\"spad_rd\":0,\"spad_wr\":0,"
      "\"tiles\":0}",
      "negative");
  refused(
      "{\"cycles\":1,\"busy\":0,\"array\":0,\"mac16\":0,\"mac8\":0,\"mac4\":0,\"spad_rd\":0,\"spad_wr\":0,"
      "\"tiles\":0,\"gw\":[1,2]}",
      "16 counts");
  refused("[1]", "not an object");
}

TEST(StudyRecords, MalformedLinesNameFileAndLine) {
  const auto expect_error = [](const std::string& line, const std::string& what) {
    try {
      (void)parse_record(line, "results.jsonl", 7);
      ADD_FAILURE() << "no error for " << line;
    } catch (const StudyError& e) {
      EXPECT_NE(std::string(e.what()).find("results.jsonl:7:"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  expect_error("{\"file\":\"a\"", "invalid JSON");
  expect_error("[1]", "object");
  expect_error("{\"label\":1,\"levels\":{}}", "\"file\"");
  expect_error("{\"file\":\"a\",\"label\":1,\"levels\":{\"5\":{}}}", "level \"5\"");
  expect_error("{\"file\":\"a\",\"label\":1,\"levels\":{\"8\":{\"top1\":1,\"correct1\":true,\"correct5\":true}}}",
               "margin");

  // In a file: the error names the file and the line number.
  const fs::path dir = test::temp_dir("study_malformed");
  const std::string path = (dir / "r.jsonl").string();
  {
    std::ofstream f(path);
    f << "HEADER\n" << to_json_line(rec("a", {})) << "\n{\"file\":oops}\n" << to_json_line(rec("c", {})) << "\n";
  }
  const WorkerFactory never = []() { return [](const std::string& f) -> ImageRecord { return rec(f, {}); }; };
  try {
    (void)record_images(path, "HEADER", {"a", "b", "c"}, never);
    ADD_FAILURE() << "no error";
  } catch (const StudyError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":3:"), std::string::npos) << e.what();
  }
  // Another header: other options, refused (checked before the lines: named first).
  try {
    (void)record_images(path, "OTHER", {"a"}, never);
    ADD_FAILURE() << "no error";
  } catch (const StudyError& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": recorded with header HEADER, this run expects OTHER"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

/// A deterministic fake worker: the record depends only on the file name.
WorkerFactory fake_workers(std::atomic<int>* calls) {
  return [calls]() {
    return [calls](const std::string& f) {
      ++*calls;
      const double m = static_cast<double>(static_cast<float>((std::hash<std::string>{}(f) % 1000) / 1000.0));
      // Margins are float values, as in real runs (records store them exactly).
      return rec(f, {{8, {f.size() % 2 == 0, m}}, {16, {true, static_cast<double>(0.9f)}}}, true, 100 + f.size());
    };
  };
}

TEST(StudyRecords, InterruptedRunResumesToIdenticalBytes) {
  const fs::path dir = test::temp_dir("study_resume");
  std::vector<std::string> files;
  for (int i = 0; i < 23; ++i) files.push_back(fmt::format("img{:03}.jpg", i));
  std::atomic<int> calls{0};
  RecordOptions o;
  o.jobs = 3;
  const auto full = record_images((dir / "full.jsonl").string(), "H", files, fake_workers(&calls), o);
  EXPECT_TRUE(full.complete);
  EXPECT_EQ(calls, 23);

  // Interrupted after 7 images, then killed in the middle of writing the next line.
  const std::string part = (dir / "part.jsonl").string();
  o.stop_after = 7;
  const auto first = record_images(part, "H", files, fake_workers(&calls), o);
  EXPECT_FALSE(first.complete);
  EXPECT_EQ(first.computed, 7u);
  {
    std::ofstream f(part, std::ios::app | std::ios::binary);
    f << "{\"file\":\"img007.jpg\",\"lab";
  }
  calls = 0;
  o.stop_after = 0;
  const auto resumed = record_images(part, "H", files, fake_workers(&calls), o);
  EXPECT_TRUE(resumed.complete);
  EXPECT_EQ(resumed.resumed, 7u);
  EXPECT_EQ(calls, 16);  // finished images are not redone
  EXPECT_GT(resumed.truncated_bytes, 0u);
  EXPECT_EQ(util::read_file((dir / "full.jsonl").string()), util::read_file(part));
  EXPECT_EQ(resumed.records, full.records);
  // A complete file: nothing to do.
  calls = 0;
  EXPECT_TRUE(record_images(part, "H", files, fake_workers(&calls), o).complete);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(read_records(part), full.records);
  fs::remove_all(dir);
}

// The embedded default: MobileNet v1 0.25/128 on data/images with its synsets (tests using it
// skip when the data is absent), the even/odd halves of the images and a golden accelerator.
class EmbeddedDefault : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path data = fs::path(BITSCALE_SOURCE_DIR) / "data";
    const fs::path model_path = data / "models" / "mobilenet_v1_0.25_128_quant.tflite";
    if (!fs::exists(model_path) || !fs::exists(data / "imagenet-synsets.tsv")) GTEST_SKIP() << "no embedded data";
    data_ = data;
    net_.emplace(load_tflite(model_path.string()));
    syn_.emplace((data / "imagenet-synsets.tsv").string());
    halves_ = split_even_odd(list_images((data / "images").string()));
  }
  [[nodiscard]] const Network& net() const { return *net_; }
  [[nodiscard]] const Synsets& syn() const { return *syn_; }
  /// A calibration on `images` images spread over the even half.
  [[nodiscard]] Calibration calibration(int images) const {
    return calibrate_files(*net_, spread(halves_.calibration, images), 2);
  }
  /// Accelerators of the default geometry on the golden device.
  static AcceleratorFactory factory() {
    return [](driver::Backend) { return std::make_unique<driver::Accelerator>(driver::default_hw_config()); };
  }

  fs::path data_;
  Split halves_;

 private:
  std::optional<Network> net_;
  std::optional<Synsets> syn_;
};
using StudyRecordsEmbedded = EmbeddedDefault;
using StudyEvalEmbedded = EmbeddedDefault;

// The real thing on the embedded default (MobileNet v1 0.25/128 on data/images, golden
// back-end): an interrupted sweep resumed with another thread count writes the same records
// and byte-identical summaries as an uninterrupted one.
TEST_F(StudyRecordsEmbedded, InterruptedSweepIsIdentical) {
  const Network& net = this->net();
  const Synsets& syn = this->syn();
  const Calibration calib = calibration(4);
  const Split& halves = halves_;
  std::vector<std::string> files = halves.evaluation;
  files.resize(6);
  const RunSetup setup{.net = &net,
                       .run_float = true,
                       .bits = {4, 8, 16},
                       .backend = Backend::kGolden,
                       .calib = &calib,
                       .factory = factory()};
  const Runner runner(setup, [&syn](const std::string& f) { return label_from_filename(f, syn); });
  const fs::path dir = test::temp_dir("study_sweep");
  RecordOptions o;
  o.jobs = 2;
  const auto full = record_images((dir / "a.jsonl").string(), "H", files, runner.workers(), o);
  o.jobs = 1;
  o.stop_after = 2;
  EXPECT_FALSE(record_images((dir / "b.jsonl").string(), "H", files, runner.workers(), o).complete);
  o.jobs = 2;
  o.stop_after = 0;
  const auto resumed = record_images((dir / "b.jsonl").string(), "H", files, runner.workers(), o);
  ASSERT_TRUE(resumed.complete);
  EXPECT_EQ(resumed.computed, 4u);
  EXPECT_EQ(util::read_file((dir / "a.jsonl").string()), util::read_file((dir / "b.jsonl").string()));
  // Counters recorded for each level, MACs in that level's mode but the classifier's: 16-bit in
  // every level by default (kArrayQuantDefaults), a 1x1 convolution on a 1x1xC input here.
  std::uint64_t classifier_macs = 0;
  for (auto it = net.ops().rbegin(); it != net.ops().rend() && classifier_macs == 0; ++it) {
    if (it->is_mac()) classifier_macs = net.shapes()[it->inputs[0]].size() * static_cast<std::uint64_t>(it->out_c);
  }
  for (const auto& r : full.records) {
    ASSERT_TRUE(r.ok());
    EXPECT_GT(r.levels.at(8).counters->mac8, 0u);
    EXPECT_EQ(r.levels.at(8).counters->mac16, classifier_macs);
    EXPECT_EQ(r.levels.at(8).counters->mac8 + classifier_macs, static_cast<std::uint64_t>(net.macs()));
    EXPECT_GT(r.levels.at(16).counters->mac16, 0u);
  }
  // Summaries from the two record sets: byte-identical outputs.
  for (const auto* name : {"a", "b"}) {
    const auto recs = read_records((dir / (std::string(name) + ".jsonl")).string());
    static std::vector<ImageRecord> keep[2];
    keep[name[0] - 'a'] = recs;
    SweepInput in;
    in.records = sweep_records(keep[name[0] - 'a'], std::vector<int>{4, 8, 16});
    in.levels = {4, 8, 16};
    in.table = EnergyTable::envision();
    write_sweep((dir / name).string(), summarize_sweep(in, 1.0, 0.05), "test");
  }
  for (const auto* f : {"sweep.json", "thresholds.csv", "table.csv", "summary.md", "accuracy_energy.svg"}) {
    EXPECT_EQ(util::read_file((dir / "a" / f).string()), util::read_file((dir / "b" / f).string())) << f;
  }
  fs::remove_all(dir);
}

// The deployed controller's runner (apply): each image runs from the lowest level up and stops at
// the first whose confidence reaches T_h; the levels it runs give the same results as running
// every level, and the stopping point follows from those results by the paper's rule.
TEST_F(StudyRecordsEmbedded, EscalationStopsAtTheFirstConfidentLevel) {
  const Network& net = this->net();
  const Calibration calib = calibration(4);
  std::vector<std::string> files = halves_.evaluation;
  files.resize(6);
  const RunSetup setup{.net = &net,
                       .run_float = false,
                       .bits = {4, 8, 16},
                       .backend = Backend::kGolden,
                       .calib = &calib,
                       .factory = factory()};
  const Runner every(setup, nullptr);
  const auto work = every.workers()();
  std::vector<ImageRecord> full;
  for (const auto& f : files) full.push_back(work(f));
  for (double th : {0.0, 0.05, 0.3, 1.0}) {
    const Runner ctl(setup, nullptr, Escalation{.threshold = th, .metric = Metric::kScoreMargin});
    const auto w = ctl.workers()();
    for (std::size_t i = 0; i < files.size(); ++i) {
      const ImageRecord r = w(files[i]);
      std::vector<int> expect;
      for (int b : {4, 8, 16}) {
        expect.push_back(b);
        if (full[i].levels.at(b).margin >= th) break;
      }
      std::vector<int> ran;
      for (const auto& [b, run] : r.levels) {
        ran.push_back(b);
        EXPECT_EQ(run.margin, full[i].levels.at(b).margin) << files[i] << " at " << b;
        EXPECT_EQ(run.top1, full[i].levels.at(b).top1) << files[i] << " at " << b;
      }
      EXPECT_EQ(ran, expect) << files[i] << " T_h " << th;
      if (th == 0.0) {
        EXPECT_EQ(ran, std::vector<int>{4});
      }
    }
  }
  EXPECT_EQ(every.run_level(8, files[0]).margin, full[0].levels.at(8).margin);
  EXPECT_THROW((void)every.run_level(2, files[0]), std::invalid_argument);
}

// ------------------------------------------------------------------ back-ends, phases, eval rows

TEST(StudyBackend, NamesRoundTripAndUnknownNamesListTheAccepted) {
  for (Backend b : {Backend::kFloat, Backend::kGolden, Backend::kGoldenDevice, Backend::kRtl}) {
    EXPECT_EQ(parse_backend(to_string(b)), b);
  }
  EXPECT_EQ(to_string(Backend::kGoldenDevice), "golden-device");
  EXPECT_FALSE(on_array(Backend::kFloat));
  EXPECT_TRUE(on_array(Backend::kRtl));
  try {
    (void)parse_backend("fpga");
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    const std::string w = e.what();
    for (const char* n : {"fpga", "float", "golden", "golden-device", "rtl"})
      EXPECT_NE(w.find(n), std::string::npos) << w;
  }
}

TEST(StudyCharacterize, FloatBaselineKeepsCorrectLabelledImages) {
  std::vector<ImageRecord> recs;
  recs.push_back(rec("ok.jpg", {}, true));
  recs.push_back(rec("wrong.jpg", {}, false));
  ImageRecord unreadable;
  unreadable.file = "bad.jpg";
  unreadable.error = "not a JPEG";
  recs.push_back(unreadable);
  ImageRecord unlabelled = rec("nolabel.jpg", {}, true);
  unlabelled.label.reset();
  recs.push_back(unlabelled);
  std::vector<std::string> warnings;
  const FloatBaseline b = float_correct(recs, false, [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(b.kept, std::vector<std::string>{"ok.jpg"});
  EXPECT_EQ(b.errors, 1u);
  EXPECT_EQ(b.labelled, 2u);  // ok and wrong
  EXPECT_EQ(b.unlabelled, 1u);
  EXPECT_EQ(b.runs.at("ok.jpg"), *recs[0].fp);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("bad.jpg"), std::string::npos);
  // Top-5: an image wrong at top-1 but right at top-5 is kept.
  recs[1].fp->correct5 = true;
  EXPECT_EQ(float_correct(recs, true).kept, (std::vector<std::string>{"ok.jpg", "wrong.jpg"}));
}

TEST(StudyConfirm, ArrayRunsComparedFloatRunIgnored) {
  const ImageRecord g = rec("a.jpg", {{8, {true, 0.5}}, {16, {true, 0.75}}});
  ImageRecord r = g;
  r.fp.reset();  // confirmation records have no float run
  EXPECT_TRUE(compare_array_runs(g, r).ok());
  r.levels[8].counters->cycles += 1;
  EXPECT_FALSE(compare_array_runs(g, r).ok());
  r = g;
  r.levels[16].margin = 0.25;
  const dv::Scoreboard sb = compare_array_runs(g, r);
  EXPECT_FALSE(sb.ok());
  EXPECT_EQ(sb.mismatch_count(), 1u);
  const std::string text = one_line_report(sb);
  EXPECT_NE(text.find("a.jpg at 16 bits"), std::string::npos) << text;
  EXPECT_NE(text.find("margin"), std::string::npos) << text;
  r = g;
  r.levels.erase(8);  // a level missing on the RTL
  EXPECT_FALSE(compare_array_runs(g, r).ok());
}

Prediction prediction(std::vector<int> top, std::vector<float> prob) {
  Prediction p;
  p.top.index = std::move(top);
  p.top.prob = std::move(prob);
  p.margin = p.top.prob.size() > 1 ? p.top.prob[0] - p.top.prob[1] : 0.0f;
  return p;
}

TEST(StudyEval, CsvRowsQuoteFieldsAndLeaveMissingValuesEmpty) {
  std::ostringstream out;
  EvalWriter w(out, EvalFormat::kCsv, false,
               [](int c) { return c < 0 ? std::string("background") : "n, " + std::to_string(c); });
  EvalRow ok;
  ok.file = "dir/a,b.jpg";
  ok.label = 7;  // model output 8
  ok.pred = prediction({8, 3, 0, 1, 2}, {0.5f, 0.25f, 0.125f, 0.0625f, 0.03125f});
  w.write(ok);
  EvalRow bad;
  bad.file = "c.jpg";
  bad.error = "not a JPEG";
  w.write(bad);
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[0].starts_with("file,label,top1,"));
  // Quoted file name, classes 7 and 2 (outputs minus the background), correct at top-1 and top-5,
  // the class name quoted (it holds a comma), no counters.
  EXPECT_TRUE(lines[1].starts_with("\"dir/a,b.jpg\",7,7,2,-1,0,1,0.5,0.25,0.125,0.0625,0.03125,0.25,1,1,\"n, 7\",,,,,"))
      << lines[1];
  EXPECT_TRUE(lines[2].starts_with("c.jpg,,,,")) << lines[2];
  EXPECT_TRUE(lines[2].ends_with(",not a JPEG")) << lines[2];
  // Every row has as many fields as the header (no field holds a comma outside quotes here but row 1).
  EXPECT_EQ(std::count(lines[2].begin(), lines[2].end(), ','), std::count(lines[0].begin(), lines[0].end(), ','));
}

TEST(StudyEval, JsonRowsAreValidJsonWithTheRowsValues) {
  std::ostringstream out;
  EvalWriter w(out, eval_format_for("x.jsonl"), true, [](int) { return std::string("tench \"fish\""); });
  EvalRow r;
  r.file = "a\"q\".jpg";
  r.label = 0;  // model output 1: second
  r.pred = prediction({2, 1}, {0.75f, 0.125f});
  r.pred->counters = driver::Counters{};
  r.pred->counters->cycles = 1ull << 40;
  r.compare = "match (3 layers)";
  w.write(r);
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j.at("file"), "a\"q\".jpg");
  EXPECT_EQ(j.at("label"), 0);
  EXPECT_EQ(j.at("top5").size(), 2u);
  EXPECT_EQ(j.at("top5")[0].at("class"), 1);
  EXPECT_EQ(j.at("top5")[0].at("name"), "tench \"fish\"");
  EXPECT_EQ(j.at("top1_correct"), false);
  EXPECT_EQ(j.at("top5_correct"), true);
  EXPECT_EQ(j.at("cycles").get<std::uint64_t>(), 1ull << 40);
  EXPECT_EQ(j.at("compare"), "match (3 layers)");
  EXPECT_EQ(eval_format_for("x.csv"), EvalFormat::kCsv);
  EXPECT_EQ(eval_format_for(""), EvalFormat::kCsv);
}

// On the embedded default: rows come in list order whatever the thread count, the totals add
// up, and the comparison of two back-ends finds a changed word.
TEST_F(StudyEvalEmbedded, RowsInListOrderAndComparison) {
  const Network& net = this->net();
  const Synsets& syn = this->syn();
  const Calibration calib = calibration(3);
  const Split& halves = halves_;
  const Engine golden(net, ArrayConfig{.backend = Backend::kGolden, .bits = 8, .calib = &calib}, factory());
  std::vector<std::string> files(halves.evaluation.begin(), halves.evaluation.begin() + 5);
  files.insert(files.begin() + 2, (data_ / "no-such-image.jpg").string());
  EvalConfig cfg;
  cfg.net = &net;
  cfg.files = files;
  cfg.engine = &golden;
  cfg.compare_with = &golden;
  cfg.label_of = [&syn](const std::string& f) { return label_from_filename(f, syn); };
  cfg.jobs = 3;
  std::vector<std::string> order;
  const EvalTotals t = evaluate_images(cfg, [&](const EvalRow& r, const EvalTotals& sofar) {
    order.push_back(r.file);
    EXPECT_EQ(sofar.done, order.size());
    if (r.pred) {
      EXPECT_TRUE(r.compare.starts_with("match")) << r.compare;
    }
  });
  EXPECT_EQ(order, files);
  EXPECT_EQ(t.done, 6u);
  EXPECT_EQ(t.errors, 1u);
  EXPECT_EQ(t.compared, 5u);
  EXPECT_EQ(t.matched, 5u);
  EXPECT_EQ(t.labelled, 5u);
  EXPECT_GT(t.cycles, 0u);

  // One changed word in one layer: named with its layer and position.
  const data::Image img = load_for_model(files[0], net.input_h(), net.input_w());
  auto s = golden.session();
  const Prediction a = s->run(img.rgb, true);
  Prediction b = a;
  ASSERT_GT(b.mac_outputs.size(), 3u);
  b.mac_outputs[3].words.at(5) ^= 1;
  EXPECT_EQ(compare_runs(a, a, *golden.quantized()), fmt::format("match ({} layers)", a.mac_outputs.size()));
  const std::string d = compare_runs(a, b, *golden.quantized());
  EXPECT_NE(d.find("layer 3 "), std::string::npos) << d;
  EXPECT_NE(d.find("1 of "), std::string::npos) << d;
  EXPECT_NE(d.find("words differ"), std::string::npos) << d;
  EXPECT_EQ(d.find("layer 2 "), std::string::npos) << d;  // only the changed layer is named
}

TEST(StudySweepRun, EvaluationFilesAreTheHalfWithoutCalibrationImagesThenLimited) {
  const std::vector<std::string> all{"a", "b", "c", "d", "e", "f", "g"};
  SweepCalibration c;
  c.half = Half::kOdd;  // b, d, f
  c.calib.images = {"a", "d"};
  std::vector<std::string> said;
  const Inform inform = [&](const std::string& s) { said.push_back(s); };
  EXPECT_EQ(sweep_files(all, c, 0, "dir", inform), (std::vector<std::string>{"b", "f"}));
  ASSERT_EQ(said.size(), 1u);
  EXPECT_NE(said[0].find("excluded 1 calibration"), std::string::npos) << said[0];
  c.half = Half::kAll;
  EXPECT_EQ(sweep_files(all, c, 3, "dir", {}), (std::vector<std::string>{"b", "c", "e"}));
  c.calib.images = {"b", "d", "f"};
  c.half = Half::kOdd;
  EXPECT_THROW((void)sweep_files(all, c, 0, "dir", {}), std::invalid_argument);
}

TEST(StudySweepRun, RecordsFileNamedAfterTheBackEnd) {
  EXPECT_EQ(sweep_records_path("out", Backend::kGolden), "out/records.jsonl");
  EXPECT_EQ(sweep_records_path("out", Backend::kRtl), "out/records_rtl.jsonl");
  EXPECT_EQ(sweep_records_path("out", Backend::kGoldenDevice), "out/records_golden-device.jsonl");
}

TEST(StudyLevels, EveryLevelIsAnArrayPrecision) {
  for (int b : kPrecisions) EXPECT_EQ(parse_levels(std::to_string(b)), std::vector<int>{b});
  EXPECT_EQ(std::vector<int>(kPrecisions.begin(), kPrecisions.end()), parse_levels("4,8,16"));
  EXPECT_THROW((void)Controller({4, 12}, 0.5), std::invalid_argument);
}

}  // namespace
}  // namespace bitscale::study
