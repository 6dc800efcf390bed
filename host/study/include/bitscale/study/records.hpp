// Per-image records of the dynamic bit-width study (float run + one run per precision level:
// top-1, correctness, score margin, counters), appended as JSON lines and flushed image by
// image; resumable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::study {

/// A results file that cannot be used (malformed line, other options); names file and line.
class StudyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One execution of an image (float baseline or one bit-width on the array).
struct RunRecord {
  int top1 = -1;  ///< predicted class (-1 = background)
  bool correct1 = false;
  bool correct5 = false;
  double margin = 0;                         ///< P(top1) - P(top2) of that run (the float value, exactly)
  std::optional<driver::Counters> counters;  ///< array runs
  double max_prob = 0;                       ///< P(top1) of that run (float value)
  double entropy = 0;                        ///< normalized_entropy of the whole output distribution (float value)
  /// Array runs: bytes between DRAM and the accelerator (quant::offchip_bytes, docs/ENERGY.md).
  std::optional<std::uint64_t> offchip_bytes;
  friend bool operator==(const RunRecord&, const RunRecord&) = default;
};

/// Everything recorded for one image: one JSON line.
struct ImageRecord {
  std::string file;
  std::optional<int> label;
  std::string error;                ///< non-empty: the image could not be read (no runs)
  std::optional<RunRecord> fp;      ///< the float baseline, when run
  std::map<int, RunRecord> levels;  ///< bit-width -> run
  /// apply with per-group off-chip bytes (RunSetup::static16): the image at static 16 bits when
  /// the controller did not run 16 bits (the reference of its saving; not a decision's run).
  std::optional<RunRecord> static16;
  [[nodiscard]] bool ok() const { return error.empty(); }
  friend bool operator==(const ImageRecord&, const ImageRecord&) = default;
};

/// The record as one JSON line (no newline); deterministic text.
std::string to_json_line(const ImageRecord& r);
/// Parses to_json_line's output; throws StudyError naming `source`:`line_no`.
ImageRecord parse_record(std::string_view line, const std::string& source, std::size_t line_no);

/// The counters as a JSON object (no newline), named as in regmap::kCounters; the group-width
/// counters as one array "gw", present only when one of them is non-zero.
std::string counters_json(const driver::Counters& c);
/// Parses counters_json's output; counters added to the register map after the text was written
/// read as 0. Throws std::runtime_error prefixed with `where`.
driver::Counters parse_counters(const util::Json& c, const std::string& where);

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
/// An existing file is read first: its header must equal `header` (else StudyError naming the
/// differing fields, the file untouched), a partial last line is cut off (the file is truncated back to the last
/// complete line), malformed lines are errors naming the file and line, and files already recorded are skipped. The
/// other files of `files` are computed with `jobs` threads and appended in the order of `files`, one flushed line per
/// image, so an interrupted and resumed run writes the same bytes as an uninterrupted one.
RecordResult record_images(const std::string& path, const std::string& header, const std::vector<std::string>& files,
                           const WorkerFactory& make_worker, const RecordOptions& opts = {});

/// What differs between a records file's header `recorded` and the header a run expects, field
/// by field (fields named in `ignore` are not compared), e.g.
///   recorded with weight_fl "layer", this run uses "channel"
/// several joined by "; "; "" when they agree.
std::string header_difference(const std::string& recorded, const std::string& expected,
                              std::span<const std::string> ignore = {});

/// The resume check of record_images without writing anything, for a job to run before its
/// expensive phases: when `path` holds records, their header must agree with `header` (except the
/// fields of `ignore`, e.g. a calibration not known yet), else StudyError
///   "<path>: recorded with <field> <value>, this run uses <value>; ..."
void check_resumable(const std::string& path, const std::string& header, std::span<const std::string> ignore = {});

/// The files that `path` holds a record of (empty when there is no file); a partial last line is
/// ignored, a malformed line is a StudyError.
std::set<std::string> recorded_files(const std::string& path);

/// Reads a records file without computing anything (report, tests).
std::vector<ImageRecord> read_records(const std::string& path, std::string* header = nullptr);

/// 64-bit FNV-1a of a text (identifies a calibration in a records header).
std::uint64_t fnv1a(std::string_view text);
/// First line of a records file: what the records were made with (resume checks it).
/// `weight_fl` (to_string(WeightFl)) is recorded for runs on the array, "" for float runs.
/// `quantization` (classifier precision, rounding and its seed) likewise, for array runs.
/// `offchip`: the off-chip bytes' encoding of the array runs; a field "offchip" only when it is
/// not the default (uncompressed), so that earlier records stay resumable.
std::string records_header(const std::string& kind, const std::string& model, const std::string& backend,
                           const std::vector<int>& bits, const std::string& calibration_id,
                           const std::string& weight_fl = "",
                           const std::optional<quant::QuantOptions>& quantization = std::nullopt,
                           quant::OffchipEncoding offchip = quant::OffchipEncoding::kUncompressed);

}  // namespace bitscale::study
