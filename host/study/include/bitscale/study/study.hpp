// The dynamic bit-width study of Jahier Pagliari et al. (ISLPED 2018), issue 4:
//  * per-image records (float run + one run per precision level: top-1, correctness, score
//    margin, counters), appended as JSON lines and flushed image by image, resumable;
//  * characterization: minimum bit-width histogram (bars under 1 % merged upward), the
//    resulting configurations, score-margin statistics of easy and difficult images;
//  * threshold sweep: every T_h evaluated from the records (Controller::decide on the recorded
//    margins), accuracy drop vs float and energy vs static 16-bit, exact threshold search;
//  * report fragments (Markdown) and SVG charts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/study/energy.hpp"
#include "bitscale/study/engine.hpp"

namespace bitscale::study {

/// A results file that cannot be used (malformed line, other options); names file and line.
class StudyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------- records

/// One execution of an image (float baseline or one bit-width on the array).
struct RunRecord {
  int top1 = -1;  ///< predicted class (-1 = background)
  bool correct1 = false;
  bool correct5 = false;
  double margin = 0;                         ///< P(top1) - P(top2) of that run (the float value, exactly)
  std::optional<driver::Counters> counters;  ///< array runs
  friend bool operator==(const RunRecord&, const RunRecord&) = default;
};

/// Everything recorded for one image: one JSON line.
struct ImageRecord {
  std::string file;
  std::optional<int> label;
  std::string error;                ///< non-empty: the image could not be read (no runs)
  std::optional<RunRecord> fp;      ///< the float baseline, when run
  std::map<int, RunRecord> levels;  ///< bit-width -> run
  [[nodiscard]] bool ok() const { return error.empty(); }
  friend bool operator==(const ImageRecord&, const ImageRecord&) = default;
};

/// The record as one JSON line (no newline); deterministic text.
std::string to_json_line(const ImageRecord& r);
/// Parses to_json_line's output; throws StudyError naming `source`:`line_no`.
ImageRecord parse_record(std::string_view line, const std::string& source, std::size_t line_no);

/// A record from a prediction (label: correctness is computed against it).
RunRecord run_record(const Prediction& p, std::optional<int> label);

/// Options of record_images.
struct RecordOptions {
  int jobs = 1;
  /// Stop after this many new images have been written (0 = never): simulates an interruption.
  std::size_t stop_after = 0;
  /// Called (under a lock) after each image written: (images recorded, images in the list).
  std::function<void(std::size_t, std::size_t)> progress;
  /// Warnings (e.g. records of files no longer in the list).
  std::function<void(const std::string&)> warn;
};

/// Result of record_images.
struct RecordResult {
  std::vector<ImageRecord> records;  ///< of the files of the list, sorted by file name
  std::size_t resumed = 0;           ///< records found in the file
  std::size_t computed = 0;          ///< records computed by this call
  bool complete = false;             ///< every file of the list has a record
  std::size_t truncated_bytes = 0;   ///< a partial last line removed from the file
};

/// Makes a per-thread function computing the record of one file.
using WorkerFactory = std::function<std::function<ImageRecord(const std::string& file)>()>;

/// Resumable recording. `path` holds `header` as its first line, then one record per line.
/// An existing file is read first: its header must equal `header` (else StudyError: other
/// options), a partial last line is cut off (the file is truncated back to the last complete
/// line), malformed lines are errors naming the file and line, and files already recorded are
/// skipped. The other files of `files` are computed with `jobs` threads and appended in the
/// order of `files`, one flushed line per image, so an interrupted and resumed run writes the
/// same bytes as an uninterrupted one.
RecordResult record_images(const std::string& path, const std::string& header, const std::vector<std::string>& files,
                           const WorkerFactory& make_worker, const RecordOptions& opts = {});

/// Reads a records file without computing anything (report, tests).
std::vector<ImageRecord> read_records(const std::string& path, std::string* header = nullptr);

/// What a record run executes: the float baseline and/or these bit-widths on the array.
struct RunSetup {
  const model::Network* net = nullptr;
  const quant::Calibration* calib = nullptr;  ///< needed when bits is not empty
  std::vector<int> bits;
  bool run_float = true;
  std::string backend = "golden";
  AcceleratorFactory factory;
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
};

/// Engines prepared once (shared by the threads) and the per-thread workers.
class Runner {
 public:
  Runner(const RunSetup& setup, const std::function<std::optional<int>(const std::string&)>& label_of);
  ~Runner();
  [[nodiscard]] WorkerFactory workers() const;

 private:
  RunSetup setup_;
  std::function<std::optional<int>(const std::string&)> label_of_;
  std::unique_ptr<Engine> float_;
  std::map<int, std::unique_ptr<Engine>> engines_;
};

// ---------------------------------------------------------------- characterization

/// Smallest level b such that the image is top-1 (or top-5) correct at b and at every level
/// above b (the paper's descent from the largest precision, stopping at the first failure);
/// nullopt when not correct at the highest level. Levels missing from the record are errors.
std::optional<int> min_bits(const ImageRecord& r, std::span<const int> levels, bool top5);

/// The paper's post-processing: going from the lowest precision up, a bar holding less than
/// `min_fraction` of `total` is merged into the next higher one (cascading); the highest bar
/// is never merged. counts[i] belongs to levels[i] (increasing precision).
std::vector<std::size_t> merge_small_bars(std::span<const std::size_t> counts, std::size_t total,
                                          double min_fraction = 0.01);

struct MarginStats {
  std::size_t n = 0;
  double mean = 0;
  double stddev = 0;  ///< population standard deviation (divide by n); 0 when n < 2
};
MarginStats margin_stats(std::span<const double> v);

struct Characterization {
  std::vector<int> levels;  ///< increasing
  bool top5 = false;
  std::size_t images = 0;           ///< characterized (float-correct) images
  std::vector<std::size_t> raw;     ///< per level: images whose minimum is that level
  std::size_t none = 0;             ///< not correct even at the highest level
  std::vector<std::size_t> merged;  ///< after merge_small_bars
  std::vector<int> configurations;  ///< levels whose merged bar is not empty (+ the highest)
  /// Per level b: margins (at b) of images correct at b ("easy" at b) and the others.
  std::map<int, std::vector<double>> easy_margins, difficult_margins;
  std::map<int, MarginStats> easy, difficult;
};

/// Characterization of records that all have the float baseline correct (the caller filters).
Characterization characterize(const std::vector<ImageRecord>& records, std::vector<int> levels, bool top5);

// ---------------------------------------------------------------- threshold sweep

/// One threshold evaluated from the records.
struct SweepPoint {
  double threshold = 0;
  std::size_t images = 0, correct = 0;
  double top1 = 0;                    ///< %
  double drop = 0;                    ///< float top-1 minus this top-1, percentage points
  double energy_pj = 0;               ///< total over the images
  double energy_rel = 0;              ///< relative to static 16-bit on the same images
  std::vector<std::size_t> accepted;  ///< per level: images whose result is taken from it
  double runs_per_image = 0;
};

/// Static execution of every image at one bit-width.
struct StaticPoint {
  int bits = 0;
  std::size_t correct = 0;
  double top1 = 0, drop = 0, energy_pj = 0, energy_rel = 0;
};

/// Records usable by the sweep: no error, a label, the float run and every level in `levels`
/// and 16 bits (the energy reference).
std::vector<const ImageRecord*> sweep_records(const std::vector<ImageRecord>& records, std::span<const int> levels);

struct SweepInput {
  std::vector<const ImageRecord*> records;
  std::vector<int> levels;
  EnergyTable table;
};

double float_top1(const SweepInput& in);          ///< %
double static16_energy_pj(const SweepInput& in);  ///< the reference
StaticPoint evaluate_static(const SweepInput& in, int bits);
/// Every image decided by Controller(levels, T).decide(recorded margins); energy = sum over
/// the executed levels of energy_pj(counters).
SweepPoint evaluate(const SweepInput& in, double threshold);
/// Thresholds lo, lo + step, ..., hi (computed as lo + i * step, last one clamped to hi).
std::vector<double> grid(double lo, double hi, double step);
/// The smallest threshold with drop <= max_drop: exact, over 0 and the thresholds just above
/// each recorded margin of the non-final levels (where decisions change). nullopt if none.
std::optional<SweepPoint> search_threshold(const SweepInput& in, double max_drop);

// ---------------------------------------------------------------- small helpers

/// Levels from "4,8,16": increasing, each 4, 8 or 16; throws std::invalid_argument.
std::vector<int> parse_levels(const std::string& text);

}  // namespace bitscale::study

namespace bitscale::study {

// ---------------------------------------------------------------- outputs

/// Writes into `dir`: characterization.json, histogram.csv, margins.csv,
/// bitwidth_histogram.svg (raw and merged bars, % of images), sm_<bits>.svg (score margins of
/// easy and difficult images at each level) and summary.md (a report fragment; `context` is
/// Markdown put under its heading: model, images, commands).
void write_characterization(const std::string& dir, const Characterization& c, const std::string& context);

/// Everything the sweep reports.
struct SweepSummary {
  SweepInput in;
  double max_drop = 1.0;
  std::vector<SweepPoint> curve;     ///< the fine grid
  std::vector<StaticPoint> statics;  ///< 4, 8, 16 bits
  /// Per level set (the requested one first): the smallest T_h meeting max_drop (if any).
  std::vector<std::pair<std::vector<int>, std::optional<SweepPoint>>> dynamic;
};
SweepSummary summarize_sweep(const SweepInput& in, double max_drop, double step,
                             const std::vector<std::vector<int>>& extra_level_sets = {});
/// The comparison table (Markdown), like the paper's Table 2, with the paper's CaffeNet row.
std::string headline_table(const SweepSummary& s);
/// Writes sweep.json, thresholds.csv, table.csv, accuracy_energy.svg, sm_eval.svg and
/// summary.md into `dir`.
void write_sweep(const std::string& dir, const SweepSummary& s, const std::string& context);

/// Concatenates the summary.md fragments found in `in_dir` and its sub-directories (sorted)
/// into one page at `out` (.md: images linked relative to it; .html: SVGs embedded).
/// Returns the number of fragments; throws std::runtime_error if there is none.
std::size_t write_report(const std::string& in_dir, const std::string& out);

}  // namespace bitscale::study

namespace bitscale::study {

/// 64-bit FNV-1a of a text (identifies a calibration in a records header).
std::uint64_t fnv1a(std::string_view text);
/// First line of a records file: what the records were made with (resume checks it).
/// `weight_fl` (to_string(WeightFl)) is recorded for runs on the array, "" for float runs.
std::string records_header(const std::string& kind, const std::string& model, const std::string& backend,
                           const std::vector<int>& bits, const std::string& calibration_id,
                           const std::string& weight_fl = "");

}  // namespace bitscale::study
