// Canonical graph helpers.
#include "bitscale/model/graph.hpp"

namespace bitscale::model {

std::string to_string(OpType t) {
  switch (t) {
    case OpType::kConv2D:
      return "CONV_2D";
    case OpType::kFullyConnected:
      return "FULLY_CONNECTED";
    case OpType::kAdd:
      return "ADD";
    case OpType::kAveragePool2D:
      return "AVERAGE_POOL_2D";
    case OpType::kMaxPool2D:
      return "MAX_POOL_2D";
    case OpType::kMean:
      return "MEAN";
    case OpType::kReshape:
      return "RESHAPE";
    case OpType::kSoftmax:
      return "SOFTMAX";
    case OpType::kPad:
      return "PAD";
    case OpType::kConcatenation:
      return "CONCATENATION";
  }
  return "?";
}

}  // namespace bitscale::model
