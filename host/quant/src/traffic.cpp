#include "bitscale/quant/traffic.hpp"

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
