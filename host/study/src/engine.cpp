#include "bitscale/study/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "bitscale/quant/traffic.hpp"
#include "bitscale/study/controller.hpp"

namespace bitscale::study {

using model::Network;
using quant::QuantizedNetwork;
using quant::QuantResult;
using quant::QuantRunOptions;

namespace {
constexpr std::array<std::pair<Backend, std::string_view>, 4> kBackendNames{{{Backend::kFloat, "float"},
                                                                             {Backend::kGolden, "golden"},
                                                                             {Backend::kGoldenDevice, "golden-device"},
                                                                             {Backend::kRtl, "rtl"}}};
}  // namespace

std::string to_string(Backend b) {
  for (const auto& [k, name] : kBackendNames) {
    if (k == b) return std::string(name);
  }
  throw std::invalid_argument("unknown back-end");
}

Backend parse_backend(std::string_view name) {
  for (const auto& [k, n] : kBackendNames) {
    if (n == name) return k;
  }
  throw std::invalid_argument(fmt::format("back-end '{}': expected float, golden, golden-device or rtl", name));
}

driver::Backend array_backend(Backend b) {
  switch (b) {
    case Backend::kGolden:
      return driver::Backend::kGolden;
    case Backend::kGoldenDevice:
      return driver::Backend::kGoldenDevice;
    case Backend::kRtl:
      return driver::Backend::kRtl;
    case Backend::kFloat:
      break;
  }
  throw std::invalid_argument("the float back-end does not run on the array");
}

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

Engine::Engine(const Network& net) : net_(net) {}

Engine::Engine(const Network& net, const ArrayConfig& config, AcceleratorFactory factory)
    : net_(net), backend_(config.backend), factory_(std::move(factory)) {
  if (!on_array()) throw std::invalid_argument("Engine: the float baseline takes no array configuration");
  if (!config.calib)
    throw std::invalid_argument(fmt::format("the {} back-end needs a calibration", to_string(backend_)));
  if (!factory_) throw std::invalid_argument("no accelerator factory");
  const auto acc = factory_(array_backend(backend_));
  qnet_ =
      std::make_unique<QuantizedNetwork>(net_, *config.calib, config.bits, *acc, config.weight_fl, config.quantization);
  if (config.configure) config.configure(*qnet_, *acc);
  offchip_ = config.offchip;
  if (offchip_ == quant::OffchipEncoding::kPerGroup) weight_group_bytes_ = quant::weight_group_bytes(*qnet_);
}

Engine::~Engine() = default;

Engine::Session::Session(const Engine& e) : e_(e) {
  if (e_.on_array()) acc_ = e_.factory_(array_backend(e_.backend_));
}

Engine::Session::~Session() = default;

Prediction Engine::Session::run(std::span<const std::uint8_t> rgb, bool record_mac_outputs) {
  Prediction p;
  if (e_.on_array()) {
    QuantRunOptions o;
    o.record_mac_outputs = record_mac_outputs;
    const bool per_group = e_.offchip_ == quant::OffchipEncoding::kPerGroup;
    o.record_mac_io = per_group;
    QuantResult r = e_.qnet_->run(*acc_, rgb, o);
    p.probabilities = std::move(r.probabilities);
    p.counters = r.counters;
    p.offchip_bytes =
        per_group ? quant::offchip_bytes(*e_.qnet_, r, e_.weight_group_bytes_) : quant::offchip_bytes(*e_.qnet_);
    p.mac_outputs = std::move(r.mac_outputs);
  } else {
    p.probabilities = e_.net_.run_float(rgb);
  }
  p.top = top_k(p.probabilities, 5);
  p.margin = score_margin(p.top.prob);
  p.max_prob = max_probability(p.top.prob);
  p.entropy = normalized_entropy(p.probabilities);
  return p;
}

}  // namespace bitscale::study
