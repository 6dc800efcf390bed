// Running a threshold sweep (`bitscale sweep`): its calibration, its evaluation images and its
// records. Thresholds are then evaluated from the records (sweep.hpp) and written (outputs.hpp).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/quant/quant.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/runner.hpp"
#include "bitscale/study/shard.hpp"

namespace bitscale::study {

/// Status messages for the terminal (stderr in the CLI).
using Inform = std::function<void(const std::string&)>;

struct SweepCalibration {
  quant::Calibration calib;
  data::Half half = data::Half::kAll;  ///< of the image directory left for the evaluation
  std::string id;                      ///< identifies the calibration in the records headers
};

/// The calibration of a sweep. `calib_arg` (default: `image_dir`) is a .json file (copied to
/// out_dir/calibration.json unless one is there) or an image directory; for a directory, a saved
/// out_dir/calibration.json is reused (resume), else `calib_limit` images spread over the
/// directory (its even positions when it is `image_dir`) are calibrated with `jobs` threads and
/// saved. For a shard (`shard`), nothing is written or computed: a --calib JSON (equal to a saved
/// out_dir/calibration.json) or the saved calibration of `sweep --calibrate-only`, made from images
/// these options choose; else StudyError.
/// saved. Without a `half` (--half auto): kOdd when the calibration directory is `image_dir`,
/// else kAll.
SweepCalibration sweep_calibration(const model::Network& net, const std::string& calib_arg,
                                   const std::string& image_dir, std::optional<data::Half> half,
                                   const std::string& out_dir, int calib_limit, int jobs, const Inform& inform,
                                   bool shard = false);

/// The evaluation images: `half` of `all`, without the calibration's images, at most `limit`
/// (0 = all). Throws std::invalid_argument when none is left.
std::vector<std::string> sweep_files(const std::vector<std::string>& all, const SweepCalibration& c, int limit,
                                     const std::string& image_dir, const Inform& inform);

/// What the sweep records.
struct SweepRecording {
  RunSetup run;  ///< float + every precision on the chosen back-end
  LabelOf label_of;
  std::vector<std::string> files;
  std::string out_dir, model_name, calibration_id, weight_fl_name;
  RecordOptions record;
  Shard shard;               ///< record only this shard (shard.hpp)
  std::string model_hash;    ///< content_hash of the model (shard headers)
  std::string header_extra;  ///< fields appended to the records header (Ax-BxP rungs: rung_header_fields)
};

/// out_dir/records.jsonl for the golden back-end, else out_dir/records_<backend>.jsonl.
std::string sweep_records_path(const std::string& out_dir, Backend backend);

/// Where record_sweep records.
ShardRecording sweep_recording(const SweepRecording& r);
/// Records every file, or the shard's (resumable; see record_images, record_shard).
RecordResult record_sweep(const SweepRecording& r);

/// The resume check of record_sweep made before the calibration and anything is written: the
/// records of out_dir, if any, must have been made with this model, back-end, precisions and
/// weight FL and quantization options (the calibration is compared later, by record_sweep); StudyError naming the
/// fields.
void check_sweep_resume(const std::string& out_dir, Backend backend, const std::string& model_name,
                        const std::vector<int>& bits, const std::string& weight_fl_name,
                        const quant::QuantOptions& quantization, const std::string& header_extra = "",
                        quant::OffchipEncoding offchip = quant::OffchipEncoding::kUncompressed);

}  // namespace bitscale::study
