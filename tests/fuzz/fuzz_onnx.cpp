// Fuzz target of the ONNX importer: any input must either import (and then satisfy the
// invariants later code relies on) or end in a ModelError. Anything else (crash, sanitizer
// report, another exception) is a bug. Built for libFuzzer with -DBITSCALE_FUZZ=ON and clang
// (docs/FUZZING.md), and always linked into fuzz_onnx_replay, the bounded run of CTest.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "bitscale/model/onnx.hpp"

namespace {

[[noreturn]] void invariant_broken() { std::abort(); }

void check_invariants(const bitscale::model::onnx::Import& im) {
  const auto& m = im.model;
  const auto n = static_cast<int>(m.shapes.size());
  if (m.tensor_names.size() != m.shapes.size()) invariant_broken();
  if (m.input < 0 || m.input >= n || m.output < 0 || m.output >= n) invariant_broken();
  for (const auto& s : m.shapes)
    if (s.h <= 0 || s.w <= 0 || s.c <= 0 || s.size() > (std::int64_t{1} << 26)) invariant_broken();
  for (const auto& op : m.ops) {
    if (op.output < 0 || op.output >= n || op.inputs.empty()) invariant_broken();
    for (int t : op.inputs)
      if (t < 0 || t >= n) invariant_broken();
    if (op.is_mac() && (op.out_c <= 0 || op.weights.empty())) invariant_broken();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto im = bitscale::model::onnx::parse(std::span<const std::uint8_t>(data, size), "fuzz.onnx");
    check_invariants(im);
  } catch (const bitscale::model::ModelError&) {
    // Rejected cleanly.
  }
  return 0;
}
