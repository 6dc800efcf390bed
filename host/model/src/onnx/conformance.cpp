// ONNX node tests (model.onnx with test_data_set_*/input_*.pb and output_*.pb) through the
// importer and the float reference (Network), compared as ONNX's backend test runner does.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "bitscale/model/network.hpp"
#include "proto.hpp"

namespace bitscale::model::onnx {

namespace fs = std::filesystem;

namespace {

detail::Const read_tensor(const fs::path& p, const std::string& model) {
  const auto bytes = detail::read_bytes(p.string());
  ::onnx::TensorProto t;
  if (!t.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw ModelError(fmt::format("{}: '{}' is not a TensorProto", model, p.filename().string()));
  return detail::decode(t, model);
}

/// ONNX row-major data of `dims` (rank 4: NCHW) to the canonical order (HWC) and back; other
/// ranks unchanged.
enum class Layout { kToCanonical, kFromCanonical };
std::vector<double> relayout(const std::vector<double>& v, const std::vector<std::int64_t>& dims, Layout to) {
  if (dims.size() != 4) return v;
  const auto c = static_cast<std::size_t>(dims[1]), h = static_cast<std::size_t>(dims[2]),
             w = static_cast<std::size_t>(dims[3]);
  std::vector<double> out(v.size());
  for (std::size_t ci = 0; ci < c; ++ci) {
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) {
        const std::size_t hwc = (y * w + x) * c + ci, chw = (ci * h + y) * w + x;
        if (to == Layout::kToCanonical) {
          out[hwc] = v[chw];
        } else {
          out[chw] = v[hwc];
        }
      }
    }
  }
  return out;
}

bool is_integer(DType t) { return t != DType::kFloat32 && t != DType::kFloat64; }

/// Compares one data set; "" when it matches, else the first mismatch.
std::string run_data_set(const fs::path& set, const ::onnx::ModelProto& m, const std::string& name,
                         const std::vector<std::string>& input_names) {
  std::vector<detail::Const> bound;
  detail::Const x;
  for (std::size_t k = 0; k < input_names.size(); ++k) {
    const fs::path p = set / fmt::format("input_{}.pb", k);
    if (!fs::exists(p)) throw ModelError(fmt::format("{}: {} is missing", name, p.filename().string()));
    detail::Const c = read_tensor(p, name);
    c.name = input_names[k];
    if (k == 0) {
      x = std::move(c);
    } else {
      bound.push_back(std::move(c));
    }
  }
  const Import im = detail::lower(m, name, bound);
  if (x.dims != im.input.dims) {
    return fmt::format("input_0 is [{}], the model declares [{}]", fmt::join(x.dims, ","),
                       fmt::join(im.input.dims, ","));
  }
  const Network net(im.model);
  const Shape3 is = im.model.shapes[static_cast<std::size_t>(im.model.input)];
  golden::FloatTensor in(is.h, is.w, is.c);
  const auto cx = relayout(x.v, x.dims, Layout::kToCanonical);
  for (std::size_t i = 0; i < cx.size(); ++i) {
    in.data[i] = static_cast<float>(is_integer(im.input.type) ? im.input.scale * (cx[i] - im.input.zero) : cx[i]);
  }
  const FloatTrace tr = net.trace_float(std::move(in));
  const auto& y = tr.tensors[static_cast<std::size_t>(im.model.output)].data;
  std::vector<double> got(y.begin(), y.end());
  if (is_integer(im.output.type)) {
    const auto [lo, hi] = detail::int_range(im.output.type);
    for (auto& v : got) v = std::clamp(std::nearbyint(v / im.output.scale + im.output.zero), lo, hi);
  }
  got = relayout(got, im.output.dims, Layout::kFromCanonical);
  const detail::Const want = read_tensor(set / "output_0.pb", name);
  if (want.type != im.output.type)
    return fmt::format("output type {}, expected {}", to_string(im.output.type), to_string(want.type));
  if (want.v.size() != got.size() || (want.dims != im.output.dims && !want.dims.empty())) {
    return fmt::format("output [{}], expected [{}]", fmt::join(im.output.dims, ","), fmt::join(want.dims, ","));
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double e = want.v[i];
    if (!(std::abs(got[i] - e) <= kConformanceAtol + kConformanceRtol * std::abs(e)) &&
        !(std::isnan(e) && std::isnan(got[i]))) {
      return fmt::format("{}: element {} is {}, expected {}", set.filename().string(), i, got[i], e);
    }
  }
  return "";
}

}  // namespace

std::string to_string(TestStatus s) {
  switch (s) {
    case TestStatus::kPassed:
      return "pass";
    case TestStatus::kFailed:
      return "FAIL";
    case TestStatus::kSkipped:
      return "skip";
  }
  return "?";
}

NodeTestResult run_node_test(const std::string& dir) {
  NodeTestResult r;
  r.name = fs::path(dir).filename().string();
  if (r.name.empty()) r.name = fs::path(dir).parent_path().filename().string();
  try {
    const auto bytes = detail::read_bytes((fs::path(dir) / "model.onnx").string());
    const ::onnx::ModelProto m = detail::parse_proto(bytes, r.name);
    std::vector<std::string> inputs;
    std::vector<std::string> inits;
    for (const auto& t : m.graph().initializer()) inits.push_back(t.name());
    for (const auto& vi : m.graph().input())
      if (std::find(inits.begin(), inits.end(), vi.name()) == inits.end()) inputs.push_back(vi.name());
    std::vector<fs::path> sets;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_directory() && e.path().filename().string().starts_with("test_data_set_")) sets.push_back(e.path());
    std::sort(sets.begin(), sets.end());
    if (sets.empty()) {
      r.status = TestStatus::kFailed;
      r.reason = "no test_data_set_* directory";
      return r;
    }
    for (const auto& s : sets) {
      if (fs::exists(s / "output_1.pb")) {
        r.status = TestStatus::kSkipped;
        r.reason = "more than one output";
        return r;
      }
      std::string mismatch;
      try {
        mismatch = run_data_set(s, m, r.name, inputs);
      } catch (const ModelError& e) {
        // The importer refuses the model: unsupported here, not wrong.
        r.status = TestStatus::kSkipped;
        r.reason = e.what();
        return r;
      }
      if (!mismatch.empty()) {
        r.status = TestStatus::kFailed;
        r.reason = mismatch;
        return r;
      }
      ++r.data_sets;
    }
    r.status = TestStatus::kPassed;
  } catch (const std::exception& e) {
    r.status = TestStatus::kFailed;
    r.reason = e.what();
  }
  return r;
}

std::vector<std::string> node_test_dirs(const std::string& path) {
  std::error_code ec;
  if (fs::exists(fs::path(path) / "model.onnx", ec)) return {path};
  std::vector<std::string> out;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.is_directory() && fs::exists(e.path() / "model.onnx")) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  if (out.empty())
    throw ModelError(fmt::format("{}: no ONNX test directory (model.onnx) here or one level below", path));
  return out;
}

std::vector<std::string> node_test_ops(const std::string& dir) {
  std::vector<std::string> ops;
  try {
    const auto bytes = detail::read_bytes((fs::path(dir) / "model.onnx").string());
    const ::onnx::ModelProto m = detail::parse_proto(bytes, dir);
    for (const auto& n : m.graph().node()) ops.push_back(n.op_type());
  } catch (const ModelError&) {
    ops.clear();
  }
  return ops;
}

std::string conformance_totals(const std::vector<NodeTestResult>& results) {
  int n[3] = {0, 0, 0};
  for (const auto& r : results) ++n[static_cast<int>(r.status)];
  return fmt::format("{} passed, {} failed, {} skipped", n[0], n[1], n[2]);
}

}  // namespace bitscale::model::onnx
