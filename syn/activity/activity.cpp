// Switching activity per block product (docs/SYNTHESIS.md, "Switching activity per block
// product"): drives the gate-level model of syn/activity/activity.cmake (one processing element
// synthesized by yosys twice, as the RTL is and without the operand isolation of bsa_blkmul)
// with random operand streams in every mode and Ax-BxP configuration, and counts the toggles of
// every net from Verilator's toggle coverage (--coverage-toggle), written and parsed once per
// configuration. Zero-delay simulation: functional toggles, no glitches.
//
//   bsa_activity --cycles N --cov <scratch.dat> --out <activity.md> [--check] [--seed S]
//
// --check asserts the properties of the CTest activity_gating (exit 1 naming the first that
// fails): the block enables are the ones docs/NUMERICS.md defines, every net of a disabled leaf
// but its input ports is still, every enabled leaf's product toggles, the leaves without
// isolation do toggle inside when disabled, and both accumulators equal the sum of the
// approximate products computed here from the spec.
#include <fmt/core.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#ifdef BSA_ACT_RTL
#include "Vbsa_act_harness.h"
#else
#include "Vbsa_act_top.h"
#endif
#include "verilated.h"
#include "verilated_cov.h"

namespace {

// The gate-level model (two netlists, activity.cmake) or the RTL harness alone (BSA_ACT_RTL: the
// CTest activity_gating, built by the project's CMake; no ungated variant there).
#ifdef BSA_ACT_RTL
using Top = Vbsa_act_harness;
constexpr bool kGateLevel = false;
#else
using Top = Vbsa_act_top;
constexpr bool kGateLevel = true;
#endif

// ---- the numeric spec (docs/NUMERICS.md, "Approximate block products"), computed here ----
constexpr std::array<int, 3> kModeBits{16, 8, 4};  // MODE code 0, 1, 2

int blocks(int code) { return kModeBits[code] / 4; }

// Block i of a B-bit value: nibble x[4i+3:4i], signed for the top block, unsigned below.
int block_of(int x, int i, int code) {
  const int nib = (x >> (4 * i)) & 0xF;
  return (i == blocks(code) - 1 && nib >= 8) ? nib - 16 : nib;
}

std::int64_t approx_product(int a, int w, int code, std::uint16_t skip) {
  std::int64_t p = 0;
  for (int i = 0; i < blocks(code); ++i)
    for (int j = 0; j < blocks(code); ++j)
      if (((skip >> (4 * i + j)) & 1) == 0)
        p +=
            static_cast<std::int64_t>(block_of(a, i, code)) * block_of(w, j, code) * (std::int64_t{1} << (4 * (i + j)));
  return p;
}

// Grid block (I, J) of bsa_mul serves lane I / nb as pair (I mod nb, J mod nb) when I / nb == J / nb.
bool spec_enabled(int gi, int gj, int code, std::uint16_t skip) {
  const int nb = blocks(code);
  return gi / nb == gj / nb && ((skip >> (4 * (gi % nb) + gj % nb)) & 1) == 0;
}

// Member c of the documented family: skip the block pairs with i + j < c.
std::uint16_t family_mask(int code, int c) {
  std::uint16_t s = 0;
  for (int i = 0; i < blocks(code); ++i)
    for (int j = 0; j < blocks(code); ++j)
      if (i + j < c) s = static_cast<std::uint16_t>(s | (1u << (4 * i + j)));
  return s;
}

// ---- operand streams ----
enum class Stream { kUniform, kRelu };
const char* to_string(Stream s) { return s == Stream::kUniform ? "uniform" : "relu"; }

struct Lanes {
  std::array<int, 4> act{}, wgt{};
};

// Uniform: every lane uniform over the B-bit range. ReLU-like (a quantized CNN layer): half of
// the activations 0, the others |N(0, 2^(B-1)/8)| rounded; weights N(0, 2^(B-1)/8) rounded;
// both saturated to the B-bit range.
Lanes draw(Stream s, int code, std::mt19937_64& rng) {
  const int b = kModeBits[code];
  const int lo = -(1 << (b - 1)), hi = (1 << (b - 1)) - 1;
  Lanes l;
  std::uniform_int_distribution<int> uni(lo, hi);
  std::bernoulli_distribution zero(0.5);
  std::normal_distribution<double> gauss(0.0, (1 << (b - 1)) / 8.0);
  auto sat = [&](double v) { return std::max(lo, std::min(hi, static_cast<int>(std::lround(v)))); };
  for (int k = 0; k < 16 / b; ++k) {
    if (s == Stream::kUniform) {
      l.act[k] = uni(rng);
      l.wgt[k] = uni(rng);
    } else {
      l.act[k] = zero(rng) ? 0 : sat(std::abs(gauss(rng)));
      l.wgt[k] = sat(gauss(rng));
    }
  }
  return l;
}

std::uint16_t pack(const std::array<int, 4>& v, int code) {
  const int b = kModeBits[code];
  std::uint32_t w = 0;
  for (int k = 0; k < 16 / b; ++k) w |= (static_cast<std::uint32_t>(v[k]) & ((1u << b) - 1)) << (b * k);
  return static_cast<std::uint16_t>(w);
}

// ---- toggle counts from the coverage file ----
enum class Part { kLeafIn, kLeafNet, kLeafOut, kMul, kPe };

struct Counts {
  // [variant][I][J]: leaf input ports, leaf nets (internal and output), leaf output p_o
  std::array<std::array<std::array<double, 4>, 4>, 2> leaf_in{}, leaf_net{}, leaf_out{};
  std::array<double, 2> mul{}, pe{};  // own nets of bsa_mul and bsa_pe (no inputs, no child outputs)
};

std::string field(std::string_view rec, char key) {
  const std::string pat = std::string("\x01") + key + "\x02";
  const auto p = rec.find(pat);
  if (p == std::string_view::npos) return {};
  const auto b = p + pat.size();
  const auto e = rec.find_first_of("\x01'", b);
  return std::string(rec.substr(b, e - b));
}

// The signal name without its bit index; split nets of the netlist come as "a_i__05b3__05d" (a_i[3]).
std::string base_name(std::string sig) {
  for (const auto& [from, to] : {std::pair{"__05b", "["}, std::pair{"__05d", "]"}})
    for (auto p = sig.find(from); p != std::string::npos; p = sig.find(from)) sig.replace(p, 5, to);
  const auto p = sig.rfind('[');
  return (p == std::string::npos || sig.back() != ']') ? sig : sig.substr(0, p);
}

bool is_one_of(const std::string& s, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (s == n) return true;
  return false;
}

Counts parse_coverage(const std::string& path, double cycles) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the coverage file " + path);
  Counts c;
  std::string line;
  int points = 0;
  while (std::getline(in, line)) {
    if (line.rfind("C '", 0) != 0) continue;
    const auto q = line.rfind('\'');
    const double n = std::strtod(line.c_str() + q + 1, nullptr) / cycles;
    const std::string hier = field(line, 'h'), sig = field(line, 'o');
    // TOP.bsa_act_top.u_gated.u_pe... / u_ungated (gate level), TOP.bsa_act_harness.u_pe... (RTL)
    const int v = hier.find(".u_ungated.") != std::string::npos ? 1 : 0;
    const auto at = hier.find(".u_pe");
    if (at == std::string::npos) continue;
    const std::string scope = hier.substr(at + 1);
    const std::string base = base_name(sig);
    ++points;
    // Leaf (I, J): u_pe.u_mul.blk_I_J (netlist, renamed) or u_pe.u_mul.g_a[I].g_w[J].u_blk (RTL).
    int i = -1, j = -1;
    if (scope.rfind("u_pe.u_mul.blk_", 0) == 0 && scope.size() == 18) {
      i = scope[15] - '0';
      j = scope[17] - '0';
    } else if (scope.rfind("u_pe.u_mul.g_a[", 0) == 0 && scope.size() == 30 && scope.substr(25) == "u_blk") {
      i = scope[15] - '0';
      j = scope[22] - '0';
    }
    if (i >= 0) {
      if (i > 3 || j < 0 || j > 3) throw std::runtime_error("unexpected leaf scope " + hier);
      if (is_one_of(base, {"a_i", "w_i", "en_i"})) {
        c.leaf_in[v][i][j] += n;
      } else {
        c.leaf_net[v][i][j] += n;
        if (base == "p_o") c.leaf_out[v][i][j] += n;
      }
    } else if (scope == "u_pe.u_mul") {
      if (!is_one_of(base, {"en_i", "mode_i", "blk_en_i", "a_i", "w_i"}) && base.rfind("g_a", 0) != 0) c.mul[v] += n;
    } else if (scope == "u_pe") {
      if (!is_one_of(base,
                     {"clk_i", "rst_ni", "mode_i", "blk_en_i", "a_i", "w_i", "init_i", "bias_i", "acc_en_i", "sum"}))
        c.pe[v] += n;
    }
  }
  if (points == 0) throw std::runtime_error("no toggle points of u_gated/u_ungated in " + path);
  return c;
}

// ---- one configuration ----
struct Config {
  Stream stream;
  int code;  // MODE code
  int c;     // member of the documented family
  std::uint16_t skip;
};

struct Result {
  Config cfg;
  std::uint16_t blk_en;
  Counts counts;
  bool acc_ok[2];
};

struct Sim {
  std::unique_ptr<VerilatedContext> ctx = std::make_unique<VerilatedContext>();
  std::unique_ptr<Top> top = std::make_unique<Top>(ctx.get());
  Sim() { ctx->coveragep()->forcePerInstance(true); }  // one point per leaf, not merged over them
  void cycle() {
    top->clk_i = 0;
    top->eval();
    top->clk_i = 1;
    top->eval();
  }
};

std::int64_t sext48(std::uint64_t v) {
  v &= (std::uint64_t{1} << 48) - 1;
  return (v >> 47) ? static_cast<std::int64_t>(v) - (std::int64_t{1} << 48) : static_cast<std::int64_t>(v);
}

Result run(Sim& s, const Config& cfg, int cycles, const std::string& cov, std::mt19937_64& rng) {
  auto& t = *s.top;
  t.acc_en_i = 0;
  t.mode_i = static_cast<std::uint8_t>(cfg.code);
  t.blk_skip_i = cfg.skip;
  t.rst_ni = 0;
  s.cycle();
  t.rst_ni = 1;
  s.cycle();
  s.ctx->coveragep()->zero();
  t.acc_en_i = 1;
  std::int64_t expect = 0;
  for (int k = 0; k < cycles; ++k) {
    const Lanes l = draw(cfg.stream, cfg.code, rng);
    for (int lane = 0; lane < 16 / kModeBits[cfg.code]; ++lane)
      expect += approx_product(l.act[lane], l.wgt[lane], cfg.code, cfg.skip);
    t.act_i = pack(l.act, cfg.code);
    t.wgt_i = pack(l.wgt, cfg.code);
    s.cycle();
  }
  s.ctx->coveragep()->write(cov.c_str());
  Result r{cfg, t.blk_en_o, parse_coverage(cov, cycles), {sext48(t.acc_o) == expect, true}};
#ifndef BSA_ACT_RTL
  r.acc_ok[1] = sext48(t.ng_acc_o) == expect;
  if (t.ng_blk_en_o != t.blk_en_o) throw std::runtime_error("the two netlists disagree on the block enables");
#endif
  return r;
}

// ---- report ----
struct Sums {
  double leaves = 0, leaves_in = 0, enabled_out = 0, disabled_net = 0;
  int enabled = 0;
};

Sums sums(const Result& r, int v) {
  Sums s;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      s.leaves += r.counts.leaf_net[v][i][j];
      s.leaves_in += r.counts.leaf_in[v][i][j];
      if ((r.blk_en >> (4 * i + j)) & 1) {
        ++s.enabled;
        s.enabled_out += r.counts.leaf_out[v][i][j];
      } else {
        s.disabled_net += r.counts.leaf_net[v][i][j];
      }
    }
  return s;
}

std::string report(const std::vector<Result>& results, int cycles, std::uint64_t seed) {
  std::string md = fmt::format(
      "Toggles per cycle of one PE ({}, zero delay), {} cycles per configuration, seed {}.\n"
      "leaves = every net of the 16 bsa_blkmul leaves except their input ports (cell outputs and "
      "the product p_o); mul = bsa_mul's own nets (weighting and sum tree, sum_o); pe = bsa_pe's "
      "own nets (48-bit adder, accumulator flip-flops); share = leaves / (leaves + mul + pe). "
      "ports = the leaves' input ports a_i, w_i, en_i (the nibble wires, shared by a row or column "
      "of leaves). gated = the RTL; ungated = the operand isolation of bsa_blkmul removed{}.\n\n",
      kGateLevel ? "gate-level netlists of yosys's generic synthesis" : "RTL", cycles, seed,
      kGateLevel ? "" : " (not simulated at RTL: 0)");
  for (Stream st : {Stream::kUniform, Stream::kRelu}) {
    md += fmt::format("### Stream: {}\n\n", to_string(st));
    md +=
        "| mode | c | skip | enabled leaves | ports | leaves | of which disabled | mul | pe | share | "
        "ungated: leaves | of which disabled | mul | pe | share |\n";
    md += "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const Result& r : results) {
      if (r.cfg.stream != st) continue;
      const Sums g = sums(r, 0), u = sums(r, 1);
      const double gs = g.leaves / (g.leaves + r.counts.mul[0] + r.counts.pe[0]);
      const double us = kGateLevel ? u.leaves / (u.leaves + r.counts.mul[1] + r.counts.pe[1]) : 0.0;
      md += fmt::format(
          "| {}-bit | {} | 0x{:04X} | {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.3f} | {:.1f} | {:.1f} | "
          "{:.1f} | {:.1f} | {:.3f} |\n",
          kModeBits[r.cfg.code], r.cfg.c, r.cfg.skip, g.enabled, g.leaves_in, g.leaves, g.disabled_net, r.counts.mul[0],
          r.counts.pe[0], gs, u.leaves, u.disabled_net, r.counts.mul[1], r.counts.pe[1], us);
    }
    md += "\n";
  }
  md += "### Per block, gated (the RTL): toggles per cycle of all nets of leaf (I, J) / of its product p_o\n\n";
  for (const Result& r : results) {
    md += fmt::format("{} stream, {}-bit, c = {} (skip 0x{:04X}, enables 0x{:04X}):\n\n", to_string(r.cfg.stream),
                      kModeBits[r.cfg.code], r.cfg.c, r.cfg.skip, r.blk_en);
    md += "| I \\ J | 0 | 1 | 2 | 3 |\n|---|---:|---:|---:|---:|\n";
    for (int i = 0; i < 4; ++i) {
      md += fmt::format("| {} |", i);
      for (int j = 0; j < 4; ++j)
        md += fmt::format(" {:.1f} / {:.2f} |", r.counts.leaf_net[0][i][j], r.counts.leaf_out[0][i][j]);
      md += "\n";
    }
    md += "\n";
  }
  return md;
}

// ---- the properties of --check ----
int check(const std::vector<Result>& results) {
  int failures = 0;
  auto fail = [&](const Result& r, const std::string& what) {
    std::fprintf(stderr, "FAIL %s stream, %d-bit, c = %d (skip 0x%04X): %s\n", to_string(r.cfg.stream),
                 kModeBits[r.cfg.code], r.cfg.c, r.cfg.skip, what.c_str());
    ++failures;
  };
  for (const Result& r : results) {
    for (int v = 0; v < 2; ++v)
      if (!r.acc_ok[v])
        fail(r, v == 0 ? "gated accumulator != sum of approximate products" : "ungated accumulator != sum");
    int ungated_disabled_moving = 0, disabled = 0;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const bool en = (r.blk_en >> (4 * i + j)) & 1;
        if (en != spec_enabled(i, j, r.cfg.code, r.cfg.skip))
          fail(r, fmt::format("leaf ({}, {}) enable {} differs from docs/NUMERICS.md", i, j, en));
        if (r.counts.leaf_in[0][i][j] == 0) fail(r, fmt::format("leaf ({}, {}): input ports still", i, j));
        if (!en) {
          ++disabled;
          if (r.counts.leaf_net[0][i][j] != 0)
            fail(r, fmt::format("disabled leaf ({}, {}) toggles ({:.3f} per cycle)", i, j, r.counts.leaf_net[0][i][j]));
          if (kGateLevel && r.counts.leaf_out[1][i][j] != 0)
            fail(r, fmt::format("ungated disabled leaf ({}, {}): p_o toggles", i, j));
          if (r.counts.leaf_net[1][i][j] > 0) ++ungated_disabled_moving;
        } else if (r.counts.leaf_out[0][i][j] == 0) {
          fail(r, fmt::format("enabled leaf ({}, {}): product still", i, j));
        }
      }
    if (kGateLevel && r.cfg.stream == Stream::kUniform && ungated_disabled_moving != disabled)
      fail(r, fmt::format("only {} of {} disabled leaves toggle inside without isolation", ungated_disabled_moving,
                          disabled));
  }
  std::printf("check: %zu configurations, %d failures\n", results.size(), failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    int cycles = 2000;
    std::uint64_t seed = 1;
    bool do_check = false;
    std::string cov, out;
    for (int k = 1; k < argc; ++k) {
      const std::string a = argv[k];
      auto next = [&]() -> std::string {
        if (k + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++k];
      };
      if (a == "--cycles")
        cycles = std::stoi(next());
      else if (a == "--seed")
        seed = std::stoull(next());
      else if (a == "--cov")
        cov = next();
      else if (a == "--out")
        out = next();
      else if (a == "--check")
        do_check = true;
      else
        throw std::invalid_argument("unknown argument " + a);
    }
    if (cycles < 1 || cov.empty()) throw std::invalid_argument("need --cov <file> and --cycles >= 1");
    Sim sim;
    std::mt19937_64 rng(seed);
    std::vector<Result> results;
    for (Stream st : {Stream::kUniform, Stream::kRelu})
      for (int code = 0; code < 3; ++code)
        for (int c = 0; c <= 2 * (blocks(code) - 1); ++c)
          results.push_back(run(sim, Config{st, code, c, family_mask(code, c)}, cycles, cov, rng));
    const std::string md = report(results, cycles, seed);
    if (!out.empty()) {
      std::ofstream f(out);
      f << md;
      if (!f) throw std::runtime_error("cannot write " + out);
    }
    std::fputs(md.c_str(), stdout);
    return do_check ? check(results) : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bsa_activity: %s\n", e.what());
    return 2;
  }
}
