// Ground truth for ImageNet evaluation: the 1000 synsets, labels from image file names, the list
// of images of a directory and a deterministic calibration/evaluation split.
//
// Class indices: class k (0..999) is line k of imagenet-synsets.tsv (synsets in sorted order).
// The published classifiers have 1001 outputs: output 0 is "background" and output k + 1 is
// class k, so compare argmax(output) with model_index(label), or class_from_model_index(argmax)
// with the label.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bitscale::data {

/// A synsets file, image directory or split request that is invalid; the message names the file
/// (and line) and what is wrong.
class LabelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int kNumClasses = 1000;
inline constexpr int kNumModelOutputs = kNumClasses + 1;  ///< with "background" at 0

/// Model output index of a class: class + 1 (output 0 is background).
[[nodiscard]] constexpr int model_index(int class_index) { return class_index + 1; }

/// Class of a model output index; nullopt for the background output 0 or an index out of range.
[[nodiscard]] constexpr std::optional<int> class_from_model_index(int output_index) {
  if (output_index < 1 || output_index > kNumClasses) return std::nullopt;
  return output_index - 1;
}

/// The ImageNet-1k classes, read from `index<TAB>synset<TAB>name` lines. Validation: exactly
/// 1000 lines, the index of line n (1-based) is n - 1, synsets look like "n" + 8 digits, are
/// unique and in sorted order, names are not empty. A trailing newline and CRLF line ends are
/// accepted; errors name the file and the line.
class Synsets {
 public:
  /// Reads and validates a synsets file; throws LabelError.
  explicit Synsets(const std::string& path);
  /// Parses file contents; `source` names them in error messages.
  [[nodiscard]] static Synsets parse(std::string_view text, const std::string& source);

  [[nodiscard]] int size() const { return static_cast<int>(synsets_.size()); }
  /// Class index of a synset such as "n01440764", nullopt if unknown.
  [[nodiscard]] std::optional<int> index_of(std::string_view synset) const;
  /// Synset and human-readable name of class 0..999; throws LabelError when out of range.
  [[nodiscard]] const std::string& synset(int class_index) const;
  [[nodiscard]] const std::string& name(int class_index) const;

 private:
  Synsets() = default;
  void check_index(int class_index) const;

  std::vector<std::string> synsets_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, int> index_;
};

/// The class of an image from its file name `<synset>_<anything>.<ext>` (any directory part
/// is ignored), e.g. ".../n01440764_tench.JPEG" -> 0. A name without '_' is read as
/// `<synset>.<ext>`. nullopt if the name does not start with a synset of `synsets`.
[[nodiscard]] std::optional<int> label_from_filename(const std::string& path, const Synsets& synsets);

/// The JPEG images under a directory, recursing into sub-directories (the class-per-folder layout
/// `val/n01440764/*.JPEG`) and following symbolic links (a directory reached twice, e.g. through a
/// link loop, is searched once), except hidden files and directories (name starting with '.'):
/// files named *.jpg, *.jpeg, *.jpe or *.jfif (any case), and files of any other name that start
/// with the JPEG signature FF D8 FF. Paths are `dir/relative/path`, sorted by relative path (byte
/// order; for a flat directory, by name). A file with an image name but unreadable or corrupt
/// contents is listed (the evaluation reports it per file). Throws LabelError if `dir` does not
/// exist or is not a directory.
struct ImageListing {
  std::vector<std::string> images;
  std::size_t skipped_files = 0;              ///< regular files that are not JPEG images (README.txt, *.png, ...)
  std::vector<std::string> skipped_examples;  ///< the first few skipped files, relative to the directory
  /// "" when nothing was skipped, else e.g. "dir: skipped 2 files that are not JPEG images
  /// (README.txt, sub/a.png)".
  [[nodiscard]] std::string skipped_message(const std::string& dir) const;
};
[[nodiscard]] ImageListing scan_images(const std::string& dir);

/// scan_images(dir).images; `warn` (if given) receives the skipped_message when something was
/// skipped.
[[nodiscard]] std::vector<std::string> list_images(const std::string& dir,
                                                   const std::function<void(const std::string&)>& warn = {});

/// Ground truth from a labels file (`--labels F`), for images whose names carry no synset, such as
/// the ImageNet validation images `ILSVRC2012_val_00000001.JPEG`. One image per line:
///   `<image> <class>` or `<image>,<class>[,...]` (whitespace- or comma-separated),
/// where `<image>` is a file name (any directory part and the extension are ignored: the key is
/// the stem, e.g. `ILSVRC2012_val_00000001`) and `<class>` is a synset (`n01440764`) or a class
/// index 0..999 in the sorted-synset order of imagenet-synsets.tsv (Caffe's `val.txt`). Only the
/// first whitespace-separated token of the class field counts, so Kaggle's LOC_val_solution.csv
/// (`ImageId,PredictionString` with "n01751748 12 34 ..." boxes) reads as is. Empty lines and
/// lines starting with '#' are ignored; a first line whose class field is not a class is a
/// header. Errors (a line with one field, an unknown synset, an index out of range, an image
/// listed twice with different classes) name the file and the line. The devkit's
/// ILSVRC2012_validation_ground_truth.txt (one ILSVRC2012_ID per line, a different class order)
/// is refused for its single field.
class LabelsFile {
 public:
  LabelsFile(const std::string& path, const Synsets& synsets);
  [[nodiscard]] static LabelsFile parse(std::string_view text, const std::string& source, const Synsets& synsets);

  /// The class of `path` (looked up by its stem), nullopt if the file does not list it.
  [[nodiscard]] std::optional<int> find(const std::string& path) const;
  [[nodiscard]] std::size_t size() const { return classes_.size(); }

 private:
  LabelsFile() = default;
  std::unordered_map<std::string, int> classes_;
};

/// The label of an image, from the first source that has one:
///  1. the labels file, when one is given (LabelsFile);
///  2. the file name, `<synset>_<anything>.<ext>` (label_from_filename);
///  3. the name of the directory holding it, `.../<synset>/<anything>.<ext>` (class-per-folder).
/// Copies share the (immutable) synsets and labels file, so a Labeler is cheap to pass to threads.
class Labeler {
 public:
  explicit Labeler(Synsets synsets, std::optional<LabelsFile> labels = std::nullopt);
  /// With the labels file `labels_path` read (against `synsets`), none when it is "".
  [[nodiscard]] static Labeler with_file(const Synsets& synsets, const std::string& labels_path);
  [[nodiscard]] std::optional<int> operator()(const std::string& path) const;

 private:
  std::shared_ptr<const Synsets> synsets_;
  std::shared_ptr<const LabelsFile> labels_;
};

/// Whether `path` names a JPEG image by its extension (.jpg, .jpeg, .jpe, .jfif, any case).
[[nodiscard]] bool has_image_extension(const std::string& path);

/// Files split into a calibration set and an evaluation set.
struct Split {
  std::vector<std::string> calibration;
  std::vector<std::string> evaluation;
};

/// Alternating split of a (sorted) list: positions 0, 2, 4, ... calibrate, 1, 3, 5, ... evaluate.
/// Deterministic and independent of any random generator. Note: on the shared sample (one image
/// per even class, sorted by synset) this gives class-disjoint halves, which is what calibration
/// needs (activation ranges from images the evaluation never sees).
[[nodiscard]] Split split_even_odd(const std::vector<std::string>& files);

/// Seeded random split: round(fraction * n) files calibrate, the rest evaluate. The selection is
/// a Fisher-Yates shuffle of positions driven by SplitMix64(seed), implemented here (not
/// std::shuffle, whose algorithm differs between standard libraries), so it is the same on
/// every platform. Both halves keep the input order. fraction must be in [0, 1].
[[nodiscard]] Split split_random(const std::vector<std::string>& files, std::uint64_t seed, double fraction);

}  // namespace bitscale::data
