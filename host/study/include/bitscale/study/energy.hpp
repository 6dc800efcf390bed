// Energy model (docs/ENERGY.md): energy of one execution of an image =
//   MACs in each mode x energy per MAC of that mode                      (the core)
// + scratchpad 16-bit words read and written x energy per word           (on-chip memory)
// + off-chip bytes (quant::offchip_bytes, a lower bound) x energy per byte (DRAM traffic);
// an image's energy is the sum over the executions it needed. Operation counts come from the
// back-end's performance counters, the off-chip bytes from the layer shapes (RunRecord).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/study/records.hpp"

namespace bitscale::study {

/// Which terms a study prices: the MACs only (the seed paper's model and the default), or the
/// MACs plus the scratchpad and off-chip memory terms.
enum class EnergyModel { kMac, kMemory };
/// "mac", "memory" (the names of --energy-model).
std::string_view to_string(EnergyModel m);
/// The model named `name`; throws std::invalid_argument listing the accepted names.
EnergyModel parse_energy_model(std::string_view name);

struct EnergyTable {
  std::string source;       ///< where the numbers come from
  double pj_per_mac16 = 0;  ///< energy of one 16-bit multiply-accumulate (pJ)
  double pj_per_mac8 = 0;
  double pj_per_mac4 = 0;
  double pj_per_spad_read = 0;     ///< per 16-bit scratchpad word read (pJ)
  double pj_per_spad_write = 0;    ///< per 16-bit scratchpad word written (pJ)
  double pj_per_offchip_byte = 0;  ///< per byte moved between DRAM and the accelerator (pJ)
  /// Share of a MAC's energy that is its block products (Ax-BxP, docs/ENERGY.md "Approximate
  /// MACs"): a MAC of mode m that computes k of its blocks(m)^2 block products costs
  /// E_m * (1 - blk_share + blk_share * k / blocks(m)^2). Default kBlkShare; 0 makes
  /// approximate MACs cost as much as exact ones. Must be in [0, 1] (file key blk_share).
  double blk_share = kBlkShare;

  /// The block-product leaves' share of the logic cells of the design (docs/SYNTHESIS.md, "With
  /// the Ax-BxP block grid": 4096 bsa_blkmul x 160 cells = 655 360 of 1 694 003 cells), the
  /// estimate of the block products' share of a MAC's energy (energy taken as proportional to cells).
  static constexpr double kBlkShare = 655360.0 / 1694003.0;

  /// The seed paper's table, MACs only: Envision (Moons et al., ISSCC 2017) at a constant
  /// 76 GOPS: 16-bit 290 mW, 8-bit 56 mW, 4-bit 7.6 mW; one MAC = 2 operations, so
  /// E_MAC = 2 * P / 76e9 (7.63, 1.47, 0.200 pJ). Memory terms 0.
  static EnergyTable envision();
  /// The memory-inclusive default: envision()'s MACs, plus Horowitz (ISSCC 2014, 45 nm)
  /// for the memories: a 16-bit scratchpad word (a 16 KB bank, between his 8 KB = 10 pJ and
  /// 32 KB = 20 pJ per 64-bit read, sqrt(size) interpolated: 14.1 pJ / 4) = 3.54 pJ read or
  /// written, and DRAM at 1.3 nJ per 64-bit access = 162.5 pJ per byte (docs/ENERGY.md).
  static EnergyTable envision_with_memory();
  /// A table from a text file of `key value` lines (# comments): mac16_pj, mac8_pj, mac4_pj,
  /// or the Envision table's form power16_mw, power8_mw, power4_mw with gops (not both
  /// forms); spad_read_pj, spad_write_pj, offchip_pj_per_byte (missing: 0). Unknown or
  /// repeated keys, values that are not non-negative numbers, an empty file and a MAC energy
  /// of 0 are errors (std::runtime_error naming the file, line or key).
  static EnergyTable load(const std::string& path);

  /// This table with the memory terms set to 0 (the MAC-only model); the source says so when
  /// a term was dropped.
  [[nodiscard]] EnergyTable mac_only() const;
  /// Throws std::runtime_error naming `source` and the key when the table cannot price a
  /// study: a negative or non-finite value, or a MAC energy that is 0 (the 16-bit one is the
  /// reference of every saving; a free MAC would report savings of up to 100 %).
  void validate() const;
};

/// The table of a study: the file at `path` ("" = envision_with_memory() for kMemory,
/// envision() for kMac), reduced to its MAC terms for kMac; validated.
EnergyTable energy_table(const std::string& path, EnergyModel model);

/// Energy of one execution by term (pJ).
struct EnergyBreakdown {
  double mac_pj = 0;  ///< net of the skipped block products (mac_saved_pj already subtracted)
  double spad_pj = 0;
  double offchip_pj = 0;
  /// What the skipped block products of approximate MACs did not cost (0 for exact runs).
  double mac_saved_pj = 0;
  [[nodiscard]] double total() const { return mac_pj + spad_pj + offchip_pj; }
};

/// Block products the run skipped: sum over the modes of MACs x blocks(m)^2, minus CNT_BLK. 0
/// when CNT_BLK is 0 (records made before the counter existed: priced as exact; so is a run
/// whose every block product was skipped). Throws std::invalid_argument when CNT_BLK exceeds the
/// block products of the MACs (inconsistent counters).
std::uint64_t skipped_blocks(const driver::Counters& c);

/// Whether `c` carries the per-mode block counters CNT_BLK16 / CNT_BLK8 / CNT_BLK4 (not all 0;
/// records made before them have 0 there).
bool has_mode_blocks(const driver::Counters& c);

/// Block products of mode `m` the run skipped (Ax-BxP mask and zero-block gating alike):
/// MACs(m) x blocks(m)^2 - CNT_BLK<m>. Requires has_mode_blocks(c); throws std::invalid_argument
/// when CNT_BLK16 + CNT_BLK8 + CNT_BLK4 != CNT_BLK or CNT_BLK<m> exceeds the MACs' block products.
std::uint64_t skipped_blocks(const driver::Counters& c, golden::Mode m);

/// The MAC energy the skipped block products of `c` did not cost: blk_share x E_m / blocks(m)^2
/// per skipped block product of mode m. With the per-mode counters (has_mode_blocks) this is
/// exact: mode m skipped skipped_blocks(c, m). Without them (records made before CNT_BLK16 ..
/// CNT_BLK4) CNT_BLK is one counter for every mode, so the skipped products are attributed to
/// the modes that ran in order of increasing price per block product (4-bit, 8-bit, 16-bit with
/// the Envision table), each up to its MACs x blocks(m)^2: a lower bound of the saving, exact when
/// the skipped products are all of the cheapest mode that ran. docs/ENERGY.md "Approximate MACs".
double skipped_mac_pj(const driver::Counters& c, const EnergyTable& t);

/// The work recorded in `c` (a difference of counter snapshots) plus `offchip_bytes`.
/// Throws std::invalid_argument when the table prices off-chip bytes and there are none
/// recorded (records made before bitscale recorded them: record them again).
EnergyBreakdown energy_breakdown(const driver::Counters& c, std::optional<std::uint64_t> offchip_bytes,
                                 const EnergyTable& t);
/// An array run's energy by term; throws std::invalid_argument for a run without counters.
EnergyBreakdown energy_breakdown(const RunRecord& r, const EnergyTable& t);
/// energy_breakdown(r, t).total().
double energy_pj(const RunRecord& r, const EnergyTable& t);
/// Counters alone cannot be priced with the memory terms: pass the RunRecord (or use
/// energy_breakdown with the off-chip bytes).
double energy_pj(const driver::Counters& c, const EnergyTable& t) = delete;

}  // namespace bitscale::study
