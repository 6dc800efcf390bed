#include "bench.hpp"

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <functional>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"
#include "random_layer.hpp"

namespace bitscale::cli {

namespace {

using Clock = std::chrono::steady_clock;

// Repeats fn until at least `seconds` have passed; returns seconds per call.
double time_per_call(double seconds, const std::function<void()>& fn, int* reps_out = nullptr) {
  int reps = 0;
  const auto t0 = Clock::now();
  double el = 0;
  do {
    fn();
    ++reps;
    el = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (el < seconds);
  if (reps_out) *reps_out = reps;
  return el / reps;
}

// The fixed benchmark layer: 3x3 convolution, 14x14x64 -> 14x14x64, pad 1, 8-bit.
golden::Layer bench_layer(golden::PackedTensor& input) {
  golden::Layer l;
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
  input = golden::PackedTensor::from_values(14, 14, 64, l.mode, in);
  return l;
}

}  // namespace

void run_bench(const BenchOptions& opts) {
  namespace rm = regmap;
  golden::PackedTensor input;
  const golden::Layer layer = bench_layer(input);
  const double macs = static_cast<double>(layer.shape.macs());
  fmt::print("bench layer: conv {} (8-bit), {:.2f} M MACs\n", layer.shape.to_string(), macs / 1e6);

  // 1. RTL, array-bound: one 16-bit tile with K = 8192 on the full 16x16 array.
  const auto rtl_dev = driver::make_device("rtl");
  driver::Accelerator rtl_acc(*rtl_dev);
  rtl_acc.write_reg(rm::kRegMODE, rm::kMode16);
  rtl_acc.write_reg(rm::kRegK, 8192);
  rtl_acc.write_reg(rm::kRegROWS_ACT, 16);
  rtl_acc.write_reg(rm::kRegCOLS_ACT, 16);
  std::uint64_t tile_cycles = 0;
  const double t_tile = time_per_call(opts.seconds, [&] {
    rtl_acc.write_reg(rm::kRegCTRL, 1u << rm::kCtrlStart);
    const auto w = rtl_dev->wait(1u << 20);
    if (!w.done) throw std::runtime_error("bench: the array-bound tile did not complete");
    tile_cycles = w.cycles + 1;  // + the START write
  });
  const double array_cps = static_cast<double>(tile_cycles) / t_tile;

  // 2. RTL, whole layer through the driver (bus traffic included).
  std::uint64_t layer_cycles = 0;
  const auto prepared = rtl_acc.prepare(layer);
  golden::PackedTensor out_rtl;
  const double t_rtl = time_per_call(opts.seconds, [&] {
    const auto c0 = rtl_acc.counters().cycles;
    out_rtl = rtl_acc.run(prepared, input);
    layer_cycles = rtl_acc.counters().cycles - c0;
  });
  const double layer_cps = static_cast<double>(layer_cycles) / t_rtl;

  // 3. Golden device through the same driver; 4. untiled golden reference.
  const auto gold_dev = driver::make_device("golden");
  driver::Accelerator gold_acc(*gold_dev);
  golden::PackedTensor out_gold, out_ref;
  const double t_gold = time_per_call(opts.seconds, [&] { out_gold = gold_acc.run(prepared, input); });
  driver::Accelerator fast_acc(driver::default_hw_config());
  golden::PackedTensor out_fast;
  const double t_fast = time_per_call(opts.seconds, [&] { out_fast = fast_acc.run(prepared, input); });
  const double t_ref = time_per_call(opts.seconds, [&] { out_ref = golden::conv2d(layer, input); });
  if (!(out_rtl == out_gold) || !(out_gold == out_ref) || !(out_fast == out_ref)) {
    throw std::runtime_error("bench: back-ends disagree on the benchmark layer (run bitscale regress)");
  }

  fmt::print("rtl    array-bound tile (16x16, 16-bit, K=8192): {:>10.0f} simulated cycles/s\n", array_cps);
  fmt::print("rtl    layer via driver: {:>8.3f} s/layer, {} cycles, {:>10.0f} simulated cycles/s, {:>8.2f} M MAC/s\n",
             t_rtl, layer_cycles, layer_cps, macs / t_rtl / 1e6);
  fmt::print("golden layer via driver (golden device): {:>8.4f} s/layer, {:>8.1f} M MAC/s, {:>6.0f}x the rtl\n", t_gold,
             macs / t_gold / 1e6, t_rtl / t_gold);
  fmt::print("golden functional back-end (driver):     {:>8.4f} s/layer, {:>8.1f} M MAC/s, {:>6.0f}x the rtl\n", t_fast,
             macs / t_fast / 1e6, t_rtl / t_fast);
  fmt::print("golden reference conv2d (untiled):       {:>8.4f} s/layer, {:>8.1f} M MAC/s, {:>6.0f}x the rtl\n", t_ref,
             macs / t_ref / 1e6, t_rtl / t_ref);
  if (!opts.json.empty()) {
    std::ofstream f(opts.json);
    if (!f) throw std::runtime_error(fmt::format("cannot write '{}'", opts.json));
    f << fmt::format(
        "{{\"layer_macs\": {}, \"rtl_array_cycles_per_s\": {:.0f}, \"rtl_layer_s\": {:.6f}, \"rtl_layer_cycles\": {}, "
        "\"rtl_layer_cycles_per_s\": {:.0f}, \"golden_device_layer_s\": {:.6f}, \"golden_device_mac_per_s\": {:.0f}, "
        "\"golden_functional_layer_s\": {:.6f}, \"golden_reference_layer_s\": {:.6f}, \"golden_reference_mac_per_s\": "
        "{:.0f}}}\n",
        layer.shape.macs(), array_cps, t_rtl, layer_cycles, layer_cps, t_gold, macs / t_gold, t_fast, t_ref,
        macs / t_ref);
  }
}

}  // namespace bitscale::cli
