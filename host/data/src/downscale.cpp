#include "bitscale/data/downscale.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <string_view>
#include <system_error>

// libjpeg's header needs <cstdio> (FILE, size_t) first.
#include <jpeglib.h>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/util/file.hpp"
#include "jpeg_error.hpp"

namespace bitscale::data {
namespace {

// ---- area average --------------------------------------------------------------------------
// In units of 1/out of an input pixel, output pixel i covers [i * in, (i + 1) * in) and input
// pixel j covers [j * out, (j + 1) * out): the overlaps are integers that sum to `in` per output
// pixel and to `out` per input pixel.
struct AreaTaps {
  std::vector<int> first;             // first input pixel of each output pixel
  std::vector<int> count;             // how many input pixels it covers
  std::vector<std::uint32_t> weight;  // their overlaps, concatenated
  std::vector<std::size_t> offset;    // where each output pixel's overlaps start in `weight`
};

AreaTaps area_taps(int in, int out) {
  AreaTaps t;
  const std::int64_t n_in = in, n_out = out;
  for (std::int64_t i = 0; i < n_out; ++i) {
    const std::int64_t lo = i * n_in, hi = (i + 1) * n_in;
    const std::int64_t j0 = lo / n_out, j1 = (hi - 1) / n_out;  // first and last input pixel touched
    t.first.push_back(static_cast<int>(j0));
    t.count.push_back(static_cast<int>(j1 - j0 + 1));
    t.offset.push_back(t.weight.size());
    for (std::int64_t j = j0; j <= j1; ++j) {
      const std::int64_t overlap = std::min(hi, (j + 1) * n_out) - std::max(lo, j * n_out);
      t.weight.push_back(static_cast<std::uint32_t>(overlap));
    }
  }
  return t;
}

// ---- JPEG destination into a std::vector -----------------------------------------------------
// libjpeg calls these from C frames, so nothing may throw through them: a failed allocation is
// recorded, the data written so far is dropped and the encoder reports it after libjpeg returns.
struct VectorDestination {
  jpeg_destination_mgr pub;  // must be first
  std::vector<std::uint8_t>* out;
  bool out_of_memory;
};

void dest_init(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  d->pub.next_output_byte = d->out->data();
  d->pub.free_in_buffer = d->out->size();
}

boolean dest_empty(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  const std::size_t used = d->out->size();
  try {
    d->out->resize(used * 2);
    d->pub.next_output_byte = d->out->data() + used;
    d->pub.free_in_buffer = d->out->size() - used;
  } catch (const std::bad_alloc&) {
    d->out_of_memory = true;
    d->pub.next_output_byte = d->out->data();
    d->pub.free_in_buffer = d->out->size();
  }
  return TRUE;
}

void dest_term(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  d->out->resize(d->out->size() - d->pub.free_in_buffer);
}

// Owns a compressor; zero-initialised so that destroying a never-created one is a no-op.
struct Compressor {
  jpeg_compress_struct cinfo{};
  Compressor() = default;
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;
  ~Compressor() { jpeg_destroy_compress(&cinfo); }
};

// Runs libjpeg's compressor on `img` into dest.out. Returns false after a libjpeg error (message
// in err.message). As in the decoder, setjmp is in a function whose C++ objects belong to the
// caller, so a longjmp skips no destructor.
bool run_encoder(const Image& img, int quality, JpegColor color, detail::ErrorManager& err, jpeg_compress_struct& cinfo,
                 VectorDestination& dest, std::vector<std::uint8_t>& row) {
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = detail::on_error_exit;
  if (setjmp(err.jump) != 0) return false;

  jpeg_create_compress(&cinfo);
  dest.pub.init_destination = dest_init;
  dest.pub.empty_output_buffer = dest_empty;
  dest.pub.term_destination = dest_term;
  cinfo.dest = &dest.pub;
  cinfo.image_width = static_cast<JDIMENSION>(img.w);
  cinfo.image_height = static_cast<JDIMENSION>(img.h);
  const bool gray = color == JpegColor::kGrayscale;
  cinfo.input_components = gray ? 1 : 3;
  cinfo.in_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.optimize_coding = TRUE;
  jpeg_start_compress(&cinfo, TRUE);
  const std::size_t w = static_cast<std::size_t>(img.w);
  while (cinfo.next_scanline < cinfo.image_height) {
    const std::uint8_t* src = img.rgb.data() + static_cast<std::size_t>(cinfo.next_scanline) * w * 3;
    if (gray) {
      for (std::size_t x = 0; x < w; ++x) row[x] = src[3 * x];
    } else {
      std::copy_n(src, w * 3, row.data());
    }
    JSAMPROW rows[1] = {row.data()};
    jpeg_write_scanlines(&cinfo, rows, 1);
  }
  jpeg_finish_compress(&cinfo);
  return true;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ImageError(fmt::format("{}: is a directory, not an image file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImageError(fmt::format("{}: cannot open file", path));
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw ImageError(fmt::format("{}: read error", path));
  return bytes;
}

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  try {
    util::write_file(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  } catch (const std::runtime_error& e) {
    throw ImageError(e.what());
  }
}

}  // namespace

Image resize_area(const Image& img, int out_h, int out_w) {
  if (img.h <= 0 || img.w <= 0) throw ImageError("resize_area: empty image");
  if (img.rgb.size() != img.pixels() * 3) throw ImageError("resize_area: pixel buffer does not match size");
  if (out_h < 1 || out_w < 1 || out_h > img.h || out_w > img.w) {
    throw ImageError(fmt::format("resize_area: output size {}x{} is not in 1x1 .. {}x{} (it only shrinks)", out_w,
                                 out_h, img.w, img.h));
  }
  if (out_h == img.h && out_w == img.w) return img;

  // Horizontal pass: sums of pixel * overlap (at most in_w * 255 < 2^32 per value).
  const AreaTaps tx = area_taps(img.w, out_w);
  const std::size_t in_w = static_cast<std::size_t>(img.w), ow = static_cast<std::size_t>(out_w);
  std::vector<std::uint32_t> rows(static_cast<std::size_t>(img.h) * ow * 3);
  for (std::size_t y = 0; y < static_cast<std::size_t>(img.h); ++y) {
    const std::uint8_t* src = img.rgb.data() + y * in_w * 3;
    std::uint32_t* dst = rows.data() + y * ow * 3;
    for (std::size_t x = 0; x < ow; ++x) {
      const std::size_t j0 = static_cast<std::size_t>(tx.first[x]);
      const std::uint32_t* wt = tx.weight.data() + tx.offset[x];
      std::uint32_t acc[3] = {0, 0, 0};
      for (int k = 0; k < tx.count[x]; ++k) {
        const std::uint8_t* p = src + (j0 + static_cast<std::size_t>(k)) * 3;
        for (int c = 0; c < 3; ++c) acc[c] += wt[k] * p[c];
      }
      for (int c = 0; c < 3; ++c) dst[x * 3 + static_cast<std::size_t>(c)] = acc[c];
    }
  }
  // Vertical pass and the division by the area in_h * in_w, rounded to nearest (halves up).
  const AreaTaps ty = area_taps(img.h, out_h);
  const std::uint64_t area = static_cast<std::uint64_t>(img.h) * static_cast<std::uint64_t>(img.w);
  Image out;
  out.h = out_h;
  out.w = out_w;
  out.rgb.resize(out.pixels() * 3);
  for (std::size_t y = 0; y < static_cast<std::size_t>(out_h); ++y) {
    const std::size_t j0 = static_cast<std::size_t>(ty.first[y]);
    const std::uint32_t* wt = ty.weight.data() + ty.offset[y];
    std::uint8_t* dst = out.rgb.data() + y * ow * 3;
    for (std::size_t i = 0; i < ow * 3; ++i) {
      std::uint64_t acc = 0;
      for (int k = 0; k < ty.count[y]; ++k)
        acc += static_cast<std::uint64_t>(wt[k]) * rows[(j0 + static_cast<std::size_t>(k)) * ow * 3 + i];
      dst[i] = static_cast<std::uint8_t>((2 * acc + area) / (2 * area));
    }
  }
  return out;
}

std::vector<std::uint8_t> encode_jpeg(const Image& img, int quality, JpegColor color) {
  if (img.h <= 0 || img.w <= 0) throw ImageError("encode_jpeg: empty image");
  if (img.rgb.size() != img.pixels() * 3) throw ImageError("encode_jpeg: pixel buffer does not match size");
  if (img.h > JPEG_MAX_DIMENSION || img.w > JPEG_MAX_DIMENSION) {
    throw ImageError(fmt::format("encode_jpeg: {}x{} pixels is beyond JPEG's {} per side", img.w, img.h,
                                 static_cast<int>(JPEG_MAX_DIMENSION)));
  }
  if (quality < 1 || quality > 100) throw ImageError(fmt::format("encode_jpeg: quality {} is not in 1..100", quality));
  if (color == JpegColor::kGrayscale) {
    for (std::size_t i = 0; i < img.pixels(); ++i) {
      const std::uint8_t* p = img.rgb.data() + i * 3;
      if (p[0] != p[1] || p[0] != p[2]) {
        throw ImageError(fmt::format("encode_jpeg: grayscale requested but pixel ({}, {}) has colour ({}, {}, {})",
                                     i % static_cast<std::size_t>(img.w), i / static_cast<std::size_t>(img.w), p[0],
                                     p[1], p[2]));
      }
    }
  }
  std::vector<std::uint8_t> bytes(std::max<std::size_t>(4096, img.pixels() / 4));
  std::vector<std::uint8_t> row(static_cast<std::size_t>(img.w) * 3);
  auto err = std::make_unique<detail::ErrorManager>();
  VectorDestination dest{};
  dest.out = &bytes;
  Compressor enc;
  if (!run_encoder(img, quality, color, *err, enc.cinfo, dest, row)) {
    throw ImageError(fmt::format("encode_jpeg: libjpeg: {}", err->message));
  }
  if (dest.out_of_memory) throw ImageError("encode_jpeg: out of memory for the encoded data");
  return bytes;
}

ImageSize shorter_side_size(int h, int w, int short_side) {
  if (h < 1 || w < 1 || short_side < 1) {
    throw ImageError(fmt::format("shorter_side_size: size {}x{} or shorter side {} below 1", w, h, short_side));
  }
  const int shorter = std::min(h, w);
  if (shorter <= short_side) return {h, w};
  // longer * short_side / shorter, rounded to nearest (halves up), in 64 bits.
  const auto scaled = [&](int side) {
    return static_cast<int>((2 * static_cast<std::int64_t>(side) * short_side + shorter) / (2 * shorter));
  };
  return h <= w ? ImageSize{short_side, scaled(w)} : ImageSize{scaled(h), short_side};
}

DownscaleResult downscale_jpeg_file(const std::string& in, const std::string& out, int short_side, int quality) {
  const std::vector<std::uint8_t> bytes = read_bytes(in);
  JpegInfo info;
  const Image img = decode_jpeg_memory(bytes, in, &info);
  DownscaleResult r;
  r.in = {img.h, img.w};
  r.out = shorter_side_size(img.h, img.w, short_side);
  r.components = info.components;
  r.bytes_in = bytes.size();
  if (r.out == r.in) {
    r.action = DownscaleAction::kCopied;
    write_bytes(out, bytes);
    r.bytes_out = bytes.size();
    return r;
  }
  const std::vector<std::uint8_t> encoded = encode_jpeg(resize_area(img, r.out.h, r.out.w), quality,
                                                        info.components == 1 ? JpegColor::kGrayscale : JpegColor::kRgb);
  write_bytes(out, encoded);
  r.action = DownscaleAction::kResized;
  r.bytes_out = encoded.size();
  return r;
}

}  // namespace bitscale::data

namespace bitscale::data {

std::size_t DownscaleSetResult::count(DownscaleAction a) const {
  return static_cast<std::size_t>(
      std::count_if(files.begin(), files.end(), [a](const DownscaleResult& f) { return f.action == a; }));
}

std::size_t DownscaleSetResult::grayscale() const {
  return static_cast<std::size_t>(
      std::count_if(files.begin(), files.end(), [](const DownscaleResult& f) { return f.components == 1; }));
}

std::size_t DownscaleSetResult::bytes_in() const {
  std::size_t n = 0;
  for (const DownscaleResult& f : files) n += f.bytes_in;
  return n;
}

std::size_t DownscaleSetResult::bytes_out() const {
  std::size_t n = 0;
  for (const DownscaleResult& f : files) n += f.bytes_out;
  return n;
}

DownscaleSetResult downscale_images(const DownscaleSetJob& job, const std::function<void(const std::string&)>& warn) {
  namespace fs = std::filesystem;
  if (job.short_side < 1)
    throw std::invalid_argument(fmt::format("--short-side {}: must be 1 or more", job.short_side));
  if (job.quality < 1 || job.quality > 100)
    throw std::invalid_argument(fmt::format("--quality {}: must be in 1..100", job.quality));
  if (job.count < 0) throw std::invalid_argument(fmt::format("--count {}: must be 0 or more", job.count));
  if (job.images.empty()) throw std::invalid_argument("no --images directory given");
  if (job.out.empty()) throw std::invalid_argument("no --out directory given");
  const std::vector<std::string> all = list_images(job.images, warn);  // refuses a missing directory
  if (all.empty()) throw std::invalid_argument(fmt::format("--images {}: holds no JPEG image", job.images));
  std::error_code ec;
  if (fs::exists(job.out, ec)) {
    if (!fs::is_directory(job.out, ec)) {
      throw std::invalid_argument(fmt::format("--out {}: exists and is not a directory", job.out));
    }
    if (fs::equivalent(job.out, job.images, ec)) {
      throw std::invalid_argument(fmt::format(
          "--out {}: is the source directory --images {}; write the copies elsewhere", job.out, job.images));
    }
    if (!fs::is_empty(job.out, ec)) {
      throw std::invalid_argument(fmt::format(
          "--out {}: is not empty; give a new or empty directory so that it holds exactly the copies", job.out));
    }
  }
  fs::create_directories(job.out, ec);
  if (ec) throw std::invalid_argument(fmt::format("--out {}: cannot create the directory: {}", job.out, ec.message()));

  DownscaleSetResult r;
  r.listed = all.size();
  for (const std::string& src : spread(all, job.count)) {
    const std::string name = fs::path(src).filename().string();
    r.files.push_back(downscale_jpeg_file(src, (fs::path(job.out) / name).string(), job.short_side, job.quality));
    r.names.push_back(name);
  }
  return r;
}

std::string downscale_summary(const DownscaleSetJob& job, const DownscaleSetResult& r) {
  const auto mb = [](std::size_t bytes) { return static_cast<double>(bytes) / 1e6; };
  const std::size_t resized = r.count(DownscaleAction::kResized), copied = r.count(DownscaleAction::kCopied);
  const std::size_t gray = r.grayscale();
  return fmt::format(
      "{} of the {} images of {} written to {}: {} resized to a shorter side of {} px (area average, JPEG quality "
      "{}), {} copied unchanged (shorter side already {} px or less); {} grayscale, kept 1-component; {:.2f} MB "
      "(from {:.2f} MB)\n",
      r.files.size(), r.listed, job.images, job.out, resized, job.short_side, job.quality, copied, job.short_side, gray,
      mb(r.bytes_out()), mb(r.bytes_in()));
}

}  // namespace bitscale::data
