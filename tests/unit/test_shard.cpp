// Shards (study/shard.hpp) and the Slurm scripts (study/slurm.hpp): the partition covers every
// image once, headers round-trip, and the scripts hold what Slurm needs.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/study/shard.hpp"
#include "bitscale/study/slurm.hpp"

namespace bitscale::study {
namespace {

TEST(Shard, ParsesOneBasedIndexAndRefusesOthers) {
  EXPECT_EQ(parse_shard("2/4"), (Shard{2, 4}));
  EXPECT_EQ(parse_shard("1/1"), (Shard{1, 1}));
  EXPECT_FALSE(parse_shard("1/1").whole());  // an explicit 1/1 writes shard files (an array of 1)
  EXPECT_TRUE(Shard{}.whole());
  EXPECT_EQ(to_string(Shard{3, 7}), "3/7");
  for (const char* bad : {"0/4", "5/4", "2/0", "", "x", "2", "1/", "/4", "-1/4", "1/4/2", "1.5/4", " 1/4"}) {
    EXPECT_THROW(parse_shard(bad), std::invalid_argument) << bad;
  }
  try {
    parse_shard("5/4");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("I must be in 1..4"), std::string::npos) << e.what();
  }
}

TEST(Shard, PartitionCoversEveryImageOnceRoundRobin) {
  std::vector<std::string> files;
  for (int i = 0; i < 11; ++i) files.push_back("img" + std::to_string(100 + i));
  EXPECT_EQ(shard_of(files, Shard{}), files);
  for (std::size_t n : {1u, 2u, 3u, 4u, 11u, 15u}) {
    std::multiset<std::string> all;
    for (std::size_t i = 1; i <= n; ++i) {
      const auto part = shard_of(files, {i, n});
      // Shard i holds positions i-1, i-1+n, ...: ceil((11 - (i-1)) / n) images.
      const std::size_t expected = i - 1 < files.size() ? (files.size() - (i - 1) + n - 1) / n : 0;
      EXPECT_EQ(part.size(), expected) << i << "/" << n;
      for (std::size_t j = 0; j < part.size(); ++j) EXPECT_EQ(part[j], files[i - 1 + j * n]);
      all.insert(part.begin(), part.end());
    }
    EXPECT_EQ(all, std::multiset<std::string>(files.begin(), files.end())) << n;
  }
}

TEST(Shard, FileNamesAndHeadersRoundTrip) {
  EXPECT_EQ(shard_path("out/levels.jsonl", {2, 4}), "out/levels.shard-2-of-4.jsonl");
  EXPECT_EQ(shard_path("out/levels.jsonl", Shard{}), "out/levels.jsonl");
  EXPECT_EQ(shard_path("out/levels.jsonl", {1, 1}), "out/levels.shard-1-of-1.jsonl");
  EXPECT_EQ(shard_list_path("a/apply.csv.records.jsonl", {3, 4}), "a/apply.csv.records.shard-3-of-4.list");
  const std::string h = R"({"format":"bitscale-study-records-2","kind":"sweep","model":"m.tflite","bits":[4,8,16]})";
  const std::string s = shard_header(h, {2, 4}, "00ff00ff00ff00ff", {"a", "b", "c"});
  EXPECT_EQ(s, h.substr(0, h.size() - 1) + R"(,"model_hash":"00ff00ff00ff00ff","selection":{"images":3,"hash":")" +
                   selection_hash({"a", "b", "c"}) + R"("},"shard":"2/4"})");
  EXPECT_EQ(unshard_header(s), h);
  EXPECT_EQ(unshard_header(h), h);
  EXPECT_NE(selection_hash({"a", "b"}), selection_hash({"b", "a"}));
  EXPECT_NE(selection_hash({"ab"}), selection_hash({"a", "b"}));
}

SlurmJob sweep_job() {
  SlurmJob j;
  j.array = 4;
  j.partition = "compute";
  j.time = "01:00:00";
  j.out_dir = "/tmp/slurm";
  j.bitscale = "/opt/bitscale";
  j.workdir = "/home/u/proj";
  j.command = {"bitscale", "sweep", "--images", "my images", "--out", "runs/s", "--jobs", "2"};
  return j;
}

TEST(Slurm, ArrayFillsTheShardFromTheTaskIdAndCount) {
  const SlurmScripts s = slurm_scripts(sweep_job());
  EXPECT_EQ(s.command, "sweep");
  EXPECT_EQ(s.shard_dir, "runs/s");
  EXPECT_TRUE(s.array.starts_with("#!/bin/bash\n"));
  EXPECT_NE(s.array.find("#SBATCH --array=1-4\n"), std::string::npos);
  EXPECT_NE(s.array.find("#SBATCH --partition=compute\n"), std::string::npos);
  EXPECT_NE(s.array.find("#SBATCH --time=01:00:00\n"), std::string::npos);
  EXPECT_NE(s.array.find("#SBATCH --cpus-per-task=2\n"), std::string::npos);  // the command's --jobs
  EXPECT_NE(s.array.find("cd /home/u/proj\n"), std::string::npos);
  EXPECT_NE(s.array.find("exec /opt/bitscale sweep --images 'my images' --out runs/s --jobs 2 --no-progress --shard "
                         "\"${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}\"\n"),
            std::string::npos)
      << s.array;
  EXPECT_NE(s.array.find("\"$SLURM_ARRAY_TASK_COUNT\" != 4"), std::string::npos);
  // Every #SBATCH line comes before the first command (sbatch stops reading them there).
  EXPECT_LT(s.array.rfind("#SBATCH"), s.array.find("set -euo pipefail"));
}

TEST(Slurm, CalibrationOnceThenArrayThenMergeAfterOk) {
  const SlurmScripts s = slurm_scripts(sweep_job());
  EXPECT_NE(s.calibrate.find("--no-progress --calibrate-only\n"), std::string::npos) << s.calibrate;
  EXPECT_EQ(s.calibrate.find("--array"), std::string::npos);
  EXPECT_NE(s.merge.find("/opt/bitscale merge --in runs/s --out runs/s\n"), std::string::npos) << s.merge;
  EXPECT_NE(s.merge.find("exec /opt/bitscale sweep --images 'my images' --out runs/s --jobs 2 --no-progress\n"),
            std::string::npos)
      << s.merge;
  const auto cal = s.submit.find("sbatch --parsable calibrate.sbatch");
  const auto arr = s.submit.find("sbatch --parsable --dependency=afterok:${cal%%;*} array.sbatch");
  const auto mrg = s.submit.find("sbatch --parsable --dependency=afterok:${arr%%;*} merge.sbatch");
  ASSERT_NE(cal, std::string::npos) << s.submit;
  ASSERT_NE(arr, std::string::npos) << s.submit;
  ASSERT_NE(mrg, std::string::npos) << s.submit;
  EXPECT_LT(cal, arr);
  EXPECT_LT(arr, mrg);
}

TEST(Slurm, ApplyNeedsNoCalibrationAndMergesBesideItsOut) {
  SlurmJob j = sweep_job();
  j.command = {"apply", "--policy", "s/policy.json", "--out", "runs/a/apply.csv"};
  const SlurmScripts s = slurm_scripts(j);
  EXPECT_TRUE(s.calibrate.empty());
  EXPECT_EQ(s.shard_dir, "runs/a");
  EXPECT_NE(s.submit.find("arr=$(sbatch --parsable array.sbatch)"), std::string::npos);
  EXPECT_NE(s.array.find("#SBATCH --cpus-per-task=1\n"), std::string::npos);
}

TEST(Slurm, RefusesWhatCannotBeSharded) {
  SlurmJob j = sweep_job();
  j.command = {"eval", "--out", "x.csv"};
  EXPECT_THROW(slurm_scripts(j), std::invalid_argument);
  j.command = {"sweep", "--images", "x"};  // no --out
  EXPECT_THROW(slurm_scripts(j), std::invalid_argument);
  j.command = {"sweep", "--out", "s", "--shard", "1/2"};
  EXPECT_THROW(slurm_scripts(j), std::invalid_argument);
  j.command = {"sweep", "--out", "s"};
  j.array = 0;
  EXPECT_THROW(slurm_scripts(j), std::invalid_argument);
}

TEST(Slurm, ShellQuoting) {
  EXPECT_EQ(shell_quote("runs/s-1.json"), "runs/s-1.json");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
  EXPECT_EQ(shell_quote("$HOME"), "'$HOME'");
}

}  // namespace
}  // namespace bitscale::study
