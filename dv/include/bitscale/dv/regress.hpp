// The bit-exact regression (`bitscale regress`): random layers on the RTL, the register-level
// golden device and the functional golden back-end, compared on one scoreboard word for word
// with each other and with the untiled golden reference, counters included.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/dv/coverage.hpp"
#include "bitscale/dv/generator.hpp"
#include "bitscale/golden/numeric.hpp"

namespace bitscale::dv {

/// Many all-zero 4-bit blocks in a layer's operands (zero-block gating, docs/NUMERICS.md): every block of
/// every weight and input value cleared with probability p (a B-bit pattern with a nibble cleared is
/// another B-bit value, so the values stay in range). Used by regress --zero-gating.
void clear_blocks(Case& rc, std::mt19937_64& rng, double p);

/// Exact zero-block gating (MODE.ZGATE) of the regression's layers.
enum class ZeroGating : std::uint8_t {
  kOff,     ///< "off": never (the layers are those of earlier versions)
  kOn,      ///< "on": every layer
  kRandom,  ///< "random": each layer on or off by a draw of its own stream
};
/// "off", "on", "random".
std::string_view to_string(ZeroGating z);
/// The choice of a name of to_string(); throws std::invalid_argument naming the accepted ones.
ZeroGating parse_zero_gating(std::string_view name);

/// Scratchpad transfers of the regression's layers (issue 9, docs/ARCHITECTURE.md "Bus").
enum class Xfer : std::uint8_t {
  kOff,     ///< "off": serial transfers over the narrow port (the cycles of earlier versions)
  kRandom,  ///< "random": each layer draws serial or overlapped transfers and the line or wide port, and
            ///< after its run a hazard probe (a write into the running tile's window, refused, and one
            ///< outside it, accepted while busy) is compared between the RTL and the golden device
};
/// "off", "random".
std::string_view to_string(Xfer x);
/// The choice of a name of to_string(); throws std::invalid_argument naming the accepted ones.
Xfer parse_xfer(std::string_view name);

struct RegressOptions {
  std::uint64_t seed = 1;
  std::uint64_t count = 100;  ///< layers per mode
  std::uint64_t first = 0;    ///< index of the first layer (replay a single failing one)
  std::vector<golden::Mode> modes{golden::kModes.begin(), golden::kModes.end()};  ///< every legal mode
  int max_k = 0;        ///< largest K of fully-connected layers; 0: each mode's bank limit (8192 / 16384 / 32768)
  int max_report = 10;  ///< mismatches reported per mode
  std::string fst;      ///< waveform of the RTL run
  /// Geometry of the RTL and golden devices (`--geometry RxC`, one of the verilated ones); 0 x 0: the
  /// default. The layers are the same at every geometry; only the tiling differs.
  int rows = 0, cols = 0;
  /// Ax-BxP configurations (docs/NUMERICS.md): one configuration of golden::parse_approx ("exact",
  /// "c2", "skip=0x13", ...; it must be legal in every mode run), "family" (every member of each
  /// mode's documented family, `count` layers each) or "random" (a random skip mask per layer).
  /// The layers are those of the exact run; only the configuration differs.
  std::string approx = "exact";
  /// Zero-block gating. Unless kOff, the operands of half the layers (a draw of their own stream) get
  /// many all-zero 4-bit blocks (each block cleared with probability 1/4, 1/2 or 3/4), which
  /// random values rarely have; gated or not, a layer's data is the same.
  ZeroGating zero_gating = ZeroGating::kOff;
  /// Transfer schedule and port per layer (drawn from a stream of their own: the layers do not change).
  Xfer xfer = Xfer::kOff;
};

struct ModeSummary {
  golden::Mode mode = golden::Mode::k16;
  std::uint64_t layers = 0, exact = 0, failed = 0;
  std::string approx = "exact";    ///< the configuration ("exact", "c1", "skip=0x0013", "random")
  std::uint64_t blocks = 0;        ///< block products computed (CNT_BLK)
  std::uint64_t zskip = 0;         ///< block products skipped by zero-block gating (CNT_ZSKIP)
  std::uint64_t gated_layers = 0;  ///< layers run with MODE.ZGATE
  std::uint64_t macs = 0, rtl_cycles = 0, tiles = 0;
  std::uint64_t channel_shifts = 0;     ///< layers with per-channel shifts
  std::uint64_t dw_layers = 0;          ///< depthwise layers run as MODE.DW tiles (driver::uses_dw_mode)
  std::uint64_t overlapped_layers = 0;  ///< layers run with Transfer::kOverlapped
  std::uint64_t wide_layers = 0;        ///< layers run with Port::kWide or kRows (wide beats)
  std::uint64_t hazards = 0;            ///< hazard probes refused (ERR_BUS_HAZARD) on the golden device
  double seconds = 0;
  std::vector<std::string> reports;  ///< the first max_report mismatch lines
};

struct RegressResult {
  std::vector<ModeSummary> modes;
  Coverage coverage;  ///< functional coverage of the layers compared (docs/REGRESSION.md)
  [[nodiscard]] std::uint64_t failed() const;
};

/// What a caller sees while the regression runs (all optional).
struct RegressObserver {
  std::function<void(const std::string& line)> mismatch;    ///< each reported mismatch line
  std::function<void(const std::string& status)> progress;  ///< after each layer
  std::function<void(const ModeSummary&)> mode_done;        ///< after each mode
};

/// The generator options of the regression's layers on a device whose scratchpad banks hold
/// `bank_words` words: K up to opts.max_k (0: the bank limit), biases at the int32 ends and
/// tensors of one extreme value now and then (coverage bins "bias: int32_extreme", "outputs").
GeneratorOptions generator_options(const RegressOptions& opts, int bank_words);

/// Runs the regression.
RegressResult run_regress(const RegressOptions& opts, const RegressObserver& observer = {});

/// "regress  8-bit: 1000 layers, 1000 bit-exact (...), 0 mismatching; ..." (no newline).
std::string summary_line(const ModeSummary& s);

/// The JSON summary written by `bitscale regress --json` (one line, with its newline); with
/// `coverage`, the coverage model's bins and hits too.
std::string summary_json(const RegressOptions& opts, const RegressResult& result, bool coverage = false);

}  // namespace bitscale::dv
