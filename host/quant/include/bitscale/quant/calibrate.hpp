// Calibration runs: the float network over image files, in parallel, giving a Calibration.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "bitscale/model/network.hpp"
#include "bitscale/quant/calibration.hpp"

namespace bitscale::quant {

/// Float calibration of `net` over image files (load_for_model pre-processing), in order,
/// with `jobs` threads; files that fail to decode are skipped and reported through `warn`.
Calibration calibrate_files(const model::Network& net, const std::vector<std::string>& files, int jobs,
                            const std::function<void(const std::string&)>& warn = {});

/// The calibration the --calib option asks for: a .json file (loaded, checked against `net`),
/// an image directory (calibrate_files over spread(list_images(dir), limit)), or, when `arg` is
/// empty, calibrate_files over spread(default_files, limit).
Calibration obtain_calibration(const model::Network& net, const std::string& arg,
                               const std::vector<std::string>& default_files, int limit, int jobs,
                               const std::function<void(const std::string&)>& warn = {});

}  // namespace bitscale::quant
