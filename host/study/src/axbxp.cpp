#include "bitscale/study/axbxp.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
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
#include "bitscale/util/file.hpp"

namespace bitscale::study {

namespace {

using Inform = std::function<void(const std::string&)>;
constexpr const char* kFormat = "bitscale-axbxp";
constexpr int kVersion = 1;

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

std::string config_json(const AxbxpConfig& config, const quant::QuantizedNetwork& q) {
  using J = nlohmann::ordered_json;
  J layers = J::array();
  for (std::size_t i = 0; i < config.layers.size(); ++i) {
    layers.push_back({{"layer", i},
                      {"name", layer_name(q, i)},
                      {"bits", golden::bits(layer_mode(q, i))},
                      {"approx", approx_text(config.layers[i], layer_mode(q, i))}});
  }
  const J j{{"format", kFormat}, {"version", kVersion}, {"bits", config.bits}, {"layers", layers}};
  return j.dump(2) + "\n";
}

AxbxpConfig load_config(const std::string& path, const quant::QuantizedNetwork& q) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error(fmt::format("Ax-BxP configuration '{}': cannot open", path));
  std::stringstream ss;
  ss << f.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("Ax-BxP configuration '{}': malformed JSON: {}", path, e.what()));
  }
  const auto fail = [&](const std::string& key, const std::string& what) {
    return std::runtime_error(fmt::format("Ax-BxP configuration '{}': {}: {}", path, key, what));
  };
  if (!j.is_object()) throw fail("(top level)", "not a JSON object");
  if (!j.contains("format") || j["format"] != kFormat)
    throw fail("\"format\"", fmt::format("expected \"{}\"", kFormat));
  if (!j.contains("version") || j["version"] != kVersion)
    throw fail("\"version\"", fmt::format("expected {}", kVersion));
  if (j.contains("bits") && (!j["bits"].is_number_integer() || j["bits"].get<int>() != q.bits())) {
    throw fail("\"bits\"", fmt::format("{} but the network runs at {} bits", j["bits"].dump(), q.bits()));
  }
  if (!j.contains("layers") || !j["layers"].is_array()) throw fail("\"layers\"", "missing or not an array");
  AxbxpConfig cfg = exact_config(q);
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
  return cfg;
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
  const quant::QuantizedNetwork q16(net, calib, 16, *acc, quant::WeightFl::kChannel, kArrayQuantDefaults);
  const auto run = [&](const AxbxpConfig& cfg, const LabelledImages& imgs) {
    apply_config(cfg, q8);
    return run_images(q8, imgs, table, job.factory, job.jobs);
  };

  // The configuration: searched on the selection images, or read.
  const AxbxpConfig exact = exact_config(q8);
  const ImageSetRun sel8 = run(exact, sel);
  const ImageSetRun sel16 = run_images(q16, sel, table, job.factory, job.jobs);
  if (job.config.empty()) {
    r.searched = true;
    inform(fmt::format("exact 8-bit: {}/{} selection images correct", sel8.hits(), sel.files.size()));
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < q8.layers().size(); ++i) {
      if (layer_mode(q8, i) == golden::Mode::k8) order.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return layer_macs(q8, a) > layer_macs(q8, b); });
    AxbxpConfig cur = exact;
    const double n = static_cast<double>(sel.files.size());
    for (const std::size_t layer : order) {
      for (int c = golden::approx_family_max(golden::Mode::k8); c >= 1; --c) {
        AxbxpConfig cand = cur;
        cand.layers[layer] = golden::approx_family(golden::Mode::k8, c);
        const ImageSetRun res = run(cand, sel);
        SearchStep s{layer, c, res.hits(), false};
        const double drop = 100.0 * (static_cast<double>(sel8.hits()) - static_cast<double>(res.hits())) / n;
        s.accepted = drop <= job.max_drop_pp + 1e-9;
        r.steps.push_back(s);
        inform(fmt::format("layer {:>3} ({}) c{}: {}/{} correct, drop {:.2f} pp: {}", layer, layer_name(q8, layer), c,
                           res.hits(), sel.files.size(), drop, s.accepted ? "accepted" : "rejected"));
        if (s.accepted) {
          cur = cand;
          break;
        }
      }
    }
    r.config = cur;
  } else {
    r.config = load_config(job.config, q8);
  }
  for (std::size_t i = 0; i < q8.layers().size(); ++i) {
    r.layers.push_back(
        AxbxpLayerRow{i, layer_name(q8, i), golden::bits(layer_mode(q8, i)), layer_macs(q8, i), r.config.layers[i]});
  }
  const std::string cfg_name = r.searched ? "8-bit, per-layer search" : "8-bit, configuration " + job.config;
  {
    const ImageSetRun selc = run(r.config, sel);
    r.selection.push_back(make_point("16-bit exact", sel16, sel8, sel16, job.boot));
    r.selection.push_back(make_point("8-bit exact", sel8, sel8, sel16, job.boot));
    r.selection.push_back(make_point(cfg_name, selc, sel8, sel16, job.boot));
  }

  // Evaluation images: static 16, exact 8, every uniform family member, the configuration.
  const ImageSetRun ev16 = run_images(q16, eva, table, job.factory, job.jobs);
  const ImageSetRun ev8 = run(exact, eva);
  r.evaluation.push_back(make_point("16-bit exact", ev16, ev8, ev16, job.boot));
  r.evaluation.push_back(make_point("8-bit exact", ev8, ev8, ev16, job.boot));
  for (int c = 1; c <= golden::approx_family_max(golden::Mode::k8); ++c) {
    const ImageSetRun u = run(uniform_config(q8, golden::Mode::k8, c), eva);
    r.evaluation.push_back(make_point(fmt::format("8-bit, uniform c{}", c), u, ev8, ev16, job.boot));
  }
  r.evaluation.push_back(make_point(cfg_name, run(r.config, eva), ev8, ev16, job.boot));

  std::filesystem::create_directories(job.out);
  if (r.searched)
    util::write_file((std::filesystem::path(job.out) / "axbxp_config.json").string(), config_json(r.config, q8));
  util::write_file((std::filesystem::path(job.out) / "axbxp.md").string(), axbxp_report(r));
  return r;
}

std::string axbxp_report(const AxbxpResult& r) {
  std::string s = fmt::format(
      "# Ax-BxP: {}\n\nimages: {} ({} selection images at even positions, {} evaluation "
      "images at odd positions); energy: {}\n",
      r.model, r.image_dir, r.selection_images, r.evaluation_images, r.energy_source);
  if (r.searched)
    s += fmt::format("search budget: top-1 drop <= {} pp vs exact 8-bit on the selection images\n", r.max_drop_pp);
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
  s += "\n## Per-layer configuration\n\n| layer | name | bits | MACs | configuration |\n|---|---|---|---|---|\n";
  for (const AxbxpLayerRow& l : r.layers) {
    const golden::Mode m = l.bits == 16 ? golden::Mode::k16 : l.bits == 8 ? golden::Mode::k8 : golden::Mode::k4;
    s += fmt::format("| {} | {} | {} | {} | {} |\n", l.layer, l.name, l.bits, l.macs, approx_text(l.approx, m));
  }
  if (!r.steps.empty()) {
    s += "\n## Search steps (selection images)\n\n| layer | c | correct | accepted |\n|---|---|---|---|\n";
    for (const SearchStep& st : r.steps)
      s += fmt::format("| {} | c{} | {}/{} | {} |\n", st.layer, st.c, st.hits, r.selection_images,
                       st.accepted ? "yes" : "no");
  }
  return s;
}

}  // namespace bitscale::study
