#include "bitscale/host/evaluate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <thread>

#include "bitscale/host/image.hpp"

namespace bitscale::host {

TopK top_k(std::span<const float> p, int k) {
  std::vector<int> idx(p.size());
  std::iota(idx.begin(), idx.end(), 0);
  const auto n = static_cast<std::size_t>(std::min<std::size_t>(static_cast<std::size_t>(std::max(k, 0)), p.size()));
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(),
                    [&](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  TopK t;
  for (std::size_t i = 0; i < n; ++i) {
    t.index.push_back(idx[i]);
    t.prob.push_back(p[idx[i]]);
  }
  return t;
}

Engine::Engine(const Network& net, const std::string& backend, int bits, const Calibration* calib,
               AcceleratorFactory factory, WeightFl weight_fl)
    : net_(net), backend_(backend), factory_(std::move(factory)) {
  if (backend_ == "float") return;
  if (!calib) throw std::invalid_argument(fmt::format("the {} back-end needs a calibration", backend_));
  if (!factory_) throw std::invalid_argument("no accelerator factory");
  const auto acc = factory_();
  qnet_ = std::make_unique<QuantizedNetwork>(net_, *calib, bits, *acc, weight_fl);
}

Engine::~Engine() = default;

Engine::Session::Session(const Engine& e) : e_(e) {
  if (e_.on_array()) {
    acc_ = e_.factory_();
  }
}

Engine::Session::~Session() = default;

Prediction Engine::Session::run(std::span<const std::uint8_t> rgb, bool record_mac_outputs) {
  Prediction p;
  if (e_.on_array()) {
    QuantRunOptions o;
    o.record_mac_outputs = record_mac_outputs;
    QuantResult r = e_.qnet_->run(*acc_, rgb, o);
    p.probabilities = std::move(r.probabilities);
    p.counters = r.counters;
    p.mac_outputs = std::move(r.mac_outputs);
  } else {
    p.probabilities = e_.net_.run_float(rgb);
  }
  p.top = top_k(p.probabilities, 5);
  p.margin = p.top.prob.size() >= 2 ? p.top.prob[0] - p.top.prob[1] : (p.top.prob.empty() ? 0.0f : p.top.prob[0]);
  return p;
}

std::string first_existing(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    std::error_code ec;
    if (!c.empty() && std::filesystem::exists(c, ec)) return c;
  }
  return "";
}

Calibration calibrate_files(const Network& net, const std::vector<std::string>& files, int jobs,
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
        Image img;
        try {
          img = load_for_model(files[i], net.input_h(), net.input_w());
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

}  // namespace bitscale::host

#include "bitscale/host/labels.hpp"

namespace bitscale::host {

DataPaths default_data_paths() {
  DataPaths d;
  d.model = first_existing(
      {"data/models/mobilenet_v1_0.25_128_quant.tflite", "../shared/models/mobilenet_v1_0.25_128_quant.tflite"});
  d.images = first_existing({"data/images", "../shared/data/imagenet-sample"});
  d.synsets = first_existing(
      {"data/imagenet-synsets.tsv", "data/labels/imagenet-synsets.tsv", "../shared/data/imagenet-synsets.tsv"});
  return d;
}

std::vector<std::string> spread(const std::vector<std::string>& files, int count) {
  const std::size_t n = files.size();
  if (count <= 0 || static_cast<std::size_t>(count) >= n) return files;
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i)
    out.push_back(files[static_cast<std::size_t>(i) * n / static_cast<std::size_t>(count)]);
  return out;
}

Calibration obtain_calibration(const Network& net, const std::string& arg,
                               const std::vector<std::string>& default_files, int limit, int jobs,
                               const std::function<void(const std::string&)>& warn) {
  if (!arg.empty() && std::filesystem::is_regular_file(arg)) return Calibration::load(arg, net);
  const std::vector<std::string> files = arg.empty() ? default_files : list_images(arg);
  if (files.empty()) throw std::invalid_argument("calibration: no images (give --calib DIR or FILE.json)");
  return calibrate_files(net, spread(files, limit), jobs, warn);
}

}  // namespace bitscale::host
