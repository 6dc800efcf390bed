#include "bitscale/study/netbench.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/model/load.hpp"
#include "bitscale/quant/calibrate.hpp"

namespace bitscale::study {

namespace {

using Clock = std::chrono::steady_clock;
using Warn = std::function<void(const std::string&)>;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The decodable images among `files` (the others reported through warn).
std::vector<data::Image> load_images(const std::vector<std::string>& files, const model::Network& net,
                                     const Warn& warn) {
  std::vector<data::Image> imgs;
  for (const auto& f : files) {
    try {
      imgs.push_back(data::load_for_model(f, net.input_h(), net.input_w()));
    } catch (const std::exception& e) {
      warn(fmt::format("skipping {}: {}", f, e.what()));
    }
  }
  return imgs;
}

// Seconds per image of the first `n` images on one session of `engine`; the cycles of the last.
double time_images(const Engine& engine, const std::vector<data::Image>& imgs, int n, std::uint64_t* cycles) {
  auto session = engine.session();
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const auto p = session->run(imgs[static_cast<std::size_t>(i)].rgb);
    if (cycles && p.counters) *cycles = p.counters->cycles;
  }
  return seconds_since(t0) / n;
}

// Utilization per layer type (counters of one image on the functional back-end = the RTL's).
void layer_type_figures(const Engine& golden, const data::Image& img, const AcceleratorFactory& factory,
                        NetBenchResult& r) {
  auto acc = factory(driver::Backend::kGolden);
  quant::QuantRunOptions ro;
  ro.record_layer_counters = true;
  const quant::QuantResult q = golden.quantized()->run(*acc, img.rgb, ro);
  r.pes = static_cast<double>(acc->hw().rows) * acc->hw().cols;
  r.lanes = 16 / r.bits;
  std::map<std::string, LayerTypeFigures> by_kind;
  for (std::size_t i = 0; i < q.layer_counters.size(); ++i) {
    const std::string kind = layer_kind(golden.quantized()->layers()[i].prepared.layer.shape);
    by_kind[kind].type = kind;
    by_kind[kind].add(q.layer_counters[i]);
    r.total.add(q.layer_counters[i]);
    LayerFigures f = layer_figures(golden.quantized()->layers()[i].prepared, acc->hw(), acc->depthwise_mapping(),
                                   acc->shift_mapping());
    f.index = static_cast<int>(i);
    f.counters = q.layer_counters[i];
    r.layers.push_back(std::move(f));
  }
  for (auto& [kind, f] : by_kind) r.types.push_back(std::move(f));
}

}  // namespace

void LayerTypeFigures::add(const driver::Counters& c) {
  layers += 1;
  macs += c.macs_total();
  array += c.array;
  busy += c.busy;
  cycles += c.cycles;
  xfer += c.xfer;
  overlap += c.overlap;
}

double NetBenchResult::utilization(const LayerTypeFigures& f) const {
  return f.array ? static_cast<double>(f.macs) / (static_cast<double>(f.array) * pes * lanes) : 0.0;
}

double NetBenchResult::utilization(const LayerFigures& f) const {
  return f.counters.array
             ? static_cast<double>(f.counters.macs_total()) / (static_cast<double>(f.counters.array) * pes * lanes)
             : 0.0;
}

std::string layer_kind(const golden::ConvShape& s) {
  if (s.groups > 1 && s.groups == s.in_c) return "depthwise";
  if (s.groups > 1) return "grouped conv";
  if (s.in_h == 1 && s.in_w == 1 && s.k_h == 1 && s.k_w == 1) return "fully connected";
  if (s.k_h == 1 && s.k_w == 1) return "pointwise conv (1x1)";
  return fmt::format("conv {}x{}", s.k_h, s.k_w);
}

LayerFigures layer_figures(const driver::PreparedLayer& pl, const driver::HwConfig& hw, driver::DepthwiseMapping dw,
                           driver::ShiftMapping shifts) {
  const golden::Layer& layer = pl.layer;
  const golden::ConvShape& s = layer.shape;
  LayerFigures f;
  f.kind = layer_kind(s);
  f.m = s.out_h() * s.out_w();
  f.n = s.out_c;
  f.k = pl.k;
  f.groups = s.groups;
  std::vector<int> distinct = layer.channel_shift;
  std::sort(distinct.begin(), distinct.end());
  f.shifts = std::max<int>(1, static_cast<int>(std::unique(distinct.begin(), distinct.end()) - distinct.begin()));
  const driver::TilePlan plan = driver::plan_tiles(pl, hw, dw, driver::Transfer::kSerial, shifts);
  f.col_shift = plan.col_shift;
  f.dw = plan.dw;
  f.m_tiles = plan.m_tiles;
  f.ragged_m = f.m % hw.rows != 0;
  const auto array_of = [&](const driver::TilePlan& p) {
    return static_cast<std::uint64_t>(p.tiles.size()) * static_cast<std::uint64_t>(pl.kw);
  };
  for (const driver::GroupPlan& gp : plan.groups) f.n_tiles += static_cast<int>(gp.ntiles.size());
  // The same layer with one shift: n-tiles of up to Cols consecutive channels.
  driver::PreparedLayer one = pl;
  one.layer.channel_shift.clear();
  const driver::TilePlan plan1 = driver::plan_tiles(one, hw, dw);
  int n_tiles1 = 0;
  for (const driver::GroupPlan& gp : plan1.groups) {
    n_tiles1 += static_cast<int>(gp.ntiles.size());
    if (static_cast<int>(gp.order.size()) % hw.cols != 0) ++f.n_tiles_short_n;
  }
  f.n_tiles_shift = f.n_tiles - n_tiles1;
  f.array_one_shift = array_of(plan1);
  f.useful_macs = static_cast<std::uint64_t>(f.m) * static_cast<std::uint64_t>(f.n) * static_cast<std::uint64_t>(f.k);
  return f;
}

double rounded(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

NetBenchResult run_netbench(const NetBenchJob& job, const Warn& warn_cb) {
  const Warn warn = warn_cb ? warn_cb : Warn([](const std::string&) {});
  const data::DataPaths d = data::default_data_paths();
  NetBenchResult r;
  r.model = job.model.empty() ? d.model : job.model;
  r.bits = job.bits;
  const std::string image_dir = job.images.empty() ? d.images : job.images;
  if (r.model.empty() || image_dir.empty()) throw std::invalid_argument("no --model/--images and no default data");
  const model::Model model = model::load_model(r.model);
  const model::Network net(model);
  r.macs_per_image = net.macs();
  const auto split = data::split_even_odd(data::list_images(image_dir));
  const quant::Calibration calib =
      quant::obtain_calibration(net, job.calib, split.calibration, job.calib_limit, 2, warn);
  const std::vector<data::Image> imgs =
      load_images(data::spread(split.evaluation, std::max(job.golden_images, job.rtl_images)), net, warn);
  if (imgs.empty()) throw std::runtime_error(fmt::format("no decodable image in '{}'", image_dir));

  // Golden (functional) back-end, one thread.
  const Engine golden(
      net, ArrayConfig{.backend = Backend::kGolden, .bits = job.bits, .calib = &calib, .weight_fl = job.weight_fl},
      job.factory);
  r.golden_images = std::max(1, std::min<int>(job.golden_images, static_cast<int>(imgs.size())));
  r.golden_s = time_images(golden, imgs, r.golden_images, nullptr);
  layer_type_figures(golden, imgs[0], job.factory, r);
  if (job.rtl_images > 0) {
    const Engine rtl(
        net, ArrayConfig{.backend = Backend::kRtl, .bits = job.bits, .calib = &calib, .weight_fl = job.weight_fl},
        job.factory);
    r.rtl_images = std::min<int>(job.rtl_images, static_cast<int>(imgs.size()));
    r.rtl_s = time_images(rtl, imgs, r.rtl_images, &r.rtl_cycles);
  }
  return r;
}

std::string netbench_report(const NetBenchResult& r) {
  std::string s = fmt::format("model {} ({} MACs/image), {}-bit\n", r.model, r.macs_per_image, r.bits);
  s += fmt::format("golden: {:.1f} images/s on one core ({:.1f} ms per image, {} images)\n", 1.0 / r.golden_s,
                   r.golden_s * 1e3, r.golden_images);
  s += fmt::format("array utilization per layer type (MACs / (array cycles x {} PEs x {} lanes)):\n", r.pes, r.lanes);
  s += fmt::format("  {:<22} {:>6} {:>14} {:>12} {:>12} {:>9} {:>9}\n", "layer type", "layers", "MACs", "array cyc",
                   "all cycles", "util", "of time");
  for (const LayerTypeFigures& a : r.types) {
    s += fmt::format("  {:<22} {:>6} {:>14} {:>12} {:>12} {:>8.1f}% {:>8.1f}%\n", a.type, a.layers, a.macs, a.array,
                     a.cycles, 100 * r.utilization(a),
                     100.0 * static_cast<double>(a.cycles) / static_cast<double>(r.total.cycles));
  }
  s += fmt::format("  {:<22} {:>6} {:>14} {:>12} {:>12} {:>8.1f}%\n", "all MAC layers", r.total.layers, r.total.macs,
                   r.total.array, r.total.cycles, 100 * r.utilization(r.total));
  if (r.total.xfer > 0) {
    s += fmt::format("transfers: {} scratchpad beats, {} overlapped with a tile ({:.1f} %); busy {} of {} cycles\n",
                     r.total.xfer, r.total.overlap,
                     100.0 * static_cast<double>(r.total.overlap) / static_cast<double>(r.total.xfer), r.total.busy,
                     r.total.cycles);
  }
  if (r.rtl_images > 0) {
    s += fmt::format("rtl: {:.2f} s per image ({} cycles per image, {:.0f} simulated cycles/s, {} images)\n", r.rtl_s,
                     r.rtl_cycles, static_cast<double>(r.rtl_cycles) / r.rtl_s, r.rtl_images);
  }
  return s;
}

std::string netbench_layer_report(const NetBenchResult& r) {
  std::string s = fmt::format(
      "per MAC layer (n-tiles: all / added by per-channel shifts / short by N mod Cols; 1-shift util: the same plan "
      "with one shift per layer):\n");
  s += fmt::format("  {:>3} {:<22} {:>2} {:>6} {:>5} {:>5} {:>6} {:>7} {:>6} {:>5} {:>3} {:>9} {:>7} {:>7}\n", "#",
                   "kind", "dw", "M", "N", "K", "shifts", "m-tiles", "n-tls", "+shft", "N%C", "array cyc", "util",
                   "1-shift");
  for (const LayerFigures& f : r.layers) {
    const double one_shift = f.array_one_shift ? static_cast<double>(f.counters.macs_total()) /
                                                     (static_cast<double>(f.array_one_shift) * r.pes * r.lanes)
                                               : 0.0;
    s += fmt::format(
        "  {:>3} {:<22} {:>2} {:>6} {:>5} {:>5} {:>6} {:>6}{} {:>6} {:>5} {:>3} {:>9} {:>6.1f}% {:>6.1f}%\n", f.index,
        f.kind, f.dw ? "y" : "", f.m, f.n, f.k, f.shifts, f.m_tiles, f.ragged_m ? "r" : " ", f.n_tiles, f.n_tiles_shift,
        f.n_tiles_short_n, f.counters.array, 100 * r.utilization(f), 100 * one_shift);
  }
  return s;
}

std::string netbench_json(const NetBenchResult& r) {
  using J = nlohmann::ordered_json;
  auto types = J::array();
  for (const LayerTypeFigures& a : r.types) {
    types.push_back({{"type", a.type},
                     {"layers", a.layers},
                     {"macs", a.macs},
                     {"array_cycles", a.array},
                     {"cycles", a.cycles},
                     {"utilization", rounded(r.utilization(a), 4)}});
  }
  auto layers = J::array();
  for (const LayerFigures& f : r.layers) {
    layers.push_back({{"index", f.index},
                      {"kind", f.kind},
                      {"dw", f.dw},
                      {"col_shift", f.col_shift},
                      {"m", f.m},
                      {"n", f.n},
                      {"k", f.k},
                      {"groups", f.groups},
                      {"shifts", f.shifts},
                      {"m_tiles", f.m_tiles},
                      {"ragged_m", f.ragged_m},
                      {"n_tiles", f.n_tiles},
                      {"n_tiles_shift", f.n_tiles_shift},
                      {"n_tiles_short_n", f.n_tiles_short_n},
                      {"tiles", f.counters.tiles},
                      {"macs", f.counters.macs_total()},
                      {"useful_macs", f.useful_macs},
                      {"array_cycles", f.counters.array},
                      {"cycles", f.counters.cycles},
                      {"array_cycles_one_shift", f.array_one_shift},
                      {"utilization", rounded(r.utilization(f), 4)}});
  }
  const J j{{"model", r.model},
            {"bits", r.bits},
            {"golden_images_per_s", rounded(1.0 / r.golden_s, 3)},
            {"rtl_s_per_image", rounded(r.rtl_s, 3)},
            {"rtl_cycles_per_image", r.rtl_cycles},
            {"utilization", rounded(r.utilization(r.total), 4)},
            {"cycles", r.total.cycles},
            {"busy_cycles", r.total.busy},
            {"array_cycles", r.total.array},
            {"xfer_beats", r.total.xfer},
            {"overlap_beats", r.total.overlap},
            {"layer_types", types},
            {"layers", layers}};
  return j.dump(-1, ' ', false, J::error_handler_t::replace) + "\n";
}

}  // namespace bitscale::study
