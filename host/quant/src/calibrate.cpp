#include "bitscale/quant/calibrate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"

namespace bitscale::quant {

Calibration calibrate_files(const model::Network& net, const std::vector<std::string>& files, int jobs,
                            const std::function<void(const std::string&)>& warn) {
  jobs = std::max(1, std::min<int>(jobs, static_cast<int>(files.size())));
  std::vector<std::unique_ptr<Calibrator>> cals;
  for (int j = 0; j < jobs; ++j) cals.push_back(std::make_unique<Calibrator>(net));
  std::vector<char> ok(files.size(), 0);
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::exception_ptr error;
  const auto work = [&](int j) {
    try {
      for (std::size_t i = next++; i < files.size(); i = next++) {
        data::Image img;
        try {
          img = data::load_for_model(files[i], net.input_h(), net.input_w());
        } catch (const std::exception& ex) {
          std::lock_guard lock(mu);
          if (warn) warn(fmt::format("calibration: skipping {}: {}", files[i], ex.what()));
          continue;
        }
        cals[j]->add(img.rgb, files[i]);
        ok[i] = 1;
      }
    } catch (...) {
      std::lock_guard lock(mu);
      error = std::current_exception();
    }
  };
  std::vector<std::thread> th;
  for (int j = 1; j < jobs; ++j) th.emplace_back(work, j);
  work(0);
  for (auto& t : th) t.join();
  if (error) std::rethrow_exception(error);
  for (int j = 1; j < jobs; ++j) cals[0]->merge(*cals[j]);
  if (cals[0]->count() == 0) throw std::invalid_argument("calibration: no image could be read");
  Calibration c = cals[0]->result();
  c.images.clear();
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (ok[i]) c.images.push_back(files[i]);
  }
  return c;
}

Calibration obtain_calibration(const model::Network& net, const std::string& arg,
                               const std::vector<std::string>& default_files, int limit, int jobs,
                               const std::function<void(const std::string&)>& warn) {
  if (!arg.empty() && std::filesystem::is_regular_file(arg)) return Calibration::load(arg, net);
  const std::vector<std::string> files = arg.empty() ? default_files : data::list_images(arg);
  if (files.empty()) throw std::invalid_argument("calibration: no images (give --calib DIR or FILE.json)");
  return calibrate_files(net, data::spread(files, limit), jobs, warn);
}

}  // namespace bitscale::quant
