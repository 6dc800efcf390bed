// Evaluation of a list of images on one back-end (`bitscale eval`): one result row per image
// (CSV or JSON lines, written and flushed as each image finishes, in list order), top-1/top-5
// and cycle totals, and the word-for-word comparison of two back-ends (--compare-backends).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/study/energy.hpp"
#include "bitscale/study/engine.hpp"
#include "bitscale/study/runner.hpp"

namespace bitscale::study {

/// One evaluated image.
struct EvalRow {
  std::string file;
  std::optional<int> label;
  std::optional<Prediction> pred;  ///< empty: the image could not be read (see error)
  std::string error;
  std::string compare;  ///< with a second back-end: "match (N layers)" or what differs
  double seconds = 0;   ///< wall time of this image (in the records, not in the result rows)
};

/// True when `label` (a class) is among the first k predictions.
bool correct(const Prediction& p, int label, int k);

/// Word-for-word comparison of two runs' MAC layer outputs and counters: "match (N layers)" or
/// the differences (layer, op, words that differ). The one comparison of --compare-backends.
std::string compare_runs(const Prediction& a, const Prediction& b, const quant::QuantizedNetwork& q);

enum class EvalFormat { kCsv, kJsonLines };
/// JSON lines for a path ending in .json or .jsonl, else CSV.
EvalFormat eval_format_for(const std::string& path);

/// Writes result rows to a stream, each line flushed. CSV starts with a header line.
class EvalWriter {
 public:
  /// `class_name`: the name of a class (-1 = background); `compare`: add the compare column.
  /// `energy`: price every array row (columns blk and energy_pj: CNT_BLK and energy_breakdown of
  /// its counters, docs/ENERGY.md; Ax-BxP block products priced as "Approximate MACs").
  /// `offchip_column`: with `energy`, a column offchip_bytes (the run's off-chip bytes, which
  /// depend on the image with per-group encoding) after energy_pj.
  EvalWriter(std::ostream& out, EvalFormat format, bool compare, std::function<std::string(int)> class_name,
             std::optional<EnergyTable> energy = std::nullopt, bool offchip_column = false);
  void write(const EvalRow& r);
  /// The row as one line (no newline).
  [[nodiscard]] std::string line(const EvalRow& r) const;

 private:
  std::ostream& out_;
  EvalFormat format_;
  bool compare_;
  std::function<std::string(int)> class_name_;
  std::optional<EnergyTable> energy_;
  bool offchip_ = false;
};

/// What an evaluation runs.
struct EvalConfig {
  const model::Network* net = nullptr;
  std::vector<std::string> files;
  const Engine* engine = nullptr;
  const Engine* compare_with = nullptr;  ///< optional second back-end, compared word for word
  LabelOf label_of;                      ///< optional
  int jobs = 1;
};

/// Totals of an evaluation.
struct EvalTotals {
  std::size_t done = 0, errors = 0, labelled = 0, top1 = 0, top5 = 0, compared = 0, matched = 0;
  std::uint64_t cycles = 0;
  [[nodiscard]] double top1_percent() const { return labelled ? 100.0 * top1 / labelled : 0.0; }
  [[nodiscard]] double top5_percent() const { return labelled ? 100.0 * top5 / labelled : 0.0; }
};

/// Runs every file with `jobs` threads (a session of each engine per thread); `on_row` gets the
/// rows in list order (serially) with the totals so far.
EvalTotals evaluate_images(const EvalConfig& cfg, const std::function<void(const EvalRow&, const EvalTotals&)>& on_row);

/// Adds one row to the totals (`compared`: the evaluation compares two back-ends).
void add_to_totals(EvalTotals& t, const EvalRow& r, bool compared);

/// One row as an eval record (`bitscale eval --shard`, docs/SCALE_OUT.md): one JSON line with
/// everything the result rows are written from — file, label, top-5 model outputs and their
/// probabilities, margin, counters, error, comparison — plus the wall time `seconds`, which the
/// result rows do not carry. Deterministic text (floats in their shortest form).
std::string eval_record_line(const EvalRow& r);
/// Parses eval_record_line's output; throws StudyError naming `source`:`line_no` and the field.
EvalRow parse_eval_record(std::string_view line, const std::string& source, std::size_t line_no);

/// The eval records already in `path` (a resume or the merged records): file -> row. The first
/// line must be `header` (else StudyError naming the fields that differ); an incomplete last line
/// (an interrupted run) is cut off the file; a malformed line or a second record of one file is a
/// StudyError naming file and line. No file or an empty one: no records.
std::map<std::string, EvalRow> read_eval_records(const std::string& path, const std::string& header,
                                                 const std::function<void(const std::string&)>& warn = {});

}  // namespace bitscale::study
