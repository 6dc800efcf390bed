#include "bitscale/study/axbxp.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <ranges>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/quant/calibrate.hpp"
#include "bitscale/quant/traffic.hpp"
#include "bitscale/study/confidence.hpp"
#include "bitscale/study/policy.hpp"
#include "bitscale/study/records.hpp"
#include "bitscale/util/file.hpp"
#include "bitscale/util/json_text.hpp"

namespace bitscale::study {

namespace {

using Inform = std::function<void(const std::string&)>;
constexpr const char* kFormat = "bitscale-axbxp";
constexpr int kVersion = 2;

golden::Mode layer_mode(const quant::QuantizedNetwork& q, std::size_t i) {
  return q.op_mode(static_cast<std::size_t>(q.layers()[i].op));
}

std::string layer_name(const quant::QuantizedNetwork& q, std::size_t i) {
  const model::Network& net = q.network();
  const auto& op = net.ops().at(static_cast<std::size_t>(q.layers()[i].op));
  const auto& names = net.tensor_names();
  return op.output >= 0 && static_cast<std::size_t>(op.output) < names.size()
             ? names[static_cast<std::size_t>(op.output)]
             : fmt::format("op {}", q.layers()[i].op);
}

std::int64_t layer_macs(const quant::QuantizedNetwork& q, std::size_t i) {
  return q.layers()[i].prepared.layer.shape.macs();
}

// The text of a layer's configuration in the file: "exact", "c<N>" for a family member, else the mask.
std::string approx_text(golden::Approx x, golden::Mode m) {
  if (x.exact()) return "exact";
  for (int c = 1; c <= golden::approx_family_max(m); ++c) {
    if (golden::approx_family(m, c) == x) return fmt::format("c{}", c);
  }
  return golden::to_string(x);
}

// A percentage from a fraction over the image indices of a resample.
double mean_pct(const std::vector<char>& v, std::span<const std::uint32_t> idx) {
  std::size_t s = 0;
  for (const std::uint32_t i : idx) s += v[i] ? 1 : 0;
  return 100.0 * static_cast<double>(s) / static_cast<double>(idx.size());
}

// `cfg` against `base` (exact 8 bits) and `b16` (static 16 bits) on the same images.
AxbxpPoint make_point(const std::string& name, const ImageSetRun& cfg, const ImageSetRun& base, const ImageSetRun& b16,
                      const Bootstrap& boot) {
  AxbxpPoint p;
  p.name = name;
  const std::size_t n = cfg.correct.size();
  std::vector<std::uint32_t> all(n);
  std::iota(all.begin(), all.end(), 0u);
  const Resamples rs(n, boot);
  p.top1_pct.value = mean_pct(cfg.correct, all);
  p.top1_pct.ci =
      percentile_interval(replicate(rs, [&](auto idx) { return mean_pct(cfg.correct, idx); }), p.top1_pct.value);
  const auto drop = [&](std::span<const std::uint32_t> idx) {
    return mean_pct(base.correct, idx) - mean_pct(cfg.correct, idx);
  };
  p.drop_pp.value = drop(all);
  p.drop_pp.ci = percentile_interval(replicate(rs, drop), p.drop_pp.value);
  p.energy_pj = cfg.mean_energy_pj();
  p.gain_vs8 = base.mean_energy_pj() / p.energy_pj;
  p.gain_vs16 = b16.mean_energy_pj() / p.energy_pj;
  p.blk_kept = cfg.blk_exact ? static_cast<double>(cfg.blk) / static_cast<double>(cfg.blk_exact) : 1.0;
  return p;
}

LabelledImages load_labelled(const std::vector<std::string>& files, const model::Network& net,
                             const data::Labeler& labeler, const Inform& inform) {
  LabelledImages out;
  for (const auto& f : files) {
    const auto label = labeler(f);
    if (!label) {
      inform(fmt::format("skipping {}: no label (no synset in its name or folder)", f));
      continue;
    }
    try {
      out.rgb.push_back(data::load_for_model(f, net.input_h(), net.input_w()).rgb);
    } catch (const std::exception& e) {
      inform(fmt::format("skipping {}: {}", f, e.what()));
      continue;
    }
    out.files.push_back(f);
    out.label.push_back(data::model_index(*label));
  }
  return out;
}

}  // namespace

AxbxpConfig exact_config(const quant::QuantizedNetwork& q) {
  AxbxpConfig c;
  c.bits = q.bits();
  c.layers.assign(q.layers().size(), golden::Approx{});
  return c;
}

AxbxpConfig uniform_config(const quant::QuantizedNetwork& q, golden::Mode mode, int c) {
  AxbxpConfig cfg = exact_config(q);
  const golden::Approx x = golden::approx_family(mode, c);
  for (std::size_t i = 0; i < cfg.layers.size(); ++i) {
    if (layer_mode(q, i) == mode) cfg.layers[i] = x;
  }
  return cfg;
}

void apply_config(const AxbxpConfig& config, quant::QuantizedNetwork& q) {
  if (config.bits != q.bits() || config.layers.size() != q.layers().size()) {
    throw std::invalid_argument(
        fmt::format("Ax-BxP configuration of {} layers at {} bits for a network of {} MAC layers at {} bits",
                    config.layers.size(), config.bits, q.layers().size(), q.bits()));
  }
  for (std::size_t i = 0; i < config.layers.size(); ++i) q.set_approx(i, config.layers[i]);
}

std::string calibration_id(const quant::Calibration& calib, const model::Network& net) {
  return fmt::format("{:016x}", fnv1a(calib.to_json(net)));
}

std::string config_json(const AxbxpConfig& config, const quant::QuantizedNetwork& q, const AxbxpProvenance& p,
                        const std::string& model_file) {
  using J = nlohmann::ordered_json;
  J layers = J::array();
  for (std::size_t i = 0; i < config.layers.size(); ++i) {
    layers.push_back({{"layer", i},
                      {"name", layer_name(q, i)},
                      {"bits", golden::bits(layer_mode(q, i))},
                      {"approx", approx_text(config.layers[i], layer_mode(q, i))}});
  }
  J comp{{"mode", std::string(quant::to_string(p.compensation))}};
  if (p.compensation == quant::ApproxCompensation::kMean) {
    comp["images"] = p.means.images;
    comp["block_means"] = p.means.mean;  // shortest round-trip text: read back bit for bit
  }
  const J j{{"format", kFormat},
            {"version", kVersion},
            {"bits", config.bits},
            {"model", {{"file", model_file}, {"hash", p.model_hash}}},
            {"mac_layers", config.layers.size()},
            {"calibration", p.calibration},
            {"compensation", comp},
            {"layers", layers}};
  return j.dump(2) + "\n";
}

AxbxpFile load_config_file(const std::string& path, const quant::QuantizedNetwork& q, const std::string& model_hash) {
  AxbxpFile out;
  out.path = path;
  std::string text;
  try {
    text = util::read_file(path);
  } catch (const std::exception&) {
    throw std::runtime_error(fmt::format("Ax-BxP configuration '{}': cannot open", path));
  }
  out.hash = fmt::format("{:016x}", fnv1a(text));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("Ax-BxP configuration '{}': malformed JSON: {}", path, e.what()));
  }
  const auto fail = [&](const std::string& key, const std::string& what) {
    return std::runtime_error(fmt::format("Ax-BxP configuration '{}': {}: {}", path, key, what));
  };
  if (!j.is_object()) throw fail("(top level)", "not a JSON object");
  if (!j.contains("format") || j["format"] != kFormat)
    throw fail("\"format\"", fmt::format("expected \"{}\"", kFormat));
  if (!j.contains("version") || !j["version"].is_number_integer() ||
      (j["version"].get<int>() != 1 && j["version"].get<int>() != kVersion))
    throw fail("\"version\"", fmt::format("expected 1 or {}", kVersion));
  out.version = j["version"].get<int>();
  if (j.contains("bits") && (!j["bits"].is_number_integer() || j["bits"].get<int>() != q.bits())) {
    throw fail("\"bits\"", fmt::format("{} but the network runs at {} bits", j["bits"].dump(), q.bits()));
  }
  AxbxpProvenance& prov = out.provenance;
  if (out.version >= 2) {
    if (!j.contains("model") || !j["model"].is_object() || !j["model"].contains("hash") ||
        !j["model"]["hash"].is_string())
      throw fail("\"model\".\"hash\"", "missing or not a string");
    prov.model_hash = j["model"]["hash"].get<std::string>();
    if (!model_hash.empty() && prov.model_hash != model_hash)
      throw fail("\"model\".\"hash\"",
                 fmt::format("{} but the model has content hash {} (a configuration of another model)", prov.model_hash,
                             model_hash));
    if (!j.contains("mac_layers") || !j["mac_layers"].is_number_unsigned() ||
        j["mac_layers"].get<std::size_t>() != q.layers().size())
      throw fail("\"mac_layers\"",
                 fmt::format("{} but the network has {} MAC layers",
                             j.contains("mac_layers") ? j["mac_layers"].dump() : "missing", q.layers().size()));
    if (j.contains("calibration")) {
      if (!j["calibration"].is_string()) throw fail("\"calibration\"", "not a string");
      prov.calibration = j["calibration"].get<std::string>();
    }
    if (!j.contains("compensation") || !j["compensation"].is_object() || !j["compensation"].contains("mode") ||
        !j["compensation"]["mode"].is_string())
      throw fail("\"compensation\".\"mode\"", "missing or not a string");
    const auto& comp = j["compensation"];
    try {
      prov.compensation = quant::approx_compensation_from_string(comp["mode"].get<std::string>());
    } catch (const std::exception& e) {
      throw fail("\"compensation\".\"mode\"", e.what());
    }
    if (prov.compensation == quant::ApproxCompensation::kMean) {
      if (prov.calibration.empty()) throw fail("\"calibration\"", "missing: the block means belong to a calibration");
      if (!comp.contains("block_means") || !comp["block_means"].is_array() ||
          comp["block_means"].size() != q.layers().size())
        throw fail("\"compensation\".\"block_means\"",
                   fmt::format("missing or not one array per MAC layer ({})", q.layers().size()));
      try {
        prov.means.mean = comp["block_means"].get<std::vector<std::vector<double>>>();
      } catch (const nlohmann::json::exception& e) {
        throw fail("\"compensation\".\"block_means\"", fmt::format("not arrays of numbers: {}", e.what()));
      }
      for (std::size_t i = 0; i < q.layers().size(); ++i) {
        const auto& l = q.layers()[i].prepared.layer;
        const std::size_t want =
            static_cast<std::size_t>(l.shape.in_c) * static_cast<std::size_t>(golden::blocks(layer_mode(q, i)));
        if (prov.means.mean[i].size() != want)
          throw fail(fmt::format("\"compensation\".\"block_means\"[{}]", i),
                     fmt::format("{} values but layer {} has {} (input channels x blocks)", prov.means.mean[i].size(),
                                 i, want));
      }
      prov.means.images =
          comp.contains("images") && comp["images"].is_number_unsigned() ? comp["images"].get<std::size_t>() : 0;
    }
  }
  if (!j.contains("layers") || !j["layers"].is_array()) throw fail("\"layers\"", "missing or not an array");
  AxbxpConfig& cfg = out.config;
  cfg = exact_config(q);
  std::set<std::size_t> seen;
  for (std::size_t e = 0; e < j["layers"].size(); ++e) {
    const auto& l = j["layers"][e];
    const std::string where = fmt::format("\"layers\"[{}]", e);
    if (!l.is_object()) throw fail(where, "not an object");
    if (!l.contains("layer") || !l["layer"].is_number_integer())
      throw fail(where + ".\"layer\"", "missing or not an integer");
    const auto idx = l["layer"].get<long long>();
    if (idx < 0 || static_cast<std::size_t>(idx) >= cfg.layers.size()) {
      throw fail(where + ".\"layer\"",
                 fmt::format("unknown layer {} (the network has MAC layers 0 .. {})", idx, cfg.layers.size() - 1));
    }
    const auto i = static_cast<std::size_t>(idx);
    if (!seen.insert(i).second) throw fail(where + ".\"layer\"", fmt::format("layer {} given twice", i));
    if (l.contains("name") && (!l["name"].is_string() || l["name"].get<std::string>() != layer_name(q, i))) {
      throw fail(where + ".\"name\"", fmt::format("{} but layer {} is \"{}\" (a configuration of another network?)",
                                                  l["name"].dump(), i, layer_name(q, i)));
    }
    if (!l.contains("approx") || !l["approx"].is_string()) throw fail(where + ".\"approx\"", "missing or not a string");
    try {
      cfg.layers[i] = golden::parse_approx(l["approx"].get<std::string>(), layer_mode(q, i));
    } catch (const std::exception& ex) {
      throw fail(where + ".\"approx\"",
                 fmt::format("layer {} runs at {} bits: {}", i, golden::bits(layer_mode(q, i)), ex.what()));
    }
  }
  return out;
}

AxbxpConfig load_config(const std::string& path, const quant::QuantizedNetwork& q) {
  return load_config_file(path, q).config;
}

void apply_config_file(const AxbxpFile& f, quant::QuantizedNetwork& q, const std::string& calib_id) {
  const AxbxpProvenance& p = f.provenance;
  if (p.compensation == quant::ApproxCompensation::kMean) {
    if (p.calibration != calib_id)
      throw std::runtime_error(fmt::format(
          "Ax-BxP configuration '{}': \"calibration\": its block means (compensation mean) were measured under "
          "calibration {}, this run's calibration is {}: calibrate the same way (the same images and --calib-limit, "
          "or --calib with the same calibration JSON)",
          f.path, p.calibration, calib_id));
    q.set_compensation(quant::ApproxCompensation::kMean, p.means);
  } else {
    q.set_compensation(quant::ApproxCompensation::kNone);
  }
  apply_config(f.config, q);
}

void configure_level(int level, const RungSources& src, quant::QuantizedNetwork& q, driver::Accelerator& acc) {
  const Rung rung = level_rung(level);
  if (rung.exact()) return;
  if (rung.config) {
    if (!src.file)
      throw std::invalid_argument(
          fmt::format("level {}: the per-layer Ax-BxP configuration needs --approx-config FILE (an axbxp_config.json)",
                      to_string(rung)));
    if (src.file->config.bits != q.bits())
      throw std::invalid_argument(fmt::format("level {}: the configuration '{}' is for {} bits, the level runs at {}",
                                              to_string(rung), src.file->path, src.file->config.bits, q.bits()));
    const AxbxpFile& f = *src.file;
    if (f.provenance.compensation == quant::ApproxCompensation::kMean && f.provenance.calibration != src.calibration &&
        !src.compensation_images.empty()) {
      // The file's block means belong to another calibration: measured again on this run's
      // calibration images (never an evaluated one), the configuration as in the file.
      std::vector<std::vector<std::uint8_t>> rgb;
      const model::Network& net = q.network();
      for (const auto& img : src.compensation_images)
        rgb.push_back(data::load_for_model(img, net.input_h(), net.input_w()).rgb);
      apply_config(exact_config(q), q);
      q.set_compensation(quant::ApproxCompensation::kMean, quant::measure_block_means(q, acc, rgb));
      apply_config(f.config, q);
      return;
    }
    apply_config_file(f, q, src.calibration);
    return;
  }
  if (src.compensation == quant::ApproxCompensation::kMean) {
    const bool file_means = src.file && src.file->config.bits == q.bits() &&
                            src.file->provenance.compensation == quant::ApproxCompensation::kMean &&
                            src.file->provenance.calibration == src.calibration;
    if (file_means) {
      q.set_compensation(quant::ApproxCompensation::kMean, src.file->provenance.means);
    } else {
      if (src.compensation_images.empty())
        throw std::invalid_argument(fmt::format(
            "level {}: compensation mean needs the block means of the calibration images, and there are none",
            to_string(rung)));
      std::vector<std::vector<std::uint8_t>> rgb;
      const model::Network& net = q.network();
      for (const auto& f : src.compensation_images)
        rgb.push_back(data::load_for_model(f, net.input_h(), net.input_w()).rgb);
      apply_config(exact_config(q), q);  // the statistics of the exact network
      q.set_compensation(quant::ApproxCompensation::kMean, quant::measure_block_means(q, acc, rgb));
    }
  }
  apply_config(uniform_config(q, q.mode(), rung.c), q);
}

std::string rung_header_fields(std::span<const int> levels, quant::ApproxCompensation compensation,
                               const std::string& config_hash) {
  if (std::all_of(levels.begin(), levels.end(), [](int l) { return level_exact(l); })) return "";
  const bool config = std::any_of(levels.begin(), levels.end(), [](int l) { return level_rung(l).config; });
  return fmt::format(
      ",\"approx\":{{\"rungs\":[{}],\"compensation\":{},\"config\":{}}}",
      fmt::join(levels | std::views::transform([](int l) { return util::json_string(level_name(l)); }), ","),
      util::json_string(std::string(quant::to_string(compensation))),
      config && !config_hash.empty() ? util::json_string(config_hash) : std::string("null"));
}

std::size_t ImageSetRun::hits() const {
  return static_cast<std::size_t>(std::count(correct.begin(), correct.end(), 1));
}

double ImageSetRun::top1_pct() const {
  return correct.empty() ? 0.0 : 100.0 * static_cast<double>(hits()) / static_cast<double>(correct.size());
}

double ImageSetRun::mean_energy_pj() const {
  return energy_pj.empty()
             ? 0.0
             : std::accumulate(energy_pj.begin(), energy_pj.end(), 0.0) / static_cast<double>(energy_pj.size());
}

ImageSetRun run_images(const quant::QuantizedNetwork& q, const LabelledImages& images, const EnergyTable& table,
                       const AcceleratorFactory& factory, int jobs) {
  const std::size_t n = images.rgb.size();
  ImageSetRun r;
  r.correct.assign(n, 0);
  r.energy_pj.assign(n, 0.0);
  r.margin.assign(n, 0.0);
  std::vector<std::uint64_t> blk(n, 0), blk_exact(n, 0);
  const std::uint64_t offchip = quant::offchip_bytes(q);
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  const auto worker = [&] {
    try {
      auto acc = factory(driver::Backend::kGolden);
      for (std::size_t i = next++; i < n; i = next++) {
        const quant::QuantResult res = q.run(*acc, images.rgb[i]);
        const TopK top = top_k(res.probabilities, 1);
        r.correct[i] = !top.index.empty() && top.index[0] == images.label[i] ? 1 : 0;
        r.margin[i] = score_margin(res.probabilities);
        r.energy_pj[i] = energy_breakdown(res.counters, offchip, table).total();
        const driver::Counters& c = res.counters;
        blk[i] = c.blk;
        blk_exact[i] = c.mac16 * 16 + c.mac8 * 4 + c.mac4;
      }
    } catch (...) {
      const std::lock_guard lock(error_mutex);
      if (!error) error = std::current_exception();
      next = n;
    }
  };
  const int threads = std::max(1, std::min<int>(jobs, static_cast<int>(n)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  r.blk = std::accumulate(blk.begin(), blk.end(), std::uint64_t{0});
  r.blk_exact = std::accumulate(blk_exact.begin(), blk_exact.end(), std::uint64_t{0});
  return r;
}

std::string_view to_string(BudgetCheck b) { return b == BudgetCheck::kPoint ? "point" : "upper-bound"; }

BudgetCheck parse_budget_check(std::string_view name) {
  if (name == "upper-bound") return BudgetCheck::kUpperBound;
  if (name == "point") return BudgetCheck::kPoint;
  throw std::invalid_argument(fmt::format("budget check '{}' (accepted: upper-bound, point)", name));
}

double judged_drop_pp(std::span<const char> ref, std::span<const char> x, const DropBudget& budget,
                      const Resamples* rs) {
  if (ref.size() != x.size())
    throw std::invalid_argument(fmt::format("drop of {} images against a reference of {}", x.size(), ref.size()));
  if (ref.empty()) throw std::invalid_argument("drop over no image");
  // Per image: +1 lost, -1 gained, 0 unchanged; the drop is 100 x their mean.
  std::vector<int> d(ref.size());
  for (std::size_t i = 0; i < ref.size(); ++i) d[i] = (ref[i] ? 1 : 0) - (x[i] ? 1 : 0);
  const auto drop = [&d](std::span<const std::uint32_t> idx) {
    long s = 0;
    for (const std::uint32_t i : idx) s += d[i];
    return 100.0 * static_cast<double>(s) / static_cast<double>(idx.size());
  };
  std::vector<std::uint32_t> all(d.size());
  std::iota(all.begin(), all.end(), 0u);
  const double point = drop(all);
  if (budget.check == BudgetCheck::kPoint) return point;
  if (!rs || rs->n() != ref.size())
    throw std::invalid_argument(
        fmt::format("bootstrap bound of a drop over {} images without their resamples", ref.size()));
  return percentile_upper(replicate(*rs, drop), point, budget.level);
}

std::vector<char> ladder_correct(std::span<const ImageSetRun* const> runs, double threshold) {
  if (runs.empty()) throw std::invalid_argument("a ladder without rungs");
  const std::size_t n = runs[0]->correct.size();
  std::vector<char> out(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < runs.size(); ++k) {
      if (k + 1 == runs.size() || runs[k]->margin[i] >= threshold) {
        out[i] = runs[k]->correct[i];
        break;
      }
    }
  }
  return out;
}

LadderOutcome run_ladder(std::span<const ImageSetRun* const> runs, double threshold) {
  if (runs.empty()) throw std::invalid_argument("a ladder without rungs");
  LadderOutcome o;
  o.threshold = threshold;
  o.images = runs[0]->correct.size();
  o.accepted.assign(runs.size(), 0);
  double energy = 0;
  for (std::size_t i = 0; i < o.images; ++i) {
    for (std::size_t k = 0; k < runs.size(); ++k) {
      energy += runs[k]->energy_pj[i];
      if (k + 1 == runs.size() || runs[k]->margin[i] >= threshold) {
        o.hits += runs[k]->correct[i] ? 1 : 0;
        ++o.accepted[k];
        break;
      }
    }
  }
  o.energy_pj = o.images ? energy / static_cast<double>(o.images) : 0.0;
  return o;
}

double select_ladder_threshold(std::span<const ImageSetRun* const> runs, const DropBudget& budget, double* judged) {
  if (runs.empty()) throw std::invalid_argument("a ladder without rungs");
  std::vector<double> cand{0.0, 2.0};  // 2: every image climbs to the last rung
  for (std::size_t k = 0; k + 1 < runs.size(); ++k) {
    for (const double m : runs[k]->margin) {
      cand.push_back(m);
      cand.push_back(std::nextafter(m, 3.0));
    }
  }
  std::sort(cand.begin(), cand.end());
  cand.erase(std::unique(cand.begin(), cand.end()), cand.end());
  const std::vector<char>& last = runs.back()->correct;
  // Every candidate on the same resamples (common random numbers, as select_threshold).
  std::optional<Resamples> rs;
  if (budget.check == BudgetCheck::kUpperBound && !last.empty()) rs.emplace(last.size(), budget.boot);
  const DropBudget point{budget.max_drop_pp, BudgetCheck::kPoint, budget.level, budget.boot};
  for (const double t : cand) {
    const std::vector<char> got = ladder_correct(runs, t);
    // The bound is at least the point estimate: a candidate whose point misses cannot qualify.
    if (judged_drop_pp(last, got, point, nullptr) > budget.max_drop_pp + 1e-9) continue;
    const double j = judged_drop_pp(last, got, budget, rs ? &*rs : nullptr);
    if (j <= budget.max_drop_pp + 1e-9) {
      if (judged) *judged = j;
      return t;
    }
  }
  if (judged) *judged = 0;  // 2.0 runs every image up to the last rung: no drop against it
  return 2.0;
}

AxbxpResult run_axbxp(const AxbxpJob& job, const Inform& inform_cb) {
  const Inform inform = inform_cb ? inform_cb : Inform([](const std::string&) {});
  if (!job.factory) throw std::invalid_argument("axbxp: no accelerator factory");
  if (!(job.max_drop_pp >= 0))
    throw std::invalid_argument(fmt::format("--max-drop {} (must be >= 0)", job.max_drop_pp));
  if (job.out.empty()) throw std::invalid_argument("axbxp: no output directory (--out)");
  const data::DataPaths d = data::resolve_data_paths(data::DataPaths{job.model, job.images, job.synsets, job.labels});
  AxbxpResult r;
  r.model = d.need_model();
  r.image_dir = d.need_images();
  r.max_drop_pp = job.max_drop_pp;
  r.budget = job.budget;
  r.budget_level = job.budget_level;
  if (!(job.budget_level > 0 && job.budget_level < 1))
    throw std::invalid_argument(fmt::format("--budget-level {} (a confidence: 0 < level < 1)", job.budget_level));
  const EnergyTable table = energy_table(job.energy, job.energy_model);
  r.energy_source = table.source;
  const model::Model model = model::load_model(r.model);
  const model::Network net(model);
  const data::Synsets syn(d.need_synsets());
  const data::Labeler labeler = data::Labeler::with_file(syn, d.labels);
  const auto split = data::split_even_odd(data::list_images(r.image_dir, inform));
  if (split.calibration.empty() || split.evaluation.empty())
    throw std::invalid_argument(
        fmt::format("{}: fewer than 2 images (even positions select, odd ones evaluate)", r.image_dir));
  const quant::Calibration calib =
      quant::obtain_calibration(net, job.calib, split.calibration, job.calib_limit, std::max(1, job.jobs), inform);
  const LabelledImages sel = load_labelled(data::spread(split.calibration, job.select_limit), net, labeler, inform);
  const LabelledImages eva = load_labelled(data::spread(split.evaluation, job.eval_limit), net, labeler, inform);
  if (sel.files.empty() || eva.files.empty())
    throw std::invalid_argument(fmt::format("{}: no labelled, decodable image to select or evaluate on", r.image_dir));
  r.selection_images = sel.files.size();
  r.evaluation_images = eva.files.size();

  const auto acc = job.factory(driver::Backend::kGolden);
  quant::QuantizedNetwork q8(net, calib, 8, *acc, quant::WeightFl::kChannel, kArrayQuantDefaults);
  quant::QuantizedNetwork q16(net, calib, 16, *acc, quant::WeightFl::kChannel, kArrayQuantDefaults);
  // Compensation (docs/NUMERICS.md): block means of each exact network on calibration images.
  r.compensation = job.compensation;
  std::vector<std::vector<std::uint8_t>> comp_rgb;
  if (job.compensation == quant::ApproxCompensation::kMean) {
    for (const auto& f : data::spread(split.calibration, job.calib_limit)) {
      try {
        comp_rgb.push_back(data::load_for_model(f, net.input_h(), net.input_w()).rgb);
      } catch (const std::exception& e) {
        inform(fmt::format("skipping {}: {}", f, e.what()));
      }
    }
    if (comp_rgb.empty())
      throw std::invalid_argument(
          fmt::format("{}: no decodable calibration image for the Ax-BxP compensation", r.image_dir));
    r.compensation_images = comp_rgb.size();
  }
  std::optional<quant::BlockMeans> means8;  // of the exact 8-bit network, written to the configuration file
  std::set<const quant::QuantizedNetwork*> compensated;
  const auto compensate = [&](quant::QuantizedNetwork& q) {
    if (job.compensation != quant::ApproxCompensation::kMean || !compensated.insert(&q).second) return;
    apply_config(exact_config(q), q);  // the statistics of the exact network
    inform(fmt::format("Ax-BxP compensation: block means of the {}-bit network on {} calibration images", q.bits(),
                       comp_rgb.size()));
    quant::BlockMeans m = quant::measure_block_means(q, *acc, comp_rgb);
    if (&q == &q8) means8 = m;
    q.set_compensation(quant::ApproxCompensation::kMean, std::move(m));
  };
  compensate(q8);
  const auto run = [&](const AxbxpConfig& cfg, const LabelledImages& imgs) {
    apply_config(cfg, q8);
    return run_images(q8, imgs, table, job.factory, job.jobs);
  };

  // A configuration file is read before anything runs (a bad one fails fast).
  const std::string model_hash = content_hash(r.model), calib_id = calibration_id(calib, net);
  if (!job.config.empty()) r.config = load_config_file(job.config, q8, model_hash).config;
  // The configuration: searched on the selection images, or read.
  const AxbxpConfig exact = exact_config(q8);
  const ImageSetRun sel8 = run(exact, sel);
  const ImageSetRun sel16 = run_images(q16, sel, table, job.factory, job.jobs);
  inform(fmt::format("exact 8-bit: {}/{} selection images correct", sel8.hits(), sel.files.size()));
  inform(fmt::format("exact 16-bit: {}/{} selection images correct", sel16.hits(), sel.files.size()));
  if (job.config.empty()) {
    r.searched = true;
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < q8.layers().size(); ++i) {
      if (layer_mode(q8, i) == golden::Mode::k8) order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return layer_macs(q8, a) > layer_macs(q8, b); });
    AxbxpConfig cur = exact;
    const double n = static_cast<double>(sel.files.size());
    const DropBudget budget{job.max_drop_pp, job.budget, job.budget_level, job.boot};
    const Resamples sel_rs(sel.files.size(), job.boot);  // every step judged on the same resamples
    for (const std::size_t layer : order) {
      for (int c = golden::approx_family_max(golden::Mode::k8); c >= 1; --c) {
        AxbxpConfig cand = cur;
        cand.layers[layer] = golden::approx_family(golden::Mode::k8, c);
        const ImageSetRun res = run(cand, sel);
        SearchStep s{layer, c, res.hits(), false};
        s.drop_pp = 100.0 * (static_cast<double>(sel8.hits()) - static_cast<double>(res.hits())) / n;
        s.judged_drop_pp = judged_drop_pp(sel8.correct, res.correct, budget, &sel_rs);
        s.accepted = s.judged_drop_pp <= job.max_drop_pp + 1e-9;
        r.steps.push_back(s);
        inform(fmt::format("layer {:>3} ({}) c{}: {}/{} correct, drop {:.2f} pp ({} {:.2f} pp): {}", layer,
                           layer_name(q8, layer), c, res.hits(), sel.files.size(), s.drop_pp, to_string(job.budget),
                           s.judged_drop_pp, s.accepted ? "accepted" : "rejected"));
        if (s.accepted) {
          cur = cand;
          break;
        }
      }
    }
    r.config = cur;
  }
  for (std::size_t i = 0; i < q8.layers().size(); ++i) {
    r.layers.push_back(
        AxbxpLayerRow{i, layer_name(q8, i), golden::bits(layer_mode(q8, i)), layer_macs(q8, i), r.config.layers[i]});
  }
  const std::string cfg_name = r.searched ? "8-bit, per-layer search" : "8-bit, configuration " + job.config;
  const std::vector<std::vector<Rung>> ladders = [&] {
    std::vector<std::vector<Rung>> l;
    for (const auto& text : job.ladders) l.push_back(parse_ladder(text));
    return l;
  }();

  // What the rungs run with: the configuration (searched or read) and the block means measured above.
  const AxbxpProvenance provenance{model_hash, calib_id, job.compensation, means8 ? *means8 : quant::BlockMeans{}};
  RungSources rungs;
  rungs.file = AxbxpFile{job.config, "", 2, r.config, provenance};
  rungs.compensation = job.compensation;
  rungs.compensation_images = data::spread(split.calibration, job.calib_limit);
  rungs.calibration = calib_id;
  // Every rung's run on each image set, computed once.
  std::unique_ptr<quant::QuantizedNetwork> q4;
  std::map<std::string, ImageSetRun> sel_runs, eva_runs;
  sel_runs["8"] = sel8;
  sel_runs["16"] = sel16;
  const auto rung_run = [&](const Rung& rung, bool evaluation) -> const ImageSetRun& {
    auto& cache = evaluation ? eva_runs : sel_runs;
    // An all-exact configuration (e.g. --approx-config of no layer) runs as exact 8-bit: run once.
    const std::string key = rung.config && r.config == exact ? std::string("8") : to_string(rung);
    if (const auto it = cache.find(key); it != cache.end()) return it->second;
    const LabelledImages& imgs = evaluation ? eva : sel;
    quant::QuantizedNetwork* q = &q8;
    if (rung.bits == 16) q = &q16;
    if (rung.bits == 4) {
      if (!q4)
        q4 = std::make_unique<quant::QuantizedNetwork>(net, calib, 4, *acc, quant::WeightFl::kChannel,
                                                       kArrayQuantDefaults);
      q = q4.get();
    }
    // The controller's rung code (configure_level), with the search's configuration and block means.
    apply_config(exact_config(*q), *q);
    configure_level(level_code(rung), rungs, *q, *acc);
    const ImageSetRun& res = cache.emplace(key, run_images(*q, imgs, table, job.factory, job.jobs)).first->second;
    inform(fmt::format("rung {}: {}/{} {} images correct", key, res.hits(), imgs.files.size(),
                       evaluation ? "evaluation" : "selection"));
    return res;
  };
  const Rung r8{8, 0, false}, r16{16, 0, false}, rs{8, 0, true};
  r.selection.push_back(make_point("16-bit exact", sel16, sel8, sel16, job.boot));
  r.selection.push_back(make_point("8-bit exact", sel8, sel8, sel16, job.boot));
  r.selection.push_back(make_point(cfg_name, rung_run(rs, false), sel8, sel16, job.boot));

  // Evaluation images: static 16, exact 8, every uniform family member, the configuration.
  const ImageSetRun& ev16 = rung_run(r16, true);
  const ImageSetRun& ev8 = rung_run(r8, true);
  r.evaluation.push_back(make_point("16-bit exact", ev16, ev8, ev16, job.boot));
  r.evaluation.push_back(make_point("8-bit exact", ev8, ev8, ev16, job.boot));
  for (int c = 1; c <= golden::approx_family_max(golden::Mode::k8); ++c) {
    r.evaluation.push_back(
        make_point(fmt::format("8-bit, uniform c{}", c), rung_run(Rung{8, c, false}, true), ev8, ev16, job.boot));
  }
  r.evaluation.push_back(make_point(cfg_name, rung_run(rs, true), ev8, ev16, job.boot));

  // The dynamic controller over each ladder: threshold on the selection images, figures on the evaluation ones.
  for (std::size_t li = 0; li < ladders.size(); ++li) {
    std::vector<const ImageSetRun*> s, e;
    for (const Rung& rung : ladders[li]) {
      s.push_back(&rung_run(rung, false));
      e.push_back(&rung_run(rung, true));
    }
    LadderPoint p;
    p.ladder = job.ladders[li];
    p.threshold = select_ladder_threshold(s, DropBudget{job.max_drop_pp, job.budget, job.budget_level, job.boot},
                                          &p.selection_judged_drop_pp);
    p.selection = run_ladder(s, p.threshold);
    p.evaluation = run_ladder(e, p.threshold);
    const double n = static_cast<double>(p.evaluation.images);
    p.eval_drop_pp = 100.0 * (static_cast<double>(e.back()->hits()) - static_cast<double>(p.evaluation.hits)) / n;
    p.eval_saving_pct = 100.0 * (1.0 - p.evaluation.energy_pj / ev16.mean_energy_pj());
    {  // paired bootstrap intervals over the evaluation images
      const std::vector<char> got = ladder_correct(e, p.threshold);
      std::vector<double> d(got.size()), energy(got.size(), 0.0);
      for (std::size_t i = 0; i < got.size(); ++i) {
        d[i] = 100.0 * ((e.back()->correct[i] ? 1 : 0) - (got[i] ? 1 : 0));
        for (std::size_t k = 0; k < e.size(); ++k) {
          energy[i] += e[k]->energy_pj[i];
          if (k + 1 < e.size() && e[k]->margin[i] >= p.threshold) break;
        }
      }
      p.eval_drop_ci = bootstrap_mean(d, job.boot).ci;
      const Resamples rs(got.size(), job.boot);
      const auto saving = [&](std::span<const std::uint32_t> idx) {
        double a = 0, b = 0;
        for (const std::uint32_t i : idx) a += energy[i], b += ev16.energy_pj[i];
        return 100.0 * (1.0 - a / b);
      };
      p.eval_saving_ci = percentile_interval(replicate(rs, saving), p.eval_saving_pct);
    }
    r.ladders.push_back(p);
  }

  std::filesystem::create_directories(job.out);
  if (r.searched)
    util::write_file((std::filesystem::path(job.out) / "axbxp_config.json").string(),
                     config_json(r.config, q8, provenance, std::filesystem::path(r.model).filename().string()));
  util::write_file((std::filesystem::path(job.out) / "axbxp.md").string(), axbxp_report(r));
  return r;
}

namespace {
// How the budget was checked, in words.
std::string budget_text(const AxbxpResult& r) {
  return r.budget == BudgetCheck::kPoint
             ? std::string("point estimate")
             : fmt::format("one-sided {:g} % bootstrap upper bound, paired", 100 * r.budget_level);
}
}  // namespace

std::string axbxp_report(const AxbxpResult& r) {
  std::string s = fmt::format(
      "# Ax-BxP: {}\n\nimages: {} ({} selection images at even positions, {} evaluation "
      "images at odd positions); energy: {}\n",
      r.model, r.image_dir, r.selection_images, r.evaluation_images, r.energy_source);
  if (r.searched)
    s += fmt::format("search budget: top-1 drop <= {} pp vs exact 8-bit on the selection images ({})\n", r.max_drop_pp,
                     budget_text(r));
  s += r.compensation == quant::ApproxCompensation::kMean
           ? fmt::format(
                 "compensation of the skipped block products: mean (block means on {} calibration images at "
                 "even positions, added to the bias; docs/NUMERICS.md)\n",
                 r.compensation_images)
           : std::string("compensation of the skipped block products: none\n");
  const auto table = [&](const std::vector<AxbxpPoint>& pts, const char* title) {
    s += fmt::format(
        "\n## {}\n\n| configuration | top-1 % [95 % CI] | drop vs exact 8-bit, pp [95 % CI] | energy/image "
        "(µJ) | gain vs 8-bit | gain vs 16-bit | block products kept |\n|---|---|---|---|---|---|---|\n",
        title);
    for (const AxbxpPoint& p : pts) {
      s += fmt::format(
          "| {} | {:.1f} [{:.1f}, {:.1f}] | {:+.1f} [{:+.1f}, {:+.1f}] | {:.2f} | {:.3f}× | {:.2f}× | {:.1f} % |\n",
          p.name, p.top1_pct.value, p.top1_pct.ci.lo, p.top1_pct.ci.hi, p.drop_pp.value, p.drop_pp.ci.lo,
          p.drop_pp.ci.hi, p.energy_pj * 1e-6, p.gain_vs8, p.gain_vs16, 100 * p.blk_kept);
    }
  };
  table(r.selection, "Selection images (the search's data)");
  table(r.evaluation, "Evaluation images (not used for the search)");
  if (!r.ladders.empty()) {
    s += fmt::format(
        "\n## Dynamic controller over ladders (T_h: smallest with top-1 drop <= {} pp vs the last rung alone on the "
        "selection images, {})\n\n| ladder | T_h | selection top-1 % | selection drop judged, pp | evaluation top-1 % "
        "| evaluation drop vs last rung, "
        "pp [95 % CI] "
        "| evaluation energy/image (µJ) | saving vs 16-bit [95 % CI] | images accepted per rung (evaluation) |\n"
        "|---|---|---|---|---|---|---|---|---|\n",
        r.max_drop_pp, budget_text(r));
    for (const LadderPoint& p : r.ladders) {
      const auto pct = [](const LadderOutcome& o) {
        return o.images ? 100.0 * static_cast<double>(o.hits) / static_cast<double>(o.images) : 0.0;
      };
      s += fmt::format(
          "| {} | {:.4f} | {:.1f} | {:.2f} | {:.1f} | {:+.1f} [{:+.1f}, {:+.1f}] | {:.2f} | {:.1f} % [{:.1f}, {:.1f}] "
          "| {} |\n",
          p.ladder, p.threshold, pct(p.selection), p.selection_judged_drop_pp, pct(p.evaluation), p.eval_drop_pp,
          p.eval_drop_ci.lo, p.eval_drop_ci.hi, p.evaluation.energy_pj * 1e-6, p.eval_saving_pct, p.eval_saving_ci.lo,
          p.eval_saving_ci.hi, fmt::join(p.evaluation.accepted, " / "));
    }
  }
  s += "\n## Per-layer configuration\n\n| layer | name | bits | MACs | configuration |\n|---|---|---|---|---|\n";
  for (const AxbxpLayerRow& l : r.layers) {
    const golden::Mode m = l.bits == 16 ? golden::Mode::k16 : l.bits == 8 ? golden::Mode::k8 : golden::Mode::k4;
    s += fmt::format("| {} | {} | {} | {} | {} |\n", l.layer, l.name.substr(0, l.name.find(';')), l.bits, l.macs,
                     approx_text(l.approx, m));
  }
  if (!r.steps.empty()) {
    s += "\n## Search steps (selection images)\n\n| layer | c | correct | drop, pp | judged drop, pp | accepted |\n"
         "|---|---|---|---|---|---|\n";
    for (const SearchStep& st : r.steps)
      s += fmt::format("| {} | c{} | {}/{} | {:.2f} | {:.2f} | {} |\n", st.layer, st.c, st.hits, r.selection_images,
                       st.drop_pp, st.judged_drop_pp, st.accepted ? "yes" : "no");
  }
  return s;
}

}  // namespace bitscale::study

namespace bitscale::study {

RungSources rung_sources(std::span<const int> levels, const std::string& config_path,
                         quant::ApproxCompensation compensation, const model::Network& net,
                         const quant::Calibration& calib, const std::string& model_path,
                         const AcceleratorFactory& factory) {
  RungSources src;
  src.compensation = compensation;
  src.calibration = calibration_id(calib, net);
  src.compensation_images = calib.images;
  const bool config = std::any_of(levels.begin(), levels.end(), [](int l) { return level_rung(l).config; });
  if (config && config_path.empty())
    throw std::invalid_argument("level 8s: the per-layer Ax-BxP configuration needs --approx-config FILE");
  if (!config_path.empty()) {
    if (!factory) throw std::invalid_argument("Ax-BxP rungs: no accelerator factory");
    const auto acc = factory(driver::Backend::kGolden);
    const quant::QuantizedNetwork q8(net, calib, 8, *acc, quant::WeightFl::kChannel, kArrayQuantDefaults);
    src.file = load_config_file(config_path, q8, content_hash(model_path));
  }
  return src;
}

std::vector<int> recorded_levels(std::span<const int> levels) {
  std::vector<int> out(kPrecisions.begin(), kPrecisions.end());
  for (const int l : levels) {
    if (std::find(out.begin(), out.end(), l) == out.end()) out.push_back(l);
  }
  std::sort(out.begin(), out.end(), level_cheaper);
  return out;
}

}  // namespace bitscale::study
