#include "bitscale/study/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <numeric>
#include <thread>

#include "bitscale/data/image.hpp"

namespace bitscale::study {

using model::Network;
using quant::Calibration;
using quant::QuantizedNetwork;
using quant::QuantResult;
using quant::QuantRunOptions;
using quant::WeightFl;

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

}  // namespace bitscale::study
