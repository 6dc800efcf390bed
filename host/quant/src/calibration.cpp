#include "bitscale/quant/calibration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "bitscale/quant/fixed_point.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::quant {

using model::FloatTrace;
using model::Network;
using nlohmann::json;
using util::json_string;

int Calibration::fractional_length(int tensor, int bits) const {
  if (tensor < 0 || static_cast<std::size_t>(tensor) >= fl.size() || fl[tensor].empty()) {
    throw std::out_of_range(
        fmt::format("calibration of '{}': tensor {} is not a calibrated activation", model, tensor));
  }
  for (std::size_t i = 0; i < kCalibrationBits.size(); ++i) {
    if (kCalibrationBits[i] == bits) return fl[tensor][i];
  }
  throw std::out_of_range(fmt::format("calibration: no fractional lengths for {} bits", bits));
}

// The text is laid out by hand (one tensor a line, max_abs with 17 significant digits) so that
// the file stays the same across library versions; strings are escaped by nlohmann.
std::string Calibration::to_json(const Network& net) const {
  std::string o = "{\n  \"format\": \"bitscale-calibration-1\",\n";
  o += fmt::format("  \"model\": {},\n  \"rule\": \"FL = B - (ceil(log2(max_abs)) + 1); B - 1 if max_abs == 0\",\n",
                   json_string(model));
  o += "  \"images\": [";
  for (std::size_t i = 0; i < images.size(); ++i) o += (i ? ", " : "") + json_string(images[i]);
  o += "],\n  \"tensors\": [\n";
  bool first = true;
  for (std::size_t t = 0; t < max_abs.size(); ++t) {
    if (fl[t].empty()) continue;
    o += first ? "" : ",\n";
    first = false;
    o += fmt::format("    {{\"index\": {}, \"name\": {}, \"max_abs\": {:.17g}, \"fl\": {{", t,
                     json_string(net.tensor_names().at(t)), max_abs[t]);
    for (std::size_t i = 0; i < kCalibrationBits.size(); ++i) {
      o += fmt::format("{}\"{}\": {}", i ? ", " : "", kCalibrationBits[i], fl[t][i]);
    }
    o += "}}";
  }
  o += "\n  ]\n}\n";
  return o;
}

Calibration Calibration::from_json(std::string_view text, const Network& net, const std::string& source) {
  const auto fail = [&](const std::string& what) { return std::runtime_error(fmt::format("{}: {}", source, what)); };
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    throw fail(fmt::format("malformed JSON: {}", e.what()));
  }
  const auto member = [](const json& v, const char* key) -> const json* {
    if (!v.is_object()) return nullptr;
    const auto it = v.find(key);
    return it == v.end() ? nullptr : &*it;
  };
  const auto text_of = [](const json* v) { return v != nullptr && v->is_string() ? v->get<std::string>() : ""; };
  const auto num = [&](const json* v, const std::string& what) {
    if (!v->is_number()) throw fail(what + " is not a number");
    return v->get<double>();
  };
  if (text_of(member(root, "format")) != "bitscale-calibration-1") throw fail("not a bitscale calibration (format)");
  Calibration c;
  c.model = text_of(member(root, "model"));
  if (const json* im = member(root, "images"); im != nullptr && im->is_array()) {
    for (const json& v : *im) c.images.push_back(text_of(&v));
  }
  const std::size_t n = net.tensor_names().size();
  c.max_abs.assign(n, -1.0);
  c.fl.assign(n, {});
  const json* tensors = member(root, "tensors");
  if (tensors == nullptr || !tensors->is_array()) throw fail("no \"tensors\" array");
  for (const json& t : *tensors) {
    const json* idx = member(t, "index");
    const json* name = member(t, "name");
    const json* mx = member(t, "max_abs");
    const json* fls = member(t, "fl");
    if (!idx || !name || !mx || !fls) throw fail("a tensor entry lacks index, name, max_abs or fl");
    const int i = static_cast<int>(num(idx, "a tensor index"));
    if (i < 0 || static_cast<std::size_t>(i) >= n) throw fail(fmt::format("tensor index {} out of range", i));
    if (net.tensor_names()[i] != text_of(name)) {
      throw fail(fmt::format("tensor {} is '{}' in the file but '{}' in model {}", i, text_of(name),
                             net.tensor_names()[i], net.name()));
    }
    c.max_abs[i] = num(mx, "max_abs");
    for (int b : kCalibrationBits) {
      const json* f = member(*fls, std::to_string(b).c_str());
      if (!f) throw fail(fmt::format("tensor {} has no FL for {} bits", i, b));
      c.fl[i].push_back(static_cast<int>(num(f, "an FL")));
    }
  }
  for (const auto& op : net.ops()) {
    for (int t : op.inputs) {
      if (c.fl[t].empty()) throw fail(fmt::format("activation '{}' is not calibrated", net.tensor_names()[t]));
    }
  }
  return c;
}

void Calibration::save(const std::string& path, const Network& net) const {
  util::write_file(path, to_json(net));  // atomic: an interrupted save leaves no partial calibration
}

Calibration Calibration::load(const std::string& path, const Network& net) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(fmt::format("{}: cannot read the calibration", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return from_json(ss.str(), net, path);
}

Calibrator::Calibrator(const Network& net) : net_(&net), max_abs_(net.shapes().size(), -1.0) {
  max_abs_[net.input_tensor()] = 0.0;
  for (const auto& op : net.ops()) {
    for (int t : op.inputs) max_abs_[t] = 0.0;
    max_abs_[op.output] = 0.0;
  }
}

void Calibrator::add(std::span<const std::uint8_t> rgb, const std::string& name) {
  const FloatTrace tr = net_->trace_float(rgb);
  for (std::size_t t = 0; t < max_abs_.size(); ++t) {
    if (max_abs_[t] < 0) continue;
    for (float v : tr.tensors[t].data) max_abs_[t] = std::max(max_abs_[t], static_cast<double>(std::fabs(v)));
  }
  images_.push_back(name);
}

void Calibrator::merge(const Calibrator& other) {
  for (std::size_t t = 0; t < max_abs_.size(); ++t) max_abs_[t] = std::max(max_abs_[t], other.max_abs_[t]);
  images_.insert(images_.end(), other.images_.begin(), other.images_.end());
}

Calibration Calibrator::result() const {
  if (images_.empty()) throw std::invalid_argument("calibration needs at least one image");
  Calibration c;
  c.model = net_->name();
  c.images = images_;
  c.max_abs = max_abs_;
  c.fl.assign(max_abs_.size(), {});
  for (std::size_t t = 0; t < max_abs_.size(); ++t) {
    if (max_abs_[t] < 0) continue;
    for (int b : kCalibrationBits) c.fl[t].push_back(fractional_length(max_abs_[t], b));
  }
  return c;
}

}  // namespace bitscale::quant
