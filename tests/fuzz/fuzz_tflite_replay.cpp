// Bounded, deterministic fuzzing of the TFLite reader without libFuzzer: mutates the shared
// MobileNets and a few tiny built-in models (bit flips, byte and word sets, truncations,
// insertions, deletions, duplicated ranges), preferring the FlatBuffer structure over the bulk
// weight data, and feeds each result to LLVMFuzzerTestOneInput. Iteration i of seed s depends on
// (s, i) only, so one failing input can be replayed:
//   fuzz_tflite_replay --seed S --first I --iterations 1 --write crash.tflite
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

#include "tflite_builder.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

struct Base {
  std::string name;
  std::vector<std::uint8_t> bytes;
  std::vector<std::pair<std::size_t, std::size_t>> structure;  ///< [begin, end) outside large buffers
  std::size_t structure_bytes = 0;
};

/// Byte ranges of the file that are not bulk constant data (buffers >= 64 bytes).
void map_structure(Base& b) {
  std::vector<std::pair<std::size_t, std::size_t>> data;
  flatbuffers::Verifier v(b.bytes.data(), b.bytes.size());
  if (tflite::VerifyModelBuffer(v)) {
    const auto* m = tflite::GetModel(b.bytes.data());
    if (m->buffers() != nullptr) {
      for (const auto* buf : *m->buffers()) {
        if (buf->data() == nullptr || buf->data()->size() < 64) continue;
        const auto begin = static_cast<std::size_t>(buf->data()->data() - b.bytes.data());
        data.emplace_back(begin, begin + buf->data()->size());
      }
    }
  }
  std::sort(data.begin(), data.end());
  std::size_t at = 0;
  for (const auto& [begin, end] : data) {
    if (begin > at) b.structure.emplace_back(at, begin);
    at = std::max(at, end);
  }
  if (at < b.bytes.size()) b.structure.emplace_back(at, b.bytes.size());
  for (const auto& [begin, end] : b.structure) b.structure_bytes += end - begin;
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
  // A position: mostly in the FlatBuffer structure, sometimes anywhere.
  auto pos = [&]() -> std::size_t {
    if (v.empty()) return 0;
    if (b.structure_bytes > 0 && rng() % 8 != 0) {
      std::size_t k = pick(b.structure_bytes);
      for (const auto& [begin, end] : b.structure) {
        if (k < end - begin) return std::min(begin + k, v.size() - 1);
        k -= end - begin;
      }
    }
    return pick(v.size());
  };
  static constexpr std::uint32_t kWords[] = {0,          1,          2,          3,          4,          8,
                                             0x7f,       0x80,       0xff,       0x100,      0xffff,     0x10000,
                                             0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x40000000, 65536 * 16};
  const int n = 1 + static_cast<int>(rng() % 6);
  for (int k = 0; k < n && !v.empty(); ++k) {
    switch (rng() % 9) {
      case 0:
      case 1:
        v[pos()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
        break;
      case 2:
        v[pos()] = static_cast<std::uint8_t>(rng());
        break;
      case 3: {  // interesting 32-bit word, aligned like FlatBuffer offsets and sizes
        const std::size_t p = pos() & ~std::size_t{3};
        const std::uint32_t w = kWords[pick(std::size(kWords))];
        if (p + 4 <= v.size()) std::memcpy(v.data() + p, &w, 4);
        break;
      }
      case 4: {  // small delta to a 32-bit word
        const std::size_t p = pos() & ~std::size_t{3};
        if (p + 4 <= v.size()) {
          std::uint32_t w;
          std::memcpy(&w, v.data() + p, 4);
          w += static_cast<std::uint32_t>(static_cast<int>(rng() % 33) - 16);
          std::memcpy(v.data() + p, &w, 4);
        }
        break;
      }
      case 5:
        v.resize(pick(v.size() + 1));
        break;   // truncation
      case 6: {  // insertion
        const std::size_t p = pos(), len = 1 + pick(16);
        std::vector<std::uint8_t> ins(len);
        for (auto& c : ins) c = static_cast<std::uint8_t>(rng());
        v.insert(v.begin() + static_cast<std::ptrdiff_t>(p), ins.begin(), ins.end());
        break;
      }
      case 7: {  // deletion
        const std::size_t p = pos(), len = std::min(1 + pick(64), v.size() - p);
        v.erase(v.begin() + static_cast<std::ptrdiff_t>(p), v.begin() + static_cast<std::ptrdiff_t>(p + len));
        break;
      }
      default: {  // copy a range over another (duplicated tables, vtables)
        const std::size_t from = pos(), to = pos(), len = std::min({1 + pick(32), v.size() - from, v.size() - to});
        std::memmove(v.data() + to, v.data() + from, len);
        break;
      }
    }
  }
  return v;
}

// Crash reporting from a signal handler: preformatted message and the current input.
char g_replay[256];
const std::vector<std::uint8_t>* g_input = nullptr;

extern "C" void on_signal(int sig) {
  const char head[] = "\nfuzz_tflite_replay: CRASH (signal) on input of ";
  [[maybe_unused]] auto r = ::write(2, head, sizeof head - 1);
  r = ::write(2, g_replay, std::strlen(g_replay));
  if (g_input != nullptr) {
    const int fd = ::open("fuzz_tflite_crash.tflite", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      r = ::write(fd, g_input->data(), g_input->size());
      ::close(fd);
      const char saved[] = "fuzz_tflite_replay: input written to fuzz_tflite_crash.tflite\n";
      r = ::write(2, saved, sizeof saved - 1);
    }
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

int usage() {
  fmt::print(stderr,
             "usage: fuzz_tflite_replay [--seconds S] [--iterations N] [--seed X] [--first I] [--models DIR]\n"
             "                          [--write FILE]\n"
             "  --seconds S     stop after S seconds (default 20; 0 = no time limit)\n"
             "  --iterations N  stop after N inputs (default 0 = no count limit)\n"
             "  --seed X        seed (default 20261123, printed)\n"
             "  --first I       index of the first iteration (replay one input: --first I --iterations 1)\n"
             "  --models DIR    folder with the shared .tflite models (default ../shared/models)\n"
             "  --write FILE    write the last input to FILE (e.g. for the libFuzzer binary)\n"
             "  --write-seeds DIR  write the unmutated seed models (shared and tiny) to DIR and exit\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 20;
  std::uint64_t iterations = 0, first = 0;
  std::uint64_t seed = 20261123;  // fixed: CI runs are reproducible; pass --seed for others
#ifdef BITSCALE_SHARED_DIR
  fs::path models = fs::path(BITSCALE_SHARED_DIR) / "models";
#else
  fs::path models = "../shared/models";
#endif
  std::string write_to, write_seeds;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (i + 1 >= argc) return usage();
      const std::string v = argv[++i];
      if (a == "--seconds")
        seconds = std::stod(v);
      else if (a == "--iterations")
        iterations = std::stoull(v);
      else if (a == "--seed")
        seed = std::stoull(v, nullptr, 0);
      else if (a == "--first")
        first = std::stoull(v);
      else if (a == "--models")
        models = v;
      else if (a == "--write")
        write_to = v;
      else if (a == "--write-seeds")
        write_seeds = v;
      else
        return usage();
    }
  } catch (const std::exception&) {
    return usage();
  }

  std::vector<Base> bases;
  for (const char* f : {"mobilenet_v1_0.25_128_quant.tflite", "mobilenet_v1_0.5_160_quant.tflite",
                        "mobilenet_v2_1.0_224_quant.tflite"}) {
    std::ifstream in(models / f, std::ios::binary);
    if (!in) continue;
    bases.push_back({f, {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}, {}, 0});
  }
  if (bases.empty()) {
    fmt::print("fuzz_tflite_replay: shared models not found in {}: fuzzing the built-in tiny models only\n",
               models.string());
  }
  bases.push_back({"tiny", bitscale::test::tiny_model_def().finish(), {}, 0});
  bases.push_back({"tiny-misc", bitscale::test::tiny_misc_def().finish(), {}, 0});
  for (Base& b : bases) map_structure(b);
  if (!write_seeds.empty()) {
    fs::create_directories(write_seeds);
    for (const Base& b : bases) {
      const fs::path out = fs::path(write_seeds) / (b.name.ends_with(".tflite") ? b.name : b.name + ".tflite");
      std::ofstream(out, std::ios::binary)
          .write(reinterpret_cast<const char*>(b.bytes.data()), static_cast<std::streamsize>(b.bytes.size()));
      fmt::print("{}\n", out.string());
    }
    return 0;
  }

  fmt::print("fuzz_tflite_replay: seed {:#x}, first iteration {}, {} s, {} iterations max, {} seed models\n", seed,
             first, seconds, iterations, bases.size());
  std::fflush(stdout);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, on_signal);

  const auto start = std::chrono::steady_clock::now();
  std::uint64_t done = 0, accepted = 0;
  std::vector<std::size_t> per_base(bases.size());
  std::vector<std::uint8_t> input;
  for (std::uint64_t it = first;; ++it) {
    if (iterations != 0 && done >= iterations) break;
    if (seconds > 0 && done % 16 == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= seconds) {
      break;
    }
    std::mt19937_64 rng(splitmix(seed ^ splitmix(it)));
    // Tiny models are cheap: give them half of the iterations.
    const std::size_t bi = rng() % 2 == 0 ? bases.size() - 1 - rng() % 2 : rng() % bases.size();
    input = mutate(bases[bi], rng);
    std::snprintf(g_replay, sizeof g_replay,
                  "seed %#llx iteration %llu (base %s, %zu bytes); replay: --seed %#llx --first %llu --iterations 1\n",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(it), bases[bi].name.c_str(),
                  input.size(), static_cast<unsigned long long>(seed), static_cast<unsigned long long>(it));
    g_input = &input;
    try {
      LLVMFuzzerTestOneInput(input.data(), input.size());
    } catch (const std::exception& e) {
      fmt::print(stderr, "fuzz_tflite_replay: FAILED: exception other than ModelError: {}\n  on input of {}", e.what(),
                 g_replay);
      std::ofstream("fuzz_tflite_crash.tflite", std::ios::binary)
          .write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
      return 1;
    }
    g_input = nullptr;
    // Count acceptances separately (cheap second parse of accepted inputs is not needed: the
    // target itself checks the invariants); use a quick verifier pass for the statistics.
    flatbuffers::Verifier v(input.data(), input.size());
    if (input.size() >= 8 && tflite::ModelBufferHasIdentifier(input.data()) && tflite::VerifyModelBuffer(v)) ++accepted;
    ++per_base[bi];
    ++done;
  }
  if (!write_to.empty()) {
    std::ofstream(write_to, std::ios::binary)
        .write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("fuzz_tflite_replay: {} inputs in {:.1f} s, no crash; {} passed the FlatBuffers verifier\n", done, secs,
             accepted);
  for (std::size_t i = 0; i < bases.size(); ++i) fmt::print("  {:<40} {:>8} inputs\n", bases[i].name, per_base[i]);
  return 0;
}
