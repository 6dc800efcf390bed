// The commands' orchestration as library calls (study::run_sweep, run_characterize, run_eval,
// run_classify) on the embedded default (data/): which images calibrate and which are evaluated,
// how many records are written, and resuming an interrupted job.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include "bitscale/data/labels.hpp"
#include "bitscale/driver/accelerator.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/calibration.hpp"
#include "bitscale/study/characterize_job.hpp"
#include "bitscale/study/classify_job.hpp"
#include "bitscale/study/eval_job.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/sweep_job.hpp"
#include "bitscale/util/file.hpp"
#include "test_files.hpp"

namespace bitscale::study {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(BITSCALE_SOURCE_DIR) / "data";

bool have_data() {
  return fs::exists(kData / "models" / "mobilenet_v1_0.25_128_quant.tflite") &&
         fs::exists(kData / "imagenet-synsets.tsv") && fs::exists(kData / "images");
}

data::DataPaths data_paths() {
  return {(kData / "models" / "mobilenet_v1_0.25_128_quant.tflite").string(), (kData / "images").string(),
          (kData / "imagenet-synsets.tsv").string(), ""};
}

AcceleratorFactory factory() {
  return [](driver::Backend) { return std::make_unique<driver::Accelerator>(driver::default_hw_config()); };
}

std::set<std::string> names(const std::vector<std::string>& files) {
  std::set<std::string> s;
  for (const auto& f : files) s.insert(fs::path(f).filename().string());
  return s;
}

SweepJob tiny_sweep(const fs::path& out) {
  SweepJob job;
  job.data = data_paths();
  job.out_dir = out.string();
  job.limit = 4;
  job.calib_limit = 4;
  job.jobs = 2;
  job.factory = factory();
  return job;
}

TEST(StudySweepJob, NeverEvaluatesCalibrationImagesAndResumesToTheSameOutputs) {
  if (!have_data()) GTEST_SKIP() << "no embedded data";
  const fs::path dir = test::temp_dir("jobs_sweep");
  // Interrupted after 2 of 4 images, then resumed with another thread count.
  SweepJob job = tiny_sweep(dir / "resumed");
  job.stop_after = 2;
  job.jobs = 1;
  std::vector<std::string> warnings;
  SweepCallbacks cb;
  cb.warn = [&](const std::string& w) { warnings.push_back(w); };
  bool summarized = false;
  cb.summarized = [&](const SweepOutcome&) { summarized = true; };
  const SweepOutcome first = run_sweep(job, cb);
  EXPECT_FALSE(first.complete);
  EXPECT_EQ(first.computed, 2u);
  EXPECT_FALSE(summarized);
  EXPECT_FALSE(fs::exists(dir / "resumed" / "sweep.json"));
  job.stop_after = 0;
  job.jobs = 2;
  const SweepOutcome second = run_sweep(job, cb);
  ASSERT_TRUE(second.complete);
  EXPECT_TRUE(summarized);
  EXPECT_EQ(second.resumed, 2u);
  EXPECT_EQ(second.computed, 2u);
  EXPECT_FALSE(second.confirmation);
  EXPECT_EQ(second.model_name, "mobilenet_v1_0.25_128_quant.tflite");

  const SweepOutcome fresh = run_sweep(tiny_sweep(dir / "fresh"));
  ASSERT_TRUE(fresh.complete);
  EXPECT_EQ(fresh.resumed, 0u);
  EXPECT_EQ(fresh.computed, 4u);
  EXPECT_EQ(fresh.headline, second.headline);
  for (const char* f : {"records.jsonl", "calibration.json", "sweep.json", "table.csv", "summary.md"}) {
    EXPECT_EQ(util::read_file((dir / "fresh" / f).string()), util::read_file((dir / "resumed" / f).string())) << f;
  }

  // Four records, one per evaluated image: odd positions of the directory, none calibrated.
  const std::vector<ImageRecord> recs = read_records((dir / "fresh" / "records.jsonl").string());
  ASSERT_EQ(recs.size(), 4u);
  const model::Model model = model::load_tflite(data_paths().model);
  const model::Network net(model);
  const quant::Calibration calib = quant::Calibration::load((dir / "fresh" / "calibration.json").string(), net);
  EXPECT_EQ(calib.images.size(), 4u);
  const data::Split halves = data::split_even_odd(data::list_images(data_paths().images));
  const std::set<std::string> calibrated = names(calib.images), odd = names(halves.evaluation);
  for (const auto& r : recs) {
    const std::string n = fs::path(r.file).filename().string();
    EXPECT_FALSE(calibrated.contains(n)) << n;
    EXPECT_TRUE(odd.contains(n)) << n;
    EXPECT_EQ(r.levels.size(), 3u);  // 4, 8 and 16 bits, whatever the levels
    EXPECT_TRUE(r.fp.has_value());
  }
  fs::remove_all(dir);
}

TEST(StudySweepJob, RejectsANegativeDropBeforeWritingAnything) {
  const fs::path dir = test::temp_dir("jobs_negative");
  SweepJob job = tiny_sweep(dir / "out");
  job.max_drop = -1;
  EXPECT_THROW(run_sweep(job), std::invalid_argument);
  EXPECT_FALSE(fs::exists(job.out_dir));
  fs::remove_all(dir);
}

TEST(StudyCharacterizeJob, HistogramCountsEveryKeptImageOnceAndResumes) {
  if (!have_data()) GTEST_SKIP() << "no embedded data";
  const fs::path dir = test::temp_dir("jobs_characterize");
  CharacterizeJob job;
  job.data = data_paths();
  job.out_dir = dir.string();
  job.half = data::Half::kEven;
  job.limit = 4;
  job.jobs = 2;
  job.stop_after = 1;
  job.factory = factory();
  const CharacterizeJobOutcome first = run_characterize(job);
  EXPECT_FALSE(first.complete);
  EXPECT_EQ(first.computed, 1u);
  job.stop_after = 0;
  const CharacterizeJobOutcome run = run_characterize(job);
  ASSERT_TRUE(run.complete);
  ASSERT_TRUE(run.result);
  EXPECT_EQ(run.images, 4u);
  const Characterization& c = *run.result;
  EXPECT_EQ(c.images, run.base.kept.size());
  EXPECT_LE(c.images, 4u);
  // Every kept image has one minimum bit-width or none.
  EXPECT_EQ(std::accumulate(c.raw.begin(), c.raw.end(), std::size_t{0}) + c.none, c.images);
  EXPECT_EQ(std::accumulate(c.merged.begin(), c.merged.end(), std::size_t{0}) + c.none, c.images);
  EXPECT_TRUE(fs::exists(dir / "characterization.json"));
  // The kept images calibrate the formats.
  const model::Model model = model::load_tflite(data_paths().model);
  const model::Network net(model);
  EXPECT_EQ(names(quant::Calibration::load((dir / "calibration.json").string(), net).images), names(run.base.kept));
  fs::remove_all(dir);
}

TEST(StudyEvalJob, ArrayEvaluationSkipsTheCalibrationHalfAndWritesOneRowPerImage) {
  if (!have_data()) GTEST_SKIP() << "no embedded data";
  std::ostringstream rows;
  EvalJob job;
  job.data = data_paths();
  job.backend = Backend::kGolden;
  job.limit = 3;
  job.calib_limit = 2;
  job.jobs = 2;
  job.rows = &rows;
  job.factory = factory();
  std::vector<std::string> messages;
  std::size_t progress_calls = 0;
  EvalCallbacks cb;
  cb.inform = [&](const std::string& m) { messages.push_back(m); };
  cb.progress = [&](const EvalTotals& t, std::size_t images, double) {
    ++progress_calls;
    EXPECT_EQ(t.done, progress_calls);
    EXPECT_EQ(images, 3u);
  };
  const EvalOutcome r = run_eval(job, cb);
  EXPECT_EQ(r.images, 3u);
  EXPECT_EQ(r.totals.done, 3u);
  EXPECT_EQ(progress_calls, 3u);
  EXPECT_TRUE(r.on_array);
  EXPECT_FALSE(r.compared_with);
  EXPECT_GT(r.totals.cycles, 0u);
  ASSERT_FALSE(messages.empty());
  EXPECT_NE(messages.back().find("calibration: 2 images"), std::string::npos) << messages.back();
  // CSV: a header and one row per image, each an odd position of the directory.
  std::istringstream in(rows.str());
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_TRUE(lines[0].starts_with("file,"));
  const data::Split halves = data::split_even_odd(data::list_images(data_paths().images));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string file = lines[i].substr(0, lines[i].find(','));
    EXPECT_TRUE(names(halves.evaluation).contains(fs::path(file).filename().string())) << file;
  }
}

TEST(StudyEvalJob, SplitNamesRoundTripAndUnknownOnesAreRejected) {
  EXPECT_EQ(parse_eval_split("auto"), EvalSplit::kAuto);
  EXPECT_EQ(parse_eval_split("even-odd"), EvalSplit::kEvenOdd);
  EXPECT_EQ(parse_eval_split("none"), EvalSplit::kNone);
  EXPECT_THROW(parse_eval_split("halves"), std::invalid_argument);
}

TEST(StudyClassifyJob, ArrayCalibratesOnTheOtherImagesAndCountsTheRun) {
  if (!have_data()) GTEST_SKIP() << "no embedded data";
  ClassifyJob job;
  job.data = data_paths();
  job.image = (kData / "images" / "n01614925_bald_eagle.JPEG").string();
  job.backend = Backend::kGolden;
  job.calib_limit = 2;
  job.factory = factory();
  const ClassifyOutcome r = run_classify(job);
  EXPECT_TRUE(r.on_array);
  EXPECT_EQ(r.calib_images, 2u);
  ASSERT_TRUE(r.prediction.counters);
  EXPECT_GT(r.prediction.counters->macs_total(), 0u);
  ASSERT_TRUE(r.synsets && r.label);
  EXPECT_EQ(r.synsets->synset(*r.label), "n01614925");
  EXPECT_EQ(r.prediction.top.index.size(), 5u);
}

}  // namespace
}  // namespace bitscale::study
