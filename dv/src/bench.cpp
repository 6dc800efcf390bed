#include "bitscale/dv/bench.hpp"

#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"

namespace bitscale::dv {

namespace {

using Clock = std::chrono::steady_clock;

// Repeats fn until at least `seconds` have passed; returns seconds per call.
double time_per_call(double seconds, const std::function<void()>& fn) {
  int reps = 0;
  const auto t0 = Clock::now();
  double el = 0;
  do {
    fn();
    ++reps;
    el = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (el < seconds);
  return el / reps;
}

}  // namespace

BenchLayer bench_layer() {
  BenchLayer b;
  golden::Layer& l = b.layer;
  l.shape.in_h = l.shape.in_w = 14;
  l.shape.in_c = 64;
  l.shape.out_c = 64;
  l.shape.k_h = l.shape.k_w = 3;
  l.shape.pad_top = l.shape.pad_left = l.shape.pad_bottom = l.shape.pad_right = 1;
  l.mode = golden::Mode::k8;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> v(-128, 127);
  l.weights.resize(static_cast<std::size_t>(l.shape.weight_count()));
  for (auto& w : l.weights) w = v(rng);
  l.bias.assign(64, 1000);
  l.out.shift = 9;
  l.out.relu = true;
  std::vector<std::int32_t> in(14 * 14 * 64);
  for (auto& x : in) x = v(rng);
  b.input = golden::PackedTensor::from_values(14, 14, 64, l.mode, in);
  return b;
}

namespace {

/// The RTL figures: 1. an array-bound tile, 2. the bench layer through the driver (into out_rtl).
void run_rtl(double seconds, driver::Device& rtl_dev, const driver::PreparedLayer& prepared, const BenchLayer& b,
             BenchResult& r, golden::PackedTensor& out_rtl) {
  namespace rm = regmap;
  // 1. RTL, array-bound: one 16-bit tile with K = 8192 on the full 16x16 array.
  driver::Accelerator rtl_acc(rtl_dev);
  rtl_acc.write_reg(rm::kRegMODE, rm::kMode16);
  rtl_acc.write_reg(rm::kRegK, 8192);
  rtl_acc.write_reg(rm::kRegROWS_ACT, 16);
  rtl_acc.write_reg(rm::kRegCOLS_ACT, 16);
  std::uint64_t tile_cycles = 0;
  const double t_tile = time_per_call(seconds, [&] {
    rtl_acc.write_reg(rm::kRegCTRL, 1u << rm::kCtrlStart);
    const auto w = rtl_dev.wait(1u << 20);
    if (!w.done) throw std::runtime_error("bench: the array-bound tile did not complete");
    tile_cycles = w.cycles + 1;  // + the START write
  });
  r.rtl_array_cycles_per_s = static_cast<double>(tile_cycles) / t_tile;

  // 2. RTL, whole layer through the driver (bus traffic included).
  r.rtl_layer_s = time_per_call(seconds, [&] {
    const auto c0 = rtl_acc.counters().cycles;
    out_rtl = rtl_acc.run(prepared, b.input);
    r.rtl_layer_cycles = rtl_acc.counters().cycles - c0;
  });
}

}  // namespace

BenchResult run_bench(double seconds) {
  const BenchLayer b = bench_layer();
  BenchResult r;
  r.layer_macs = b.layer.shape.macs();

  // 0. The int16 MAC peak of one core with the MAC instruction of the GEMM kernel in use.
  r.gemm_kernel = golden::gemm_kernel();
  if (r.gemm_kernel != "generic") r.int16_peak_mac_per_s = golden::int16_mac_peak(r.gemm_kernel, seconds);

  driver::Accelerator fast_acc(driver::default_hw_config());
  const driver::PreparedLayer prepared = fast_acc.prepare(b.layer);
  golden::PackedTensor out_rtl, out_gold, out_ref, out_sealed, out_fast;
  std::unique_ptr<driver::Device> rtl_dev;
  try {
    rtl_dev = driver::make_device("rtl");
  } catch (const std::invalid_argument&) {  // configured with -DBITSCALE_RTL=OFF: the golden figures only
    r.rtl = false;
  }
  if (r.rtl) run_rtl(seconds, *rtl_dev, prepared, b, r, out_rtl);

  // 3. Golden device through the same driver; 4. functional back-end (the layer sealed, as
  // QuantizedNetwork runs it); 5. untiled reference, unsealed and sealed.
  const auto gold_dev = driver::make_device("golden");
  driver::Accelerator gold_acc(*gold_dev);
  r.golden_device_layer_s = time_per_call(seconds, [&] { out_gold = gold_acc.run(prepared, b.input); });
  driver::PreparedLayer sealed = prepared;
  golden::seal(sealed.layer);
  r.golden_functional_layer_s = time_per_call(seconds, [&] { fast_acc.run(sealed, b.input, out_fast); });
  r.golden_reference_layer_s = time_per_call(seconds, [&] { out_ref = golden::conv2d(b.layer, b.input); });
  r.golden_sealed_layer_s = time_per_call(seconds, [&] { golden::conv2d(sealed.layer, b.input, out_sealed); });
  if ((r.rtl && !(out_rtl == out_gold)) || !(out_gold == out_ref) || !(out_fast == out_ref) ||
      !(out_sealed == out_ref)) {
    throw std::runtime_error("bench: back-ends disagree on the benchmark layer (run bitscale regress)");
  }
  return r;
}

std::string bench_report(const BenchResult& r) {
  const double macs = static_cast<double>(r.layer_macs);
  const double t_rtl = r.rtl_layer_s, t_gold = r.golden_device_layer_s, t_fast = r.golden_functional_layer_s,
               t_ref = r.golden_reference_layer_s, t_sealed = r.golden_sealed_layer_s;
  std::string s;
  const auto vs_rtl = [&](double t) { return r.rtl ? fmt::format(", {:>6.0f}x the rtl", t_rtl / t) : std::string(); };
  if (r.rtl) {
    s += fmt::format("rtl    array-bound tile (16x16, 16-bit, K=8192): {:>10.0f} simulated cycles/s\n",
                     r.rtl_array_cycles_per_s);
    s += fmt::format(
        "rtl    layer via driver: {:>8.3f} s/layer, {} cycles, {:>10.0f} simulated cycles/s, {:>8.2f} M MAC/s\n", t_rtl,
        r.rtl_layer_cycles, static_cast<double>(r.rtl_layer_cycles) / t_rtl, macs / t_rtl / 1e6);
  } else {
    s += "rtl    not in this build (-DBITSCALE_RTL=OFF)\n";
  }
  s += fmt::format("golden layer via driver (golden device): {:>8.4f} s/layer, {:>8.1f} M MAC/s{}\n", t_gold,
                   macs / t_gold / 1e6, vs_rtl(t_gold));
  s += fmt::format("golden functional back-end (driver):     {:>8.4f} s/layer, {:>8.1f} M MAC/s{}\n", t_fast,
                   macs / t_fast / 1e6, vs_rtl(t_fast));
  s += fmt::format("golden reference conv2d (untiled):       {:>8.4f} s/layer, {:>8.1f} M MAC/s{}\n", t_ref,
                   macs / t_ref / 1e6, vs_rtl(t_ref));
  s += fmt::format("golden reference conv2d, sealed layer:   {:>8.4f} s/layer, {:>8.1f} M MAC/s{}\n", t_sealed,
                   macs / t_sealed / 1e6, vs_rtl(t_sealed));
  if (r.int16_peak_mac_per_s > 0) {
    s += fmt::format("int16 MAC peak of one core ({} MAC instruction): {:.1f} G MAC/s; sealed conv2d at {:.1f} %\n",
                     r.gemm_kernel, r.int16_peak_mac_per_s / 1e9, 100.0 * macs / t_sealed / r.int16_peak_mac_per_s);
  } else {
    s += fmt::format("int16 MAC peak: not measured (GEMM kernel '{}' has no SIMD MAC instruction)\n", r.gemm_kernel);
  }
  return s;
}

std::string bench_json(const BenchResult& r) {
  const double macs = static_cast<double>(r.layer_macs);
  nlohmann::json j;
  j["layer_macs"] = r.layer_macs;
  j["rtl"] = r.rtl;
  if (r.rtl) {
    j["rtl_array_cycles_per_s"] = r.rtl_array_cycles_per_s;
    j["rtl_layer_s"] = r.rtl_layer_s;
    j["rtl_layer_cycles"] = r.rtl_layer_cycles;
    j["rtl_layer_cycles_per_s"] = static_cast<double>(r.rtl_layer_cycles) / r.rtl_layer_s;
  }
  j["golden_device_layer_s"] = r.golden_device_layer_s;
  j["golden_device_mac_per_s"] = macs / r.golden_device_layer_s;
  j["golden_functional_layer_s"] = r.golden_functional_layer_s;
  j["golden_reference_layer_s"] = r.golden_reference_layer_s;
  j["golden_reference_mac_per_s"] = macs / r.golden_reference_layer_s;
  j["golden_sealed_layer_s"] = r.golden_sealed_layer_s;
  j["golden_sealed_mac_per_s"] = macs / r.golden_sealed_layer_s;
  j["gemm_kernel"] = r.gemm_kernel;
  j["int16_peak_mac_per_s"] = r.int16_peak_mac_per_s;
  j["golden_sealed_fraction_of_peak"] =
      r.int16_peak_mac_per_s > 0 ? macs / r.golden_sealed_layer_s / r.int16_peak_mac_per_s : 0.0;
  return j.dump() + "\n";
}

}  // namespace bitscale::dv
