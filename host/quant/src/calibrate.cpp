#include "bitscale/quant/calibrate.hpp"

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <stdexcept>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"

namespace bitscale::quant {

Calibration calibrate_files(const model::Network& net, const std::vector<std::string>& files, int jobs,
                            const std::function<void(const std::string&)>& warn) {
  // One calibrator per thread (activation maxima: merging is order-independent).
  tbb::enumerable_thread_specific<Calibrator> cals([&net]() { return Calibrator(net); });
  std::vector<char> ok(files.size(), 0);
  std::mutex warn_mu;
  tbb::task_arena arena(std::max(1, std::min<int>(jobs, static_cast<int>(files.size()))));
  arena.execute([&] {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, files.size(), 1),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t i = r.begin(); i != r.end(); ++i) {
                          data::Image img;
                          try {
                            img = data::load_for_model(files[i], net.input_h(), net.input_w());
                          } catch (const std::exception& ex) {
                            std::lock_guard lock(warn_mu);
                            if (warn) warn(fmt::format("calibration: skipping {}: {}", files[i], ex.what()));
                            continue;
                          }
                          cals.local().add(img.rgb, files[i]);
                          ok[i] = 1;
                        }
                      });
  });
  Calibrator all(net);
  for (const auto& c : cals) all.merge(c);
  if (all.count() == 0) throw std::invalid_argument("calibration: no image could be read");
  Calibration c = all.result();
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
