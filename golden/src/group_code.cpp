#include "bitscale/golden/group_code.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>

namespace bitscale::golden::dpred {

namespace {

void check_args(int data_bits, Grouping g) {
  if (data_bits != 4 && data_bits != 8 && data_bits != 16)
    throw std::invalid_argument(fmt::format("group code: data width {} bits (expected 4, 8 or 16)", data_bits));
  if (g.run == 0) throw std::invalid_argument("group code: run length 0");
}

void check_values(std::span<const std::int32_t> values, int data_bits) {
  const std::int32_t lo = -(1 << (data_bits - 1)), hi = (1 << (data_bits - 1)) - 1;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] < lo || values[i] > hi)
      throw std::invalid_argument(
          fmt::format("group code: value {} at index {} is outside the {}-bit range", values[i], i, data_bits));
  }
}

// Calls f(first, n) for every group in stream order.
template <typename F>
void for_each_group(std::size_t count, Grouping g, F&& f) {
  for (std::size_t r = 0; r < count; r += g.run) {
    const std::size_t end = std::min(count, r + g.run);
    for (std::size_t i = r; i < end; i += kGroupSize) f(i, std::min<std::size_t>(kGroupSize, end - i));
  }
}

class BitWriter {
 public:
  void put(std::uint32_t v, int n) {
    for (int k = 0; k < n; ++k, ++bits_) {
      if (bits_ % 8 == 0) bytes_.push_back(0);
      if ((v >> k) & 1u) bytes_.back() = static_cast<std::uint8_t>(bytes_.back() | (1u << (bits_ % 8)));
    }
  }
  [[nodiscard]] std::uint64_t bits() const { return bits_; }
  std::vector<std::uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<std::uint8_t> bytes_;
  std::uint64_t bits_ = 0;
};

class BitReader {
 public:
  explicit BitReader(std::span<const std::uint8_t> s) : s_(s) {}
  std::uint32_t get(int n, const char* what) {
    if (pos_ + static_cast<std::uint64_t>(n) > 8 * static_cast<std::uint64_t>(s_.size()))
      throw DecodeError(pos_, fmt::format("stream truncated: {} needs {} bits, {} left", what, n,
                                          8 * static_cast<std::uint64_t>(s_.size()) - pos_));
    std::uint32_t v = 0;
    for (int k = 0; k < n; ++k, ++pos_) v |= static_cast<std::uint32_t>((s_[pos_ / 8] >> (pos_ % 8)) & 1u) << k;
    return v;
  }
  [[nodiscard]] std::uint64_t pos() const { return pos_; }

 private:
  std::span<const std::uint8_t> s_;
  std::uint64_t pos_ = 0;
};

std::int32_t sign_extend(std::uint32_t v, int width) {
  const std::uint32_t m = 1u << (width - 1);
  return static_cast<std::int32_t>((v ^ m) - m);
}

}  // namespace

int min_width(std::int32_t v) {
  const auto u = static_cast<std::uint32_t>(v < 0 ? ~v : v);
  return static_cast<int>(std::bit_width(u)) + 1;
}

int group_width(std::span<const std::int32_t> group) {
  int w = 1;
  for (std::int32_t v : group) w = std::max(w, min_width(v));
  return w;
}

int header_bits(int data_bits) {
  check_args(data_bits, {});
  return std::countr_zero(static_cast<unsigned>(data_bits));
}

std::string_view to_string(Scheme s) { return s == Scheme::kZeroSkip ? "zero-skip" : "dense"; }

std::uint64_t TensorBits::per_group() const { return 1 + std::min(dense, zero_skip); }

TensorBits tensor_bits(std::span<const std::int32_t> values, int data_bits, Grouping g,
                       std::vector<std::uint8_t>* widths) {
  check_args(data_bits, g);
  check_values(values, data_bits);
  const auto h = static_cast<std::uint64_t>(header_bits(data_bits));
  TensorBits t;
  t.values = values.size();
  t.uncompressed = t.values * static_cast<std::uint64_t>(data_bits);
  t.per_layer = t.values * static_cast<std::uint64_t>(group_width(values));
  if (widths) widths->clear();
  for_each_group(values.size(), g, [&](std::size_t i, std::size_t n) {
    const auto grp = values.subspan(i, n);
    const auto w = static_cast<std::uint64_t>(group_width(grp));
    const auto nz = static_cast<std::uint64_t>(std::count_if(grp.begin(), grp.end(), [](auto v) { return v != 0; }));
    t.dense += h + n * w;
    t.zero_skip += n + h + nz * w;
    if (widths) widths->push_back(static_cast<std::uint8_t>(w));
  });
  return t;
}

Encoded encode(std::span<const std::int32_t> values, int data_bits, Grouping g) {
  return encode(values, data_bits, g, tensor_bits(values, data_bits, g).scheme());
}

Encoded encode(std::span<const std::int32_t> values, int data_bits, Grouping g, Scheme scheme) {
  check_args(data_bits, g);
  check_values(values, data_bits);
  const int h = header_bits(data_bits);
  Encoded e;
  e.scheme = scheme;
  BitWriter out;
  out.put(e.scheme == Scheme::kZeroSkip ? 1u : 0u, 1);
  for_each_group(values.size(), g, [&](std::size_t i, std::size_t n) {
    const auto grp = values.subspan(i, n);
    const int w = group_width(grp);
    if (e.scheme == Scheme::kZeroSkip) {
      for (std::int32_t v : grp) out.put(v != 0 ? 1u : 0u, 1);
    }
    out.put(static_cast<std::uint32_t>(w - 1), h);
    for (std::int32_t v : grp) {
      if (e.scheme == Scheme::kDense || v != 0) out.put(static_cast<std::uint32_t>(v), w);
    }
  });
  e.bits = out.bits();
  e.bytes = out.take();
  return e;
}

DecodeError::DecodeError(std::uint64_t bit_offset, const std::string& what)
    : std::runtime_error(fmt::format("group-coded stream, bit {}: {}", bit_offset, what)), bit_offset_(bit_offset) {}

std::vector<std::int32_t> decode(std::span<const std::uint8_t> stream, std::size_t count, int data_bits, Grouping g) {
  check_args(data_bits, g);
  const int h = header_bits(data_bits);
  BitReader in(stream);
  const Scheme scheme = in.get(1, "the scheme bit") ? Scheme::kZeroSkip : Scheme::kDense;
  std::vector<std::int32_t> out(count, 0);
  std::uint32_t map = 0;
  for_each_group(count, g, [&](std::size_t i, std::size_t n) {
    const std::uint64_t at = in.pos();
    if (scheme == Scheme::kZeroSkip) map = in.get(static_cast<int>(n), "a non-zero map");
    const int w = static_cast<int>(in.get(h, "a width header")) + 1;
    for (std::size_t k = 0; k < n; ++k) {
      if (scheme == Scheme::kDense || ((map >> k) & 1u)) {
        const std::uint64_t vat = in.pos();
        out[i + k] = sign_extend(in.get(w, "a value"), w);
        if (scheme == Scheme::kZeroSkip && out[i + k] == 0)
          throw DecodeError(vat, "a value the non-zero map marks as non-zero is zero");
      }
    }
    const int need = group_width(std::span<const std::int32_t>(out).subspan(i, n));
    if (need != w) throw DecodeError(at, fmt::format("the group's header says {} bits, its values need {}", w, need));
  });
  if (in.pos() + 7 < 8 * static_cast<std::uint64_t>(stream.size()))
    throw DecodeError(in.pos(),
                      fmt::format("{} trailing bytes after the last group", stream.size() - (in.pos() + 7) / 8));
  const std::uint64_t end = in.pos();
  if (end % 8 != 0 && (stream.back() >> (end % 8)) != 0) throw DecodeError(end, "non-zero padding bits");
  return out;
}

}  // namespace bitscale::golden::dpred
