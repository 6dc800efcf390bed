// Ax-BxP rungs are written by name in every output (docs/AXBXP.md, "Rungs as levels"): the level's
// JSON and its reading back, a records header, the sweep's JSON and CSVs, and the apply rows. A rung
// is an int inside (8c1 = 801, 8s = 899); none of those ints may reach a file.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bitscale/study/apply_job.hpp"
#include "bitscale/study/controller.hpp"
#include "bitscale/study/outputs.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/util/file.hpp"
#include "study_records.hpp"
#include "test_files.hpp"

namespace bitscale::study {
namespace {

constexpr int k8c1 = 801, k8s = 899;  // level_code of the rungs (controller.hpp)

TEST(LevelNames, JsonOfLevelsAndBack) {
  EXPECT_EQ(level_code(parse_rung("8c1")), k8c1);
  EXPECT_EQ(level_code(parse_rung("8s")), k8s);
  EXPECT_EQ(level_json(16), "16");
  EXPECT_EQ(level_json(k8c1), "\"8c1\"");
  const std::vector<int> l{4, k8c1, k8s, 8, 16};
  EXPECT_EQ(levels_json(l), R"([4,"8c1","8s",8,16])");
  EXPECT_EQ(parse_levels_json(util::parse_json(levels_json(l))), l);
  // Files written before the names: the int codes are still read.
  EXPECT_EQ(parse_level_json(util::Json(801)), k8c1);
  for (const char* bad : {R"("8x")", "7", "true", "805"}) {
    EXPECT_THROW((void)parse_level_json(util::parse_json(bad)), std::invalid_argument) << bad;
  }
  EXPECT_THROW((void)parse_levels_json(util::parse_json("8")), std::invalid_argument);
  const std::string h = records_header("sweep", "m.tflite", "golden", {4, k8c1, 8, 16}, "0123");
  EXPECT_NE(h.find(R"("bits":[4,"8c1",8,16])"), std::string::npos) << h;
}

driver::Counters counters_of(int level) {
  driver::Counters c;
  switch (level) {
    case 16:
      c.mac16 = 100, c.blk16 = 1600;
      break;
    case 8:
      c.mac8 = 100, c.blk8 = 400;
      break;
    case k8c1:
      c.mac8 = 100, c.blk8 = 300;  // one block product of four skipped
      break;
    default:
      c.mac4 = 100, c.blk4 = 100;
  }
  c.blk = c.blk16 + c.blk8 + c.blk4;
  return c;
}

TEST(LevelNames, EveryOutputWritesRungsByName) {
  // Six images, the 8c1 rung right on the first three, every other level right on all but the last.
  std::vector<ImageRecord> recs(6);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    ImageRecord& r = recs[i];
    r.file = "img" + std::to_string(i) + ".jpg";
    r.label = 7;
    r.fp = test::labelled_run(true, 0.9);
    for (const int l : {4, k8c1, 8, 16})
      r.levels[l] = test::labelled_run(l == k8c1 ? i < 3 : i < 5, 0.1 + 0.1 * static_cast<double>(i), counters_of(l));
  }
  SweepInput in;
  for (const auto& r : recs) in.records.push_back(&r);
  in.levels = {k8c1, 8, 16};
  in.table = EnergyTable::envision();
  const SweepSummary s = summarize_sweep(in, 1.0, 0.1);
  const auto dir = test::temp_dir("level_names");
  write_sweep(dir.string(), s, "test");
  const std::string sj = util::read_file((dir / "sweep.json").string());
  EXPECT_NE(sj.find(R"("levels":["8c1",8,16])"), std::string::npos) << sj.substr(0, 200);
  EXPECT_NE(sj.find(R"("bits":"8c1")"), std::string::npos);
  const std::string th = util::read_file((dir / "thresholds.csv").string());
  EXPECT_EQ(th.substr(0, th.find('\n')),
            "threshold,top1,drop_pp,energy_rel_16,saving_vs_16,runs_per_image,accepted_8c1,accepted_8,accepted_16");
  const std::string tc = util::read_file((dir / "table.csv").string());
  EXPECT_NE(tc.find("static,8c1,"), std::string::npos) << tc;
  EXPECT_NE(tc.find("8c1-8-16"), std::string::npos) << tc;
  for (const std::string& text : {sj, th, tc}) {
    for (const char* code : {"[801", ",801", "801,", "_801", "\"801\""})
      EXPECT_EQ(text.find(code), std::string::npos) << code << " in " << text.substr(0, 300);
  }

  ApplyOutcome o;
  ApplyRow row;
  row.file = "a.jpg";
  row.label = 7;
  row.levels_run = {k8c1, 8};
  row.confidence = {0.25, 0.5};
  row.accepted_bits = 8;
  o.rows.push_back(row);
  row.file = "b.jpg";
  row.levels_run = {k8c1};
  row.accepted_bits = k8c1;
  o.rows.push_back(row);
  const std::string csv = apply_rows_csv(o);
  EXPECT_NE(csv.find("a.jpg,7,8c1;8,0.25;0.5,8,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("b.jpg,7,8c1,0.25;0.5,8c1,"), std::string::npos) << csv;
  const std::string jl = apply_rows_jsonl(o);
  EXPECT_NE(jl.find(R"("levels_run":["8c1",8])"), std::string::npos) << jl;
  EXPECT_NE(jl.find(R"("accepted_bits":"8c1")"), std::string::npos) << jl;
  EXPECT_NE(jl.find(R"("accepted_bits":8,)"), std::string::npos) << jl;
}

}  // namespace
}  // namespace bitscale::study
