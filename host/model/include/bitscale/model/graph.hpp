// The canonical network graph: what every importer produces (tflite.hpp today) and what the
// float reference (network.hpp) and the quantizer (bitscale/quant) consume. It knows no file
// format. Conventions (docs/MODEL.md):
//  - Tensors are numbered 0..n-1 (an importer keeps its file's numbering); each has a name and
//    an HWC shape (Shape3), batch 1. Operands that are constant are folded into their operator
//    as float values; their tensor entries stay (name, shape) but no operator reads them.
//  - Activations are HWC, row-major, channel fastest: element (y, x, c) at (y * w + x) * c_n + c.
//  - kConv2D is a grouped 2-D convolution: weights OHWI per group, [out_c][k_h][k_w][in_c / groups];
//    output channel o reads input channels g * (in_c / groups) ... with g = o / (out_c / groups).
//    A depthwise convolution is groups == in_c (with a channel multiplier m: out_c = m * in_c).
//  - kFullyConnected: weights [out_c][K], K = the input's size in HWC order.
//  - Biases: empty or out_c floats, added to the accumulator.
//  - Padding: explicit amounts (golden::Window pad_top / bottom / left / right; PadAmounts per
//    H, W, C for kPad); padded cells are zeros, and average pools do not count them.
//  - Activation: golden::FloatActivation applied to the output (a clamp range: none, [0, inf),
//    [0, 6], [-1, 1]).
//  - Input: a pixel p (0..255) of an RGB HWC uint8 image means real = scale * (p - zero).
//  - The operators are in execution order, one output each.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "bitscale/golden/float_ops.hpp"

namespace bitscale::model {

/// A model that cannot be read or is not supported; the message names the model and what.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class OpType : std::uint8_t {
  kConv2D,          ///< grouped convolution (weights, bias, win, groups, out_c)
  kFullyConnected,  ///< weights [out_c][K], bias
  kAdd,             ///< two activations, or one and `constant` (broadcast along C)
  kAveragePool2D,   ///< win
  kMaxPool2D,       ///< win
  kMean,            ///< mean over H and W
  kReshape,         ///< values unchanged, new shape
  kSoftmax,         ///< beta
  kPad,             ///< zeros: pad_h, pad_w, pad_c
  kConcatenation,   ///< along `axis` (0 = H, 1 = W, 2 = C)
};
std::string to_string(OpType t);

/// One operator.
struct Op {
  OpType type = OpType::kConv2D;
  std::vector<int> inputs;  ///< activation tensor indices (constant operands are folded below)
  int output = -1;          ///< tensor index
  golden::FloatActivation act = golden::FloatActivation::kNone;
  // MAC operators (conv, fully connected).
  golden::Window win;  ///< also pools (k = window size)
  int groups = 1;
  int out_c = 0;
  std::vector<float> weights;  ///< out_c * k_h * k_w * (in_c / groups)
  std::vector<float> bias;     ///< empty or out_c
  // ADD with a constant operand.
  golden::FloatTensor constant;
  bool has_constant = false;
  // PAD: amounts per H, W, C.
  golden::PadAmounts pad_h, pad_w, pad_c;
  int axis = 2;       ///< CONCATENATION: 0 = H, 1 = W, 2 = C
  float beta = 1.0f;  ///< SOFTMAX
  [[nodiscard]] bool is_mac() const { return type == OpType::kConv2D || type == OpType::kFullyConnected; }
};

/// HWC shape of a tensor.
struct Shape3 {
  int h = 1, w = 1, c = 1;
  [[nodiscard]] std::int64_t size() const { return static_cast<std::int64_t>(h) * w * c; }
  friend bool operator==(const Shape3&, const Shape3&) = default;
};

/// How an RGB uint8 pixel p becomes the input value: real = scale * (p - zero).
struct InputEncoding {
  float scale = 1.0f / 128.0f;
  float zero = 128.0f;
};

struct Model {
  std::string name;  ///< for messages (the file name)
  std::vector<std::string> tensor_names;
  std::vector<Shape3> shapes;  ///< per tensor
  std::vector<Op> ops;         ///< in execution order
  int input = -1, output = -1;
  InputEncoding input_encoding;
};

}  // namespace bitscale::model
