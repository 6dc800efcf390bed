// The sweep's RTL confirmation: evaluation images re-run on the verilated RTL, one bit-width at a
// time (each in its own resumable records file), compared with the golden records: every level's
// top-1, correctness, margin and counters, and the decisions and energy at a few thresholds.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/runner.hpp"
#include "bitscale/study/shard.hpp"
#include "bitscale/study/sweep.hpp"

namespace bitscale::study {

/// An RTL record (array levels only) against the golden record of the same image (float run
/// ignored): file, label, error, and every level's top-1, correctness, margin (bit for bit) and
/// counters; the one comparison of the confirmation.
dv::Scoreboard compare_array_runs(const ImageRecord& golden, const ImageRecord& rtl);
/// The failing comparisons of `sb` on one line, "<what> (<actual> vs <expected>): <summary>; ..."
/// (empty when everything matched): the mismatch text of rows and warnings.
std::string one_line_report(const dv::Scoreboard& sb);

struct ConfirmSetup {
  RunSetup run;                    ///< net, calibration, bit-widths, weight FL, factory (backend: kRtl)
  LabelOf label_of;                ///< labels of the images
  std::vector<std::string> files;  ///< the images re-run
  std::string out_dir;             ///< rtl_confirm_<bits>.jsonl go here
  std::string model_name;          ///< for the records headers
  std::string calibration_id;      ///< for the records headers
  std::string weight_fl_name;      ///< for the records headers
  Shard shard;                     ///< record only this shard of `files` (no comparison)
  std::string model_hash;          ///< content_hash of the model (shard headers)
  /// What the Ax-BxP rungs among run.bits run with (rung_header_fields, in each level's header): the
  /// compensation of the family rungs and the content_hash of the 8s configuration file ("": none).
  quant::ApproxCompensation approx_compensation = quant::ApproxCompensation::kMean;
  std::string approx_config_hash;
  RecordOptions record;  ///< jobs, warnings (stop_after is ignored)
  /// Progress of bit-width b: (b, images recorded, images); done(b) after each bit-width.
  std::function<void(int, std::size_t, std::size_t)> progress;
  std::function<void(int)> done;
};

struct Confirmation {
  std::size_t images = 0, same = 0;  ///< images compared, identical ones
  bool all_same = false;             ///< records, decisions and energy all identical
  std::string markdown;              ///< the "RTL confirmation" section of the sweep summary
};

/// Re-runs setup.files on the RTL and compares them with `golden` (the sweep's records, which
/// hold every file): per image (same_array_runs) and, for thresholds 0, `chosen` (if any), 0.5
/// and 1, the decisions and energy of `in`'s levels. Differing images are reported through warn.
Confirmation confirm_on_rtl(const ConfirmSetup& setup, const std::vector<ImageRecord>& golden, const SweepInput& in,
                            std::optional<double> chosen);

/// The header of rtl_confirm_<level>.jsonl (`level` one of setup.run.bits): the records header of
/// the run plus, when `level` is an Ax-BxP rung, what it runs with (rung_header_fields: compensation,
/// configuration hash), so that resuming with another configuration is refused.
std::string confirm_records_header(const ConfirmSetup& setup, int level);

/// The recording of confirm_on_rtl for setup.shard of setup.files, nothing compared (a sweep shard;
/// the merged records are compared by the sweep run after `bitscale merge`): one file per bit-width.
std::vector<ShardDone> record_confirmation_shard(const ConfirmSetup& setup);

}  // namespace bitscale::study
