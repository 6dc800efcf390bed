// Loading Ax-BxP configurations (docs/AXBXP.md, "Loading a configuration") and Ax-BxP rungs as
// levels of the controller (docs/CONTROLLER.md): level codes, parsing, refusals, and an
// end-to-end check on the embedded model that `eval --approx-config` gives what axbxp-search
// reported, with the expectation computed from the quantized network configured directly (the
// file's per-layer text parsed here, the block means measured here), not from eval's output.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/quant/traffic.hpp"
#include "bitscale/study/apply_job.hpp"
#include "bitscale/study/axbxp.hpp"
#include "bitscale/study/classify_job.hpp"
#include "bitscale/study/confirm.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/eval_job.hpp"
#include "bitscale/study/policy.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/sweep.hpp"
#include "bitscale/study/sweep_job.hpp"
#include "bitscale/util/file.hpp"
#include "test_files.hpp"

namespace bitscale::study {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(BITSCALE_SOURCE_DIR) / "data";
const fs::path kModel = kData / "models" / "mobilenet_v1_0.25_128_quant.tflite";
const fs::path kSynsets = kData / "imagenet-synsets.tsv";

AcceleratorFactory golden_factory() {
  return [](driver::Backend) { return std::make_unique<driver::Accelerator>(driver::default_hw_config()); };
}

void expect_throw_with(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const std::exception& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(AxbxpLevels, CodesRoundTripAndOrderByCost) {
  // Exact levels keep their bit-width (records and policies of exact ladders are unchanged).
  for (const int b : kPrecisions) EXPECT_EQ(level_code(parse_rung(std::to_string(b))), b);
  EXPECT_EQ(level_code(parse_rung("8c1")), 801);
  EXPECT_EQ(level_code(parse_rung("16c6")), 1606);
  EXPECT_EQ(level_code(parse_rung("8s")), 899);
  for (const char* t : {"4", "8", "16", "8c1", "8c2", "16c1", "16c6", "8s"})
    EXPECT_EQ(level_name(level_code(parse_rung(t))), t);
  EXPECT_EQ(level_label(8), "8-bit");
  EXPECT_EQ(level_label(801), "8c1");
  for (const int bad : {0, 5, 12, 800, 803, 899 + 100, 401, 1607, 1699})
    expect_throw_with([&] { (void)level_rung(bad); }, {std::to_string(bad)});
  // Cost: more skipped block products first, then the per-layer configuration, then exact.
  const std::vector<int> order{4, 802, 801, 899, 8, 1606, 1601, 16};
  for (std::size_t i = 0; i + 1 < order.size(); ++i) {
    EXPECT_TRUE(level_cheaper(order[i], order[i + 1])) << order[i] << " " << order[i + 1];
    EXPECT_FALSE(level_cheaper(order[i + 1], order[i])) << order[i] << " " << order[i + 1];
  }
}

TEST(AxbxpLevels, LevelsParseAndTheControllerTakesRungs) {
  EXPECT_EQ(parse_levels("8c1,8,16"), (std::vector<int>{801, 8, 16}));
  EXPECT_EQ(parse_levels("8s,16"), (std::vector<int>{899, 16}));
  EXPECT_EQ(parse_levels("4,8,16"), (std::vector<int>{4, 8, 16}));
  expect_throw_with([] { (void)parse_levels("8,8c1"); }, {"'8,8c1'", "increase"});
  expect_throw_with([] { (void)parse_levels("8c3,16"); }, {"'8c3'"});
  expect_throw_with([] { (void)parse_levels("8c1,8c1,16"); }, {"increase"});
  const Controller c({801, 8, 16}, 0.5);
  // Margins 0.2 at 8c1, 0.7 at 8: climbs once, accepts 8 bits.
  const std::vector<double> m{0.2, 0.7, 0.9};
  const Decision d = c.decide(m);
  EXPECT_EQ(d.executed, (std::vector<int>{801, 8}));
  EXPECT_EQ(d.accepted_bits, 8);
  EXPECT_THROW(Controller({8, 801}, 0.5), std::invalid_argument);
  EXPECT_THROW(Controller({803, 16}, 0.5), std::invalid_argument);
}

TEST(AxbxpLevels, RecordsKeepRungsByName) {
  ImageRecord r;
  r.file = "a.jpg";
  r.label = 3;
  RunRecord run;
  run.top1 = 3;
  run.correct1 = true;
  run.margin = 0.25;
  r.levels[801] = run;
  run.margin = 0.5;
  r.levels[8] = run;
  const std::string line = to_json_line(r);
  EXPECT_NE(line.find("\"8c1\":"), std::string::npos) << line;
  EXPECT_NE(line.find("\"8\":"), std::string::npos) << line;
  EXPECT_EQ(parse_record(line, "x", 1), r);
  std::string bad = line;
  bad.replace(bad.find("\"8c1\""), 5, "\"8c7\"");
  expect_throw_with([&] { (void)parse_record(bad, "x.jsonl", 4); }, {"x.jsonl:4", "8c7"});
}

// The RTL confirmation's records (one file per level) name what an Ax-BxP rung ran with, so that a
// resumed confirmation under another configuration or compensation is refused; exact levels do not
// depend on either.
TEST(AxbxpLevels, RtlConfirmationHeadersNameTheRungsConfiguration) {
  const int c1 = level_code(parse_rung("8c1")), s = level_code(parse_rung("8s"));
  ConfirmSetup a;
  a.run.bits = {c1, s, 8};
  a.run.backend = Backend::kRtl;
  a.model_name = "m.tflite";
  a.calibration_id = "0000000000000001";
  a.weight_fl_name = "channel";
  a.approx_config_hash = "0123456789abcdef";
  ConfirmSetup b = a;  // another configuration file
  b.approx_config_hash = "fedcba9876543210";
  ConfirmSetup none = a;  // another compensation of the family rungs
  none.approx_compensation = quant::ApproxCompensation::kNone;

  EXPECT_EQ(confirm_records_header(a, 8).find("\"approx\""), std::string::npos) << confirm_records_header(a, 8);
  EXPECT_EQ(confirm_records_header(a, 8), confirm_records_header(b, 8));
  EXPECT_EQ(confirm_records_header(a, 8), confirm_records_header(none, 8));
  EXPECT_NE(confirm_records_header(a, s).find(a.approx_config_hash), std::string::npos) << confirm_records_header(a, s);
  EXPECT_NE(confirm_records_header(a, s), confirm_records_header(b, s));
  EXPECT_EQ(confirm_records_header(a, c1), confirm_records_header(b, c1));  // 8c1 does not read the file
  EXPECT_NE(confirm_records_header(a, c1), confirm_records_header(none, c1));

  // A records file of the 8s rung written under configuration a: resuming under b is refused.
  const fs::path path = test::temp_dir("confirm_header") / "rtl_confirm_8s.jsonl";
  ImageRecord r;
  r.file = "a.jpg";
  r.label = 1;
  r.levels[s] = RunRecord{};
  util::write_file(path.string(), confirm_records_header(a, s) + "\n" + to_json_line(r) + "\n");
  EXPECT_NO_THROW(check_resumable(path.string(), confirm_records_header(a, s)));
  expect_throw_with([&] { check_resumable(path.string(), confirm_records_header(b, s)); },
                    {path.string(), "approx", b.approx_config_hash});
}

// The embedded model on a small directory: 8 images, even positions calibrate and select, odd
// ones evaluate.
class AxbxpApplyEmbedded : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kModel) || !fs::exists(kSynsets)) GTEST_SKIP() << "no embedded data";
    const auto all = data::list_images((kData / "images").string());
    ASSERT_GE(all.size(), 12u);
    dir_ = test::temp_dir("axbxp_apply");
    images_ = dir_ / "images";
    other_ = dir_ / "other";
    fs::create_directories(images_);
    fs::create_directories(other_);
    for (std::size_t i = 0; i < 8; ++i) fs::copy_file(all[i], images_ / fs::path(all[i]).filename());
    for (std::size_t i = 8; i < 12; ++i) fs::copy_file(all[i], other_ / fs::path(all[i]).filename());
  }

  AxbxpResult search(const std::string& out, double max_drop) const {
    AxbxpJob job;
    job.model = kModel.string();
    job.images = images_.string();
    job.synsets = kSynsets.string();
    job.calib_limit = 2;
    job.max_drop_pp = max_drop;
    job.ladders = {"8c1,8,16"};
    job.boot.resamples = 20;
    job.out = out;
    job.factory = golden_factory();
    return run_axbxp(job);
  }

  fs::path dir_, images_, other_;
};

TEST_F(AxbxpApplyEmbedded, EvalWithTheSearchedConfigurationGivesWhatTheSearchReported) {
  const fs::path out = dir_ / "search";
  const AxbxpResult r = search(out.string(), 25.0);
  const fs::path cfg_path = out / "axbxp_config.json";
  ASSERT_TRUE(fs::exists(cfg_path));
  const auto cfg = nlohmann::json::parse(util::read_file(cfg_path.string()));
  ASSERT_EQ(cfg["version"], 2);
  ASSERT_EQ(cfg["compensation"]["mode"], "mean");

  // The expectation: the quantized network configured directly from the file's per-layer text,
  // with block means measured here on the calibration images (the even positions, spread to 2).
  const model::Model model = model::load_model(kModel.string());
  const model::Network net(model);
  const auto split = data::split_even_odd(data::list_images(images_.string()));
  const auto calib_files = data::spread(split.calibration, 2);
  const quant::Calibration calib = quant::calibrate_files(net, calib_files, 1);
  driver::Accelerator acc(driver::default_hw_config());
  quant::QuantizedNetwork q(net, calib, 8, acc, quant::WeightFl::kChannel, kArrayQuantDefaults);
  std::vector<std::vector<std::uint8_t>> calib_rgb;
  for (const auto& f : calib_files) calib_rgb.push_back(data::load_for_model(f, net.input_h(), net.input_w()).rgb);
  q.set_compensation(quant::ApproxCompensation::kMean, quant::measure_block_means(q, acc, calib_rgb));
  std::size_t approximate = 0;
  for (const auto& l : cfg["layers"]) {
    const golden::Mode m = l["bits"] == 16 ? golden::Mode::k16 : golden::Mode::k8;
    const golden::Approx x = golden::parse_approx(l["approx"].get<std::string>(), m);
    approximate += x.exact() ? 0 : 1;
    q.set_approx(l["layer"].get<std::size_t>(), x);
  }
  EXPECT_GT(approximate, 0u) << "a budget of 25 pp on 4 selection images approximates at least one layer";
  const EnergyTable table = energy_table("", EnergyModel::kMac);
  const data::Synsets syn(kSynsets.string());
  const data::Labeler labeler(syn);
  std::vector<int> want_correct;
  std::vector<double> want_energy;
  for (const auto& f : split.evaluation) {
    const auto rgb = data::load_for_model(f, net.input_h(), net.input_w()).rgb;
    const quant::QuantResult res = q.run(acc, rgb);
    const int top = static_cast<int>(std::max_element(res.probabilities.begin(), res.probabilities.end()) -
                                     res.probabilities.begin());
    want_correct.push_back(top == data::model_index(labeler(f).value()) ? 1 : 0);
    want_energy.push_back(energy_breakdown(res.counters, quant::offchip_bytes(q), table).total());
  }
  const double n = static_cast<double>(want_correct.size());
  const double want_top1 = 100.0 * std::accumulate(want_correct.begin(), want_correct.end(), 0.0) / n;
  const double want_mean = std::accumulate(want_energy.begin(), want_energy.end(), 0.0) / n;

  // What the search reported for its configuration on the evaluation images (the last point).
  ASSERT_EQ(r.evaluation_images, split.evaluation.size());
  EXPECT_DOUBLE_EQ(r.evaluation.back().top1_pct.value, want_top1);
  EXPECT_DOUBLE_EQ(r.evaluation.back().energy_pj, want_mean);

  // eval --approx-config: the same images (odd positions), the same calibration (even, 2).
  std::stringstream rows;
  EvalJob job;
  job.data = {kModel.string(), images_.string(), kSynsets.string(), ""};
  job.backend = Backend::kGolden;
  job.calib_limit = 2;
  job.approx_config = cfg_path.string();
  job.rows = &rows;
  job.format = EvalFormat::kJsonLines;
  job.factory = golden_factory();
  const EvalOutcome e = run_eval(job);
  ASSERT_EQ(e.images, split.evaluation.size());
  EXPECT_DOUBLE_EQ(e.totals.top1_percent(), want_top1);
  std::string line;
  std::size_t i = 0;
  while (std::getline(rows, line)) {
    const auto j = nlohmann::json::parse(line);
    ASSERT_LT(i, split.evaluation.size());
    EXPECT_EQ(j["file"], split.evaluation[i]);
    EXPECT_EQ(j["top1_correct"].get<bool>(), want_correct[i] == 1) << line;
    EXPECT_DOUBLE_EQ(j["energy_pj"].get<double>(), want_energy[i]) << line;
    ++i;
  }
  EXPECT_EQ(i, split.evaluation.size());

  // classify --approx-config on one evaluation image: the probabilities of the direct run.
  ClassifyJob cj;
  cj.data = {kModel.string(), images_.string(), kSynsets.string(), ""};
  cj.image = split.evaluation[0];
  cj.backend = Backend::kGolden;
  cj.calib_limit = 2;
  cj.jobs = 1;
  cj.approx_config = cfg_path.string();
  cj.factory = golden_factory();
  const ClassifyOutcome co = run_classify(cj);
  const auto direct = q.run(acc, data::load_for_model(cj.image, net.input_h(), net.input_w()).rgb);
  EXPECT_EQ(co.prediction.probabilities, direct.probabilities);
  EXPECT_EQ(co.prediction.counters->blk, direct.counters.blk);
}

TEST_F(AxbxpApplyEmbedded, ConfigurationFilesOfAnotherModelOrCalibrationAreRefused) {
  const fs::path out = dir_ / "search_refuse";
  (void)search(out.string(), 0.0);
  const std::string cfg_path = (out / "axbxp_config.json").string();
  const model::Model model = model::load_model(kModel.string());
  const model::Network net(model);
  const auto split = data::split_even_odd(data::list_images(images_.string()));
  const quant::Calibration calib = quant::calibrate_files(net, data::spread(split.calibration, 2), 1);
  driver::Accelerator acc(driver::default_hw_config());
  quant::QuantizedNetwork q(net, calib, 8, acc, quant::WeightFl::kChannel, kArrayQuantDefaults);
  const std::string hash = content_hash(kModel.string());
  const AxbxpFile f = load_config_file(cfg_path, q, hash);
  EXPECT_EQ(f.provenance.model_hash, hash);
  EXPECT_EQ(f.provenance.calibration, calibration_id(calib, net));
  EXPECT_EQ(f.provenance.means.mean.size(), q.layers().size());
  // Another model's hash.
  expect_throw_with([&] { (void)load_config_file(cfg_path, q, "0123456789abcdef"); },
                    {cfg_path, "\"model\".\"hash\"", "0123456789abcdef"});
  // Another layer count.
  auto j = nlohmann::json::parse(util::read_file(cfg_path));
  j["mac_layers"] = q.layers().size() + 1;
  const std::string bad_layers = (dir_ / "layers.json").string();
  util::write_file(bad_layers, j.dump());
  expect_throw_with([&] { (void)load_config_file(bad_layers, q, hash); }, {bad_layers, "\"mac_layers\""});
  // Block means of another shape.
  j = nlohmann::json::parse(util::read_file(cfg_path));
  j["compensation"]["block_means"][0].push_back(1.0);
  const std::string bad_means = (dir_ / "means.json").string();
  util::write_file(bad_means, j.dump());
  expect_throw_with([&] { (void)load_config_file(bad_means, q, hash); },
                    {bad_means, "\"compensation\".\"block_means\"[0]"});
  // Another calibration: the block means would not fit the activations' formats.
  expect_throw_with([&] { apply_config_file(f, q, "ffffffffffffffff"); },
                    {cfg_path, "\"calibration\"", "ffffffffffffffff", f.provenance.calibration});
  // eval refuses the file on the float back-end and at 16 bits.
  EvalJob job;
  job.data = {kModel.string(), images_.string(), kSynsets.string(), ""};
  job.approx_config = cfg_path;
  job.calib_limit = 2;
  job.factory = golden_factory();
  expect_throw_with([&] { (void)run_eval(job); }, {cfg_path, "on the array"});
  job.backend = Backend::kGolden;
  job.bits = 16;
  expect_throw_with([&] { (void)run_eval(job); }, {cfg_path, "\"bits\""});
}

TEST_F(AxbxpApplyEmbedded, SweepWithRungsWritesAPolicyThatApplyRunsAndChecks) {
  const fs::path out = dir_ / "search_sweep";
  (void)search(out.string(), 25.0);
  const std::string cfg_path = (out / "axbxp_config.json").string();
  SweepJob sj;
  sj.data = {kModel.string(), images_.string(), kSynsets.string(), ""};
  sj.out_dir = (dir_ / "sweep").string();
  sj.levels = parse_levels("8c1,8s,8,16");
  sj.approx_config = cfg_path;
  sj.calib_limit = 2;
  sj.boot.resamples = 20;
  sj.max_drop = 100;  // every image may stay at the first level
  sj.factory = golden_factory();
  const SweepOutcome so = run_sweep(sj);
  ASSERT_TRUE(so.complete);
  EXPECT_EQ(so.levels, (std::vector<int>{801, 899, 8, 16}));
  const Policy p = load_policy(so.policy_path);
  EXPECT_EQ(p.levels, (std::vector<int>{801, 899, 8, 16}));
  EXPECT_EQ(p.approx_compensation, "mean");
  EXPECT_EQ(p.approx_config_hash, content_hash(cfg_path));
  // With a budget of 100 pp, T_h = 0: every image accepted at the first level, 8c1.
  EXPECT_EQ(p.threshold, 0.0);
  // The records hold every rung and every exact level.
  const auto recs = read_records(sj.out_dir + "/records.jsonl");
  ASSERT_FALSE(recs.empty());
  for (const int l : {4, 801, 899, 8, 16}) EXPECT_TRUE(recs[0].levels.contains(l)) << l;
  // 8c1 computes 3 of the 4 block products of every 8-bit MAC; 8s at most 4 of 4; exact 8 all 4.
  const auto& c801 = *recs[0].levels.at(801).counters;
  const auto& c8 = *recs[0].levels.at(8).counters;
  EXPECT_EQ(c801.mac8, c8.mac8);
  EXPECT_EQ(c8.blk - c801.blk, c8.mac8);  // one block product fewer per 8-bit MAC

  // apply on other images runs the rungs (T_h = 0: 8c1 only) ...
  ApplyJob aj;
  aj.policy = so.policy_path;
  aj.data = {kModel.string(), other_.string(), kSynsets.string(), ""};
  aj.factory = golden_factory();
  const ApplyOutcome ao = run_apply(aj);
  ASSERT_TRUE(ao.stats);
  EXPECT_EQ(ao.stats->images, 4u);
  // ... and refuses a configuration file that is not the one the policy was chosen with.
  {
    std::ofstream f(cfg_path, std::ios::app);
    f << "\n";
  }
  expect_throw_with([&] { (void)run_apply(aj); }, {"approx.config.hash", content_hash(cfg_path)});
}

}  // namespace
}  // namespace bitscale::study
