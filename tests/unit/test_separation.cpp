// How well a confidence metric separates easy from difficult images (AUROC, exact Mann-Whitney),
// the exact top-1/top-2 ties of the characterization, and the quantization options in the
// records header (a resume with other options is refused).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/study/characterize.hpp"
#include "bitscale/study/characterize_job.hpp"
#include "bitscale/study/classify_job.hpp"
#include "bitscale/study/confidence.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/summaries.hpp"
#include "bitscale/util/file.hpp"
#include "test_files.hpp"

namespace bitscale::study {
namespace {

namespace fs = std::filesystem;
using V = std::vector<double>;

TEST(Auroc, PerfectReversedAndTiedCases) {
  EXPECT_EQ(auroc(V{0.9, 0.8, 0.7}, V{0.1, 0.2}), 1.0);
  EXPECT_EQ(auroc(V{0.1, 0.2}, V{0.9, 0.8, 0.7}), 0.0);
  EXPECT_EQ(auroc(V{0.5, 0.5}, V{0.5, 0.5, 0.5}), 0.5);
  // Touching but not overlapping: one tied pair of 4 counts 1/2, so 3.5 / 4.
  EXPECT_EQ(auroc(V{0.5, 0.9}, V{0.5, 0.1}), 3.5 / 4);
}

TEST(Auroc, SmallMixedExampleByHand) {
  // Positives 0.9, 0.4, 0.6 against negatives 0.5, 0.4, 0.1:
  //   0.9 beats all three: 3; 0.4 loses to 0.5, ties 0.4, beats 0.1: 1.5; 0.6 beats all: 3.
  //   U = 7.5 of 9 pairs.
  EXPECT_DOUBLE_EQ(*auroc(V{0.9, 0.4, 0.6}, V{0.5, 0.4, 0.1}), 7.5 / 9);
  // Swapping the classes gives 1 - AUROC.
  EXPECT_DOUBLE_EQ(*auroc(V{0.5, 0.4, 0.1}, V{0.9, 0.4, 0.6}), 1.5 / 9);
}

TEST(Auroc, EmptyClassIsNotAvailableAndNanIsRefused) {
  EXPECT_FALSE(auroc(V{}, V{0.5}).has_value());
  EXPECT_FALSE(auroc(V{0.5}, V{}).has_value());
  EXPECT_THROW((void)auroc(V{std::nan("")}, V{0.5}), std::invalid_argument);
}

TEST(Auroc, EqualsTheCountOverAllPairs) {
  // An independent computation: every (positive, negative) pair compared directly, on values
  // drawn from 6 levels so that ties are frequent.
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> d(0, 5);
  for (int trial = 0; trial < 20; ++trial) {
    V pos(static_cast<std::size_t>(1 + trial)), neg(static_cast<std::size_t>(1 + (trial * 7) % 13));
    for (auto& x : pos) x = d(rng) / 5.0;
    for (auto& x : neg) x = d(rng) / 5.0;
    double wins = 0;
    for (double p : pos)
      for (double n : neg) wins += p > n ? 1.0 : p == n ? 0.5 : 0.0;
    EXPECT_DOUBLE_EQ(*auroc(pos, neg), wins / static_cast<double>(pos.size() * neg.size())) << trial;
  }
}

RunRecord run(bool correct, double margin, double max_prob, double entropy) {
  RunRecord r;
  r.top1 = correct ? 7 : 3;
  r.correct1 = r.correct5 = correct;
  r.margin = margin;
  r.max_prob = max_prob;
  r.entropy = entropy;
  return r;
}

ImageRecord image(const std::string& file, RunRecord at8, RunRecord at16) {
  ImageRecord r;
  r.file = file;
  r.label = 7;
  r.fp = run(true, 0.5, 0.7, 0.3);
  r.levels[8] = at8;
  r.levels[16] = at16;
  return r;
}

TEST(CharacterizeSeparation, AurocPerMetricAndTiesPerLevel) {
  std::vector<ImageRecord> rs;
  //                            8 bits: correct, margin, max-prob, entropy   16 bits
  rs.push_back(image("a", run(true, 0.6, 0.8, 0.2), run(true, 0.7, 0.7, 0.5)));
  rs.push_back(image("b", run(true, 0.0, 0.45, 0.3), run(true, 0.5, 0.6, 0.5)));
  rs.push_back(image("c", run(false, 0.0, 0.5, 0.9), run(true, 0.2, 0.5, 0.5)));
  rs.push_back(image("d", run(false, 0.3, 0.6, 0.8), run(false, 0.0, 0.9, 0.5)));
  const Characterization c = characterize(rs, {8, 16}, false);
  // 8 bits: easy a, b; difficult c, d.
  //   margin: 0.6 beats 0.0 and 0.3 (2); 0.0 ties 0.0 (1/2), loses to 0.3: 2.5 of 4.
  EXPECT_EQ(c.separation.at(8).at(Metric::kScoreMargin), 2.5 / 4);
  //   max-prob: 0.8 beats both, 0.45 beats neither: 2 of 4.
  EXPECT_EQ(c.separation.at(8).at(Metric::kMaxProb), 0.5);
  //   1 - entropy: 0.8, 0.7 against 0.1, 0.2: separated.
  EXPECT_EQ(c.separation.at(8).at(Metric::kEntropy), 1.0);
  EXPECT_EQ(c.ties.at(8), 2u);  // b and c
  // 16 bits: easy a, b, c; difficult d.
  EXPECT_EQ(c.separation.at(16).at(Metric::kScoreMargin), 1.0);
  EXPECT_EQ(c.separation.at(16).at(Metric::kMaxProb), 0.0);  // d is the most confident
  EXPECT_EQ(c.separation.at(16).at(Metric::kEntropy), 0.5);  // all equal
  EXPECT_EQ(c.ties.at(16), 1u);                              // d

  // Only easy images: no difficult class, no AUROC; no ties counted as 0.
  const Characterization e = characterize({rs[0]}, {8, 16}, false);
  for (int b : {8, 16}) {
    for (const Metric m : kSeparationMetrics) EXPECT_FALSE(e.separation.at(b).at(m).has_value()) << b;
  }
  EXPECT_EQ(e.ties.at(16), 0u);
}

TEST(CharacterizeSeparation, SummaryLinesAndMarkdownTable) {
  std::vector<ImageRecord> rs;
  rs.push_back(image("a", run(true, 0.6, 0.8, 0.2), run(true, 0.7, 0.7, 0.5)));
  rs.push_back(image("b", run(true, 0.0, 0.45, 0.3), run(true, 0.5, 0.6, 0.5)));
  rs.push_back(image("d", run(false, 0.3, 0.6, 0.8), run(true, 0.0, 0.9, 0.5)));
  CharacterizeJobOutcome r;
  r.model_name = "m.tflite";
  r.images = 3;
  r.result = characterize(rs, {8, 16}, false);
  // 8 bits: easy a, b against d. margin: 0.6 > 0.3, 0.0 < 0.3: 1 of 2; max-prob 0.8 > 0.6, 0.45 < 0.6:
  // 1 of 2; 1 - entropy 0.8, 0.7 > 0.2: 2 of 2. 16 bits: all correct, no difficult class.
  const std::string s = characterize_summary(r);
  EXPECT_NE(s.find("AUROC easy vs difficult at  8-bit: margin 0.500, max-prob 0.500, entropy 1.000; "
                   "top-1/top-2 ties: 1\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("AUROC easy vs difficult at 16-bit: margin n/a, max-prob n/a, entropy n/a; top-1/top-2 ties: 1\n"),
            std::string::npos)
      << s;
}

TEST(RecordsHeader, CarriesTheQuantizationOptionsOfArrayRuns) {
  using quant::ClassifierPrecision;
  using quant::Rounding;
  const auto header = [](const quant::QuantOptions& q) {
    return records_header("levels", "m.tflite", "golden", {8, 16}, "abc", "channel", q);
  };
  const std::string wide = header(kArrayQuantDefaults);
  EXPECT_NE(wide.find("\"classifier\":\"16\",\"rounding\":\"nearest\""), std::string::npos) << wide;
  EXPECT_EQ(wide.find("rounding_seed"), std::string::npos) << wide;
  const std::string level = header({.classifier = ClassifierPrecision::kLevel});
  EXPECT_NE(level.find("\"classifier\":\"level\""), std::string::npos) << level;
  const std::string s5 = header({.rounding = Rounding::kStochastic, .rounding_seed = 5});
  EXPECT_NE(s5.find("\"rounding\":\"stochastic\",\"rounding_seed\":5"), std::string::npos) << s5;
  EXPECT_NE(s5, header({.rounding = Rounding::kStochastic, .rounding_seed = 6}));
  // Float runs have no quantization.
  EXPECT_EQ(records_header("float", "m.tflite", "float", {}, "").find("classifier"), std::string::npos);
}

const fs::path kData = fs::path(BITSCALE_SOURCE_DIR) / "data";

TEST(CharacterizeSeparation, ResumeWithOtherQuantizationOptionsIsRefused) {
  if (!fs::exists(kData / "models" / "mobilenet_v1_0.25_128_quant.tflite") || !fs::exists(kData / "images"))
    GTEST_SKIP() << "no embedded data";
  const fs::path dir = test::temp_dir("characterize_quant_options");
  CharacterizeJob job;
  job.data = {(kData / "models" / "mobilenet_v1_0.25_128_quant.tflite").string(), (kData / "images").string(),
              (kData / "imagenet-synsets.tsv").string(), ""};
  job.out_dir = dir.string();
  job.half = data::Half::kEven;
  job.levels = {8, 16};
  job.limit = 2;
  job.jobs = 2;
  job.factory = [](driver::Backend) { return std::make_unique<driver::Accelerator>(driver::default_hw_config()); };
  const CharacterizeJobOutcome first = run_characterize(job);
  ASSERT_TRUE(first.complete);
  const std::string json = util::read_file((dir / "characterization.json").string());
  EXPECT_NE(json.find("\"separation_auroc\":{\"8\":{\"margin\":"), std::string::npos) << json;
  EXPECT_NE(json.find("\"top1_top2_ties\":{\"8\":"), std::string::npos) << json;
  // The same options resume; other ones are refused.
  EXPECT_TRUE(run_characterize(job).complete);
  CharacterizeJob other = job;
  other.quantization.classifier = quant::ClassifierPrecision::kLevel;
  EXPECT_THROW((void)run_characterize(other), StudyError);
  other = job;
  other.quantization.rounding = quant::Rounding::kStochastic;
  EXPECT_THROW((void)run_characterize(other), StudyError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bitscale::study

namespace bitscale::study {
namespace {

TEST(ClassifySummary, MacsPerModeWhenTheClassifierIsWider) {
  ClassifyOutcome r;
  r.image = "x.JPEG";
  r.model_path = "m.tflite";
  r.backend = Backend::kGolden;
  r.on_array = true;
  r.bits = 8;
  driver::Counters c;
  c.cycles = 5;
  c.mac8 = 100;
  c.mac16 = 20;
  r.prediction.counters = c;
  EXPECT_NE(classify_summary(r).find("array: 5 cycles, 120 MACs (100 8-bit, 20 16-bit)\n"), std::string::npos)
      << classify_summary(r);
  c.mac16 = 0;
  r.prediction.counters = c;
  EXPECT_NE(classify_summary(r).find("array: 5 cycles, 100 MACs (8-bit)\n"), std::string::npos) << classify_summary(r);
}

}  // namespace
}  // namespace bitscale::study
