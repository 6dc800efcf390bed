// Smaller copies of JPEG images: area-average (box filter) downscaling and JPEG encoding with
// libjpeg's compressor. Made for the embedded image set (data/README.md, `bitscale downscale`):
// the images keep what the models see after their own pre-processing (central crop, resize) while
// taking a fraction of the bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bitscale/data/image.hpp"

namespace bitscale::data {

/// Area-average downscaling (a box filter, OpenCV's INTER_AREA): output pixel (y, x) is the mean
/// of the input area [y * in_h / out_h, (y + 1) * in_h / out_h) x [x * in_w / out_w, ...), each
/// input pixel weighted by the part of it that the area covers, so every input pixel contributes
/// with total weight out_h * out_w / (in_h * in_w) and nothing is skipped (no aliasing as with
/// nearest-neighbour or a plain bilinear resize). Exact integer arithmetic, rounded to the nearest
/// integer (halves up), so equal channels (a grayscale image) stay equal. Only shrinks: throws
/// ImageError when out_h or out_w is not in 1 .. the input's size (a same-size call returns a copy).
[[nodiscard]] Image resize_area(const Image& img, int out_h, int out_w);

/// The colour space of an encoded JPEG.
enum class JpegColor {
  kRgb,        ///< 3 components (YCbCr, libjpeg's default 2x2 chroma subsampling)
  kGrayscale,  ///< 1 component; the image must have R == G == B in every pixel
};

/// Encodes `img` as a baseline JPEG with libjpeg's compressor: quality 1..100 (libjpeg's scale,
/// jpeg_set_quality with baseline tables), optimized Huffman tables, no metadata. Throws ImageError
/// for an empty image, a quality out of range, kGrayscale on an image whose channels differ, or an
/// error of libjpeg (its message).
[[nodiscard]] std::vector<std::uint8_t> encode_jpeg(const Image& img, int quality, JpegColor color);

/// Height and width.
struct ImageSize {
  int h = 0;
  int w = 0;
  friend bool operator==(const ImageSize&, const ImageSize&) = default;
};

/// The size of an h x w image scaled so that its shorter side is `short_side`, the aspect ratio
/// kept (the longer side rounded to the nearest integer, halves up); h x w itself when the shorter
/// side is already `short_side` or less (never enlarges). Throws ImageError for sizes or a
/// short_side below 1.
[[nodiscard]] ImageSize shorter_side_size(int h, int w, int short_side);

/// What downscale_jpeg_file did.
enum class DownscaleAction {
  kResized,  ///< decoded, resize_area to shorter_side_size, encoded
  kCopied,   ///< already small enough: the file's bytes copied unchanged
};

struct DownscaleResult {
  ImageSize in;
  ImageSize out;
  int components = 0;  ///< of the input file (1 grayscale, 3, 4 CMYK/YCCK)
  DownscaleAction action = DownscaleAction::kResized;
  std::size_t bytes_in = 0;
  std::size_t bytes_out = 0;
};

/// Writes a smaller copy of the JPEG file `in` to `out` (atomically, util::write_file): decoded
/// with decode_jpeg, shrunk with resize_area to shorter_side_size(h, w, short_side) and encoded
/// with encode_jpeg at `quality`, grayscale files (1 component) as kGrayscale, all others
/// (YCbCr, RGB, CMYK and YCCK, which decode_jpeg converts to RGB) as kRgb. A file whose shorter
/// side is already `short_side` or less is checked to decode and copied byte for byte. Throws
/// ImageError naming `in` when it is not a readable JPEG, naming `out` when it cannot be written.
DownscaleResult downscale_jpeg_file(const std::string& in, const std::string& out, int short_side, int quality);

}  // namespace bitscale::data

namespace bitscale::data {

/// A smaller copy of (part of) an image directory: `bitscale downscale`.
struct DownscaleSetJob {
  std::string images;    ///< source directory (list_images: sorted, JPEG files only)
  std::string out;       ///< destination directory: created if missing, must be empty
  int count = 0;         ///< spread(list, count) of the sorted list; 0: every image
  int short_side = 184;  ///< shorter side of the copies (see downscale_jpeg_file)
  int quality = 90;      ///< JPEG quality of the re-encoded copies
};

struct DownscaleSetResult {
  std::size_t listed = 0;              ///< images in the source directory
  std::vector<std::string> names;      ///< file names written, in order
  std::vector<DownscaleResult> files;  ///< one per name
  [[nodiscard]] std::size_t count(DownscaleAction a) const;
  [[nodiscard]] std::size_t grayscale() const;  ///< inputs with 1 component (written 1-component)
  [[nodiscard]] std::size_t bytes_in() const;
  [[nodiscard]] std::size_t bytes_out() const;
};

/// Writes downscale_jpeg_file copies of spread(list_images(job.images), job.count) into job.out
/// under the same file names. Refuses before writing anything (std::invalid_argument naming the
/// option and the directory): a short_side below 1, a quality out of 1..100, a count below 0, a
/// source directory that is missing or holds no JPEG image, an `out` that is the source directory
/// or a directory that is not empty (so that it holds exactly what the command made). A file that
/// does not decode stops the run with ImageError naming it. `warn` receives list_images' note of
/// skipped non-image files.
DownscaleSetResult downscale_images(const DownscaleSetJob& job,
                                    const std::function<void(const std::string&)>& warn = {});

/// What downscale_images did, in words, e.g. "300 of the 500 images of A written to B: 296
/// resized to a shorter side of 184 px (area average, JPEG quality 90), 4 copied unchanged
/// (shorter side already 184 px or less); 3 grayscale kept 1-component; 4.10 MB (from 52.30 MB)".
[[nodiscard]] std::string downscale_summary(const DownscaleSetJob& job, const DownscaleSetResult& r);

}  // namespace bitscale::data
