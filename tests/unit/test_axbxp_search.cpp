// Ax-BxP on the embedded network (study/axbxp.hpp, docs/AXBXP.md): the uniform family, the
// configuration file and a short per-layer search. Expected counts are derived from the layer
// shapes and the family's definition (block products kept per 8-bit MAC: 4, 3, 1), not from the
// code's output.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/study/axbxp.hpp"
#include "test_files.hpp"

namespace bitscale::study {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(BITSCALE_SOURCE_DIR) / "data";

AcceleratorFactory golden_factory() {
  return [](driver::Backend) { return std::make_unique<driver::Accelerator>(driver::default_hw_config()); };
}

TEST(AxbxpLadder, RungsAndLaddersParse) {
  EXPECT_EQ(parse_rung("16"), (Rung{16, 0, false}));
  EXPECT_EQ(parse_rung("8c2"), (Rung{8, 2, false}));
  EXPECT_EQ(parse_rung("16c6"), (Rung{16, 6, false}));
  EXPECT_EQ(parse_rung("8s"), (Rung{8, 0, true}));
  EXPECT_EQ(to_string(parse_rung("8c1")), "8c1");
  for (const char* bad : {"", "7", "8c3", "4c1", "16c7", "8x", "8c", "4s", "c2", "8c1 "}) {
    try {
      (void)parse_rung(bad);
      ADD_FAILURE() << "'" << bad << "' accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(parse_ladder("8c1,8,16").size(), 3u);
  EXPECT_THROW((void)parse_ladder("8,8"), std::invalid_argument);
  EXPECT_THROW((void)parse_ladder("8,,16"), std::invalid_argument);
}

// Two rungs, four images: the cheap rung is right on images 0 and 1 with margins 0.9 and 0.2,
// wrong on 2 and 3 with margins 0.5 and 0.1; the last rung is right on all but image 3.
TEST(AxbxpLadder, ControllerAndThresholdOnKnownMargins) {
  ImageSetRun low, high;
  low.correct = {1, 1, 0, 0};
  low.margin = {0.9, 0.2, 0.5, 0.1};
  low.energy_pj = {1, 1, 1, 1};
  high.correct = {1, 1, 1, 0};
  high.margin = {1, 1, 1, 1};
  high.energy_pj = {10, 10, 10, 10};
  const std::vector<const ImageSetRun*> runs{&low, &high};
  // T = 0.5: images 0 and 2 stay low (1 right), 1 and 3 climb (1 right): 2 of 4, energy (1+1+11+11)/4.
  const LadderOutcome o = run_ladder(runs, 0.5);
  EXPECT_EQ(o.hits, 2u);
  EXPECT_DOUBLE_EQ(o.energy_pj, 6.0);
  EXPECT_EQ(o.accepted, (std::vector<std::size_t>{2, 2}));
  // The last rung alone: 3 of 4. Budget 0 pp needs image 2 (margin 0.5) to climb, image 0 may
  // stay: the smallest such threshold is just above 0.5.
  const double t = select_ladder_threshold(runs, DropBudget{0.0, BudgetCheck::kPoint});
  EXPECT_GT(t, 0.5);
  EXPECT_LE(t, 0.9);
  EXPECT_EQ(run_ladder(runs, t).hits, 3u);
  // A budget of 25 pp (one image): T = 0 keeps every image low, 2 of 4 right.
  EXPECT_EQ(select_ladder_threshold(runs, DropBudget{25.0, BudgetCheck::kPoint}), 0.0);
  // The same budget judged by its 95 % upper bound: while image 2 stays low, one image of 4 is lost,
  // and a resample holds it twice or more with probability 1 - (3/4)^4 - 4 (1/4) (3/4)^3 = 0.26 > 5 %,
  // so the bound is >= 50 pp. Only thresholds that make image 2 climb (above 0.5) lose nothing.
  double judged = -1;
  const double tb = select_ladder_threshold(runs, DropBudget{25.0, BudgetCheck::kUpperBound}, &judged);
  EXPECT_GT(tb, 0.5);
  EXPECT_LE(tb, 0.9);
  EXPECT_EQ(judged, 0.0);
  EXPECT_EQ(ladder_correct(runs, tb), (std::vector<char>{1, 1, 1, 0}));
  EXPECT_EQ(ladder_correct(runs, 0.0), (std::vector<char>{1, 1, 0, 0}));
}

TEST(AxbxpBudget, NamesOfTheChecks) {
  EXPECT_EQ(parse_budget_check("upper-bound"), BudgetCheck::kUpperBound);
  EXPECT_EQ(parse_budget_check("point"), BudgetCheck::kPoint);
  EXPECT_EQ(to_string(BudgetCheck::kPoint), "point");
  try {
    (void)parse_budget_check("mean");
    ADD_FAILURE() << "'mean' accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'mean'"), std::string::npos) << e.what();
  }
}

// 100 images, the reference right on all, x wrong on one: the drop is 1 pp. In a resample the lost
// image appears k ~ Binomial(100, 1/100) times: P(k >= 3) = 7.9 %, P(k >= 4) = 1.8 %, so the 95 %
// quantile of the resampled drop is 3 pp (about 158 and 37 of 2000 resamples above 2 and 3 copies:
// the 100th largest lies well inside the k = 3 group).
TEST(AxbxpBudget, UpperBoundOfThePairedDrop) {
  std::vector<char> ref(100, 1), x(100, 1);
  x[37] = 0;
  const DropBudget point{1.0, BudgetCheck::kPoint}, upper{1.0, BudgetCheck::kUpperBound};
  const Resamples rs(100, upper.boot);
  EXPECT_DOUBLE_EQ(judged_drop_pp(ref, x, point, nullptr), 1.0);
  EXPECT_DOUBLE_EQ(judged_drop_pp(ref, x, upper, &rs), 3.0);
  // Paired: images wrong in both runs cost nothing, whatever the resample.
  std::vector<char> ref2 = ref, x2 = ref;
  for (int i = 0; i < 30; ++i) ref2[static_cast<std::size_t>(i)] = x2[static_cast<std::size_t>(i)] = 0;
  EXPECT_EQ(judged_drop_pp(ref2, x2, upper, &rs), 0.0);
  // One image lost and one gained: the point estimate is 0; the bound is positive (a resample holds
  // the lost image more often than the gained one with probability about 0.43).
  x2[50] = 0, ref2[50] = 1;  // one lost
  x2[0] = 1;                 // one gained
  EXPECT_DOUBLE_EQ(judged_drop_pp(ref2, x2, point, nullptr), 0.0);
  EXPECT_GT(judged_drop_pp(ref2, x2, upper, &rs), 0.0);
  // A higher confidence gives a bound at least as high.
  const DropBudget upper99{1.0, BudgetCheck::kUpperBound, 0.99};
  EXPECT_GE(judged_drop_pp(ref, x, upper99, &rs), 3.0);
  EXPECT_THROW((void)judged_drop_pp(ref, std::vector<char>(99, 1), point, nullptr), std::invalid_argument);
  EXPECT_THROW((void)judged_drop_pp(ref, x, upper, nullptr), std::invalid_argument);
  EXPECT_THROW((void)judged_drop_pp({}, {}, point, nullptr), std::invalid_argument);
}

class AxbxpEmbedded : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path model_path = kData / "models" / "mobilenet_v1_0.25_128_quant.tflite";
    if (!fs::exists(model_path)) GTEST_SKIP() << "no embedded data";
    net_.emplace(model::load_tflite(model_path.string()));
    files_ = data::list_images((kData / "images").string());
    ASSERT_GE(files_.size(), 8u);
    calib_.emplace(quant::calibrate_files(*net_, {files_[0], files_[2]}, 1));
    const data::Synsets syn((kData / "imagenet-synsets.tsv").string());
    const data::Labeler labeler(syn);
    for (std::size_t i = 1; i < 12; i += 2) {  // six odd-position images
      imgs_.files.push_back(files_[i]);
      imgs_.rgb.push_back(data::load_for_model(files_[i], net_->input_h(), net_->input_w()).rgb);
      imgs_.label.push_back(data::model_index(labeler(files_[i]).value()));
    }
    acc_ = std::make_unique<driver::Accelerator>(driver::default_hw_config());
    q8_ = std::make_unique<quant::QuantizedNetwork>(*net_, *calib_, 8, *acc_, quant::WeightFl::kChannel,
                                                    kArrayQuantDefaults);
  }
  // The MACs of one image by mode, from the layer shapes.
  void macs_by_mode(std::uint64_t& m8, std::uint64_t& m16) const {
    m8 = m16 = 0;
    for (const auto& l : q8_->layers()) {
      const auto macs = static_cast<std::uint64_t>(l.prepared.layer.shape.macs());
      (q8_->op_mode(static_cast<std::size_t>(l.op)) == golden::Mode::k8 ? m8 : m16) += macs;
    }
  }

  std::optional<model::Network> net_;
  std::optional<quant::Calibration> calib_;
  std::vector<std::string> files_;
  LabelledImages imgs_;
  std::unique_ptr<driver::Accelerator> acc_;
  std::unique_ptr<quant::QuantizedNetwork> q8_;
};

TEST_F(AxbxpEmbedded, FamilyMemberZeroIsBitIdenticalToExact) {
  const quant::QuantizedNetwork plain(*net_, *calib_, 8, *acc_, quant::WeightFl::kChannel, kArrayQuantDefaults);
  apply_config(uniform_config(*q8_, golden::Mode::k8, 0), *q8_);
  for (const auto& rgb : imgs_.rgb) {
    driver::Accelerator a(driver::default_hw_config()), b(driver::default_hw_config());
    const auto x = plain.run(a, rgb);
    const auto y = q8_->run(b, rgb);
    EXPECT_EQ(x.probabilities, y.probabilities);
    EXPECT_EQ(x.counters, y.counters);
  }
}

TEST_F(AxbxpEmbedded, UniformFamilyCountsBlocksAndSavesEnergyStrictly) {
  std::uint64_t m8 = 0, m16 = 0;
  macs_by_mode(m8, m16);
  ASSERT_GT(m8, 0u);
  ASSERT_GT(m16, 0u);  // the study's 16-bit classifier stays exact
  const EnergyTable t = EnergyTable::envision();
  const std::uint64_t kept[] = {4, 3, 1};  // 8-bit family c = 0, 1, 2
  double last = 0;
  for (int c = 0; c <= 2; ++c) {
    apply_config(uniform_config(*q8_, golden::Mode::k8, c), *q8_);
    const ImageSetRun r = run_images(*q8_, imgs_, t, golden_factory(), 2);
    const std::uint64_t n = imgs_.rgb.size();
    EXPECT_EQ(r.blk, n * (m8 * kept[c] + m16 * 16)) << "c" << c;
    EXPECT_EQ(r.blk_exact, n * (m8 * 4 + m16 * 16));
    // The MAC energy of one image by docs/ENERGY.md, computed here from the shapes.
    const double f = t.blk_share;
    const double expect = static_cast<double>(m16) * t.pj_per_mac16 +
                          static_cast<double>(m8) * t.pj_per_mac8 * (1 - f + f * static_cast<double>(kept[c]) / 4);
    EXPECT_NEAR(r.energy_pj[0], expect, 1e-9 * expect);
    if (c > 0) {
      EXPECT_LT(r.mean_energy_pj(), last);
    }
    last = r.mean_energy_pj();
  }
}

TEST_F(AxbxpEmbedded, ConfigurationFileRoundTripsAndRefusesBadInput) {
  const auto dir = test::temp_dir("axbxp_config");
  AxbxpConfig cfg = exact_config(*q8_);
  cfg.layers[0] = golden::approx_family(golden::Mode::k8, 2);
  cfg.layers[3] = golden::Approx{0x0010};  // not a family member: written as a mask
  const std::string good = (dir / "good.json").string();
  std::ofstream(good) << config_json(cfg, *q8_);
  EXPECT_EQ(load_config(good, *q8_), cfg);

  const auto expect_error = [&](const std::string& name, const std::string& text, const std::string& key) {
    const std::string path = (dir / name).string();
    std::ofstream(path) << text;
    try {
      (void)load_config(path, *q8_);
      ADD_FAILURE() << name << " accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    }
  };
  const std::string head = R"({"format": "bitscale-axbxp", "version": 1, "bits": 8, "layers": )";
  expect_error("malformed.json", head + "[{\"layer\": 0, ", "malformed JSON");
  expect_error("unknown.json", head + R"([{"layer": 999, "approx": "c1"}]})", "\"layers\"[0].\"layer\"");
  expect_error("negative.json", head + R"([{"layer": -1, "approx": "c1"}]})", "unknown layer");
  expect_error("twice.json", head + R"([{"layer": 1, "approx": "c1"}, {"layer": 1, "approx": "c2"}]})",
               "\"layers\"[1].\"layer\"");
  // 0x0100 is block pair (2, 0): outside the 8-bit grid (0x0033).
  expect_error("illegal.json", head + R"([{"layer": 1, "approx": "skip=0x0100"}]})", "\"layers\"[0].\"approx\"");
  // c3 is beyond the 8-bit family (0 .. 2).
  expect_error("member.json", head + R"([{"layer": 1, "approx": "c3"}]})", "\"approx\"");
  expect_error("name.json", head + R"([{"layer": 1, "name": "not-this-one", "approx": "c1"}]})", "\"name\"");
  expect_error("bits.json", R"({"format": "bitscale-axbxp", "version": 1, "bits": 16, "layers": []})", "\"bits\"");
  expect_error("format.json", R"({"format": "other", "version": 1, "layers": []})", "\"format\"");
}

TEST_F(AxbxpEmbedded, ShortSearchRespectsItsBudgetAndReloads) {
  const auto dir = test::temp_dir("axbxp_search");
  AxbxpJob job;
  job.model = (kData / "models" / "mobilenet_v1_0.25_128_quant.tflite").string();
  job.images = (kData / "images").string();
  job.synsets = (kData / "imagenet-synsets.tsv").string();
  job.calib_limit = 4;
  job.select_limit = 20;
  job.eval_limit = 20;
  job.max_drop_pp = 5.0;             // one image of 20
  job.budget = BudgetCheck::kPoint;  // the drop itself (20 images: the bound would refuse any loss)
  job.jobs = 2;
  job.out = dir.string();
  job.factory = golden_factory();
  const AxbxpResult r = run_axbxp(job);
  ASSERT_TRUE(r.searched);
  EXPECT_EQ(r.selection_images, 20u);
  EXPECT_EQ(r.evaluation_images, 20u);
  // The configuration found keeps the selection drop within the budget (the selection's third
  // point), and every accepted step did too.
  ASSERT_EQ(r.selection.size(), 3u);
  const std::size_t hits8 = static_cast<std::size_t>(r.selection[1].top1_pct.value * 20 / 100 + 0.5);
  EXPECT_LE(r.selection[2].drop_pp.value, job.max_drop_pp + 1e-9);
  for (const SearchStep& s : r.steps) {
    const double drop = 100.0 * (static_cast<double>(hits8) - static_cast<double>(s.hits)) / 20.0;
    EXPECT_EQ(s.accepted, drop <= job.max_drop_pp + 1e-9) << "layer " << s.layer << " c" << s.c;
    EXPECT_DOUBLE_EQ(s.drop_pp, drop);
    EXPECT_DOUBLE_EQ(s.judged_drop_pp, drop);  // kPoint judges the drop itself
  }
  // Every 8-bit layer was tried (most aggressive member first), the classifier (16-bit) never.
  std::size_t eight = 0;
  for (const AxbxpLayerRow& l : r.layers) {
    if (l.bits == 8) ++eight;
    if (l.bits == 16) {
      EXPECT_TRUE(l.approx.exact()) << l.name;
    }
  }
  std::size_t first_tries = 0;
  for (const SearchStep& s : r.steps) first_tries += s.c == 2 ? 1 : 0;
  EXPECT_EQ(first_tries, eight);
  // The evaluation: 16, exact 8, uniform c1, c2, the configuration; energies fall with fewer blocks.
  ASSERT_EQ(r.evaluation.size(), 5u);
  EXPECT_EQ(r.evaluation[1].gain_vs8, 1.0);
  EXPECT_GT(r.evaluation[2].gain_vs8, 1.0);
  EXPECT_GT(r.evaluation[3].gain_vs8, r.evaluation[2].gain_vs8);
  EXPECT_GT(r.evaluation[1].gain_vs16, 1.0);
  EXPECT_LT(r.evaluation[2].blk_kept, 1.0);
  // The file written reloads to the configuration, and evaluating it gives the same figures.
  const std::string file = (dir / "axbxp_config.json").string();
  ASSERT_TRUE(fs::exists(file));
  AxbxpJob again = job;
  again.config = file;
  again.out = (dir / "again").string();
  const AxbxpResult r2 = run_axbxp(again);
  EXPECT_FALSE(r2.searched);
  EXPECT_EQ(r2.config, r.config);
  EXPECT_EQ(r2.evaluation.back().top1_pct, r.evaluation.back().top1_pct);
  EXPECT_EQ(r2.evaluation.back().energy_pj, r.evaluation.back().energy_pj);
}

}  // namespace
}  // namespace bitscale::study
