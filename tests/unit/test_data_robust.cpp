// What a new user runs into (issue 8, point 8), at the library level: image listing, default data
// paths from any directory, a directory given as an image, atomic result files, and resume
// refusals that leave the records untouched and name the differing field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/model/tflite.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/util/file.hpp"
#include "test_files.hpp"

namespace bitscale {
namespace {

namespace fs = std::filesystem;

void put(const fs::path& p, const std::string& text) {
  std::ofstream f(p, std::ios::binary);
  f << text;
}

std::string get(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The JPEG signature (start of image, then the first marker) and a few bytes.
const std::string kJpegStart = std::string("\xFF\xD8\xFF\xE0", 4) + "rest";

TEST(DataRobust, ImageListingKeepsOnlyJpegImagesAndCountsTheRest) {
  const fs::path dir = test::temp_dir("listing");
  put(dir / "b.jpg", "any bytes: listed by name, reported by the decoder");
  put(dir / "a.JPEG", kJpegStart);
  put(dir / "c.Jpg", kJpegStart);
  put(dir / "noext", kJpegStart);  // a JPEG without extension: listed by its signature
  put(dir / "README.txt", "read me");
  put(dir / "d.png", "\x89PNG");  // not decodable here: skipped
  put(dir / ".hidden.jpg", kJpegStart);
  fs::create_directories(dir / "sub.jpg");  // a directory, whatever its name: searched, not listed
  put(dir / "sub.jpg" / "notes.txt", "in a sub-directory");
  const data::ImageListing l = data::scan_images(dir.string());
  const std::vector<std::string> expected{(dir / "a.JPEG").string(), (dir / "b.jpg").string(), (dir / "c.Jpg").string(),
                                          (dir / "noext").string()};
  EXPECT_EQ(l.images, expected);
  EXPECT_EQ(l.skipped_files, 3u);
  EXPECT_EQ(l.skipped_message("D"),
            "D: skipped 3 files that are not JPEG images (README.txt, d.png, sub.jpg/notes.txt)");

  std::vector<std::string> warnings;
  EXPECT_EQ(data::list_images(dir.string(), [&](const std::string& m) { warnings.push_back(m); }), expected);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("skipped 3 files"), std::string::npos) << warnings[0];
  fs::remove_all(dir);
}

TEST(DataRobust, NothingSkippedSaysNothing) {
  const fs::path dir = test::temp_dir("listing_clean");
  put(dir / "a.jpg", kJpegStart);
  int warned = 0;
  EXPECT_EQ(data::list_images(dir.string(), [&](const std::string&) { ++warned; }).size(), 1u);
  EXPECT_EQ(warned, 0);
  EXPECT_EQ(data::scan_images(dir.string()).skipped_message("x"), "");
  fs::remove_all(dir);
}

TEST(DataRobust, ManySkippedFilesAreSummarized) {
  const fs::path dir = test::temp_dir("listing_many");
  for (const char* n : {"e.txt", "a.txt", "c.txt", "b.txt"}) put(dir / n, "x");
  const data::ImageListing l = data::scan_images(dir.string());
  EXPECT_TRUE(l.images.empty());
  EXPECT_EQ(l.skipped_message("D"), "D: skipped 4 files that are not JPEG images (a.txt, b.txt, c.txt, ...)");
  fs::remove_all(dir);
}

TEST(DataRobust, ImageExtensionsAnyCase) {
  for (const char* yes : {"x.jpg", "d/x.JPG", "x.jpeg", "x.JPEG", "x.jpe", "x.jfif"})
    EXPECT_TRUE(data::has_image_extension(yes)) << yes;
  for (const char* no : {"x.png", "x.txt", "jpg", "x.jpg.txt", "x"}) EXPECT_FALSE(data::has_image_extension(no)) << no;
}

TEST(DataRobust, DirectoryAsImageIsAClearError) {
  const fs::path dir = test::temp_dir("dir_image");
  try {
    (void)data::decode_jpeg(dir.string());
    ADD_FAILURE() << "no error";
  } catch (const data::ImageError& e) {
    EXPECT_EQ(std::string(e.what()), dir.string() + ": is a directory, not an image file");
  }
  fs::remove_all(dir);
}

// From a directory that holds no data/, the embedded default is found relative to the test
// executable (build/tests/test_unit -> the repository) or to the source tree it was built from.
TEST(DataRobust, DefaultDataFoundFromAnotherDirectory) {
  const fs::path source(BITSCALE_SOURCE_DIR);
  if (!fs::exists(source / "data" / "models" / "mobilenet_v1_0.25_128_quant.tflite"))
    GTEST_SKIP() << "no embedded data";
  const fs::path elsewhere = test::temp_dir("elsewhere");
  const fs::path before = fs::current_path();
  fs::current_path(elsewhere);
  const data::DataPaths d = data::default_data_paths();
  fs::current_path(before);
  fs::remove_all(elsewhere);
  ASSERT_FALSE(d.model.empty());
  ASSERT_FALSE(d.images.empty());
  ASSERT_FALSE(d.synsets.empty());
  // The very files of the source tree (the worktree the test was built from).
  EXPECT_TRUE(fs::equivalent(d.model, source / "data" / "models" / "mobilenet_v1_0.25_128_quant.tflite")) << d.model;
  EXPECT_TRUE(fs::equivalent(d.images, source / "data" / "images")) << d.images;
  EXPECT_TRUE(fs::equivalent(d.synsets, source / "data" / "imagenet-synsets.tsv")) << d.synsets;
  // The working directory comes first.
  EXPECT_EQ(data::data_roots().front(), "");
}

// write_file replaces the file (a new inode renamed over it) instead of rewriting it in place: a
// reader that opened the old file, or a hard link to it, still sees the old contents whole.
TEST(UtilWriteFile, ReplacesAtomicallyNotInPlace) {
  const fs::path dir = test::temp_dir("write_atomic");
  const fs::path p = dir / "result.json";
  util::write_file(p.string(), "old contents\n");
  fs::create_hard_link(p, dir / "link");
  std::ifstream reader(p, std::ios::binary);
  util::write_file(p.string(), "new");
  EXPECT_EQ(get(p), "new");
  EXPECT_EQ(get(dir / "link"), "old contents\n");
  std::stringstream ss;
  ss << reader.rdbuf();
  EXPECT_EQ(ss.str(), "old contents\n");
  // Nothing else left in the directory (no temporary file).
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 2);
  fs::remove_all(dir);
}

TEST(UtilStreamedFile, ReplacesTheOldFileOnlyOnCommit) {
  const fs::path dir = test::temp_dir("streamed");
  const fs::path p = dir / "rows.csv";
  util::write_file(p.string(), "old rows\n");
  {
    util::StreamedFile f(p.string());
    f.stream() << "row 1\n";
    f.stream().flush();
    // While the job runs, the old file is intact and the rows so far are on disk.
    EXPECT_EQ(get(p), "old rows\n");
    EXPECT_EQ(get(dir / "rows.csv.partial"), "row 1\n");
    f.stream() << "row 2\n";
    f.commit();
  }
  EXPECT_EQ(get(p), "row 1\nrow 2\n");
  EXPECT_FALSE(fs::exists(dir / "rows.csv.partial"));
  fs::remove_all(dir);
}

TEST(UtilStreamedFile, WithoutCommitTheOldFileStaysAndFinishedRowsAreKept) {
  const fs::path dir = test::temp_dir("streamed_abort");
  const fs::path p = dir / "rows.csv";
  util::write_file(p.string(), "old rows\n");
  { util::StreamedFile f(p.string()); }  // refused before any row: nothing left behind
  EXPECT_EQ(get(p), "old rows\n");
  EXPECT_FALSE(fs::exists(dir / "rows.csv.partial"));
  {
    util::StreamedFile f(p.string());
    f.stream() << "row 1\n";
  }  // interrupted after one row: kept beside, the old file untouched
  EXPECT_EQ(get(p), "old rows\n");
  EXPECT_EQ(get(dir / "rows.csv.partial"), "row 1\n");
  EXPECT_THROW(util::StreamedFile((dir / "missing" / "x.csv").string()), std::runtime_error);
  fs::remove_all(dir);
}

TEST(UtilWriteFile, FailureNamesTheFileAndLeavesTheOldOne) {
  const fs::path dir = test::temp_dir("write_fail");
  // A missing directory: a clear error naming the file, nothing created.
  const std::string missing = (dir / "no" / "such" / "x.json").string();
  try {
    util::write_file(missing, "x");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write '" + missing + "': No such file or directory");
  }
  EXPECT_FALSE(fs::exists(dir / "no"));
  EXPECT_THROW(util::check_writable(missing), std::runtime_error);
  // A directory where the file should be: refused, the directory and its contents intact.
  fs::create_directories(dir / "out.json");
  put(dir / "out.json" / "keep", "kept");
  try {
    util::write_file((dir / "out.json").string(), "x");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write '" + (dir / "out.json").string() + "': is a directory");
  }
  EXPECT_EQ(get(dir / "out.json" / "keep"), "kept");
  // check_writable on a writable path leaves nothing behind.
  util::check_writable((dir / "fine.json").string());
  EXPECT_FALSE(fs::exists(dir / "fine.json"));
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 1);  // out.json only
  fs::remove_all(dir);
}

// calibration.json goes through write_file: a hard link to the previous file keeps it whole.
TEST(UtilWriteFile, CalibrationSavedAtomically) {
  const fs::path source(BITSCALE_SOURCE_DIR);
  const fs::path model = source / "data" / "models" / "mobilenet_v1_0.25_128_quant.tflite";
  if (!fs::exists(model)) GTEST_SKIP() << "no embedded data";
  const model::Network net(model::load_tflite(model.string()));
  const std::vector<std::string> images = data::list_images((source / "data" / "images").string());
  ASSERT_GE(images.size(), 1u);
  const quant::Calibration c = quant::calibrate_files(net, {images[0]}, 1);
  const fs::path dir = test::temp_dir("calib_atomic");
  const fs::path p = dir / "calibration.json";
  put(p, "previous");
  fs::create_hard_link(p, dir / "link");
  c.save(p.string(), net);
  EXPECT_EQ(get(dir / "link"), "previous");
  EXPECT_EQ(get(p), c.to_json(net));
  fs::remove_all(dir);
}

// The header a refused resume is compared with, field by field.
TEST(StudyResume, HeaderDifferenceNamesTheFields) {
  using study::header_difference;
  using study::records_header;
  const std::string layer = records_header("sweep", "m.tflite", "golden", {4, 8, 16}, "abc", "layer");
  const std::string channel = records_header("sweep", "m.tflite", "golden", {4, 8, 16}, "abc", "channel");
  EXPECT_EQ(header_difference(layer, layer), "");
  EXPECT_EQ(header_difference(layer, channel), "recorded with weight_fl \"layer\", this run uses \"channel\"");
  const std::string other =
      records_header("sweep", "m.tflite", "golden", {8, 16}, "def", "channel");  // bits, calibration, weight_fl
  EXPECT_EQ(header_difference(layer, other),
            "recorded with bits [4,8,16], this run uses [8,16]; recorded with calibration \"abc\", this run uses "
            "\"def\"; recorded with weight_fl \"layer\", this run uses \"channel\"");
  const std::vector<std::string> ignore{"calibration"};
  EXPECT_EQ(header_difference(records_header("sweep", "m", "golden", {8}, "abc", "layer"),
                              records_header("sweep", "m", "golden", {8}, "", "layer"), ignore),
            "");
  // A float header has no weight_fl.
  EXPECT_EQ(header_difference(records_header("levels", "m", "golden", {8}, "a"),
                              records_header("levels", "m", "golden", {8}, "a", "layer")),
            "recorded without weight_fl, this run uses \"layer\"");
  EXPECT_EQ(header_difference(records_header("levels", "m", "golden", {8}, "a", "layer"),
                              records_header("levels", "m", "golden", {8}, "a")),
            "recorded with weight_fl \"layer\", this run has none");
}

// A resume with another header is refused before anything is written: the file keeps its bytes,
// its interrupted last line included, and no worker runs.
TEST(StudyResume, RefusedResumeLeavesTheFileByteIdentical) {
  const fs::path dir = test::temp_dir("resume_refused");
  const std::string path = (dir / "records.jsonl").string();
  const std::string layer = study::records_header("sweep", "m", "golden", {8, 16}, "abc", "layer");
  const std::string channel = study::records_header("sweep", "m", "golden", {8, 16}, "abc", "channel");
  study::ImageRecord r;
  r.file = "a.jpg";
  const std::string before = layer + "\n" + study::to_json_line(r) + "\n{\"file\":\"b.j";
  put(path, before);
  int calls = 0;
  const study::WorkerFactory workers = [&calls]() {
    return [&calls](const std::string& f) {
      ++calls;
      study::ImageRecord x;
      x.file = f;
      return x;
    };
  };
  try {
    (void)study::record_images(path, channel, {"a.jpg", "b.jpg", "c.jpg"}, workers);
    ADD_FAILURE() << "no error";
  } catch (const study::StudyError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": recorded with weight_fl \"layer\", this run uses \"channel\"", 0),
              0u)
        << e.what();
  }
  EXPECT_EQ(get(path), before);
  EXPECT_EQ(calls, 0);
  // The same check without recording.
  EXPECT_THROW(study::check_resumable(path, channel), study::StudyError);
  EXPECT_NO_THROW(study::check_resumable(path, layer));
  EXPECT_NO_THROW(study::check_resumable((dir / "none.jsonl").string(), channel));
  EXPECT_EQ(get(path), before);
  EXPECT_EQ(study::recorded_files(path), std::set<std::string>{"a.jpg"});
  // With the right header it resumes: the partial line is cut, b and c computed.
  const study::RecordResult res = study::record_images(path, layer, {"a.jpg", "b.jpg", "c.jpg"}, workers);
  EXPECT_TRUE(res.complete);
  EXPECT_EQ(calls, 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bitscale
