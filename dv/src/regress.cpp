#include "bitscale/dv/regress.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/dv/scoreboard.hpp"
#include "bitscale/golden/counter_model.hpp"
#include "bitscale/golden/reference.hpp"
#include "bitscale/regmap.hpp"

namespace bitscale::dv {

namespace {

using golden::Mode;
using golden::PackedTensor;

// The scoreboard of one layer as the regression reports it: "data: ...; tiling: ...;".
std::string problems(const Scoreboard& sb) {
  std::string s;
  for (const Comparison& c : sb.comparisons()) {
    if (c.ok()) continue;
    const Mismatch& m = c.mismatches.front();
    if (c.what == "MAC counter") {
      s += fmt::format(" MAC counter {} != layer MACs {};", m.actual, m.expected);
    } else if (c.what == "RTL assertions") {
      s += fmt::format(" {} RTL assertion(s) failed;", m.actual - m.expected);
    } else {
      s += fmt::format(" {}: {};", c.what, c.summary());
    }
  }
  return s;
}

}  // namespace

// Many all-zero 4-bit blocks in the operands of a layer (zero-block gating, docs/NUMERICS.md):
// every block of every weight and input value cleared with probability p. Clearing a block of a
// B-bit two's complement pattern leaves a B-bit pattern, so the values stay in range.
void clear_blocks(Case& rc, std::mt19937_64& rng, double p) {
  const Mode mode = rc.layer.mode;
  const int bits = golden::bits(mode);
  std::bernoulli_distribution clear(p);
  const auto thin = [&](std::int32_t v) {
    auto u = static_cast<std::uint32_t>(v) & ((1u << bits) - 1u);
    for (int b = 0; b < bits / 4; ++b)
      if (clear(rng)) u &= ~(0xFu << (4 * b));
    // back to the signed value of the B-bit pattern
    return static_cast<std::int32_t>(u ^ (1u << (bits - 1))) - (1 << (bits - 1));
  };
  for (std::int32_t& w : rc.layer.weights) w = thin(w);
  std::vector<std::int32_t> in = rc.input.values();
  for (std::int32_t& v : in) v = thin(v);
  rc.input.assign_values(rc.input.h, rc.input.w, rc.input.c, mode, in);
  golden::seal(rc.layer);
}

std::string_view to_string(Xfer x) { return x == Xfer::kOff ? "off" : "random"; }

Xfer parse_xfer(std::string_view name) {
  for (const Xfer x : {Xfer::kOff, Xfer::kRandom}) {
    if (name == to_string(x)) return x;
  }
  throw std::invalid_argument(fmt::format("unknown transfer mix '{}' (expected off or random)", name));
}

namespace {
// The hazard probe of a layer run with a random transfer mix (docs/ARCHITECTURE.md "Bus"): the last tile
// of the run started again as it is configured, a write into its ACT read window (refused:
// ERR_BUS_HAZARD), a wide BIAS write outside its window (goes ahead while busy), ERR cleared, the tile
// waited for. Everything observable, in order: error flags, STATUS, wait cycles, CNT_XFER and
// CNT_OVERLAP increments. The RTL and the golden device must give the same values.
std::vector<std::uint64_t> hazard_probe(driver::Device& d, std::uint64_t salt) {
  namespace rm = regmap;
  const auto csr = [](std::uint32_t i) { return driver::bus_addr(rm::kRegionCsr, 0, i); };
  const std::uint64_t cfg = d.read(csr(rm::kRegHWCFG)).rdata;
  const auto rows = static_cast<std::uint32_t>(rm::kHwcfgRowsField.get(cfg));
  const auto cols = static_cast<std::uint32_t>(rm::kHwcfgColsField.get(cfg));
  const std::uint64_t bias_lines = rm::kHwcfg2BiasEntriesField.get(d.read(csr(rm::kRegHWCFG2)).rdata) / rm::kLineBias;
  const std::uint64_t act_base = d.read(csr(rm::kRegACT_BASE)).rdata;
  const std::uint64_t bias_base = d.read(csr(rm::kRegBIAS_BASE)).rdata;
  const std::uint64_t xfer0 = d.read(csr(rm::kRegCNT_XFER)).rdata, over0 = d.read(csr(rm::kRegCNT_OVERLAP)).rdata;
  std::vector<std::uint64_t> v;
  v.push_back(d.write(csr(rm::kRegCTRL), rm::kCtrlStartField.of(1)).err ? 1 : 0);  // e0
  v.push_back(d.write(driver::bus_addr(rm::kRegionAct, static_cast<std::uint32_t>(salt % rows),
                                       static_cast<std::uint32_t>(act_base / rm::kLineWords)),
                      salt)
                      .err
                  ? 1
                  : 0);  // e1: busy (a tile is busy for at least 3 edges), into the window
  std::vector<std::uint64_t> lines(std::max(rows, cols), salt * 0x9E37'79B9'7F4A'7C15ull);
  v.push_back(d.access_wide(driver::BusOp::kWrite, rm::kRegionBias,
                            static_cast<std::uint32_t>((bias_base / rm::kLineBias + 1) % bias_lines), lines)
                      .err
                  ? 1
                  : 0);  // e2: busy, outside the window
  v.push_back(d.read(csr(rm::kRegSTATUS)).rdata);
  v.push_back(d.write(csr(rm::kRegSTATUS), rm::kStatusErrField.of(1)).err ? 1 : 0);
  const driver::WaitResult w = d.wait(100000);
  v.push_back(w.cycles);
  v.push_back(w.done ? 1 : 0);
  v.push_back(d.read(csr(rm::kRegSTATUS)).rdata);
  v.push_back(d.read(csr(rm::kRegCNT_XFER)).rdata - xfer0);
  v.push_back(d.read(csr(rm::kRegCNT_OVERLAP)).rdata - over0);
  (void)d.write(csr(rm::kRegSTATUS), rm::kStatusDoneField.of(1) | rm::kStatusErrField.of(1));
  return v;
}
}  // namespace

std::uint64_t RegressResult::failed() const {
  std::uint64_t n = 0;
  for (const ModeSummary& s : modes) n += s.failed;
  return n;
}

std::string_view to_string(ZeroGating z) {
  switch (z) {
    case ZeroGating::kOff:
      return "off";
    case ZeroGating::kOn:
      return "on";
    case ZeroGating::kRandom:
      return "random";
  }
  return "?";
}

ZeroGating parse_zero_gating(std::string_view name) {
  for (const ZeroGating z : {ZeroGating::kOff, ZeroGating::kOn, ZeroGating::kRandom}) {
    if (name == to_string(z)) return z;
  }
  throw std::invalid_argument(fmt::format("unknown zero gating '{}' (expected off, on or random)", name));
}

GeneratorOptions generator_options(const RegressOptions& opts, int bank_words) {
  return {.max_k = opts.max_k > 0 ? opts.max_k : INT_MAX,
          .bank_words = bank_words,
          .extreme_bias = 0.005,
          .one_extreme = 0.02};
}

RegressResult run_regress(const RegressOptions& opts, const RegressObserver& observer) {
  // The configurations of each mode, checked before anything runs.
  struct Run {
    std::string label;                  ///< "exact", "c1", "skip=0x0013", "random"
    std::optional<golden::Approx> cfg;  ///< nullopt: a random mask per layer
  };
  std::vector<std::vector<Run>> runs;
  for (const Mode mode : opts.modes) {
    std::vector<Run>& r = runs.emplace_back();
    if (opts.approx == "family") {
      for (int c = 0; c <= golden::approx_family_max(mode); ++c)
        r.push_back({fmt::format("c{}", c), golden::approx_family(mode, c)});
    } else if (opts.approx == "random") {
      r.push_back({"random", std::nullopt});
    } else {
      const golden::Approx x = golden::parse_approx(opts.approx, mode);
      r.push_back({x.exact() ? std::string("exact") : golden::to_string(x), x});
    }
  }

  driver::DeviceOptions dopts;
  dopts.trace_fst = opts.fst;
  dopts.seed = opts.seed;
  dopts.rows = opts.rows;
  dopts.cols = opts.cols;
  const auto rtl_dev = driver::make_device("rtl", dopts);
  driver::DeviceOptions gopts;
  gopts.rows = opts.rows;
  gopts.cols = opts.cols;
  const auto gold_dev = driver::make_device("golden", gopts);
  driver::Accelerator rtl_acc(*rtl_dev), gold_acc(*gold_dev);
  // Both devices report their geometry in HWCFG, and the driver tiles by it.
  if (rtl_acc.hw().rows != gold_acc.hw().rows || rtl_acc.hw().cols != gold_acc.hw().cols ||
      (opts.rows != 0 && (rtl_acc.hw().rows != opts.rows || rtl_acc.hw().cols != opts.cols))) {
    throw std::runtime_error(
        fmt::format("regress: the RTL reports a {}x{} array in HWCFG and the golden device {}x{}{}", rtl_acc.hw().rows,
                    rtl_acc.hw().cols, gold_acc.hw().rows, gold_acc.hw().cols,
                    opts.rows != 0 ? fmt::format(" ({}x{} asked)", opts.rows, opts.cols) : ""));
  }
  // functional golden back-end
  driver::Accelerator fast_acc(opts.rows != 0 ? gold_acc.hw() : driver::default_hw_config());
  // Every back-end reads the group-width headers back after each tile (docs/NUMERICS.md).
  for (driver::Accelerator* a : {&rtl_acc, &gold_acc, &fast_acc})
    a->set_group_width_readback(driver::GroupWidthReadback::kOn);
  const Sides rtl_vs_golden{"golden", "rtl"}, golden_vs_reference{"reference", "golden"};
  const Sides functional_vs_golden{"golden", "functional"}, counters{"other", "rtl"};

  RegressResult result{.modes = {},
                       .coverage = Coverage({.rows = rtl_acc.hw().rows,
                                             .cols = rtl_acc.hw().cols,
                                             .bank_words = std::min(rtl_acc.hw().act_words, rtl_acc.hw().wgt_words)})};
  const GeneratorOptions gen = generator_options(opts, std::min(rtl_acc.hw().act_words, rtl_acc.hw().wgt_words));
  for (std::size_t mi = 0; mi < opts.modes.size(); ++mi) {
    const Mode mode = opts.modes[mi];
    for (const Run& run : runs[mi]) {
      ModeSummary sum;
      sum.mode = mode;
      sum.approx = run.label;
      const auto t0 = std::chrono::steady_clock::now();
      for (std::uint64_t i = opts.first; i < opts.first + opts.count; ++i) {
        const std::uint64_t cseed = case_seed(opts.seed, mode, i);
        std::string problem;
        try {
          Case rc = LayerGenerator(cseed, gen).random_case(mode);
          // A random mask of the mode's grid from its own stream: the layer stays that of the exact run.
          rc.layer.approx = run.cfg
                                ? *run.cfg
                                : golden::Approx{static_cast<std::uint16_t>(
                                      std::mt19937_64(cseed ^ 0xA8B8'0000'0000'0001ull)() & golden::approx_grid(mode))};
          // Zero-block gating and zero-rich operands, from a stream of their own.
          bool gated = opts.zero_gating == ZeroGating::kOn;
          if (opts.zero_gating != ZeroGating::kOff) {
            std::mt19937_64 zrng(cseed ^ 0x2E80'0000'0000'0002ull);
            if (opts.zero_gating == ZeroGating::kRandom) gated = (zrng() & 1u) != 0;
            const std::uint64_t thin = zrng() % 6;  // 0 .. 2: untouched; 3, 4, 5: p = 1/4, 1/2, 3/4
            if (thin >= 3) clear_blocks(rc, zrng, 0.25 * static_cast<double>(thin - 2));
          }
          const driver::Gating gating = gated ? driver::Gating::kZeroBlocks : driver::Gating::kOff;
          rtl_acc.set_gating(gating);
          gold_acc.set_gating(gating);
          fast_acc.set_gating(gating);
          // Transfer schedule and scratchpad port, from a stream of their own (the same for all three).
          driver::Transfer transfer = driver::Transfer::kSerial;
          driver::Port port = driver::Port::kLine;
          if (opts.xfer == Xfer::kRandom) {
            std::mt19937_64 xrng(cseed ^ 0x0A7E'0000'0000'0003ull);
            transfer = (xrng() & 1u) != 0 ? driver::Transfer::kOverlapped : driver::Transfer::kSerial;
            constexpr driver::Port kPorts[] = {driver::Port::kLine, driver::Port::kWide, driver::Port::kRows};
            port = kPorts[xrng() % 3];
          }
          for (driver::Accelerator* a : {&rtl_acc, &gold_acc, &fast_acc}) {
            a->set_transfer(transfer);
            a->set_port(port);
          }
          sum.overlapped_layers += transfer == driver::Transfer::kOverlapped ? 1 : 0;
          sum.wide_layers += port != driver::Port::kLine ? 1 : 0;
          sum.gated_layers += gated ? 1 : 0;
          sum.channel_shifts += rc.layer.channel_shift.empty() ? 0 : 1;
          const auto prepared = rtl_acc.prepare(rc.layer);
          sum.dw_layers += driver::uses_dw_mode(prepared, rtl_acc.hw(), rtl_acc.depthwise_mapping()) ? 1 : 0;
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
          const auto macs = static_cast<std::uint64_t>(rc.layer.shape.macs());

          Scoreboard sb(cseed);
          sb.compare("data", out_gold, out_rtl, rtl_vs_golden);
          sb.compare("tiling", ref, out_gold, golden_vs_reference);
          sb.compare("counters", dgold, drtl, counters);
          sb.compare("functional", out_gold, out_fast, functional_vs_golden);
          sb.compare("functional counters", dfast, drtl, counters);
          sb.compare("MAC counter", "macs", macs, dgold.macs(mode));
          sb.compare("block counter", "blk",
                     macs * static_cast<std::uint64_t>(golden::kept_blocks(rc.layer.approx, mode)),
                     dgold.blk + dgold.zskip);
          if (!gated) sb.compare("zero-block counter", "zskip", 0, dgold.zskip);
          // CNT_BLK16 / CNT_BLK8 / CNT_BLK4: the layer's block products all in its mode's counter.
          sb.compare("per-mode block counter", regmap::kCounters[golden::blk_counter(mode)].name, dgold.blk,
                     dgold.*driver::Counters::kFields[golden::blk_counter(mode)]);
          sb.compare("per-mode block counters", "blk16 + blk8 + blk4", dgold.blk,
                     dgold.blk16 + dgold.blk8 + dgold.blk4);
          sb.compare("RTL assertions", "assertion failures", a0, rtl_dev->assertion_failures());
          if (opts.xfer == Xfer::kRandom) {  // after the run's checks: the probe's refusal trips a usage assertion
            const std::vector<std::uint64_t> pg = hazard_probe(*gold_dev, cseed), pr = hazard_probe(*rtl_dev, cseed);
            static constexpr const char* kProbe[] = {"start err",  "hazard err",   "overlap err", "status",
                                                     "w1c err",    "wait cycles",  "done",        "status after",
                                                     "xfer beats", "overlap beats"};
            for (std::size_t k = 0; k < pg.size(); ++k) sb.compare("hazard probe", kProbe[k], pg[k], pr[k]);
            sb.compare("hazard probe code", "ERR_BUS_HAZARD", regmap::kErrBusHazard,
                       regmap::kStatusCodeField.get(pg[3]));
            sum.hazards += pg[1];
          }
          sb.compare("group widths", gold_acc.group_widths(), rtl_acc.group_widths(), rtl_vs_golden);
          sb.compare("functional group widths", gold_acc.group_widths(), fast_acc.group_widths(), functional_vs_golden);
          // The histogram counters against the headers read back: CNT_GW<w> = groups of width w.
          const std::array<std::uint64_t, 16> hist = rtl_acc.group_widths().histogram();
          for (std::size_t w = 0; w < hist.size(); ++w) {
            sb.compare("width histogram", fmt::format("gw{}", w + 1), hist[w],
                       drtl.*driver::Counters::kFields[regmap::kCntGw1 + w]);
          }
          result.coverage.sample(rc, ref, drtl);
          if (sb.ok()) {
            ++sum.exact;
          } else {
            problem = fmt::format("{}{}{}{} [{}]{}", to_string(rc.kind),
                                  rc.layer.channel_shift.empty() ? "" : " (per-channel shifts)",
                                  rc.layer.approx.exact() ? "" : " Ax-BxP " + golden::to_string(rc.layer.approx),
                                  gated ? " zero-gated" : "", rc.layer.shape.to_string(), problems(sb));
          }
          sum.macs += drtl.macs(mode);
          sum.blocks += drtl.blk;
          sum.zskip += drtl.zskip;
          sum.rtl_cycles += drtl.cycles;
          sum.tiles += drtl.tiles;
        } catch (const std::exception& e) {
          problem = fmt::format("exception: {}", e.what());
        }
        ++sum.layers;
        if (!problem.empty()) {
          ++sum.failed;
          if (static_cast<int>(sum.reports.size()) < opts.max_report) {
            const std::string geometry_opt =
                opts.rows != 0 ? fmt::format(" --geometry {}x{}", opts.rows, opts.cols) : std::string();
            const std::string xfer_opt =
                opts.xfer == Xfer::kOff ? std::string() : fmt::format(" --xfer {}", to_string(opts.xfer));
            const std::string zgate_opt = opts.zero_gating == ZeroGating::kOff
                                              ? std::string()
                                              : fmt::format(" --zero-gating {}", to_string(opts.zero_gating));
            const std::string approx_opt =
                run.label == "exact" ? std::string()
                                     : fmt::format(" --approx {}", run.cfg ? run.label : std::string("random"));
            sum.reports.push_back(fmt::format(
                "  MISMATCH {} layer {} (case seed {:#018x}; replay: bitscale regress --seed {} --mode {}{} "
                "--first {} --count 1{}{}{}): {}",
                golden::to_string(mode), i, cseed, opts.seed, golden::bits(mode), approx_opt, i, geometry_opt,
                zgate_opt, xfer_opt, problem));
            if (observer.mismatch) observer.mismatch(sum.reports.back());
          }
        }
        if (observer.progress) {
          observer.progress(fmt::format("regress {}{}: {}/{} layers, {} mismatching", golden::to_string(mode),
                                        run.label == "exact" ? "" : " " + run.label, sum.layers, opts.count,
                                        sum.failed));
        }
      }
      sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (observer.mode_done) observer.mode_done(sum);
      result.modes.push_back(std::move(sum));
    }
  }
  return result;
}

std::string summary_line(const ModeSummary& s) {
  const std::string approx = s.approx == "exact" ? std::string()
                                                 : fmt::format(" Ax-BxP {} ({:.2f} M block products)", s.approx,
                                                               static_cast<double>(s.blocks) / 1e6);
  const std::string zgate = s.gated_layers == 0
                                ? std::string()
                                : fmt::format(", {} layers zero-gated ({:.2f} M block products skipped)",
                                              s.gated_layers, static_cast<double>(s.zskip) / 1e6);
  const std::string xfer =
      s.overlapped_layers + s.wide_layers == 0
          ? std::string()
          : fmt::format(", {} layers with overlapped transfers, {} over the wide port, {} hazard probes refused",
                        s.overlapped_layers, s.wide_layers, s.hazards);
  return fmt::format(
      "regress {:>6}{}: {} layers, {} bit-exact (rtl == golden device == functional golden == reference, counters and "
      "group widths equal), {} mismatching; "
      "{:.2f} M MACs in {} tiles, {} rtl cycles, {} layers with per-channel shifts, {} depthwise in MODE.DW tiles{}{}, "
      "{:.1f} s",
      golden::to_string(s.mode), approx, s.layers, s.exact, s.failed, static_cast<double>(s.macs) / 1e6, s.tiles,
      s.rtl_cycles, s.channel_shifts, s.dw_layers, zgate, xfer, s.seconds);
}

std::string summary_json(const RegressOptions& opts, const RegressResult& result, bool coverage) {
  // Written with fmt for a stable layout (fixed key order, 3 decimals for the seconds).
  std::string f =
      fmt::format("{{\"seed\": {}, \"first\": {}, \"count\": {}, \"geometry\": \"{}x{}\", \"modes\": [", opts.seed,
                  opts.first, opts.count, opts.rows != 0 ? opts.rows : static_cast<int>(regmap::kDefaultRows),
                  opts.cols != 0 ? opts.cols : static_cast<int>(regmap::kDefaultCols));
  for (std::size_t i = 0; i < result.modes.size(); ++i) {
    const ModeSummary& s = result.modes[i];
    std::string reps;
    for (std::size_t j = 0; j < s.reports.size(); ++j) {
      reps += fmt::format("{}{}", j ? ", " : "", nlohmann::json(s.reports[j]).dump());
    }
    f += fmt::format(
        "{}{{\"bits\": {}, \"layers\": {}, \"bit_exact\": {}, \"mismatching\": {}, \"macs\": {}, "
        "\"tiles\": {}, \"rtl_cycles\": {}, \"channel_shift_layers\": {}, \"dw_layers\": {}, \"approx\": {}, "
        "\"block_products\": {}, \"zero_gated_layers\": {}, \"zero_skipped_block_products\": {}, \"seconds\": {:.3f}, "
        "\"reports\": [{}]}}",
        i ? ", " : "", golden::bits(s.mode), s.layers, s.exact, s.failed, s.macs, s.tiles, s.rtl_cycles,
        s.channel_shifts, s.dw_layers, nlohmann::json(s.approx).dump(), s.blocks, s.gated_layers, s.zskip, s.seconds,
        reps);
  }
  f += "]";
  if (coverage) f += fmt::format(", \"coverage\": {}", result.coverage.to_json().dump());
  return f + "}\n";
}

}  // namespace bitscale::dv
