// Fuzz target of the TFLite reader: any input must either load (and then satisfy the invariants
// later code relies on) or end in a ModelError. Anything else (crash, sanitizer report, another
// exception) is a bug. Built for libFuzzer with -DBITSCALE_FUZZ=ON and clang (docs/FUZZING.md),
// and always linked into fuzz_tflite_replay, the bounded deterministic run of CTest.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "bitscale/model/tflite.hpp"

namespace {

[[noreturn]] void invariant_broken() { std::abort(); }

void check_invariants(const bitscale::model::tflite::Model& m) {
  using bitscale::model::tflite::DType;
  const auto n = static_cast<int>(m.tensors.size());
  for (int t : m.inputs)
    if (t < 0 || t >= n) invariant_broken();
  for (int t : m.outputs)
    if (t < 0 || t >= n) invariant_broken();
  for (const auto& op : m.ops) {
    for (int t : op.inputs)
      if (t < -1 || t >= n) invariant_broken();
    for (int t : op.outputs)
      if (t < 0 || t >= n) invariant_broken();
    if (op.outputs.size() != 1) invariant_broken();
  }
  for (const auto& t : m.tensors) {
    if (t.shape.size() > 8) invariant_broken();
    const std::int64_t e = t.elements();
    if (e < 0 || e > 2147483647) invariant_broken();
    if (!t.quant.empty() && t.quant.scale.size() != t.quant.zero_point.size()) invariant_broken();
    if (t.quant.scale.size() > 1 &&
        (t.quant.axis < 0 || static_cast<std::size_t>(t.quant.axis) >= t.shape.size() ||
         static_cast<std::size_t>(t.shape[static_cast<std::size_t>(t.quant.axis)]) != t.quant.scale.size())) {
      invariant_broken();
    }
    if (t.is_const() && e <= 4096) {
      if (t.type == DType::kFloat32 || !t.quant.empty()) {
        if (bitscale::model::tflite::dequantize(t, "fuzz.tflite").size() != static_cast<std::size_t>(e))
          invariant_broken();
      } else if (t.type == DType::kInt32 || t.type == DType::kInt64) {
        if (bitscale::model::tflite::integers(t, "fuzz.tflite").size() != static_cast<std::size_t>(e))
          invariant_broken();
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto m = bitscale::model::tflite::parse(std::span<const std::uint8_t>(data, size), "fuzz.tflite");
    check_invariants(m);
  } catch (const bitscale::model::ModelError&) {
    // Rejected cleanly.
  }
  return 0;
}
