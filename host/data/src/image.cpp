#include "bitscale/data/image.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <system_error>

// libjpeg's header needs <cstdio> (FILE, size_t) first.
#include <jerror.h>
#include <jpeglib.h>

#include "bitscale/util/file.hpp"
#include "jpeg_error.hpp"

namespace bitscale::data {
namespace {

// libjpeg error handling: jpeg_error.hpp.
using detail::ErrorManager;
using detail::on_error_exit;

// Warnings (msg_level -1) and trace messages (>= 0). Trace messages are dropped, warnings are
// counted instead of printed to stderr. A premature end of the data is fatal for us: libjpeg
// would return an image padded with grey, which must not be silently evaluated.
void on_emit_message(j_common_ptr cinfo, int msg_level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (msg_level >= 0) return;
  if (err->pub.msg_code == JWRN_JPEG_EOF) {
    (*cinfo->err->format_message)(cinfo, err->message);
    std::strncat(err->message, " (truncated file)", JMSG_LENGTH_MAX - std::strlen(err->message) - 1);
    std::longjmp(err->jump, 1);
  }
  if (err->warnings++ == 0) (*cinfo->err->format_message)(cinfo, err->first_warning);
  err->pub.num_warnings++;
}

// Owns a decompressor; zero-initialised so that destroying a never-created one is a no-op
// (jpeg_destroy returns early when cinfo->mem is null).
struct Decompressor {
  jpeg_decompress_struct cinfo{};
  Decompressor() = default;
  Decompressor(const Decompressor&) = delete;
  Decompressor& operator=(const Decompressor&) = delete;
  ~Decompressor() { jpeg_destroy_decompress(&cinfo); }
};

inline std::uint8_t mul_div255(unsigned a, unsigned b) { return static_cast<std::uint8_t>(a * b / 255u); }

}  // namespace

namespace {

// Runs libjpeg on `data` into `img`. Returns false after a libjpeg error (message in
// err.message); throws ImageError for our own checks. setjmp is here, in a function whose only
// locals are plain values that are not used after the jump; the C++ objects that the decoder
// fills (img, row) and the decompressor belong to the caller, so a longjmp never leaves one of
// them indeterminate or skips a destructor.
bool run_decoder(std::span<const std::uint8_t> data, const std::string& name, ErrorManager& err,
                 jpeg_decompress_struct& cinfo, Image& img, std::vector<std::uint8_t>& row, JpegInfo& info) {
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error_exit;
  err.pub.emit_message = on_emit_message;
  if (setjmp(err.jump) != 0) return false;

  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data.data(), static_cast<unsigned long>(data.size()));
  jpeg_read_header(&cinfo, TRUE);

  const std::int64_t w = cinfo.image_width;
  const std::int64_t h = cinfo.image_height;
  if (w <= 0 || h <= 0 || w > kMaxImageSide || h > kMaxImageSide || w * h > kMaxImagePixels) {
    throw ImageError(fmt::format("{}: image of {}x{} pixels is beyond the limits ({} per side, {} in total)", name, w,
                                 h, kMaxImageSide, kMaxImagePixels));
  }
  info.components = cinfo.num_components;
  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      cinfo.out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_YCbCr:
    case JCS_RGB:
      cinfo.out_color_space = JCS_RGB;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      cinfo.out_color_space = JCS_CMYK;  // libjpeg converts YCCK to CMYK; we convert to RGB
      break;
    default:
      throw ImageError(fmt::format("{}: unsupported JPEG colour space ({} components)", name, info.components));
  }

  jpeg_start_decompress(&cinfo);
  const int out_c = cinfo.output_components;
  if (static_cast<std::int64_t>(cinfo.output_width) != w || static_cast<std::int64_t>(cinfo.output_height) != h ||
      (out_c != 1 && out_c != 3 && out_c != 4)) {
    throw ImageError(
        fmt::format("{}: unexpected decoder output ({}x{}x{})", name, cinfo.output_width, cinfo.output_height, out_c));
  }
  img.h = static_cast<int>(h);
  img.w = static_cast<int>(w);
  img.rgb.resize(static_cast<std::size_t>(w * h * 3));
  row.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(out_c));
  info.adobe_marker = cinfo.saw_Adobe_marker != 0;

  while (cinfo.output_scanline < cinfo.output_height) {
    std::uint8_t* dst =
        img.rgb.data() + static_cast<std::size_t>(cinfo.output_scanline) * static_cast<std::size_t>(w) * 3;
    JSAMPROW rows[1] = {out_c == 3 ? dst : row.data()};
    jpeg_read_scanlines(&cinfo, rows, 1);
    if (out_c == 1) {
      for (std::int64_t x = 0; x < w; ++x) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x];
    } else if (out_c == 4) {
      const bool adobe = info.adobe_marker;
      for (std::int64_t x = 0; x < w; ++x) {
        const unsigned c = row[4 * x], m = row[4 * x + 1], yy = row[4 * x + 2], k = row[4 * x + 3];
        if (adobe) {  // inverted: 255 means no ink
          dst[3 * x] = mul_div255(c, k);
          dst[3 * x + 1] = mul_div255(m, k);
          dst[3 * x + 2] = mul_div255(yy, k);
        } else {
          dst[3 * x] = mul_div255(255 - c, 255 - k);
          dst[3 * x + 1] = mul_div255(255 - m, 255 - k);
          dst[3 * x + 2] = mul_div255(255 - yy, 255 - k);
        }
      }
    }
  }
  jpeg_finish_decompress(&cinfo);
  return true;
}

}  // namespace

Image decode_jpeg_memory(std::span<const std::uint8_t> data, const std::string& name, JpegInfo* info) {
  if (data.empty()) throw ImageError(fmt::format("{}: empty file, not a JPEG image", name));
  Image img;
  std::vector<std::uint8_t> row;
  JpegInfo local_info;
  auto err = std::make_unique<ErrorManager>();  // jmp_buf and message buffers, zeroed
  Decompressor dec;                             // destroyed on every path, also after errors
  if (!run_decoder(data, name, *err, dec.cinfo, img, row, local_info)) {
    throw ImageError(fmt::format("{}: cannot decode JPEG: {}", name, err->message));
  }
  local_info.warnings = err->warnings;
  local_info.first_warning = err->first_warning;
  if (info != nullptr) *info = std::move(local_info);
  return img;
}

Image decode_jpeg(const std::string& path, JpegInfo* info) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ImageError(fmt::format("{}: is a directory, not an image file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ImageError(fmt::format("{}: cannot open file: {}", path, std::strerror(errno)));
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw ImageError(fmt::format("{}: read error", path));
  return decode_jpeg_memory(bytes, path, info);
}

Image central_crop(const Image& img, double fraction) {
  if (!(fraction > 0.0 && fraction <= 1.0)) {
    throw ImageError(fmt::format("central_crop: fraction {} is not in (0, 1]", fraction));
  }
  if (img.h <= 0 || img.w <= 0) throw ImageError("central_crop: empty image");
  auto start_of = [fraction](int size) {
    const double s = static_cast<double>(size);
    return static_cast<int>(std::floor((s - s * fraction) / 2.0));
  };
  const int y0 = start_of(img.h), x0 = start_of(img.w);
  Image out;
  out.h = std::max(1, img.h - 2 * y0);
  out.w = std::max(1, img.w - 2 * x0);
  out.rgb.resize(out.pixels() * 3);
  const std::size_t row_bytes = static_cast<std::size_t>(out.w) * 3;
  for (int y = 0; y < out.h; ++y) {
    const std::uint8_t* src =
        img.rgb.data() +
        (static_cast<std::size_t>(y0 + y) * static_cast<std::size_t>(img.w) + static_cast<std::size_t>(x0)) * 3;
    std::copy_n(src, row_bytes, out.rgb.data() + static_cast<std::size_t>(y) * row_bytes);
  }
  return out;
}

namespace {

struct Tap {
  int lo, hi;
  double t;  // weight of hi
};

// Half-pixel-centre sampling positions of one axis, see resize_bilinear in image.hpp.
std::vector<Tap> taps(int in_size, int out_size) {
  std::vector<Tap> v(static_cast<std::size_t>(out_size));
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  for (int i = 0; i < out_size; ++i) {
    const double src = (static_cast<double>(i) + 0.5) * scale - 0.5;
    const double f = std::floor(src);
    Tap& tap = v[static_cast<std::size_t>(i)];
    tap.lo = std::max(static_cast<int>(f), 0);
    tap.hi = std::min(static_cast<int>(std::ceil(src)), in_size - 1);
    tap.t = src - f;
  }
  return v;
}

}  // namespace

Image resize_bilinear(const Image& img, int out_h, int out_w) {
  if (out_h <= 0 || out_w <= 0) {
    throw ImageError(fmt::format("resize_bilinear: invalid output size {}x{}", out_h, out_w));
  }
  if (img.h <= 0 || img.w <= 0) throw ImageError("resize_bilinear: empty image");
  if (img.rgb.size() != img.pixels() * 3) throw ImageError("resize_bilinear: pixel buffer does not match size");
  if (out_h == img.h && out_w == img.w) return img;

  const std::vector<Tap> ty = taps(img.h, out_h);
  const std::vector<Tap> tx = taps(img.w, out_w);
  Image out;
  out.h = out_h;
  out.w = out_w;
  out.rgb.resize(out.pixels() * 3);
  const auto in_row = [&](int y) {
    return img.rgb.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(img.w) * 3;
  };
  std::uint8_t* dst = out.rgb.data();
  for (int y = 0; y < out_h; ++y) {
    const Tap& vy = ty[static_cast<std::size_t>(y)];
    const std::uint8_t* top = in_row(vy.lo);
    const std::uint8_t* bottom = in_row(vy.hi);
    for (int x = 0; x < out_w; ++x) {
      const Tap& vx = tx[static_cast<std::size_t>(x)];
      const std::size_t l = static_cast<std::size_t>(vx.lo) * 3, r = static_cast<std::size_t>(vx.hi) * 3;
      for (int c = 0; c < 3; ++c) {
        const double t0 = top[l + c] + (top[r + c] - static_cast<double>(top[l + c])) * vx.t;
        const double b0 = bottom[l + c] + (bottom[r + c] - static_cast<double>(bottom[l + c])) * vx.t;
        const double v = t0 + (b0 - t0) * vy.t;
        *dst++ = static_cast<std::uint8_t>(std::clamp(std::floor(v + 0.5), 0.0, 255.0));
      }
    }
  }
  return out;
}

Image load_for_model(const std::string& path, int h, int w) {
  return resize_bilinear(central_crop(decode_jpeg(path), 0.875), h, w);
}

void write_ppm(const Image& img, const std::string& path) {
  if (img.rgb.size() != img.pixels() * 3) throw ImageError(fmt::format("{}: pixel buffer does not match size", path));
  std::string ppm = fmt::format("P6\n{} {}\n255\n", img.w, img.h);
  ppm.append(reinterpret_cast<const char*>(img.rgb.data()), img.rgb.size());
  try {
    util::write_file(path, ppm);
  } catch (const std::runtime_error& e) {
    throw ImageError(e.what());
  }
}

}  // namespace bitscale::data
