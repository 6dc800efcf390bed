// The operators the host runs in fixed point between the array's MAC layers (private to the
// quant library). Tensors are HWC integer values with one fractional length; each function
// writes the output's values at `fl_out`, saturated to the mode, into `y` (resized; its storage is
// reused across images) (docs/QUANTIZATION.md).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bitscale/golden/float_ops.hpp"
#include "bitscale/golden/numeric.hpp"
#include "bitscale/model/graph.hpp"

namespace bitscale::quant::host {

/// An activation tensor in fixed point: v[k] means v[k] * 2^-fl.
struct QTensor {
  int fl = 0;
  std::vector<std::int32_t> v;
};

/// a + b at the finest of the three FLs, then rescaled to fl_out and activated. b has a's size,
/// one value, or one per channel (`channels`); throws std::invalid_argument naming `where`
/// otherwise.
void add(const QTensor& a, std::span<const std::int32_t> b, int b_fl, int channels, int fl_out,
         golden::FloatActivation act, golden::Mode m, const std::string& where, std::vector<std::int32_t>& y);
/// Average (rounded, over the window cells inside the input) or max pool.
void pool(const QTensor& x, const model::Shape3& is, const model::Shape3& os, const golden::Window& w, bool average,
          int fl_out, golden::FloatActivation act, golden::Mode m, std::vector<std::int32_t>& y);
/// Mean over H and W, rounded.
void mean_hw(const QTensor& x, const model::Shape3& is, int fl_out, golden::Mode m, std::vector<std::int32_t>& y);
/// Zero padding (the FL is unchanged).
void pad(const QTensor& x, const model::Shape3& is, const model::Shape3& os, const golden::PadAmounts& ph,
         const golden::PadAmounts& pw, const golden::PadAmounts& pc, std::vector<std::int32_t>& y);
/// Concatenation along `axis` (0 = H, 1 = W, 2 = C), every part rescaled to fl_out.
void concatenate(std::span<const QTensor* const> parts, std::span<const model::Shape3> shapes, int axis,
                 const model::Shape3& os, int fl_out, golden::Mode m, std::vector<std::int32_t>& y);
/// The real values of a tensor.
std::vector<float> to_float(const QTensor& x);

}  // namespace bitscale::quant::host
