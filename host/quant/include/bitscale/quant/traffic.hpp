// Off-chip traffic of a quantized network: the bytes that cross the boundary between DRAM and
// the accelerator for every MAC layer the array runs (docs/ENERGY.md). It is a lower bound:
// each tensor of a layer crosses the chip boundary exactly once per layer (the weights and
// biases in, the input activations in, the output activations out), as if the scratchpads
// buffered a layer's whole working set; a real tiling that re-fetches weights or activations
// moves more. Values are packed at the layer's operand width (16, 8 or 4 bits); biases are
// 32-bit. Operators that run on the host (pooling, additions, softmax, ...) move nothing here.
#pragma once

#include <cstdint>
#include <vector>

#include "bitscale/golden/tensor.hpp"
#include "bitscale/quant/quantized_network.hpp"

namespace bitscale::quant {

/// Bytes of one MAC layer's tensors crossing the chip boundary once.
struct LayerTraffic {
  std::uint64_t weights = 0;  ///< out_c * k values at the layer's width, packed
  std::uint64_t bias = 0;     ///< 4 bytes per bias (none without a bias)
  std::uint64_t input = 0;    ///< in_h * in_w * in_c activations (unpadded), packed
  std::uint64_t output = 0;   ///< out_h * out_w * out_c activations, packed
  [[nodiscard]] std::uint64_t total() const { return weights + bias + input + output; }
  friend bool operator==(const LayerTraffic&, const LayerTraffic&) = default;
};

/// Bytes of `values` values of `bits` bits each, packed: ceil(values * bits / 8).
[[nodiscard]] std::uint64_t packed_bytes(std::uint64_t values, int bits);

/// The traffic of one layer as the array runs it (its shape, mode and bias).
[[nodiscard]] LayerTraffic layer_traffic(const golden::Layer& layer);

/// Per MAC layer of `q` (QuantizedNetwork::layers() order).
[[nodiscard]] std::vector<LayerTraffic> layer_traffic(const QuantizedNetwork& q);

/// Total off-chip bytes of one forward pass of `q` (the same for every image).
[[nodiscard]] std::uint64_t offchip_bytes(const QuantizedNetwork& q);

}  // namespace bitscale::quant
