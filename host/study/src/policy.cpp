#include "bitscale/study/policy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <ranges>
#include <stdexcept>

#include "bitscale/study/controller.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/study/sweep.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::study {

namespace fs = std::filesystem;
using util::Json;

std::string content_hash(const std::string& path) { return fmt::format("{:016x}", fnv1a(util::read_file(path))); }

PolicyImage policy_image(const std::string& path) { return {fs::path(path).filename().string(), content_hash(path)}; }

namespace {

std::string num(double x) { return fmt::format("{:.17g}", x); }

std::string estimate_json(const Estimate& e) {
  return fmt::format("{{\"value\":{},\"ci95\":[{},{}]}}", num(e.value), num(e.ci.lo), num(e.ci.hi));
}

std::string images_json(const std::vector<PolicyImage>& v) {
  std::string o = "[";
  for (std::size_t i = 0; i < v.size(); ++i)
    o += fmt::format("{}\n    {{\"file\":{},\"hash\":{}}}", i ? "," : "", util::json_string(v[i].file),
                     util::json_string(v[i].hash));
  return o + "]";
}

// Field access with errors naming the file and the field.
struct Reader {
  const std::string& source;
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: {}: {}", source, field, what));
  }
  const Json& at(const Json& j, const std::string& key, const std::string& path) const {
    if (!j.is_object()) fail(path, "not an object");
    const auto it = j.find(key);
    if (it == j.end()) fail(path.empty() ? key : path + "." + key, "missing");
    return *it;
  }
  std::string str(const Json& j, const std::string& key, const std::string& path = "") const {
    const Json& v = at(j, key, path);
    if (!v.is_string()) fail(path.empty() ? key : path + "." + key, "not a string");
    return v.get<std::string>();
  }
  double number(const Json& j, const std::string& key, const std::string& path = "") const {
    const Json& v = at(j, key, path);
    if (!v.is_number()) fail(path.empty() ? key : path + "." + key, "not a number");
    const double x = v.get<double>();
    if (!std::isfinite(x)) fail(path.empty() ? key : path + "." + key, "not finite");
    return x;
  }
  std::uint64_t count(const Json& j, const std::string& key) const {
    const Json& v = at(j, key, "");
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<long long>() >= 0)) fail(key, "not a count");
    return v.get<std::uint64_t>();
  }
  Estimate estimate(const Json& j, const std::string& key) const {
    const Json& e = at(j, key, "");
    Estimate x;
    x.value = number(e, "value", key);
    const Json& ci = at(e, "ci95", key);
    if (!ci.is_array() || ci.size() != 2 || !ci[0].is_number() || !ci[1].is_number())
      fail(key + ".ci95", "not [lo, hi]");
    x.ci = {ci[0].get<double>(), ci[1].get<double>()};
    if (!(x.ci.lo <= x.ci.hi)) fail(key + ".ci95", "lo > hi");
    return x;
  }
  std::vector<PolicyImage> images(const Json& j, const std::string& key) const {
    const Json& a = at(j, key, "");
    if (!a.is_array()) fail(key, "not an array");
    std::vector<PolicyImage> v;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const std::string p = fmt::format("{}[{}]", key, i);
      PolicyImage im{str(a[i], "file", p), str(a[i], "hash", p)};
      if (im.file.empty() || im.file.find('/') != std::string::npos) fail(p + ".file", "not a file name");
      v.push_back(std::move(im));
    }
    return v;
  }
};

}  // namespace

std::string to_json(const Policy& p) {
  std::string j = "{\n";
  j += fmt::format("  \"format\":\"{}\",\n", kPolicyFormat);
  j += fmt::format("  \"model\":{{\"file\":{},\"path\":{},\"hash\":{}}},\n", util::json_string(p.model_file),
                   util::json_string(p.model_path), util::json_string(p.model_hash));
  j += fmt::format("  \"weight_fl\":\"{}\",\n", quant::to_string(p.weight_fl));
  j += fmt::format("  \"quantization\":{{\"classifier\":\"{}\",\"rounding\":\"{}\",\"rounding_seed\":{}}},\n",
                   quant::to_string(p.quantization.classifier), quant::to_string(p.quantization.rounding),
                   p.quantization.rounding_seed);
  // Exact levels as bit-widths, Ax-BxP rungs by name ("8c1", "8s").
  j += fmt::format("  \"levels\":{},\n", levels_json(p.levels));
  if (!p.approx_compensation.empty())
    j += fmt::format("  \"approx\":{{\"compensation\":{},\"config\":{{\"file\":{},\"hash\":{}}}}},\n",
                     util::json_string(p.approx_compensation), util::json_string(p.approx_config_file),
                     util::json_string(p.approx_config_hash));
  j += fmt::format("  \"metric\":\"{}\",\n", to_string(p.metric));
  j += fmt::format("  \"threshold\":{},\n", num(p.threshold));
  j += fmt::format("  \"escalate_all\":{},\n", p.escalate_all);
  j += fmt::format("  \"target_drop_pp\":{},\n", num(p.max_drop_pp));
  j += fmt::format("  \"confidence_level\":{},\n", num(p.confidence_level));
  j += fmt::format("  \"drop_upper_pp\":{},\n", num(p.drop_upper_pp));
  j += fmt::format("  \"expected_drop_pp\":{},\n", estimate_json(p.expected_drop_pp));
  j += fmt::format("  \"expected_saving_pct\":{},\n", estimate_json(p.expected_saving_pct));
  j += fmt::format("  \"bootstrap\":{{\"seed\":{},\"resamples\":{}}},\n", p.bootstrap.seed, p.bootstrap.resamples);
  j += fmt::format("  \"energy_table\":{},\n", util::json_string(p.energy_source));
  j += fmt::format("  \"energy_model\":\"{}\",\n", to_string(p.energy_model));
  j += fmt::format("  \"offchip\":\"{}\",\n", quant::to_string(p.offchip));
  j += fmt::format("  \"gating\":\"{}\",\n", driver::to_string(p.gating));
  j += fmt::format("  \"backend\":{},\n", util::json_string(p.backend));
  j += fmt::format("  \"selection_images\":{},\n", images_json(p.selection_images));
  j += fmt::format("  \"calibration_images\":{},\n", images_json(p.calibration_images));
  // The calibration object re-serialized compactly (it is JSON already).
  j += fmt::format("  \"calibration\":{}\n", util::parse_json(p.calibration, "policy calibration").dump());
  return j + "}\n";
}

Policy parse_policy(std::string_view text, const std::string& source) {
  const Json j = util::parse_json(text, source);
  const Reader r{source};
  if (!j.is_object()) r.fail("(top level)", "not a JSON object");
  Policy p;
  if (const std::string f = r.str(j, "format"); f != kPolicyFormat)
    r.fail("format", fmt::format("'{}' (expected '{}')", f, kPolicyFormat));
  p.model_file = r.str(r.at(j, "model", ""), "file", "model");
  p.model_hash = r.str(r.at(j, "model", ""), "hash", "model");
  p.model_path = r.str(r.at(j, "model", ""), "path", "model");
  if (p.model_hash.size() != 16 || p.model_hash.find_first_not_of("0123456789abcdef") != std::string::npos)
    r.fail("model.hash", fmt::format("'{}' is not 16 hex digits", p.model_hash));
  try {
    p.weight_fl = quant::weight_fl_from_string(r.str(j, "weight_fl"));
  } catch (const std::invalid_argument& e) {
    r.fail("weight_fl", e.what());
  }
  const Json& q = r.at(j, "quantization", "");
  try {
    p.quantization.classifier = quant::classifier_precision_from_string(r.str(q, "classifier", "quantization"));
  } catch (const std::invalid_argument& e) {
    r.fail("quantization.classifier", e.what());
  }
  try {
    p.quantization.rounding = quant::rounding_from_string(r.str(q, "rounding", "quantization"));
  } catch (const std::invalid_argument& e) {
    r.fail("quantization.rounding", e.what());
  }
  p.quantization.rounding_seed = r.count(q, "rounding_seed");
  const Json& lv = r.at(j, "levels", "");
  if (!lv.is_array() || lv.empty()) r.fail("levels", "not a non-empty array");
  for (const auto& b : lv) {
    if (b.is_string()) {
      try {
        p.levels.push_back(level_code(parse_rung(b.get<std::string>())));
      } catch (const std::invalid_argument& e) {
        r.fail("levels", e.what());
      }
      continue;
    }
    if (!b.is_number_integer()) r.fail("levels", "not a list of bit-widths or Ax-BxP rungs");
    p.levels.push_back(b.get<int>());
  }
  try {
    (void)Controller(p.levels, 0.0);
  } catch (const std::invalid_argument& e) {
    r.fail("levels", e.what());
  }
  if (j.contains("approx")) {
    p.approx_compensation = r.str(j["approx"], "compensation", "approx");
    const Json& c = r.at(j["approx"], "config", "approx");
    p.approx_config_file = r.str(c, "file", "approx.config");
    p.approx_config_hash = r.str(c, "hash", "approx.config");
  } else if (std::any_of(p.levels.begin(), p.levels.end(), [](int l) { return !level_exact(l); })) {
    r.fail("approx", "missing: the levels hold Ax-BxP rungs");
  }
  try {
    p.metric = parse_metric(r.str(j, "metric"));
  } catch (const std::invalid_argument& e) {
    r.fail("metric", e.what());
  }
  p.threshold = r.number(j, "threshold");
  if (p.threshold < 0 || p.threshold > 1) r.fail("threshold", fmt::format("{} is not in [0, 1]", p.threshold));
  const Json& ea = r.at(j, "escalate_all", "");
  if (!ea.is_boolean()) r.fail("escalate_all", "not true/false");
  p.escalate_all = ea.get<bool>();
  p.max_drop_pp = r.number(j, "target_drop_pp");
  if (p.max_drop_pp < 0) r.fail("target_drop_pp", "negative");
  p.confidence_level = r.number(j, "confidence_level");
  if (!(p.confidence_level > 0 && p.confidence_level < 1)) r.fail("confidence_level", "not in (0, 1)");
  p.drop_upper_pp = r.number(j, "drop_upper_pp");
  p.expected_drop_pp = r.estimate(j, "expected_drop_pp");
  p.expected_saving_pct = r.estimate(j, "expected_saving_pct");
  const Json& bs = r.at(j, "bootstrap", "");
  p.bootstrap.seed = r.count(bs, "seed");
  p.bootstrap.resamples = r.count(bs, "resamples");
  if (p.bootstrap.resamples == 0) r.fail("bootstrap.resamples", "0");
  p.energy_source = r.str(j, "energy_table");
  try {
    p.energy_model = parse_energy_model(r.str(j, "energy_model"));
  } catch (const std::invalid_argument& e) {
    r.fail("energy_model", e.what());
  }
  if (j.contains("offchip")) {
    try {
      p.offchip = quant::parse_offchip_encoding(r.str(j, "offchip"));
    } catch (const std::invalid_argument& e) {
      r.fail("offchip", e.what());
    }
  }
  if (j.contains("gating")) {
    try {
      p.gating = driver::parse_gating(r.str(j, "gating"));
    } catch (const std::invalid_argument& e) {
      r.fail("gating", e.what());
    }
  }
  p.backend = r.str(j, "backend");
  p.selection_images = r.images(j, "selection_images");
  p.calibration_images = r.images(j, "calibration_images");
  const Json& cal = r.at(j, "calibration", "");
  if (!cal.is_object()) r.fail("calibration", "not an object");
  if (!cal.contains("format") || cal["format"] != "bitscale-calibration-1")
    r.fail("calibration.format", "not bitscale-calibration-1");
  p.calibration = cal.dump();
  return p;
}

Policy load_policy(const std::string& path) { return parse_policy(util::read_file(path), path); }

void save_policy(const std::string& path, const Policy& p) { util::write_file(path, to_json(p)); }

}  // namespace bitscale::study
