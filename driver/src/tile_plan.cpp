// The pure tile planner (see tile_plan.hpp). Weights stay resident: as many n-tiles as fit
// the weight and bias banks (and the 16-bit base fields) form a chunk, loaded once and reused
// for every m-tile; with several chunks, the activations of all m-tiles stay resident too if
// they fit (loaded during the first chunk only).
#include "bitscale/driver/tile_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "bitscale/golden/numeric.hpp"
#include "bitscale/regmap.hpp"

namespace bitscale::driver {
namespace {

constexpr int ceil_div(int a, int b) { return (a + b - 1) / b; }

/// Channels first .. first + n - 1 of the layer in an order (by shift, stable, with per-channel
/// shifts and per-tile shifts) and cut into n-tiles of up to `cols` channels sharing one shift; with
/// per-column shifts (col_shift) in their order, n-tiles of `cols` consecutive channels.
void cut_ntiles(const golden::Layer& layer, int first, int n_group, int cols, bool col_shift, GroupPlan& gp) {
  gp.order.resize(static_cast<std::size_t>(n_group));
  std::iota(gp.order.begin(), gp.order.end(), 0);
  const auto shift_of = [&](int c) { return layer.shift(first + c); };
  if (!layer.channel_shift.empty() && !col_shift) {
    std::stable_sort(gp.order.begin(), gp.order.end(), [&](int a, int b) { return shift_of(a) < shift_of(b); });
  }
  for (int i = 0; i < n_group;) {
    const int sh = shift_of(gp.order[static_cast<std::size_t>(i)]);
    int j = i + 1;
    while (j < n_group && j - i < cols && (col_shift || shift_of(gp.order[static_cast<std::size_t>(j)]) == sh)) ++j;
    gp.ntiles.push_back({i, j - i, col_shift ? 0 : sh});
    i = j;
  }
}

/// The group's channel order and its n-tiles: up to `cols` channels sharing one shift.
void plan_ntiles(const golden::Layer& layer, int g, int cols, bool col_shift, GroupPlan& gp) {
  const int n_group = layer.shape.out_c / layer.shape.groups;
  cut_ntiles(layer, g * n_group, n_group, cols, col_shift, gp);
}

/// ACT_BASE of the i-th load of activations (`slot` words each): 0, or with Transfer::kOverlapped
/// and room for two slots, the odd loads one slot above (ping-pong).
int ping_pong_base(Transfer transfer, int i, int slot, const HwConfig& hw) {
  const auto base_max = static_cast<int>(regmap::kActBaseField.max());
  if (transfer != Transfer::kOverlapped || 2L * slot > hw.act_words || slot > base_max) return 0;
  return (i % 2) * slot;
}

/// MODE.DW tiles (TilePlan::dw): one group plan over all channels; every tile loads its own
/// activations (kw x Cols words per row at ACT_BASE 0), the chunk's weights stay resident.
TilePlan plan_dw_tiles(const PreparedLayer& pl, const HwConfig& hw, int base_slots, Transfer transfer, bool col_shift) {
  const golden::Layer& layer = pl.layer;
  const int kwl = pl.kw_line;
  TilePlan plan;
  plan.dw = true;
  plan.col_shift = col_shift;
  plan.m_total = layer.shape.out_h() * layer.shape.out_w();
  plan.m_tiles = ceil_div(plan.m_total, hw.rows);
  plan.lines_per_vec = kwl / static_cast<int>(regmap::kLineWords);
  plan.groups.resize(1);
  GroupPlan& gp = plan.groups[0];
  cut_ntiles(layer, 0, layer.shape.out_c, hw.cols, col_shift, gp);
  const int n_tiles = static_cast<int>(gp.ntiles.size());
  gp.chunk = std::min({n_tiles, hw.wgt_words / kwl, base_slots});
  if (!layer.bias.empty() || col_shift) gp.chunk = std::min(gp.chunk, hw.bias_entries);
  for (int nt0 = 0; nt0 < n_tiles; nt0 += gp.chunk) {
    const int cnt = std::min(gp.chunk, n_tiles - nt0);
    for (int mt = 0; mt < plan.m_tiles; ++mt) {
      for (int jj = 0; jj < cnt; ++jj) {
        const int j = (mt % 2 == 0) ? jj : cnt - 1 - jj;
        const NTile& nt = gp.ntiles[static_cast<std::size_t>(nt0 + j)];
        PlannedTile t;
        t.m_tile = mt;
        t.m0 = mt * hw.rows;
        t.rows = std::min(hw.rows, plan.m_total - t.m0);
        t.n_tile = nt0 + j;
        t.pos = nt.pos;
        t.cols = nt.cols;
        t.shift = nt.shift;
        // Every DW tile loads its own activations: the halves alternate tile by tile.
        t.act_base = ping_pong_base(transfer, static_cast<int>(plan.tiles.size()), pl.kw * hw.cols, hw);
        t.wgt_base = j * kwl;
        t.bias_base = j;
        t.load_weights = mt == 0 && jj == 0;
        t.chunk_first = nt0;
        t.chunk_count = cnt;
        t.load_acts = true;
        plan.tiles.push_back(t);
      }
    }
  }
  return plan;
}

}  // namespace

std::string_view to_string(Transfer t) {
  switch (t) {
    case Transfer::kSerial:
      return "serial";
    case Transfer::kOverlapped:
      return "overlapped";
  }
  return "?";
}

Transfer parse_transfer(std::string_view name) {
  for (const Transfer t : {Transfer::kSerial, Transfer::kOverlapped}) {
    if (name == to_string(t)) return t;
  }
  throw std::invalid_argument(fmt::format("unknown transfer schedule '{}' (expected serial or overlapped)", name));
}

std::string_view to_string(DepthwiseMapping m) {
  switch (m) {
    case DepthwiseMapping::kDwMode:
      return "dw";
    case DepthwiseMapping::kColumns:
      return "columns";
  }
  return "?";
}

DepthwiseMapping parse_depthwise_mapping(std::string_view name) {
  for (const DepthwiseMapping m : {DepthwiseMapping::kDwMode, DepthwiseMapping::kColumns}) {
    if (name == to_string(m)) return m;
  }
  throw std::invalid_argument(fmt::format("unknown depthwise mapping '{}' (expected dw or columns)", name));
}

bool uses_dw_mode(const PreparedLayer& pl, const HwConfig& hw, DepthwiseMapping dw) {
  const golden::ConvShape& s = pl.layer.shape;
  return dw == DepthwiseMapping::kDwMode && s.groups > 1 && s.groups == s.in_c && s.out_c == s.in_c &&
         static_cast<long>(pl.kw) * hw.cols <= hw.act_words;
}

TilePlan plan_tiles(const PreparedLayer& pl, const HwConfig& hw, DepthwiseMapping dw, Transfer transfer,
                    ShiftMapping shifts) {
  const golden::Layer& layer = pl.layer;
  const golden::ConvShape& s = layer.shape;
  const int kwl = pl.kw_line;
  if (kwl < 1 || kwl > std::min(hw.act_words, hw.wgt_words) || hw.rows < 1 || hw.cols < 1) {
    throw std::invalid_argument(fmt::format("plan_tiles: a K-vector of {} words does not fit banks of {} / {} words",
                                            kwl, hw.act_words, hw.wgt_words));
  }
  const bool col_shift = uses_column_shifts(pl, shifts);
  const bool has_bias = !layer.bias.empty() || col_shift;  // COL_SHIFT reads the bias entries
  const auto base_max = static_cast<int>(std::min(regmap::kActBaseField.max(), regmap::kWgtBaseField.max()));
  const int base_slots = base_max / kwl + 1;  // vectors whose base fits ACT_BASE and WGT_BASE
  if (uses_dw_mode(pl, hw, dw)) return plan_dw_tiles(pl, hw, base_slots, transfer, col_shift);

  TilePlan plan;
  plan.col_shift = col_shift;
  plan.m_total = s.out_h() * s.out_w();
  plan.m_tiles = ceil_div(plan.m_total, hw.rows);
  plan.lines_per_vec = kwl / static_cast<int>(regmap::kLineWords);
  plan.groups.resize(static_cast<std::size_t>(s.groups));
  for (int g = 0; g < s.groups; ++g) {
    GroupPlan& gp = plan.groups[static_cast<std::size_t>(g)];
    plan_ntiles(layer, g, hw.cols, col_shift, gp);
    const int n_tiles = static_cast<int>(gp.ntiles.size());
    gp.chunk = std::min({n_tiles, hw.wgt_words / kwl, base_slots});
    if (has_bias) gp.chunk = std::min(gp.chunk, hw.bias_entries);
    const int n_chunks = ceil_div(n_tiles, gp.chunk);
    gp.act_resident = n_chunks > 1 && plan.m_tiles <= std::min(hw.act_words / kwl, base_slots);
    for (int nt0 = 0; nt0 < n_tiles; nt0 += gp.chunk) {
      const int cnt = std::min(gp.chunk, n_tiles - nt0);
      const bool load_acts = !gp.act_resident || nt0 == 0;
      for (int mt = 0; mt < plan.m_tiles; ++mt) {
        for (int jj = 0; jj < cnt; ++jj) {
          const int j = (mt % 2 == 0) ? jj : cnt - 1 - jj;
          const NTile& nt = gp.ntiles[static_cast<std::size_t>(nt0 + j)];
          PlannedTile t;
          t.group = g;
          t.m_tile = mt;
          t.m0 = mt * hw.rows;
          t.rows = std::min(hw.rows, plan.m_total - t.m0);
          t.n_tile = nt0 + j;
          t.pos = nt.pos;
          t.cols = nt.cols;
          t.shift = nt.shift;
          t.act_base = gp.act_resident ? mt * kwl : ping_pong_base(transfer, mt, kwl, hw);
          t.wgt_base = j * kwl;
          t.bias_base = j;
          t.load_weights = mt == 0 && jj == 0;
          t.chunk_first = nt0;
          t.chunk_count = cnt;
          t.load_acts = load_acts && jj == 0;
          plan.tiles.push_back(t);
        }
      }
    }
  }
  return plan;
}

}  // namespace bitscale::driver

namespace bitscale::driver {

std::string_view to_string(ShiftMapping m) {
  switch (m) {
    case ShiftMapping::kPerColumn:
      return "per-column";
    case ShiftMapping::kPerTile:
      return "per-tile";
  }
  return "?";
}

ShiftMapping parse_shift_mapping(std::string_view name) {
  for (const ShiftMapping m : {ShiftMapping::kPerColumn, ShiftMapping::kPerTile}) {
    if (name == to_string(m)) return m;
  }
  throw std::invalid_argument(fmt::format("unknown shift mapping '{}' (expected per-column or per-tile)", name));
}

bool uses_column_shifts(const PreparedLayer& pl, ShiftMapping shifts) {
  const golden::Layer& layer = pl.layer;
  if (shifts != ShiftMapping::kPerColumn || layer.channel_shift.empty()) return false;
  return std::all_of(layer.bias.begin(), layer.bias.end(), [](std::int32_t b) { return golden::fits_column_bias(b); });
}

}  // namespace bitscale::driver

namespace bitscale::driver {

std::string_view to_string(PixelMapping m) {
  switch (m) {
    case PixelMapping::kRow:
      return "row";
    case PixelMapping::kArray:
      return "array";
  }
  return "?";
}

PixelMapping parse_pixel_mapping(std::string_view name) {
  for (const PixelMapping m : {PixelMapping::kRow, PixelMapping::kArray}) {
    if (name == to_string(m)) return m;
  }
  throw std::invalid_argument(fmt::format("unknown one-pixel layer mapping '{}' (expected row or array)", name));
}

bool array_bias_digits(std::int64_t bias, golden::Mode mode, std::span<std::uint16_t> words) {
  const int p = golden::lanes(mode), low_bits = golden::bits(mode) - 2;
  const std::int64_t low = bias & ((std::int64_t{1} << low_bits) - 1);  // lane 0, times 1
  std::int64_t high = (bias - low) >> low_bits;                         // the other lanes, times 2^(B-2)
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::uint16_t w = 0;
    for (int l = 0; l < p; ++l) {
      std::int64_t v = low;
      if (i != 0 || l != 0) {
        v = std::clamp<std::int64_t>(high, golden::min_value(mode), golden::max_value(mode));
        high -= v;
      }
      w = golden::set_lane(w, l, mode, static_cast<std::int32_t>(v));
    }
    words[i] = w;
  }
  return high == 0 && !words.empty();
}

void array_bias_weights(golden::Mode mode, std::span<std::uint16_t> words) {
  const int p = golden::lanes(mode);
  const auto high = static_cast<std::int32_t>(1) << (golden::bits(mode) - 2);
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::uint16_t w = 0;
    for (int l = 0; l < p; ++l) w = golden::set_lane(w, l, mode, i == 0 && l == 0 ? 1 : high);
    words[i] = w;
  }
}

std::optional<ArrayPlan> plan_array(const PreparedLayer& pl, const HwConfig& hw, Transfer transfer) {
  constexpr int kMaxBiasWords = 64;
  const golden::Layer& layer = pl.layer;
  const golden::ConvShape& s = layer.shape;
  if (s.out_h() * s.out_w() != 1 || s.groups != 1 || !layer.approx.exact()) return std::nullopt;
  if (hw.rows < 1 || hw.cols < 1 || hw.cols > hw.act_words) return std::nullopt;
  ArrayPlan ap;
  if (!layer.bias.empty()) {
    std::vector<std::uint16_t> digits;
    const auto fits = [&](std::int32_t b) { return array_bias_digits(b, layer.mode, digits); };
    do {
      if (++ap.bias_words > kMaxBiasWords) return std::nullopt;
      digits.assign(static_cast<std::size_t>(ap.bias_words), 0);
    } while (!std::all_of(layer.bias.begin(), layer.bias.end(), fits));
  }
  ap.steps = pl.kw + ap.bias_words;
  if (ap.steps > hw.wgt_words || !regmap::kWgtBaseField.fits(static_cast<std::uint64_t>(ap.steps - 1))) {
    return std::nullopt;
  }
  const int p = golden::lanes(layer.mode);
  ap.chunk = std::min(hw.act_words / hw.cols, static_cast<int>(regmap::kKField.max()) / p);
  if (transfer == Transfer::kOverlapped && ap.chunk >= 2) {  // ping-pong halves of the activation banks
    ap.chunk /= 2;
    ap.slot = ap.chunk * hw.cols;
    if (!regmap::kActBaseField.fits(static_cast<std::uint64_t>(ap.slot))) ap.slot = 0;
  }
  // Columns: up to Rows channels of one shift (in shift order with per-channel shifts), Cols a tile.
  ap.col_shift = !layer.channel_shift.empty();
  ap.shift = layer.shift(0);
  std::vector<int> order(static_cast<std::size_t>(s.out_c));
  std::iota(order.begin(), order.end(), 0);
  if (ap.col_shift) {
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return layer.shift(a) < layer.shift(b); });
  }
  for (std::size_t i = 0; i < order.size();) {
    if (ap.tiles.empty() || static_cast<int>(ap.tiles.back().size()) == hw.cols) ap.tiles.emplace_back();
    std::vector<int>& col = ap.tiles.back().emplace_back();
    const int sh = layer.shift(order[i]);
    while (i < order.size() && static_cast<int>(col.size()) < hw.rows && layer.shift(order[i]) == sh) {
      col.push_back(order[i++]);
    }
  }
  if (ap.col_shift &&
      (static_cast<int>(ap.tiles.size()) > hw.bias_entries || !regmap::kBiasBaseField.fits(ap.tiles.size() - 1))) {
    return std::nullopt;
  }
  return ap;
}

}  // namespace bitscale::driver
