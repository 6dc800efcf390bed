// Off-chip traffic of a quantized network: the bytes that cross the boundary between DRAM and
// the accelerator for every MAC layer the array runs (docs/ENERGY.md). It is a lower bound:
// each tensor of a layer crosses the chip boundary exactly once per layer (the weights and
// biases in, the input activations in, the output activations out), as if the scratchpads
// buffered a layer's whole working set; a real tiling that re-fetches weights or activations
// moves more. Values are packed at the layer's operand width (16, 8 or 4 bits); biases are
// 32-bit. Operators that run on the host (pooling, additions, softmax, ...) move nothing here.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "bitscale/golden/group_code.hpp"
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

namespace bitscale::quant {

/// Group widths 1..16: histogram[w] = number of groups of width w (index 0 unused).
using WidthHistogram = std::array<std::uint64_t, 17>;

/// DPRed per-group precision of one tensor (docs/DPRED.md): the sizes of golden::dpred and the
/// histogram of its group widths.
struct TensorGroups {
  golden::dpred::TensorBits bits;
  WidthHistogram widths{};
  /// Adds another tensor's (or image's) figures.
  TensorGroups& operator+=(const TensorGroups& o);
};

/// One MAC layer's tensors in groups: weights (the same for every image), the input and output
/// activations of the images counted (sums over them).
struct LayerGroups {
  TensorGroups weights, input, output;
};

/// The grouping of a layer's weights: runs of in_c / groups values (the input channels of one
/// filter tap, OHWI); for a depthwise layer (one input channel per filter), runs of out_c values
/// in [kh][kw][C] order (weights_in_group_order).
[[nodiscard]] golden::dpred::Grouping weight_grouping(const golden::ConvShape& s);
/// The layer's weights in the order weight_grouping cuts them (OHWI, or [kh][kw][C] for depthwise).
[[nodiscard]] std::vector<std::int32_t> weights_in_group_order(const golden::Layer& layer);

/// The groups of one tensor of `data_bits`-bit values in runs of `run` (the channels of a pixel).
[[nodiscard]] TensorGroups tensor_groups(std::span<const std::int32_t> values, int data_bits, std::size_t run);

/// Per MAC layer of `q`: the weights' groups, and the activations of one image (`r` recorded
/// with QuantRunOptions::record_mac_io). Throws std::invalid_argument if `r` holds no I/O.
[[nodiscard]] std::vector<LayerGroups> layer_groups(const QuantizedNetwork& q, const QuantResult& r);

}  // namespace bitscale::quant

namespace bitscale::quant {

/// Cycles of one MAC layer on a bit-serial design of the same peak as this array (docs/DPRED.md,
/// "Bit-serial estimate"): Stripes / Dynamic Stripes as in DNNsim's defaults, 16 windows
/// (output pixels) x 16 filters x 16 input-channel lanes, activations fed one bit per cycle,
/// weights in parallel, so at 16 bits it completes 256 MACs per cycle like the array's 16-bit
/// mode (512 at 8 bits, 1024 at 4). A step processes 16 windows x one kernel tap x 16 input
/// channels for a set of 16 filters and lasts as many cycles as the widest of its 16 activation
/// groups (dpred::group_width, two's complement with sign; taps in the padding are zeros, width
/// 1). Depthwise layers put 16 channels (each its own filter) on the rows; a layer with one output
/// pixel (fully connected) spreads 16 filter sets over the windows.
struct SerialCycles {
  std::uint64_t serial = 0;      ///< steps x the width of their widest group
  std::uint64_t full_width = 0;  ///< steps x the layer's data width (the same design, no dynamic width)
  SerialCycles& operator+=(const SerialCycles& o) {
    serial += o.serial;
    full_width += o.full_width;
    return *this;
  }
  friend bool operator==(const SerialCycles&, const SerialCycles&) = default;
};

/// The estimate for a layer of shape `s` on `input` (in_h x in_w x in_c values, HWC) of
/// `data_bits`-bit data. Throws std::invalid_argument for an impossible shape or input size.
[[nodiscard]] SerialCycles bit_serial_cycles(const golden::ConvShape& s, std::span<const std::int32_t> input,
                                             int data_bits);

}  // namespace bitscale::quant

namespace bitscale::quant {

/// Exact block-product gating, estimated from the golden model (docs/DPRED.md, "Exact gating"):
/// on the Ax-BxP grid a B-bit operand is B / 4 blocks of 4 bits (bits 4i..4i+3 of its B-bit two's
/// complement pattern; 8-bit: 2 blocks, 16-bit: 4, 4-bit: 1), and a multiply is (B / 4)^2 block
/// products. A block product whose activation block or weight block is all zero is zero: skipping
/// it leaves every result exact. Counted over every multiply of the layer, padded taps included
/// (their activation is 0), i.e. (B / 4)^2 x ConvShape::macs() block products. An estimate: the
/// array has no zero-block detector yet.
struct BlockGating {
  std::uint64_t block_products = 0;   ///< all of them
  std::uint64_t skippable = 0;        ///< activation block or weight block all zero
  std::uint64_t activation_zero = 0;  ///< activation block all zero (a dynamic detector alone)
  std::uint64_t weight_zero = 0;      ///< weight block all zero (static, from the weights alone)
  /// those of multiplies with a zero operand (a whole-value zero-skipping detector finds only
  /// these): a subset of skippable
  std::uint64_t zero_operand = 0;
  BlockGating& operator+=(const BlockGating& o) {
    block_products += o.block_products;
    skippable += o.skippable;
    activation_zero += o.activation_zero;
    weight_zero += o.weight_zero;
    zero_operand += o.zero_operand;
    return *this;
  }
  friend bool operator==(const BlockGating&, const BlockGating&) = default;
};

/// The 4-bit blocks of `value` (a `bits`-bit two's complement value, bits = 4, 8 or 16) that are
/// not all zero.
[[nodiscard]] int nonzero_blocks(std::int32_t value, int bits);

/// The gating estimate of one layer of shape `s` on `input` (in_h x in_w x in_c, HWC) with
/// `weights` (OHWI, out_c x k_h x k_w x in_c / groups), `bits`-bit data. Throws
/// std::invalid_argument for a shape or sizes that do not fit.
[[nodiscard]] BlockGating block_gating(const golden::ConvShape& s, std::span<const std::int32_t> input,
                                       std::span<const std::int32_t> weights, int bits);

}  // namespace bitscale::quant

namespace bitscale::quant {

/// How the memory energy model prices a run's off-chip bytes (docs/ENERGY.md, docs/DPRED.md).
enum class OffchipEncoding : std::uint8_t {
  kUncompressed,  ///< every tensor at the layer's width (layer_traffic: from the shapes, the same every image)
  kPerGroup,      ///< DPRed's per-group encoding (golden::dpred) of every tensor, activations of the image run
};
/// "uncompressed", "per-group" (the names of --offchip).
[[nodiscard]] std::string_view to_string(OffchipEncoding e);
/// The encoding named `name`; throws std::invalid_argument listing the accepted names.
[[nodiscard]] OffchipEncoding parse_offchip_encoding(std::string_view name);

/// Bytes of a tensor stored with the per-group encoding: its stream, ceil(per_group() / 8) (the
/// stream is zero-padded to a whole byte, docs/DPRED.md "Storage and bit layout").
[[nodiscard]] std::uint64_t encoded_bytes(const golden::dpred::TensorBits& b);

/// The per-group bytes of the weights of every MAC layer of `q` (encoded_bytes of their
/// golden::dpred sizes in weight_grouping order): static, the same for every image.
[[nodiscard]] std::vector<std::uint64_t> weight_group_bytes(const QuantizedNetwork& q);

/// The traffic of every MAC layer of one image with the per-group encoding: weights
/// `weights[i]` (weight_group_bytes(q)), biases 4 bytes each as in layer_traffic, and the input
/// and output activations of the image (`r` recorded with QuantRunOptions::record_mac_io), each
/// tensor encoded in groups of 16 channels of a pixel in whichever scheme is smaller for that
/// tensor (a choice a hardware encoder makes at run time). Throws std::invalid_argument when `r`
/// holds no I/O or `weights` has another number of layers.
[[nodiscard]] std::vector<LayerTraffic> layer_traffic_per_group(const QuantizedNetwork& q, const QuantResult& r,
                                                                std::span<const std::uint64_t> weights);

/// The total of layer_traffic_per_group: the off-chip bytes of one image with per-group encoding.
[[nodiscard]] std::uint64_t offchip_bytes(const QuantizedNetwork& q, const QuantResult& r,
                                          std::span<const std::uint64_t> weights);

}  // namespace bitscale::quant
