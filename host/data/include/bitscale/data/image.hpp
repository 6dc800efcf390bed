// Image pipeline for ImageNet evaluation: JPEG decoding (libjpeg-turbo), central crop and
// bilinear resize with the conventions of TensorFlow's reference pre-processing, so that a
// decoded, cropped and resized image matches what the published TFLite models were evaluated on.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace bitscale::data {

/// An image that cannot be read or decoded, or an invalid image operation. The message names the
/// file (or the memory buffer's name) and the reason, e.g. libjpeg's own message.
class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An 8-bit RGB image, row-major HWC: pixel (y, x) channel c is rgb[(y * w + x) * 3 + c].
struct Image {
  int h = 0;
  int w = 0;
  std::vector<std::uint8_t> rgb;

  [[nodiscard]] std::uint8_t at(int y, int x, int c) const {
    return rgb[(static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x)) * 3 +
               static_cast<std::size_t>(c)];
  }
  [[nodiscard]] std::size_t pixels() const { return static_cast<std::size_t>(h) * static_cast<std::size_t>(w); }
};

/// Largest image accepted by the decoder; checked from the JPEG header before any pixel memory
/// is allocated, so a hostile or corrupt header cannot make us allocate gigabytes.
inline constexpr int kMaxImageSide = 30000;
inline constexpr std::int64_t kMaxImagePixels = 200'000'000;

/// What the JPEG header said about a decoded file (the Image is always 3-channel RGB).
struct JpegInfo {
  int components = 0;         ///< 1 grayscale, 3 YCbCr/RGB, 4 CMYK/YCCK
  bool adobe_marker = false;  ///< an Adobe APP14 marker was present (CMYK stored inverted)
  int warnings = 0;           ///< non-fatal libjpeg warnings, e.g. "extraneous bytes before marker"
  std::string first_warning;  ///< libjpeg's text of the first warning, empty if none
};

/// Decodes a JPEG file to RGB. Grayscale is replicated to three channels; YCbCr and RGB are
/// converted by libjpeg; CMYK and YCCK are converted as TensorFlow's decoder does:
///   Adobe (inverted) CMYK, as libjpeg reports it when an Adobe marker was seen:
///     R = C * K / 255, G = M * K / 255, B = Y * K / 255
///   plain CMYK:  R = (255 - C) * (255 - K) / 255, ...   (integer division, truncating)
/// libjpeg's defaults are used (accurate integer IDCT, fancy upsampling). EXIF orientation and
/// ICC profiles are ignored, as in the reference pre-processing.
/// Throws ImageError naming `path` for a missing/unreadable/empty file, data that is not a JPEG,
/// a corrupt or truncated JPEG (libjpeg's "premature end" warning is treated as an error),
/// an unsupported colour space, or dimensions beyond kMaxImageSide / kMaxImagePixels.
/// Never aborts or exits: libjpeg's fatal errors are caught with setjmp/longjmp inside the
/// decoder, libjpeg is cleaned up, and only then is the C++ exception thrown.
[[nodiscard]] Image decode_jpeg(const std::string& path, JpegInfo* info = nullptr);

/// As decode_jpeg, from bytes in memory; `name` is used in error messages.
[[nodiscard]] Image decode_jpeg_memory(std::span<const std::uint8_t> data, const std::string& name,
                                       JpegInfo* info = nullptr);

/// The central part of an image, as TensorFlow's tf.image.central_crop:
///   start_y = floor((h - h * fraction) / 2), crop_h = h - 2 * start_y   (likewise for x),
/// i.e. the crop size is h * fraction rounded so that the crop is exactly centred (for
/// fraction 0.875: start = floor(h / 16)). fraction must be in (0, 1]; 1 returns a copy.
[[nodiscard]] Image central_crop(const Image& img, double fraction = 0.875);

/// Bilinear resize with half-pixel centres, the convention of TF2's tf.image.resize(...,
/// method="bilinear", antialias=False) and of TF1's resize_bilinear(align_corners=False,
/// half_pixel_centers=True). For each output coordinate (separately in y and x):
///   src  = (dst + 0.5) * in_size / out_size - 0.5
///   lo   = max(floor(src), 0),  hi = min(ceil(src), in_size - 1),  t = src - floor(src)
///   out  = in[lo] * (1 - t) + in[hi] * t
/// (so at the borders, where src < 0 or src > in_size - 1, the edge pixel is repeated). The 2-D
/// value interpolates the two rows' horizontal interpolations; the result is rounded to the
/// nearest integer (halves up) and clamped to 0..255. No anti-aliasing when downscaling.
/// A resize to the same size returns the input unchanged.
[[nodiscard]] Image resize_bilinear(const Image& img, int out_h, int out_w);

/// Evaluation pre-processing of the published models: decode_jpeg, central_crop(0.875),
/// resize_bilinear to h x w.
[[nodiscard]] Image load_for_model(const std::string& path, int h, int w);

/// Writes a binary PPM (P6), for looking at intermediate images while debugging.
void write_ppm(const Image& img, const std::string& path);

}  // namespace bitscale::data
