#include "regress.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <fstream>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/util/json.hpp"
#include "progress.hpp"
#include "random_layer.hpp"

namespace bitscale::cli {

namespace json = util::json;

namespace {

using golden::Mode;
using golden::PackedTensor;

// First differing word of two tensors of the same shape, described with coordinates.
std::string first_difference(const PackedTensor& a, const char* an, const PackedTensor& b, const char* bn) {
  if (a.h != b.h || a.w != b.w || a.c != b.c || a.words.size() != b.words.size()) {
    return fmt::format("shape {}x{}x{} ({}) vs {}x{}x{} ({})", a.h, a.w, a.c, an, b.h, b.w, b.c, bn);
  }
  std::size_t n = 0, first = a.words.size();
  for (std::size_t i = 0; i < a.words.size(); ++i) {
    if (a.words[i] != b.words[i]) {
      if (n++ == 0) first = i;
    }
  }
  if (n == 0) return {};
  const std::size_t wpp = a.words_per_pixel();
  const std::size_t pix = first / wpp, word = first % wpp;
  const int P = golden::lanes(a.mode);
  const int y = static_cast<int>(pix / static_cast<std::size_t>(a.w)),
            x = static_cast<int>(pix % static_cast<std::size_t>(a.w));
  std::string lanes;
  for (int l = 0; l < P; ++l) {
    const int ch = static_cast<int>(word) * P + l;
    if (ch >= a.c) break;
    lanes += fmt::format(" c{}:{}/{}", ch, a.at(y, x, ch), b.at(y, x, ch));
  }
  return fmt::format(
      "{} of {} words differ; first at pixel (y={}, x={}) word {}: {} {:#06x} vs {} {:#06x} (lanes {}/{}:{})", n,
      a.words.size(), y, x, word, an, a.words[first], bn, b.words[first], an, bn, lanes);
}

std::string counter_difference(const driver::Counters& a, const driver::Counters& b) {
  std::string s;
  auto cmp = [&](const char* name, std::uint64_t x, std::uint64_t y) {
    if (x != y) s += fmt::format(" {} rtl={} other={}", name, x, y);
  };
  cmp("cycles", a.cycles, b.cycles);
  cmp("busy", a.busy, b.busy);
  cmp("array", a.array, b.array);
  cmp("mac16", a.mac16, b.mac16);
  cmp("mac8", a.mac8, b.mac8);
  cmp("mac4", a.mac4, b.mac4);
  cmp("spad_rd", a.spad_rd, b.spad_rd);
  cmp("spad_wr", a.spad_wr, b.spad_wr);
  cmp("tiles", a.tiles, b.tiles);
  return s;
}

struct ModeSummary {
  Mode mode;
  std::uint64_t layers = 0, exact = 0, failed = 0;
  std::uint64_t macs = 0, rtl_cycles = 0, tiles = 0;
  std::uint64_t channel_shifts = 0;  ///< layers with per-channel shifts
  double seconds = 0;
  std::vector<std::string> reports;
};

}  // namespace

std::uint64_t run_regress(const RegressOptions& opts) {
  // Open the summary file first: a long run must not end unable to write its results.
  std::ofstream json;
  if (!opts.json.empty()) {
    json.open(opts.json);
    if (!json) throw std::runtime_error(fmt::format("cannot write '{}'", opts.json));
  }
  driver::DeviceOptions dopts;
  dopts.trace_fst = opts.fst;
  dopts.seed = opts.seed;
  const auto rtl_dev = driver::make_device("rtl", dopts);
  const auto gold_dev = driver::make_device("golden");
  driver::Accelerator rtl_acc(*rtl_dev), gold_acc(*gold_dev);
  driver::Accelerator fast_acc(driver::default_hw_config());  // functional golden back-end

  std::vector<ModeSummary> summaries;
  std::uint64_t failed_total = 0;
  Progress progress(opts.progress);
  for (Mode mode : opts.modes) {
    ModeSummary sum;
    sum.mode = mode;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t i = opts.first; i < opts.first + opts.count; ++i) {
      const std::uint64_t cseed = case_seed(opts.seed, mode, i);
      std::string problem;
      try {
        const RandomCase rc = random_case(cseed, mode, opts.max_k);
        sum.channel_shifts += rc.layer.channel_shift.empty() ? 0 : 1;
        const auto prepared = rtl_acc.prepare(rc.layer);
        const PackedTensor ref = golden::conv2d(rc.layer, rc.input);

        const auto r0 = rtl_acc.counters();
        const std::uint64_t a0 = rtl_dev->assertion_failures();
        const PackedTensor out_rtl = rtl_acc.run(prepared, rc.input);
        const auto r1 = rtl_acc.counters();
        const auto g0 = gold_acc.counters();
        const PackedTensor out_gold = gold_acc.run(prepared, rc.input);
        const auto g1 = gold_acc.counters();
        const auto f0 = fast_acc.counters();
        const PackedTensor out_fast = fast_acc.run(prepared, rc.input);
        const auto f1 = fast_acc.counters();
        const auto drtl = r1 - r0, dgold = g1 - g0, dfast = f1 - f0;

        if (auto d = first_difference(out_rtl, "rtl", out_gold, "golden"); !d.empty()) problem += " data: " + d + ";";
        if (auto d = first_difference(out_gold, "golden", ref, "reference"); !d.empty())
          problem += " tiling: " + d + ";";
        if (auto d = counter_difference(drtl, dgold); !d.empty()) problem += " counters:" + d + ";";
        if (auto d = first_difference(out_fast, "functional", out_gold, "golden"); !d.empty())
          problem += " functional: " + d + ";";
        if (auto d = counter_difference(drtl, dfast); !d.empty()) problem += " functional counters:" + d + ";";
        if (dgold.macs(mode) != static_cast<std::uint64_t>(rc.layer.shape.macs())) {
          problem += fmt::format(" MAC counter {} != layer MACs {};", dgold.macs(mode), rc.layer.shape.macs());
        }
        if (rtl_dev->assertion_failures() != a0) {
          problem += fmt::format(" {} RTL assertion(s) failed;", rtl_dev->assertion_failures() - a0);
        }
        if (problem.empty()) {
          ++sum.exact;
        } else {
          problem = fmt::format("{}{} [{}]{}", rc.kind, rc.layer.channel_shift.empty() ? "" : " (per-channel shifts)",
                                rc.layer.shape.to_string(), problem);
        }
        sum.macs += drtl.macs(mode);
        sum.rtl_cycles += drtl.cycles;
        sum.tiles += drtl.tiles;
      } catch (const std::exception& e) {
        problem = fmt::format("exception: {}", e.what());
      }
      ++sum.layers;
      if (!problem.empty()) {
        ++sum.failed;
        if (static_cast<int>(sum.reports.size()) < opts.max_report) {
          sum.reports.push_back(
              fmt::format("  MISMATCH {} layer {} (case seed {:#018x}; replay: bitscale regress --seed {} --mode {} "
                          "--first {} --count 1): {}",
                          golden::to_string(mode), i, cseed, opts.seed, golden::bits(mode), i, problem));
          progress.finish();
          fmt::print("{}\n", sum.reports.back());
        }
      }
      progress.update(fmt::format("regress {}: {}/{} layers, {} mismatching", golden::to_string(mode), sum.layers,
                                  opts.count, sum.failed));
    }
    progress.finish();
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print(
        "regress {:>6}: {} layers, {} bit-exact (rtl == golden device == functional golden == reference, counters "
        "equal), {} mismatching; "
        "{:.2f} M MACs in {} tiles, {} rtl cycles, {} layers with per-channel shifts, {:.1f} s\n",
        golden::to_string(mode), sum.layers, sum.exact, sum.failed, static_cast<double>(sum.macs) / 1e6, sum.tiles,
        sum.rtl_cycles, sum.channel_shifts, sum.seconds);
    failed_total += sum.failed;
    summaries.push_back(std::move(sum));
  }

  if (json.is_open()) {
    auto& f = json;
    f << fmt::format("{{\"seed\": {}, \"first\": {}, \"count\": {}, \"modes\": [", opts.seed, opts.first, opts.count);
    for (std::size_t i = 0; i < summaries.size(); ++i) {
      const auto& s = summaries[i];
      std::string reps;
      for (std::size_t j = 0; j < s.reports.size(); ++j) {
        reps += fmt::format("{}{}", j ? ", " : "", json::quote(s.reports[j]));
      }
      f << fmt::format(
          "{}{{\"bits\": {}, \"layers\": {}, \"bit_exact\": {}, \"mismatching\": {}, \"macs\": {}, "
          "\"tiles\": {}, \"rtl_cycles\": {}, \"channel_shift_layers\": {}, \"seconds\": {:.3f}, "
          "\"reports\": [{}]}}",
          i ? ", " : "", golden::bits(s.mode), s.layers, s.exact, s.failed, s.macs, s.tiles, s.rtl_cycles,
          s.channel_shifts, s.seconds, reps);
    }
    f << "]}\n";
  }
  return failed_total;
}

}  // namespace bitscale::cli
