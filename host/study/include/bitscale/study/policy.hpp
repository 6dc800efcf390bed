// The policy file, the thing a user deploys (`bitscale sweep --out D` writes D/policy.json,
// `bitscale apply --policy P` runs it): the model it belongs to (file name and content hash), its
// calibration (embedded, the same JSON as calibration.json), weight FL rule, levels, confidence
// metric, threshold and how it was chosen, the images it was chosen and calibrated on (never to be
// used to measure it) and what it is expected to do, with intervals. Format `bitscale-policy-1`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/quant/quantized_network.hpp"
#include "bitscale/quant/traffic.hpp"
#include "bitscale/study/confidence.hpp"
#include "bitscale/study/energy.hpp"
#include "bitscale/study/stats.hpp"

namespace bitscale::study {

inline constexpr const char* kPolicyFormat = "bitscale-policy-1";

/// An image a policy used: file name (no directory) and content hash (content_hash of its bytes;
/// "" when the file could not be read when the policy was written).
struct PolicyImage {
  std::string file;
  std::string hash;
  friend bool operator==(const PolicyImage&, const PolicyImage&) = default;
};

struct Policy {
  std::string model_file;   ///< file name of the model (no directory)
  std::string model_hash;   ///< content_hash of the model file
  std::string model_path;   ///< the model as seen from the policy file's directory (relative when possible)
  std::string calibration;  ///< the calibration JSON object (quant::Calibration::to_json)
  quant::WeightFl weight_fl = quant::WeightFl::kChannel;
  quant::QuantOptions quantization;  ///< classifier precision, rounding (+ seed): apply quantizes the same way
  std::vector<int> levels;           ///< increasing in cost (level_code: bit-widths or Ax-BxP rungs)
  Metric metric = Metric::kScoreMargin;
  double threshold = 0;            ///< T_h, written with 17 significant digits (round trip)
  bool escalate_all = false;       ///< no candidate met the target: T_h = 1, every image escalates
  double max_drop_pp = 1.0;        ///< the target
  double confidence_level = 0.95;  ///< of the one-sided upper bound used to choose T_h
  double drop_upper_pp = 0;        ///< that bound on the selection images
  std::vector<PolicyImage> selection_images;
  std::vector<PolicyImage> calibration_images;
  Estimate expected_drop_pp;     ///< on the selection images (optimistic), 95 % interval
  Estimate expected_saving_pct;  ///< vs static 16-bit on the selection images
  Bootstrap bootstrap;
  std::string energy_source;                     ///< EnergyTable::source
  EnergyModel energy_model = EnergyModel::kMac;  ///< the terms priced (apply prices the same)
  std::string backend;                           ///< of the selection records
  /// How the off-chip bytes of its runs were counted (docs/ENERGY.md); apply counts the same and
  /// refuses another choice. Absent in older policies: uncompressed.
  quant::OffchipEncoding offchip = quant::OffchipEncoding::kUncompressed;
  /// Exact zero-block gating of its runs (MODE.ZGATE, --dpred; docs/DPRED.md): apply runs the same
  /// and refuses another choice. Absent in older policies: off.
  driver::Gating gating = driver::Gating::kOff;
  /// With Ax-BxP rungs among the levels (written only then): the family rungs' compensation and the
  /// content hash and file name of the "8s" rung's configuration file ("": none), which `apply`
  /// needs to run the policy (docs/AXBXP.md).
  std::string approx_compensation;
  std::string approx_config_hash, approx_config_file;
  friend bool operator==(const Policy&, const Policy&) = default;
};

/// 16 hex digits of fnv1a over the bytes of the file; throws std::runtime_error naming it.
std::string content_hash(const std::string& path);
/// PolicyImage of a path (its file name and content hash).
PolicyImage policy_image(const std::string& path);

/// The policy as JSON text (one object, ending in a newline; deterministic).
std::string to_json(const Policy& p);
/// Parses and validates every field; throws std::runtime_error "<source>: <field>: <what>".
Policy parse_policy(std::string_view text, const std::string& source);
/// Reads and parses a policy file.
Policy load_policy(const std::string& path);
/// Writes the policy atomically.
void save_policy(const std::string& path, const Policy& p);

}  // namespace bitscale::study
