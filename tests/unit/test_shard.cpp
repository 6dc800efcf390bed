// Shards (study/shard.hpp) and the Slurm scripts (study/slurm.hpp): the partition covers every
// image once, headers round-trip, and the scripts hold what Slurm needs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/study/eval.hpp"
#include "bitscale/study/merge.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/shard.hpp"
#include "bitscale/study/slurm.hpp"
#include "bitscale/util/file.hpp"

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
  j.command = {"classify", "--out", "x.csv"};
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

TEST(Slurm, EvalShardsBesideItsOutWithoutACalibrationStep) {
  SlurmJob j = sweep_job();
  j.command = {"eval", "--backend", "golden", "--out", "runs/e/eval.csv"};
  const SlurmScripts s = slurm_scripts(j);
  EXPECT_EQ(s.command, "eval");
  EXPECT_TRUE(s.calibrate.empty());  // each shard calibrates in memory (or reads --calib): no shared file
  EXPECT_EQ(s.shard_dir, "runs/e");
  EXPECT_NE(s.merge.find("/opt/bitscale merge --in runs/e --out runs/e\n"), std::string::npos) << s.merge;
  EXPECT_NE(s.merge.find("exec /opt/bitscale eval --backend golden --out runs/e/eval.csv --no-progress\n"),
            std::string::npos)
      << s.merge;
}

// An evaluated row with values whose decimal text is not exact (0.1f, ...), counters and a label.
EvalRow sample_row() {
  EvalRow r;
  r.file = "dir/n01440764_1.JPEG";
  r.label = 0;
  Prediction p;
  p.top.index = {1, 392, 7, 0, 999};
  p.top.prob = {0.1f, 1.0f / 3, 2e-7f, 0.0f, 0.0999999f};
  p.margin = 0.1f - 1.0f / 3;
  driver::Counters c;
  c.cycles = 123456789012ULL;
  c.mac8 = 42;
  c.blk = 7;
  p.counters = c;
  r.pred = p;
  r.seconds = 1.23456;
  return r;
}

TEST(EvalRecords, RoundTripAndTheRowsFromARecordAreTheRowsOfTheRun) {
  const EvalRow r = sample_row();
  const std::string line = eval_record_line(r);
  const EvalRow back = parse_eval_record(line, "t.jsonl", 2);
  EXPECT_EQ(eval_record_line(back), line);
  EXPECT_EQ(back.pred->top.prob, r.pred->top.prob);  // floats exactly
  EXPECT_EQ(back.pred->margin, r.pred->margin);
  EXPECT_EQ(back.pred->counters->cycles, 123456789012ULL);
  for (const EvalFormat f : {EvalFormat::kCsv, EvalFormat::kJsonLines}) {
    std::ostringstream sink;
    const EvalWriter w(sink, f, false, [](int c) { return "class" + std::to_string(c); });
    EXPECT_EQ(w.line(back), w.line(r));
    // The wall time is in the record, never in the rows (a merged report equals an unsharded one).
    EXPECT_NE(line.find("\"seconds\":1.2346"), std::string::npos) << line;
    EXPECT_EQ(w.line(r).find("1.2346"), std::string::npos) << w.line(r);
  }
  // The CSV header and a row have the same number of columns, for a prediction and an error row.
  std::ostringstream csv;
  EvalWriter w(csv, EvalFormat::kCsv, false, [](int) { return std::string("x"); });
  EvalRow bad;
  bad.file = "broken.JPEG";
  bad.error = "not a JPEG";
  const auto columns = [](const std::string& s) { return std::count(s.begin(), s.end(), ',') + 1; };
  const std::string header = csv.str().substr(0, csv.str().find('\n'));
  EXPECT_EQ(header.find("seconds"), std::string::npos);
  EXPECT_EQ(columns(w.line(r)), columns(header));
  EXPECT_EQ(columns(w.line(bad)), columns(header));
  EXPECT_EQ(eval_record_line(parse_eval_record(eval_record_line(bad), "t", 3)), eval_record_line(bad));
}

TEST(EvalRecords, MalformedLinesAreRefusedNamingFileAndLine) {
  for (const char* bad : {"{\"file\":\"a\"}", "not json", "{\"file\":\"a\",\"label\":null,\"seconds\":0}",
                          "{\"file\":\"a\",\"label\":1,\"top5\":[1,2],\"p\":[0.5],\"margin\":0,\"seconds\":0}"}) {
    try {
      (void)parse_eval_record(bad, "shard.jsonl", 5);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const StudyError& e) {
      EXPECT_NE(std::string(e.what()).find("shard.jsonl:5: not an eval record"), std::string::npos) << e.what();
    }
  }
}

// Eval shards written by hand: rows a..e (e unreadable) over 2 shards of a selection.
struct EvalShards {
  std::filesystem::path dir;
  std::string header = R"({"format":"bitscale-study-records-2","kind":"eval","model":"m.onnx","backend":"golden"})";
  std::vector<std::string> selection{"a.JPEG", "b.JPEG", "c.JPEG", "d.JPEG", "e.JPEG"};
  std::string line(const std::string& f) const {
    EvalRow r = sample_row();
    r.file = f;
    if (f == "e.JPEG") {
      r.pred.reset();
      r.error = "unreadable";
    }
    return eval_record_line(r);
  }
  /// Shard i of n into `sub`, with `model_hash`.
  void write(const std::string& sub, std::size_t i, std::size_t n, const std::string& model_hash) const {
    const Shard s{i, n};
    const std::string h = shard_header(header, s, model_hash, selection);
    std::string rec = h + '\n', list = h + '\n';
    for (const auto& f : shard_of(selection, s)) {
      rec += line(f) + '\n';
      list += f + '\n';
    }
    std::filesystem::create_directories(dir / sub);
    util::write_file(shard_path((dir / sub / "eval.csv.records.jsonl").string(), s), rec);
    util::write_file(shard_list_path((dir / sub / "eval.csv.records.jsonl").string(), s), list);
  }
};

std::string merge_error(const MergeJob& j) {
  try {
    run_merge(j);
  } catch (const StudyError& e) {
    return e.what();
  }
  return "(merged)";
}

TEST(EvalMerge, MergesInSelectionOrderAndRefusesMissingAndForeignShards) {
  EvalShards t;
  t.dir = std::filesystem::temp_directory_path() / ("bitscale-evalmerge-" + std::to_string(::getpid()));
  std::filesystem::remove_all(t.dir);
  t.write("s", 1, 2, "00000000000000aa");
  // Shard 2 missing: refused, named, nothing written.
  EXPECT_NE(merge_error({{(t.dir / "s").string()}, (t.dir / "m0").string()}).find("shard 2/2 missing"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(t.dir / "m0" / "eval.csv.records.jsonl"));
  // Shard 2 of another model (its content hash): refused, naming the file and both hashes.
  t.write("x", 2, 2, "00000000000000bb");
  const std::string foreign = merge_error({{(t.dir / "s").string(), (t.dir / "x").string()}, (t.dir / "m1").string()});
  EXPECT_NE(foreign.find("eval.csv.records.shard-2-of-2.jsonl: a shard of another model"), std::string::npos)
      << foreign;
  EXPECT_NE(foreign.find("00000000000000bb"), std::string::npos) << foreign;
  // Shard 2 twice (the right one in s, a copy in y): refused.
  t.write("s", 2, 2, "00000000000000aa");
  t.write("y", 2, 2, "00000000000000aa");
  EXPECT_NE(merge_error({{(t.dir / "s").string(), (t.dir / "y").string()}, (t.dir / "m2").string()})
                .find("shard 2/2 found 2 times"),
            std::string::npos);
  // Both shards once: the unsharded header, then the records in the selection's order.
  const MergeOutcome m = run_merge({{(t.dir / "s").string()}, (t.dir / "m").string()});
  ASSERT_EQ(m.merged.size(), 1u);
  std::string want = t.header + '\n';
  for (const auto& f : t.selection) want += t.line(f) + '\n';
  EXPECT_EQ(util::read_file((t.dir / "m" / "eval.csv.records.jsonl").string()), want);
  // The merged records read back as the rows, header checked.
  const auto rows = read_eval_records((t.dir / "m" / "eval.csv.records.jsonl").string(), t.header);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows.at("e.JPEG").error, "unreadable");
  EXPECT_THROW(
      read_eval_records((t.dir / "m" / "eval.csv.records.jsonl").string(),
                        R"({"format":"bitscale-study-records-2","kind":"eval","model":"m.onnx","backend":"rtl"})"),
      StudyError);
  std::filesystem::remove_all(t.dir);
}

}  // namespace
}  // namespace bitscale::study
