// Ground truth: synsets file, labels from file names, image lists, calibration/evaluation split.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/labels.hpp"

namespace bitscale::data {
namespace {

namespace fs = std::filesystem;

// A valid synthetic synsets file: class i is synset n(10000000 + 7 i), named "class_i".
std::string synthetic_synsets(int count = kNumClasses, const std::string& eol = "\n") {
  std::string text;
  for (int i = 0; i < count; ++i) text += fmt::format("{}\tn{:08d}\tclass_{}{}", i, 10000000 + 7 * i, i, eol);
  return text;
}

// Replaces line `line_no` (1-based) of `text`.
std::string replace_line(const std::string& text, int line_no, const std::string& replacement) {
  std::size_t begin = 0;
  for (int i = 1; i < line_no; ++i) begin = text.find('\n', begin) + 1;
  const std::size_t end = text.find('\n', begin);
  return text.substr(0, begin) + replacement + text.substr(end);
}

void expect_parse_error(const std::string& text, const std::string& what) {
  try {
    (void)Synsets::parse(text, "test.tsv");
    ADD_FAILURE() << "parsed, expected an error containing '" << what << "'";
  } catch (const LabelError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(Synsets, ParsesValidFile) {
  const Synsets s = Synsets::parse(synthetic_synsets(), "test.tsv");
  EXPECT_EQ(s.size(), 1000);
  EXPECT_EQ(s.synset(0), "n10000000");
  EXPECT_EQ(s.synset(999), "n10006993");
  EXPECT_EQ(s.name(42), "class_42");
  EXPECT_EQ(s.index_of("n10000007"), 1);
  EXPECT_EQ(s.index_of("n10000008"), std::nullopt);
  EXPECT_EQ(s.index_of(""), std::nullopt);
  EXPECT_THROW((void)s.name(1000), LabelError);
  EXPECT_THROW((void)s.synset(-1), LabelError);
}

TEST(Synsets, AcceptsCrlfAndMissingFinalNewline) {
  EXPECT_EQ(Synsets::parse(synthetic_synsets(kNumClasses, "\r\n"), "crlf.tsv").name(7), "class_7");
  std::string text = synthetic_synsets();
  text.pop_back();
  EXPECT_EQ(Synsets::parse(text, "no-eol.tsv").size(), 1000);
}

TEST(Synsets, ErrorsNameFileAndLine) {
  const std::string good = synthetic_synsets();
  expect_parse_error(replace_line(good, 5, "5\tn10000028\tclass_4"), "test.tsv:5: index '5' where 4 was expected");
  expect_parse_error(replace_line(good, 10, "9\tx10000063\tclass_9"), "test.tsv:10: 'x10000063' is not a synset");
  expect_parse_error(replace_line(good, 3, "2\tn10000007\tdup"), "test.tsv:3: synset n10000007 is not after n10000007");
  expect_parse_error(replace_line(good, 3, "2\tn10000000\tback"), "test.tsv:3:");
  expect_parse_error(replace_line(good, 8, "7 n10000049 spaces"), "test.tsv:8: fewer than 3");
  expect_parse_error(replace_line(good, 8, "7\tn10000049\t"), "test.tsv:8: empty name");
  expect_parse_error(replace_line(good, 8, ""), "test.tsv:8: empty line");
  expect_parse_error(synthetic_synsets(999), "test.tsv: 999 classes, expected 1000");
  expect_parse_error(synthetic_synsets(1001), "test.tsv:1001: more than 1000 classes");
  expect_parse_error("", "test.tsv: 0 classes");
  EXPECT_THROW(Synsets("/nonexistent/synsets.tsv"), LabelError);
}

TEST(ModelIndex, BackgroundIsOutputZero) {
  EXPECT_EQ(kNumModelOutputs, 1001);
  EXPECT_EQ(model_index(0), 1);
  EXPECT_EQ(model_index(999), 1000);
  EXPECT_EQ(class_from_model_index(0), std::nullopt);
  EXPECT_EQ(class_from_model_index(1), 0);
  EXPECT_EQ(class_from_model_index(1000), 999);
  EXPECT_EQ(class_from_model_index(1001), std::nullopt);
  EXPECT_EQ(class_from_model_index(-1), std::nullopt);
}

TEST(LabelFromFilename, SyntheticSynsets) {
  const Synsets s = Synsets::parse(synthetic_synsets(), "test.tsv");
  EXPECT_EQ(label_from_filename("n10000000_first.JPEG", s), 0);
  EXPECT_EQ(label_from_filename("/some/dir/n10000014_third_one.jpg", s), 2);
  EXPECT_EQ(label_from_filename("rel/n10000021.JPEG", s), 3);
  EXPECT_EQ(label_from_filename("n10000021", s), 3);
  EXPECT_EQ(label_from_filename("n10000001_unknown.JPEG", s), std::nullopt);
  EXPECT_EQ(label_from_filename("tench.JPEG", s), std::nullopt);
  EXPECT_EQ(label_from_filename("xn10000000_a.JPEG", s), std::nullopt);
  EXPECT_EQ(label_from_filename("n1000000_short.JPEG", s), std::nullopt);
  EXPECT_EQ(label_from_filename("n10000000/other.JPEG", s), std::nullopt);  // the directory does not count
  EXPECT_EQ(label_from_filename("", s), std::nullopt);
}

// The synsets file of the shared data (skips without ../shared) and the embedded copy.
std::vector<fs::path> real_synsets_files() {
  std::vector<fs::path> v;
  for (const fs::path& p : {fs::path(BITSCALE_SHARED_DIR) / "data" / "imagenet-synsets.tsv",
                            fs::path(BITSCALE_SOURCE_DIR) / "data" / "imagenet-synsets.tsv"}) {
    if (fs::exists(p)) v.push_back(p);
  }
  return v;
}

TEST(RealSynsets, LoadAndLookUp) {
  const auto files = real_synsets_files();
  if (files.empty()) GTEST_SKIP() << "no imagenet-synsets.tsv in ../shared/data or data/";
  for (const fs::path& f : files) {
    SCOPED_TRACE(f.string());
    const Synsets s(f.string());
    EXPECT_EQ(s.size(), 1000);
    EXPECT_EQ(s.synset(0), "n01440764");
    EXPECT_EQ(s.name(0), "tench");
    EXPECT_EQ(s.index_of("n01443537"), 1);
    EXPECT_EQ(s.name(2), "great_white_shark");
    EXPECT_EQ(label_from_filename("n01440764_tench.JPEG", s), 0);
    EXPECT_EQ(model_index(*label_from_filename("x/n01484850_great_white_shark.JPEG", s)), 3);
  }
}

TEST(RealSynsets, SharedSampleLabels) {
  const fs::path dir = fs::path(BITSCALE_SHARED_DIR) / "data" / "imagenet-sample";
  const fs::path tsv = fs::path(BITSCALE_SHARED_DIR) / "data" / "imagenet-synsets.tsv";
  if (!fs::is_directory(dir) || !fs::exists(tsv)) GTEST_SKIP() << "no shared sample in " << BITSCALE_SHARED_DIR;
  const Synsets s(tsv.string());
  const auto files = list_images(dir.string());
  ASSERT_EQ(files.size(), 500u);
  std::set<int> classes;
  for (const std::string& f : files) {
    const auto label = label_from_filename(f, s);
    ASSERT_TRUE(label.has_value()) << f;
    EXPECT_EQ(*label % 2, 0) << f << ": the sample has one image per even class";
    // The rest of the file name is the class name of the synsets file.
    EXPECT_EQ(fs::path(f).filename().string(), s.synset(*label) + "_" + s.name(*label) + ".JPEG");
    classes.insert(*label);
  }
  EXPECT_EQ(classes.size(), 500u);
}

TEST(EmbeddedData, ImagesAreLabelled) {
  const fs::path dir = fs::path(BITSCALE_SOURCE_DIR) / "data" / "images";
  const fs::path tsv = fs::path(BITSCALE_SOURCE_DIR) / "data" / "imagenet-synsets.tsv";
  if (!fs::is_directory(dir) || !fs::exists(tsv)) GTEST_SKIP() << "no embedded data in " << BITSCALE_SOURCE_DIR;
  const Synsets s(tsv.string());
  for (const std::string& f : list_images(dir.string())) EXPECT_TRUE(label_from_filename(f, s).has_value()) << f;
}

// ---- image lists --------------------------------------------------------------------------

class ScratchDir {
 public:
  ScratchDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::path(::testing::TempDir()) /
            fmt::format("bitscale_{}_{}_{}", info->test_suite_name(), info->name(), ::getpid());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void touch(const std::string& name) const { std::ofstream(path_ / name) << "x"; }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Image files only: named as JPEG (any case), symbolic links followed, sub-directories searched;
// empty files here, so the others (no signature) are skipped and counted, hidden files and
// directories and broken links ignored.
TEST(ListImages, JpegNamedFilesSortedNoHidden) {
  ScratchDir dir;
  for (const char* name : {"n2_b.JPEG", "a.txt", "n1_a.jpg", ".hidden.JPEG", "Z_upper", "noext"}) dir.touch(name);
  fs::create_directory(dir.path() / "subdir.JPEG");
  dir.touch("subdir.JPEG/inner.JPEG");
  fs::create_directory(dir.path() / ".git");
  dir.touch(".git/hidden_dir.JPEG");
  fs::create_symlink(dir.path() / "a.txt", dir.path() / "link.JPEG");
  fs::create_symlink(dir.path() / "missing", dir.path() / "broken.JPEG");
  const ImageListing l = scan_images(dir.path().string());
  std::vector<std::string> names;
  for (const auto& f : l.images) names.push_back(fs::path(f).lexically_relative(dir.path()).string());
  EXPECT_EQ(names, (std::vector<std::string>{"link.JPEG", "n1_a.jpg", "n2_b.JPEG", "subdir.JPEG/inner.JPEG"}));
  EXPECT_EQ(l.skipped_files, 3u);  // Z_upper, a.txt, noext
  EXPECT_EQ(l.skipped_examples, (std::vector<std::string>{"Z_upper", "a.txt", "noext"}));
  EXPECT_EQ(list_images(dir.path().string()), l.images);
}

// Class-per-folder trees are searched to any depth, sorted by relative path; a symbolic link back
// to an ancestor (a loop) is searched once and ends.
TEST(ListImages, RecursesSortedAndSurvivesLinkLoops) {
  ScratchDir dir;
  fs::create_directories(dir.path() / "val" / "n2");
  fs::create_directories(dir.path() / "val" / "n1" / "deeper");
  dir.touch("val/n2/a.JPEG");
  dir.touch("val/n1/b.JPEG");
  dir.touch("val/n1/deeper/c.JPEG");
  dir.touch("top.JPEG");
  fs::create_directory_symlink(dir.path(), dir.path() / "val" / "n1" / "loop");
  std::vector<std::string> names;
  for (const auto& f : list_images(dir.path().string()))
    names.push_back(fs::path(f).lexically_relative(dir.path()).string());
  EXPECT_EQ(names, (std::vector<std::string>{"top.JPEG", "val/n1/b.JPEG", "val/n1/deeper/c.JPEG", "val/n2/a.JPEG"}));
}

// ---- labels files and label sources --------------------------------------------------------

void expect_labels_error(const std::string& text, const std::string& what) {
  const Synsets s = Synsets::parse(synthetic_synsets(), "test.tsv");
  try {
    (void)LabelsFile::parse(text, "gt.txt", s);
    ADD_FAILURE() << "parsed, expected an error containing '" << what << "'";
  } catch (const LabelError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(LabelsFile, ReadsTheCommonFormats) {
  // Synthetic classes: class i is n(10000000 + 7 i).
  const Synsets s = Synsets::parse(synthetic_synsets(), "test.tsv");
  // Caffe's val.txt: image and 0-based class index, whitespace-separated; CRLF and comments.
  const LabelsFile caffe = LabelsFile::parse(
      "# ground truth\r\nILSVRC2012_val_00000001.JPEG 65\r\n\r\nILSVRC2012_val_00000002.JPEG\t999\r\n", "val.txt", s);
  EXPECT_EQ(caffe.size(), 2u);
  EXPECT_EQ(caffe.find("ILSVRC2012_val_00000001.JPEG"), 65);
  EXPECT_EQ(caffe.find("/data/val/ILSVRC2012_val_00000002.JPEG"), 999);  // directory ignored
  EXPECT_EQ(caffe.find("ILSVRC2012_val_00000002.png"), 999);             // extension ignored
  EXPECT_EQ(caffe.find("ILSVRC2012_val_00000003.JPEG"), std::nullopt);
  // Kaggle's LOC_val_solution.csv: a header, no extension, the class is the first token of boxes.
  const LabelsFile kaggle = LabelsFile::parse(
      "ImageId,PredictionString\nILSVRC2012_val_00008726,n10000014 255 142 454 329 n10000014 44 21 322 295\n"
      "ILSVRC2012_val_00000001,n10000000 1 2 3 4\n",
      "LOC_val_solution.csv", s);
  EXPECT_EQ(kaggle.find("x/ILSVRC2012_val_00008726.JPEG"), 2);
  EXPECT_EQ(kaggle.find("ILSVRC2012_val_00000001.JPEG"), 0);
  // A two-column CSV with synsets, listing one image twice with the same class.
  const LabelsFile csv = LabelsFile::parse("a.jpg,n10000007\nb.jpg,n10000021\na.jpg,n10000007", "gt.csv", s);
  EXPECT_EQ(csv.size(), 2u);
  EXPECT_EQ(csv.find("a.jpg"), 1);
  EXPECT_EQ(csv.find("b.JPEG"), 3);
}

TEST(LabelsFile, RefusesBadLinesNamingTheLine) {
  expect_labels_error("a.jpg 1\n65\n", "gt.txt:2: one field only (the devkit's ground truth");
  expect_labels_error("a.jpg 1\nb.jpg\n", "gt.txt:2: one field only");
  expect_labels_error("a.jpg 1000\n", "gt.txt:1: class index 1000 is out of range 0..999");
  expect_labels_error("a.jpg n10000001\n", "gt.txt:1: synset n10000001 is not one of the 1000 classes");
  expect_labels_error("a.jpg 1\nb.jpg tench\n", "gt.txt:2: 'tench' is neither a synset");
  expect_labels_error("a.jpg 1\nx/a.JPEG 2\n",
                      "gt.txt:2: image a listed again with another class (2 here, 1 on line 1)");
  expect_labels_error("# nothing\n\n", "gt.txt: no labels");
  expect_labels_error("", "gt.txt: no labels");
  const Synsets s = Synsets::parse(synthetic_synsets(), "test.tsv");
  EXPECT_THROW(LabelsFile("/nonexistent/gt.txt", s), LabelError);
}

TEST(Labeler, LabelsFileThenFileNameThenFolder) {
  const Synsets s = Synsets::parse(synthetic_synsets(), "test.tsv");
  const Labeler names(s);
  EXPECT_EQ(names("d/n10000007_x.JPEG"), 1);
  EXPECT_EQ(names("val/n10000014/ILSVRC2012_val_00000009.JPEG"), 2);
  EXPECT_EQ(names("val/n10000014/n10000021_y.JPEG"), 3);                         // the file name comes first
  EXPECT_EQ(names("val/n10000001/ILSVRC2012_val_00000009.JPEG"), std::nullopt);  // not a class
  EXPECT_EQ(names("val/ILSVRC2012_val_00000009.JPEG"), std::nullopt);
  const Labeler with_file(s, LabelsFile::parse("ILSVRC2012_val_00000009 5\nn10000021_y 6\n", "gt.txt", s));
  EXPECT_EQ(with_file("val/ILSVRC2012_val_00000009.JPEG"), 5);
  EXPECT_EQ(with_file("val/n10000014/n10000021_y.JPEG"), 6);              // the labels file comes first
  EXPECT_EQ(with_file("val/n10000014/ILSVRC2012_val_00000010.JPEG"), 2);  // not listed: the folder
}

// The three layouts users have ImageNet in, built from the embedded images: synsets in file names
// (as shipped), class-per-folder (`<synset>/ILSVRC2012_val_<n>.JPEG`) and flat validation names
// with a labels file (Caffe's val.txt with class indices, Kaggle's CSV with synsets). Each image
// gets the class of the synset it was named after, in every layout.
TEST(EmbeddedData, ThreeDatasetLayoutsGiveTheSameLabels) {
  const fs::path src = fs::path(BITSCALE_SOURCE_DIR) / "data" / "images";
  const fs::path tsv = fs::path(BITSCALE_SOURCE_DIR) / "data" / "imagenet-synsets.tsv";
  if (!fs::is_directory(src) || !fs::exists(tsv)) GTEST_SKIP() << "no embedded data in " << BITSCALE_SOURCE_DIR;
  const Synsets s(tsv.string());
  ScratchDir dir;
  const fs::path flat = dir.path() / "flat", folders = dir.path() / "train", val = dir.path() / "val";
  fs::create_directories(flat);
  fs::create_directories(val);
  std::string caffe, kaggle = "ImageId,PredictionString\n";
  std::map<std::string, int> expected;  // validation stem -> class of the original synset
  const std::vector<std::string> originals = list_images(src.string());
  ASSERT_GE(originals.size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) {
    const fs::path orig(originals[i * originals.size() / 20]);
    const std::string synset = orig.filename().string().substr(0, 9);
    const auto cls = s.index_of(synset);
    ASSERT_TRUE(cls.has_value()) << orig;
    const std::string stem = fmt::format("ILSVRC2012_val_{:08d}", 20 - i);  // another order than the synsets
    expected[stem] = *cls;
    fs::create_symlink(orig, flat / orig.filename());
    fs::create_directories(folders / synset);
    fs::create_symlink(orig, folders / synset / (stem + ".JPEG"));
    fs::create_symlink(orig, val / (stem + ".JPEG"));
    caffe += fmt::format("{}.JPEG {}\n", stem, *cls);
    kaggle += fmt::format("{},{} 0 0 10 10\n", stem, synset);
  }
  const auto labels_by_stem = [](const std::vector<std::string>& files, const Labeler& labeler,
                                 const std::map<std::string, std::string>& stem_of_name) {
    std::map<std::string, std::optional<int>> out;
    for (const std::string& f : files) {
      const std::string name = fs::path(f).filename().string();
      const auto it = stem_of_name.find(name);
      out[it == stem_of_name.end() ? fs::path(f).stem().string() : it->second] = labeler(f);
    }
    return out;
  };
  std::map<std::string, std::string> flat_names;  // original file name -> validation stem
  for (std::size_t i = 0; i < 20; ++i)
    flat_names[fs::path(originals[i * originals.size() / 20]).filename().string()] =
        fmt::format("ILSVRC2012_val_{:08d}", 20 - i);
  std::map<std::string, std::optional<int>> want;
  for (const auto& [stem, c] : expected) want[stem] = c;

  const Labeler names(s);
  EXPECT_EQ(labels_by_stem(list_images(flat.string()), names, flat_names), want);
  EXPECT_EQ(labels_by_stem(list_images(folders.string()), names, {}), want);
  std::map<std::string, std::optional<int>> none;  // the validation names alone carry no label
  for (const auto& [stem, c] : expected) none[stem] = std::nullopt;
  EXPECT_EQ(labels_by_stem(list_images(val.string()), names, {}), none);
  std::ofstream(dir.path() / "val.txt") << caffe;
  std::ofstream(dir.path() / "LOC_val_solution.csv") << kaggle;
  for (const char* gt : {"val.txt", "LOC_val_solution.csv"}) {
    SCOPED_TRACE(gt);
    const Labeler from_file = Labeler::with_file(s, (dir.path() / gt).string());
    EXPECT_EQ(labels_by_stem(list_images(val.string()), from_file, {}), want);
  }
}

TEST(ListImages, EmptyAndMissingDirectories) {
  ScratchDir dir;
  EXPECT_TRUE(list_images(dir.path().string()).empty());
  const std::string missing = (dir.path() / "nope").string();
  try {
    (void)list_images(missing);
    ADD_FAILURE() << "no error for a missing directory";
  } catch (const LabelError& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  dir.touch("file");
  EXPECT_THROW((void)list_images((dir.path() / "file").string()), LabelError);
}

// ---- splits -------------------------------------------------------------------------------

std::vector<std::string> numbered(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(fmt::format("f{:03d}", i));
  return v;
}

TEST(Split, EvenOdd) {
  const Split s = split_even_odd({"a", "b", "c", "d", "e"});
  EXPECT_EQ(s.calibration, (std::vector<std::string>{"a", "c", "e"}));
  EXPECT_EQ(s.evaluation, (std::vector<std::string>{"b", "d"}));
  const Split empty = split_even_odd({});
  EXPECT_TRUE(empty.calibration.empty());
  EXPECT_TRUE(empty.evaluation.empty());
}

TEST(Split, RandomIsDeterministicPartitionInOrder) {
  const auto files = numbered(500);
  for (const std::uint64_t seed : {0ull, 1ull, 42ull, 0xFFFFFFFFFFFFFFFFull}) {
    SCOPED_TRACE(seed);
    const Split a = split_random(files, seed, 0.5);
    const Split b = split_random(files, seed, 0.5);
    EXPECT_EQ(a.calibration, b.calibration);
    EXPECT_EQ(a.evaluation, b.evaluation);
    EXPECT_EQ(a.calibration.size(), 250u);
    EXPECT_EQ(a.evaluation.size(), 250u);
    EXPECT_TRUE(std::is_sorted(a.calibration.begin(), a.calibration.end()));
    EXPECT_TRUE(std::is_sorted(a.evaluation.begin(), a.evaluation.end()));
    std::vector<std::string> all = a.calibration;
    all.insert(all.end(), a.evaluation.begin(), a.evaluation.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, files);
    // A shuffle, not a block: both halves reach into both ends of the list.
    EXPECT_LT(a.calibration.front(), "f050");
    EXPECT_GT(a.calibration.back(), "f450");
  }
  EXPECT_NE(split_random(files, 1, 0.5).calibration, split_random(files, 2, 0.5).calibration);
}

TEST(Split, RandomFractions) {
  const auto files = numbered(7);
  EXPECT_EQ(split_random(files, 3, 0.0).calibration.size(), 0u);
  EXPECT_EQ(split_random(files, 3, 1.0).calibration.size(), 7u);
  EXPECT_EQ(split_random(files, 3, 0.3).calibration.size(), 2u);  // round(2.1)
  EXPECT_EQ(split_random(files, 3, 0.5).calibration.size(), 4u);  // round(3.5), halves away from zero
  EXPECT_TRUE(split_random({}, 3, 0.5).calibration.empty());
  EXPECT_THROW((void)split_random(files, 3, -0.1), LabelError);
  EXPECT_THROW((void)split_random(files, 3, 1.5), LabelError);
}

}  // namespace
}  // namespace bitscale::data

// ------------------------------------------------------------------ dataset: paths, exclusion

namespace bitscale::data {
namespace {

TEST(Dataset, CalibrationImagesAreExcludedInOrder) {
  std::vector<std::string> files{"a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"};
  const std::vector<std::string> calib{"d.jpg", "b.jpg", "z.jpg"};  // z: not in the list
  EXPECT_EQ(exclude_calibration_images(files, calib), 2u);
  EXPECT_EQ(files, (std::vector<std::string>{"a.jpg", "c.jpg", "e.jpg"}));
  EXPECT_EQ(exclude_calibration_images(files, std::vector<std::string>{}), 0u);
  EXPECT_EQ(files.size(), 3u);
}

TEST(Dataset, HalvesByNameAndPosition) {
  for (Half h : {Half::kAll, Half::kEven, Half::kOdd}) EXPECT_EQ(parse_half(to_string(h)), h);
  EXPECT_THROW((void)parse_half("auto"), std::invalid_argument);
  const std::vector<std::string> files{"a", "b", "c", "d", "e"};
  EXPECT_EQ(select_half(files, Half::kAll), files);
  EXPECT_EQ(select_half(files, Half::kEven), (std::vector<std::string>{"a", "c", "e"}));
  EXPECT_EQ(select_half(files, Half::kOdd), (std::vector<std::string>{"b", "d"}));
}

TEST(Dataset, GivenPathsWinAndMissingOnesNameTheOption) {
  const DataPaths d = resolve_data_paths({"m.tflite", "imgs", "syn.tsv", ""});
  EXPECT_EQ(d.model, "m.tflite");
  EXPECT_EQ(d.images, "imgs");
  EXPECT_EQ(d.synsets, "syn.tsv");
  EXPECT_EQ(d.need_model(), "m.tflite");
  // Empty fields take the default (whatever exists here), never another given field.
  const DataPaths def = default_data_paths();
  const DataPaths r = resolve_data_paths({"", "imgs", "", ""});
  EXPECT_EQ(r.model, def.model);
  EXPECT_EQ(r.images, "imgs");
  EXPECT_EQ(r.synsets, def.synsets);
  const DataPaths none;
  try {
    (void)none.need_images();
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--images"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)none.need_model(), std::invalid_argument);
  EXPECT_THROW((void)none.need_synsets(), std::invalid_argument);
}

}  // namespace
}  // namespace bitscale::data
