#include "bitscale/quant/traffic.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "bitscale/golden/numeric.hpp"

namespace bitscale::quant {

std::uint64_t packed_bytes(std::uint64_t values, int bits) {
  if (bits <= 0) throw std::invalid_argument("packed_bytes: bits must be positive");
  return (values * static_cast<std::uint64_t>(bits) + 7) / 8;
}

LayerTraffic layer_traffic(const golden::Layer& layer) {
  const golden::ConvShape& s = layer.shape;
  const int bits = golden::bits(layer.mode);
  const auto count = [](std::int64_t a, std::int64_t b, std::int64_t c) {
    return static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b) * static_cast<std::uint64_t>(c);
  };
  LayerTraffic t;
  t.weights = packed_bytes(static_cast<std::uint64_t>(s.weight_count()), bits);
  t.bias = 4 * static_cast<std::uint64_t>(layer.bias.size());
  t.input = packed_bytes(count(s.in_h, s.in_w, s.in_c), bits);
  t.output = packed_bytes(count(s.out_h(), s.out_w(), s.out_c), bits);
  return t;
}

std::vector<LayerTraffic> layer_traffic(const QuantizedNetwork& q) {
  std::vector<LayerTraffic> out;
  out.reserve(q.layers().size());
  for (const QuantLayer& l : q.layers()) out.push_back(layer_traffic(l.prepared.layer));
  return out;
}

std::uint64_t offchip_bytes(const QuantizedNetwork& q) {
  std::uint64_t total = 0;
  for (const QuantLayer& l : q.layers()) total += layer_traffic(l.prepared.layer).total();
  return total;
}

}  // namespace bitscale::quant

namespace bitscale::quant {

TensorGroups& TensorGroups::operator+=(const TensorGroups& o) {
  bits.values += o.bits.values;
  bits.uncompressed += o.bits.uncompressed;
  bits.per_layer += o.bits.per_layer;
  bits.dense += o.bits.dense;
  bits.zero_skip += o.bits.zero_skip;
  for (std::size_t w = 0; w < widths.size(); ++w) widths[w] += o.widths[w];
  return *this;
}

golden::dpred::Grouping weight_grouping(const golden::ConvShape& s) {
  const int per_filter = s.in_c / s.groups;
  return {.run = static_cast<std::size_t>(per_filter == 1 ? s.out_c : per_filter)};
}

std::vector<std::int32_t> weights_in_group_order(const golden::Layer& layer) {
  const golden::ConvShape& s = layer.shape;
  if (s.in_c / s.groups != 1) return layer.weights;
  // OHWI with I = 1: w[o][ky][kx] -> [ky][kx][o].
  const auto taps = static_cast<std::size_t>(s.k_h) * static_cast<std::size_t>(s.k_w);
  const auto oc = static_cast<std::size_t>(s.out_c);
  std::vector<std::int32_t> out(layer.weights.size());
  for (std::size_t o = 0; o < oc; ++o) {
    for (std::size_t t = 0; t < taps; ++t) out[t * oc + o] = layer.weights[o * taps + t];
  }
  return out;
}

TensorGroups tensor_groups(std::span<const std::int32_t> values, int data_bits, std::size_t run) {
  TensorGroups g;
  std::vector<std::uint8_t> w;
  g.bits = golden::dpred::tensor_bits(values, data_bits, {.run = run}, &w);
  for (std::uint8_t x : w) ++g.widths.at(x);
  return g;
}

std::vector<LayerGroups> layer_groups(const QuantizedNetwork& q, const QuantResult& r) {
  if (r.mac_io.size() != q.layers().size())
    throw std::invalid_argument(fmt::format("layer_groups: {} recorded MAC layers for {} (run with record_mac_io)",
                                            r.mac_io.size(), q.layers().size()));
  std::vector<LayerGroups> out;
  out.reserve(q.layers().size());
  for (std::size_t i = 0; i < q.layers().size(); ++i) {
    const golden::Layer& l = q.layers()[i].prepared.layer;
    const int bits = golden::bits(l.mode);
    LayerGroups g;
    g.weights = tensor_groups(weights_in_group_order(l), bits, weight_grouping(l.shape).run);
    g.input = tensor_groups(r.mac_io[i].input, bits, static_cast<std::size_t>(l.shape.in_c));
    g.output = tensor_groups(r.mac_io[i].output, bits, static_cast<std::size_t>(l.shape.out_c));
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace bitscale::quant

namespace bitscale::quant {

SerialCycles bit_serial_cycles(const golden::ConvShape& s, std::span<const std::int32_t> input, int data_bits) {
  constexpr int kWindows = 16, kRows = 16, kLanes = 16;
  s.validate();
  const auto pixels_in = static_cast<std::size_t>(s.in_h) * static_cast<std::size_t>(s.in_w);
  if (input.size() != pixels_in * static_cast<std::size_t>(s.in_c))
    throw std::invalid_argument(fmt::format("bit_serial_cycles: {} input values for {} ({}x{}x{} expected)",
                                            input.size(), s.to_string(), s.in_h, s.in_w, s.in_c));
  const int cin_g = s.in_c / s.groups, cout_g = s.out_c / s.groups;
  const bool depthwise = cin_g == 1 && cout_g == 1;
  // The channel groups a step reads: 16 consecutive channels of one convolution group (all
  // channels for depthwise, where each row takes its own channel).
  std::vector<std::pair<int, int>> chunks;  // (first channel, count)
  for (int g = 0; g < (depthwise ? 1 : s.groups); ++g) {
    const int c_begin = depthwise ? 0 : g * cin_g, c_end = depthwise ? s.in_c : c_begin + cin_g;
    for (int c = c_begin; c < c_end; c += kLanes) chunks.emplace_back(c, std::min(kLanes, c_end - c));
  }
  // Widths of every (input pixel, chunk) group, computed once.
  std::vector<std::uint8_t> width(pixels_in * chunks.size());
  for (std::size_t p = 0; p < pixels_in; ++p)
    for (std::size_t k = 0; k < chunks.size(); ++k)
      width[p * chunks.size() + k] = static_cast<std::uint8_t>(golden::dpred::group_width(
          input.subspan(p * static_cast<std::size_t>(s.in_c) + static_cast<std::size_t>(chunks[k].first),
                        static_cast<std::size_t>(chunks[k].second))));
  const int oh = s.out_h(), ow = s.out_w(), pixels_out = oh * ow;
  const auto ceil_div = [](int a, int b) { return (a + b - 1) / b; };
  // Filter sets per step: one for depthwise, 16 filters per set otherwise (and 16 sets side by
  // side over the windows when there is a single output pixel).
  const int filter_sets = depthwise ? 1 : ceil_div(cout_g, pixels_out == 1 ? kRows * kWindows : kRows);
  SerialCycles c;
  for (int p0 = 0; p0 < pixels_out; p0 += kWindows) {
    for (int ky = 0; ky < s.k_h; ++ky) {
      for (int kx = 0; kx < s.k_w; ++kx) {
        for (std::size_t k = 0; k < chunks.size(); ++k) {
          int widest = 1;
          for (int p = p0; p < std::min(p0 + kWindows, pixels_out); ++p) {
            const int y = (p / ow) * s.stride_h + ky - s.pad_top, x = (p % ow) * s.stride_w + kx - s.pad_left;
            if (y < 0 || y >= s.in_h || x < 0 || x >= s.in_w) continue;  // padding: zeros, width 1
            widest = std::max<int>(
                widest,
                width[(static_cast<std::size_t>(y) * static_cast<std::size_t>(s.in_w) + static_cast<std::size_t>(x)) *
                          chunks.size() +
                      k]);
          }
          c.serial += static_cast<std::uint64_t>(filter_sets) * static_cast<std::uint64_t>(widest);
          c.full_width += static_cast<std::uint64_t>(filter_sets) * static_cast<std::uint64_t>(data_bits);
        }
      }
    }
  }
  return c;
}

}  // namespace bitscale::quant

namespace bitscale::quant {

int nonzero_blocks(std::int32_t value, int bits) {
  if (bits != 4 && bits != 8 && bits != 16)
    throw std::invalid_argument(fmt::format("nonzero_blocks: {} bits (4, 8 or 16)", bits));
  const auto pattern = static_cast<std::uint32_t>(value) & ((1u << bits) - 1u);
  int n = 0;
  for (int b = 0; b < bits; b += 4) n += ((pattern >> b) & 0xFu) != 0;
  return n;
}

BlockGating block_gating(const golden::ConvShape& s, std::span<const std::int32_t> input,
                         std::span<const std::int32_t> weights, int bits) {
  s.validate();
  const int nb = bits / 4;
  if (bits != 4 && bits != 8 && bits != 16)
    throw std::invalid_argument(fmt::format("block_gating: {} bits (4, 8 or 16)", bits));
  const auto sz = [](int v) { return static_cast<std::size_t>(v); };
  const int cin_g = s.in_c / s.groups, cout_g = s.out_c / s.groups, oh = s.out_h(), ow = s.out_w();
  if (input.size() != sz(s.in_h) * sz(s.in_w) * sz(s.in_c))
    throw std::invalid_argument(fmt::format("block_gating: {} input values for {} ({}x{}x{} expected)", input.size(),
                                            s.to_string(), s.in_h, s.in_w, s.in_c));
  if (weights.size() != sz(s.out_c) * sz(s.k_h) * sz(s.k_w) * sz(cin_g))
    throw std::invalid_argument(fmt::format("block_gating: {} weights for {} ({} expected)", weights.size(),
                                            s.to_string(), sz(s.out_c) * sz(s.k_h) * sz(s.k_w) * sz(cin_g)));
  // Over the multiplies of one (group, input channel, tap), the non-zero block pairs factorize:
  // sum over (output pixel, filter) of nz(a) nz(w) = (sum over pixels of nz(a)) (sum over filters
  // of nz(w)), as the activation does not depend on the filter nor the weight on the pixel.
  std::uint64_t both = 0, act = 0, wgt = 0;  // sums of nz(a) nz(w), nz(a), nz(w) over the multiplies
  std::uint64_t nonzero_multiplies = 0;      // a != 0 and w != 0, factorized the same way
  for (int g = 0; g < s.groups; ++g) {
    for (int ky = 0; ky < s.k_h; ++ky) {
      for (int kx = 0; kx < s.k_w; ++kx) {
        for (int ic = 0; ic < cin_g; ++ic) {
          const int c = g * cin_g + ic;
          std::uint64_t a = 0, w = 0, a_nz = 0, w_nz = 0;
          for (int p = 0; p < oh * ow; ++p) {
            const int y = (p / ow) * s.stride_h + ky - s.pad_top, x = (p % ow) * s.stride_w + kx - s.pad_left;
            if (y < 0 || y >= s.in_h || x < 0 || x >= s.in_w) continue;  // padding: 0, no non-zero block
            const std::int32_t v = input[(sz(y) * sz(s.in_w) + sz(x)) * sz(s.in_c) + sz(c)];
            a += static_cast<std::uint64_t>(nonzero_blocks(v, bits));
            a_nz += v != 0;
          }
          for (int o = g * cout_g; o < (g + 1) * cout_g; ++o) {
            const std::int32_t v = weights[((sz(o) * sz(s.k_h) + sz(ky)) * sz(s.k_w) + sz(kx)) * sz(cin_g) + sz(ic)];
            w += static_cast<std::uint64_t>(nonzero_blocks(v, bits));
            w_nz += v != 0;
          }
          nonzero_multiplies += a_nz * w_nz;
          both += a * w;
          act += a * static_cast<std::uint64_t>(cout_g);
          wgt += w * static_cast<std::uint64_t>(oh) * static_cast<std::uint64_t>(ow);
        }
      }
    }
  }
  BlockGating r;
  const auto n = static_cast<std::uint64_t>(nb);
  r.block_products = n * n * static_cast<std::uint64_t>(s.macs());
  r.skippable = r.block_products - both;
  r.activation_zero = r.block_products - n * act;
  r.weight_zero = r.block_products - n * wgt;
  r.zero_operand = n * n * (static_cast<std::uint64_t>(s.macs()) - nonzero_multiplies);
  return r;
}

}  // namespace bitscale::quant

namespace bitscale::quant {

std::string_view to_string(OffchipEncoding e) { return e == OffchipEncoding::kPerGroup ? "per-group" : "uncompressed"; }

OffchipEncoding parse_offchip_encoding(std::string_view name) {
  for (const OffchipEncoding e : {OffchipEncoding::kUncompressed, OffchipEncoding::kPerGroup}) {
    if (name == to_string(e)) return e;
  }
  throw std::invalid_argument(fmt::format("off-chip encoding '{}': expected 'uncompressed' or 'per-group'", name));
}

std::uint64_t encoded_bytes(const golden::dpred::TensorBits& b) { return (b.per_group() + 7) / 8; }

std::vector<std::uint64_t> weight_group_bytes(const QuantizedNetwork& q) {
  std::vector<std::uint64_t> out;
  out.reserve(q.layers().size());
  for (const QuantLayer& ql : q.layers()) {
    const golden::Layer& l = ql.prepared.layer;
    out.push_back(encoded_bytes(
        golden::dpred::tensor_bits(weights_in_group_order(l), golden::bits(l.mode), weight_grouping(l.shape))));
  }
  return out;
}

std::vector<LayerTraffic> layer_traffic_per_group(const QuantizedNetwork& q, const QuantResult& r,
                                                  std::span<const std::uint64_t> weights) {
  const std::size_t n = q.layers().size();
  if (r.mac_io.size() != n)
    throw std::invalid_argument(fmt::format(
        "per-group off-chip bytes: {} recorded MAC layers for {} (run with record_mac_io)", r.mac_io.size(), n));
  if (weights.size() != n)
    throw std::invalid_argument(
        fmt::format("per-group off-chip bytes: the weights of {} layers for {} MAC layers", weights.size(), n));
  std::vector<LayerTraffic> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const golden::Layer& l = q.layers()[i].prepared.layer;
    const int bits = golden::bits(l.mode);
    LayerTraffic t;
    t.weights = weights[i];
    t.bias = 4 * static_cast<std::uint64_t>(l.bias.size());
    t.input = encoded_bytes(
        golden::dpred::tensor_bits(r.mac_io[i].input, bits, {.run = static_cast<std::size_t>(l.shape.in_c)}));
    t.output = encoded_bytes(
        golden::dpred::tensor_bits(r.mac_io[i].output, bits, {.run = static_cast<std::size_t>(l.shape.out_c)}));
    out.push_back(t);
  }
  return out;
}

std::uint64_t offchip_bytes(const QuantizedNetwork& q, const QuantResult& r, std::span<const std::uint64_t> weights) {
  std::uint64_t total = 0;
  for (const LayerTraffic& t : layer_traffic_per_group(q, r, weights)) total += t.total();
  return total;
}

}  // namespace bitscale::quant
