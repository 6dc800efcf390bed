// `bitscale classify` as one library call: data paths, the calibration (by default the even
// half of the default images, never the classified image) and one prediction.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/study/engine.hpp"

namespace bitscale::study {

struct ClassifyJob {
  data::DataPaths data;  ///< model, synsets, default images (empty: the defaults)
  std::string image;
  Backend backend = Backend::kFloat;
  int bits = 8;
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
  quant::QuantOptions quantization = kArrayQuantDefaults;  ///< classifier precision, rounding
  std::string calib;       ///< calibration JSON or image directory ("": even half of the images)
  std::string save_calib;  ///< write the calibration here ("": not written)
  int calib_limit = 50;
  int jobs = 2;               ///< calibration threads
  std::string approx_config;  ///< Ax-BxP configuration file applied on the array (study/axbxp.hpp; "": exact)
  AcceleratorFactory factory;
};

struct ClassifyOutcome {
  std::string image;  ///< as given
  std::string model_path;
  Backend backend = Backend::kFloat;
  int bits = 8;                                           ///< on the array
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;  ///< on the array
  std::optional<data::Synsets> synsets;                   ///< when a synsets file was found
  std::optional<int> label;                               ///< from the file name (with synsets)
  bool on_array = false;
  std::size_t calib_images = 0;  ///< on the array
  Prediction prediction;
};

/// Classifies job.image; calibration warnings go to `warn`. Throws with context.
ClassifyOutcome run_classify(const ClassifyJob& job, const std::function<void(const std::string&)>& warn = {});

}  // namespace bitscale::study
