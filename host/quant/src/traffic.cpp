#include "bitscale/quant/traffic.hpp"

#include <fmt/format.h>

#include <stdexcept>

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
