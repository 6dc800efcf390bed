// Bounded, deterministic fuzzing of the ONNX importer without libFuzzer: mutates tiny built
// models (a float CNN, a QDQ network, QLinear / Integer operators) and, when given, .onnx files
// (bit flips, byte sets, varint-sized words, truncations, insertions, deletions, duplicated
// ranges) and feeds each result to LLVMFuzzerTestOneInput. Iteration i of seed s depends on
// (s, i) only, so one failing input can be replayed:
//   fuzz_onnx_replay --seed S --first I --iterations 1 --write crash.onnx
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "onnx_builder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;
using bitscale::test::onnxb::attr_int;
using bitscale::test::onnxb::attr_ints;
using bitscale::test::onnxb::Builder;
using TP = ::onnx::TensorProto;

struct Base {
  std::string name;
  std::vector<std::uint8_t> bytes;
};

/// QDQ model: uint8 input, DQ, Conv on DQ(int8 per-axis weights), Relu, Q, DQ, GAP, Reshape,
/// MatMul, Add, Softmax.
Builder qdq_model() {
  Builder b;
  b.input("x", {1, 3, 4, 4}, TP::UINT8);
  b.floats("xs", {}, {0.02f}).ints("xz", TP::UINT8, {}, {128});
  std::vector<std::int64_t> w(2 * 3 * 3 * 3);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int64_t>(i % 9) - 4;
  b.ints("wq", TP::INT8, {2, 3, 3, 3}, w).floats("ws", {2}, {0.1f, 0.05f}).ints("wz", TP::INT8, {2}, {0, 0});
  b.floats("ys", {}, {0.05f}).ints("yz", TP::UINT8, {}, {0});
  b.ints("shape", TP::INT64, {2}, {1, -1});
  b.floats("fc", {2, 3}, {1, 0, -1, 0.5f, 0.5f, 0.5f}).floats("fb", {3}, {0.1f, 0.2f, 0.3f});
  b.node("DequantizeLinear", {"x", "xs", "xz"}, {"xd"});
  auto& dq = b.node("DequantizeLinear", {"wq", "ws", "wz"}, {"w"});
  attr_int(dq, "axis", 0);
  auto& conv = b.node("Conv", {"xd", "w"}, {"c"});
  attr_ints(conv, "pads", {1, 1, 1, 1});
  b.node("Relu", {"c"}, {"r"});
  b.node("QuantizeLinear", {"r", "ys", "yz"}, {"rq"});
  b.node("DequantizeLinear", {"rq", "ys", "yz"}, {"rd"});
  b.node("GlobalAveragePool", {"rd"}, {"g"});
  b.node("Reshape", {"g", "shape"}, {"f"});
  b.node("MatMul", {"f", "fc"}, {"m"});
  b.node("Add", {"m", "fb"}, {"l"});
  b.node("Softmax", {"l"}, {"y"});
  b.output("y", {1, 3});
  return b;
}

/// QLinearConv, ConvInteger-free integer chain: QLinearConv then QLinearMatMul after Flatten.
Builder qlinear_model() {
  Builder b;
  b.input("x", {1, 1, 3, 3}, TP::UINT8);
  b.floats("s", {}, {0.5f}).ints("z", TP::UINT8, {}, {10});
  b.ints("w", TP::INT8, {2, 1, 2, 2}, {1, 2, 3, 4, -1, -2, -3, -4})
      .floats("ws", {}, {0.25f})
      .ints("wz", TP::INT8, {}, {0});
  b.ints("bias", TP::INT32, {2}, {5, -5});
  b.ints("B", TP::UINT8, {8, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  b.floats("bs", {}, {0.1f}).ints("bz", TP::UINT8, {}, {8});
  b.node("QLinearConv", {"x", "s", "z", "w", "ws", "wz", "s", "z", "bias"}, {"c"});
  b.node("Flatten", {"c"}, {"f"});
  b.node("QLinearMatMul", {"f", "s", "z", "B", "bs", "bz", "s", "z"}, {"y"});
  b.output("y", {1, 2}, TP::UINT8);
  return b;
}

std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::vector<std::uint8_t> mutate(const Base& b, std::mt19937_64& rng) {
  std::vector<std::uint8_t> v = b.bytes;
  auto pick = [&](std::size_t n) { return n == 0 ? std::size_t{0} : static_cast<std::size_t>(rng() % n); };
  // Varints that protobuf reads as sizes, counts and dimensions.
  static const std::vector<std::vector<std::uint8_t>> kVarints = {
      {0x00},
      {0x01},
      {0x7f},
      {0x80, 0x01},
      {0xff, 0xff, 0xff, 0xff, 0x07},
      {0xff, 0xff, 0xff, 0xff, 0x0f},
      {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
      {0x80, 0x80, 0x80, 0x80, 0x08}};
  const int n = 1 + static_cast<int>(rng() % 6);
  for (int k = 0; k < n && !v.empty(); ++k) {
    const std::size_t p = pick(v.size());
    switch (rng() % 8) {
      case 0:
      case 1:
        v[p] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        break;
      case 2:
        v[p] = static_cast<std::uint8_t>(rng());
        break;
      case 3: {
        const auto& w = kVarints[pick(kVarints.size())];
        v.insert(v.begin() + static_cast<std::ptrdiff_t>(p), w.begin(), w.end());
        break;
      }
      case 4:
        v.resize(pick(v.size() + 1));
        break;
      case 5: {
        const std::size_t len = 1 + pick(16);
        std::vector<std::uint8_t> ins(len);
        for (auto& c : ins) c = static_cast<std::uint8_t>(rng());
        v.insert(v.begin() + static_cast<std::ptrdiff_t>(p), ins.begin(), ins.end());
        break;
      }
      case 6: {
        const std::size_t len = std::min(1 + pick(32), v.size() - p);
        v.erase(v.begin() + static_cast<std::ptrdiff_t>(p), v.begin() + static_cast<std::ptrdiff_t>(p + len));
        break;
      }
      default: {
        const std::size_t to = pick(v.size()), len = std::min({1 + pick(32), v.size() - p, v.size() - to});
        std::memmove(v.data() + to, v.data() + p, len);
        break;
      }
    }
  }
  return v;
}

char g_replay[256];
const std::vector<std::uint8_t>* g_input = nullptr;

extern "C" void on_signal(int sig) {
  const char head[] = "\nfuzz_onnx_replay: CRASH (signal) on input of ";
  [[maybe_unused]] auto r = ::write(2, head, sizeof head - 1);
  r = ::write(2, g_replay, std::strlen(g_replay));
  if (g_input != nullptr) {
    const int fd = ::open("fuzz_onnx_crash.onnx", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      r = ::write(fd, g_input->data(), g_input->size());
      ::close(fd);
    }
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

int usage() {
  fmt::print(stderr,
             "usage: fuzz_onnx_replay [--seconds S] [--iterations N] [--seed X] [--first I] [--model F.onnx]...\n"
             "                        [--write FILE] [--write-seeds DIR]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 20;
  std::uint64_t iterations = 0, first = 0, seed = 20261130;
  std::string write_to, write_seeds;
  std::vector<Base> bases;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) return usage();
      const std::string v = argv[++i];
      if (a == "--seconds") {
        seconds = std::stod(v);
      } else if (a == "--iterations") {
        iterations = std::stoull(v);
      } else if (a == "--seed") {
        seed = std::stoull(v, nullptr, 0);
      } else if (a == "--first") {
        first = std::stoull(v);
      } else if (a == "--model") {
        std::ifstream in(v, std::ios::binary);
        if (!in) {
          fmt::print("fuzz_onnx_replay: {} not found, skipped\n", v);
          continue;
        }
        bases.push_back(
            {fs::path(v).filename().string(), {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}});
      } else if (a == "--write") {
        write_to = v;
      } else if (a == "--write-seeds") {
        write_seeds = v;
      } else {
        return usage();
      }
    }
  } catch (const std::exception&) {
    return usage();
  }
  bases.push_back({"tiny-cnn", bitscale::test::onnxb::tiny_cnn().bytes()});
  bases.push_back({"qdq", qdq_model().bytes()});
  bases.push_back({"qlinear", qlinear_model().bytes()});
  // The seeds themselves must import.
  for (const Base& b : bases) LLVMFuzzerTestOneInput(b.bytes.data(), b.bytes.size());
  if (!write_seeds.empty()) {
    fs::create_directories(write_seeds);
    for (const Base& b : bases) {
      const fs::path out = fs::path(write_seeds) / (b.name.ends_with(".onnx") ? b.name : b.name + ".onnx");
      std::ofstream(out, std::ios::binary)
          .write(reinterpret_cast<const char*>(b.bytes.data()), static_cast<std::streamsize>(b.bytes.size()));
      fmt::print("{}\n", out.string());
    }
    return 0;
  }
  fmt::print("fuzz_onnx_replay: seed {:#x}, first iteration {}, {} s, {} iterations max, {} seed models\n", seed, first,
             seconds, iterations, bases.size());
  std::fflush(stdout);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, on_signal);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t done = 0;
  std::vector<std::size_t> per_base(bases.size());
  std::vector<std::uint8_t> input;
  for (std::uint64_t it = first;; ++it) {
    if (iterations != 0 && done >= iterations) break;
    if (seconds > 0 && done % 16 == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= seconds) {
      break;
    }
    std::mt19937_64 rng(splitmix(seed ^ splitmix(it)));
    const std::size_t bi = rng() % bases.size();
    input = mutate(bases[bi], rng);
    std::snprintf(g_replay, sizeof g_replay,
                  "seed %#llx iteration %llu (base %s, %zu bytes); replay: --seed %#llx --first %llu --iterations 1\n",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(it), bases[bi].name.c_str(),
                  input.size(), static_cast<unsigned long long>(seed), static_cast<unsigned long long>(it));
    g_input = &input;
    try {
      LLVMFuzzerTestOneInput(input.data(), input.size());
    } catch (const std::exception& e) {
      fmt::print(stderr, "fuzz_onnx_replay: FAILED: exception other than ModelError: {}\n  on input of {}", e.what(),
                 g_replay);
      std::ofstream("fuzz_onnx_crash.onnx", std::ios::binary)
          .write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
      return 1;
    }
    g_input = nullptr;
    ++per_base[bi];
    ++done;
  }
  if (!write_to.empty()) {
    std::ofstream(write_to, std::ios::binary)
        .write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("fuzz_onnx_replay: {} inputs in {:.1f} s, no crash\n", done, secs);
  for (std::size_t i = 0; i < bases.size(); ++i) fmt::print("  {:<40} {:>8} inputs\n", bases[i].name, per_base[i]);
  return 0;
}
