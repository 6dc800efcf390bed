// Image pipeline: JPEG decoding (colour spaces, corrupt input), central crop, bilinear resize.
#include <gtest/gtest.h>
#include <jpeglib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"

namespace bitscale::data {
namespace {

namespace fs = std::filesystem;

// ---- helpers ------------------------------------------------------------------------------

struct EncodeOptions {
  J_COLOR_SPACE in_space = JCS_RGB;      // layout of `pixels`
  J_COLOR_SPACE jpeg_space = JCS_YCbCr;  // colour space stored in the file
  bool adobe_marker = true;              // only meaningful for CMYK/YCCK
  int quality = 100;
  bool progressive = false;
};

// Encodes `pixels` (h x w x components, components from in_space) as a JPEG in memory,
// without chroma subsampling so that flat colour blocks survive almost exactly.
std::vector<std::uint8_t> encode_jpeg(int h, int w, const std::vector<std::uint8_t>& pixels, const EncodeOptions& opt) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr jerr{};
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(w);
  cinfo.image_height = static_cast<JDIMENSION>(h);
  cinfo.in_color_space = opt.in_space;
  cinfo.input_components = opt.in_space == JCS_GRAYSCALE ? 1 : opt.in_space == JCS_CMYK ? 4 : 3;
  jpeg_set_defaults(&cinfo);
  jpeg_set_colorspace(&cinfo, opt.jpeg_space);
  if (opt.jpeg_space == JCS_CMYK || opt.jpeg_space == JCS_YCCK)
    cinfo.write_Adobe_marker = opt.adobe_marker ? TRUE : FALSE;
  for (int c = 0; c < cinfo.num_components; ++c) {
    cinfo.comp_info[c].h_samp_factor = 1;
    cinfo.comp_info[c].v_samp_factor = 1;
  }
  jpeg_set_quality(&cinfo, opt.quality, TRUE);
  if (opt.progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  const std::size_t stride = static_cast<std::size_t>(w) * static_cast<std::size_t>(cinfo.input_components);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(pixels.data() + cinfo.next_scanline * stride);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::vector<std::uint8_t> out(buffer, buffer + size);
  jpeg_destroy_compress(&cinfo);
  std::free(buffer);
  return out;
}

// An image made of 16x16 blocks of flat colours (block b gets colours[b % size]).
std::vector<std::uint8_t> blocks(int h, int w, int comps, const std::vector<std::vector<int>>& colours) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(h * w * comps));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const std::size_t b = static_cast<std::size_t>((y / 16) * (w / 16) + x / 16) % colours.size();
      for (int c = 0; c < comps; ++c)
        px[static_cast<std::size_t>((y * w + x) * comps + c)] = static_cast<std::uint8_t>(colours[b][c]);
    }
  }
  return px;
}

// Checks the centre pixel of every 16x16 block against `expected[b]` (RGB) within `tol`.
void expect_block_colours(const Image& img, const std::vector<std::vector<int>>& expected, int tol) {
  for (int by = 0; by < img.h / 16; ++by) {
    for (int bx = 0; bx < img.w / 16; ++bx) {
      const std::size_t b = static_cast<std::size_t>(by * (img.w / 16) + bx) % expected.size();
      for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(img.at(by * 16 + 8, bx * 16 + 8, c), expected[b][c], tol)
            << "block (" << by << "," << bx << ") channel " << c;
      }
    }
  }
}

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::path(::testing::TempDir()) / (std::string("bitscale_") + info->test_suite_name() + "_" + info->name() +
                                              "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] std::string file(const std::string& name, const std::vector<std::uint8_t>& bytes) const {
    const fs::path p = path_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Expects decode_jpeg(path) to throw ImageError whose message names the file and contains `what`.
void expect_decode_error(const std::string& path, const std::string& what) {
  try {
    const Image img = decode_jpeg(path);
    ADD_FAILURE() << path << ": decoded " << img.w << "x" << img.h << ", expected an error containing '" << what << "'";
  } catch (const ImageError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << "message does not name the file: " << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << "message lacks '" << what << "': " << msg;
  }
}

Image make_image(int h, int w, const std::vector<int>& values_hwc) {
  Image img{h, w, {}};
  for (int v : values_hwc) img.rgb.push_back(static_cast<std::uint8_t>(v));
  return img;
}

Image gray_image(int h, int w, const std::vector<int>& values_hw) {
  Image img{h, w, {}};
  for (int v : values_hw) img.rgb.insert(img.rgb.end(), 3, static_cast<std::uint8_t>(v));
  return img;
}

// ---- decoding: colour spaces ---------------------------------------------------------------

const std::vector<std::vector<int>> kColours = {{255, 0, 0}, {0, 255, 0},    {0, 0, 255},   {255, 255, 255},
                                                {0, 0, 0},   {200, 120, 40}, {17, 99, 230}, {128, 128, 128}};

TEST(ImageDecode, RgbBlocksDecodeToTheirColours) {
  const auto jpeg = encode_jpeg(64, 64, blocks(64, 64, 3, kColours), {});
  JpegInfo info;
  const Image img = decode_jpeg_memory(jpeg, "rgb", &info);
  ASSERT_EQ(img.h, 64);
  ASSERT_EQ(img.w, 64);
  ASSERT_EQ(img.rgb.size(), 64u * 64u * 3u);
  EXPECT_EQ(info.components, 3);
  EXPECT_EQ(info.warnings, 0);
  expect_block_colours(img, kColours, 3);
}

TEST(ImageDecode, RgbStoredAsRgbNotYcbcr) {
  EncodeOptions opt;
  opt.jpeg_space = JCS_RGB;
  const auto jpeg = encode_jpeg(32, 48, blocks(32, 48, 3, kColours), opt);
  const Image img = decode_jpeg_memory(jpeg, "rgb-in-rgb");
  EXPECT_EQ(img.h, 32);
  EXPECT_EQ(img.w, 48);
  expect_block_colours(img, kColours, 3);
}

TEST(ImageDecode, GrayscaleIsReplicatedToThreeChannels) {
  const int h = 24, w = 40;
  std::vector<std::uint8_t> px(static_cast<std::size_t>(h * w));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) px[static_cast<std::size_t>(y * w + x)] = static_cast<std::uint8_t>(x * 5 + y);
  EncodeOptions opt;
  opt.in_space = JCS_GRAYSCALE;
  opt.jpeg_space = JCS_GRAYSCALE;
  JpegInfo info;
  const Image img = decode_jpeg_memory(encode_jpeg(h, w, px, opt), "gray", &info);
  EXPECT_EQ(info.components, 1);
  ASSERT_EQ(img.h, h);
  ASSERT_EQ(img.w, w);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      ASSERT_EQ(img.at(y, x, 0), img.at(y, x, 1));
      ASSERT_EQ(img.at(y, x, 0), img.at(y, x, 2));
      EXPECT_NEAR(img.at(y, x, 0), x * 5 + y, 2) << "(" << y << "," << x << ")";
    }
  }
}

// Ink values (C, M, Y, K) as stored in the file.
const std::vector<std::vector<int>> kInks = {{0, 0, 0, 0},        {255, 255, 255, 255}, {200, 30, 90, 255},
                                             {40, 160, 220, 180}, {255, 0, 128, 100},   {10, 250, 60, 30}};

// Expected RGB of the documented conversion, computed in floating point.
std::vector<std::vector<int>> expected_rgb(bool adobe_inverted) {
  std::vector<std::vector<int>> out;
  for (const auto& ink : kInks) {
    std::vector<int> rgb;
    for (int c = 0; c < 3; ++c) {
      const double v = adobe_inverted ? ink[c] * ink[3] / 255.0 : (255 - ink[c]) * (255 - ink[3]) / 255.0;
      rgb.push_back(static_cast<int>(v));
    }
    out.push_back(rgb);
  }
  return out;
}

TEST(ImageDecode, AdobeInvertedCmyk) {
  EncodeOptions opt;
  opt.in_space = JCS_CMYK;
  opt.jpeg_space = JCS_CMYK;
  opt.adobe_marker = true;
  JpegInfo info;
  const Image img = decode_jpeg_memory(encode_jpeg(48, 32, blocks(48, 32, 4, kInks), opt), "cmyk-adobe", &info);
  EXPECT_EQ(info.components, 4);
  EXPECT_TRUE(info.adobe_marker);
  expect_block_colours(img, expected_rgb(true), 3);
  // Plausibility in plain words: all 255 (no ink when inverted) is white, first block.
  EXPECT_NEAR(img.at(8, 24, 0), 255, 3);  // block (0,1) = {255,255,255,255}
  EXPECT_NEAR(img.at(8, 8, 0), 0, 3);     // block (0,0) = {0,0,0,0}, full ink: black
}

TEST(ImageDecode, PlainCmykWithoutAdobeMarker) {
  EncodeOptions opt;
  opt.in_space = JCS_CMYK;
  opt.jpeg_space = JCS_CMYK;
  opt.adobe_marker = false;
  JpegInfo info;
  const Image img = decode_jpeg_memory(encode_jpeg(48, 32, blocks(48, 32, 4, kInks), opt), "cmyk-plain", &info);
  EXPECT_EQ(info.components, 4);
  EXPECT_FALSE(info.adobe_marker);
  expect_block_colours(img, expected_rgb(false), 3);
  EXPECT_NEAR(img.at(8, 8, 1), 255, 3);  // {0,0,0,0}: no ink, white
}

TEST(ImageDecode, AdobeYcck) {
  EncodeOptions opt;
  opt.in_space = JCS_CMYK;
  opt.jpeg_space = JCS_YCCK;  // libjpeg always writes an Adobe marker (transform 2) for YCCK
  JpegInfo info;
  const Image img = decode_jpeg_memory(encode_jpeg(48, 32, blocks(48, 32, 4, kInks), opt), "ycck", &info);
  EXPECT_EQ(info.components, 4);
  EXPECT_TRUE(info.adobe_marker);
  expect_block_colours(img, expected_rgb(true), 4);
}

TEST(ImageDecode, ProgressiveAndOddSizes) {
  for (const bool progressive : {false, true})
    for (const auto& [h, w] : std::vector<std::pair<int, int>>{{1, 1}, {1, 37}, {23, 1}, {17, 33}}) {
      std::vector<std::uint8_t> px(static_cast<std::size_t>(h * w * 3), 77);
      EncodeOptions opt;
      opt.progressive = progressive;
      const auto jpeg = encode_jpeg(h, w, px, opt);
      const Image img = decode_jpeg_memory(jpeg, "odd");
      EXPECT_EQ(img.h, h);
      EXPECT_EQ(img.w, w);
      for (std::uint8_t v : img.rgb) ASSERT_NEAR(v, 77, 2);
    }
}

// ---- decoding: bad input -------------------------------------------------------------------

TEST(ImageDecodeErrors, MissingFile) {
  TempDir dir;
  expect_decode_error((dir.path() / "no_such_file.JPEG").string(), "cannot open");
}

TEST(ImageDecodeErrors, EmptyFile) {
  TempDir dir;
  expect_decode_error(dir.file("empty.JPEG", {}), "empty");
}

TEST(ImageDecodeErrors, TextFileNamedJpeg) {
  TempDir dir;
  const std::string text = "this is not an image\n";
  expect_decode_error(dir.file("n01440764_text.JPEG", {text.begin(), text.end()}), "Not a JPEG file");
}

TEST(ImageDecodeErrors, RandomGarbage) {
  TempDir dir;
  std::mt19937 rng(12345);
  for (int i = 0; i < 20; ++i) {
    std::vector<std::uint8_t> bytes(1 + rng() % 4096);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    if (i % 2 == 1 && bytes.size() >= 2) {  // a JPEG start marker followed by garbage
      bytes[0] = 0xFF;
      bytes[1] = 0xD8;
    }
    const std::string path = dir.file("garbage" + std::to_string(i) + ".JPEG", bytes);
    EXPECT_THROW((void)decode_jpeg(path), ImageError) << path;
  }
}

TEST(ImageDecodeErrors, TruncatedFiles) {
  TempDir dir;
  const auto jpeg = encode_jpeg(64, 64, blocks(64, 64, 3, kColours), {});
  // Cut in the headers, just after SOI, and in the middle of the entropy-coded data.
  for (const std::size_t keep :
       {std::size_t{2}, std::size_t{20}, std::size_t{200}, jpeg.size() / 2, jpeg.size() - 10}) {
    const std::string path =
        dir.file("cut" + std::to_string(keep) + ".JPEG", {jpeg.begin(), jpeg.begin() + static_cast<long>(keep)});
    try {
      (void)decode_jpeg(path);
      ADD_FAILURE() << "truncated to " << keep << " of " << jpeg.size() << " bytes but decoded";
    } catch (const ImageError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(ImageDecodeErrors, CorruptEntropyDataNeverCrashes) {
  const auto jpeg = encode_jpeg(64, 64, blocks(64, 64, 3, kColours), {});
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    auto bytes = jpeg;
    for (int k = 0; k < 8; ++k)
      bytes[bytes.size() / 2 + rng() % (bytes.size() / 2 - 2)] = static_cast<std::uint8_t>(rng());
    try {
      const Image img = decode_jpeg_memory(bytes, "corrupt");
      EXPECT_EQ(img.h, 64);  // libjpeg may recover with a warning
      EXPECT_EQ(img.w, 64);
    } catch (const ImageError& e) {
      EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos);
    }
  }
}

// Patches the frame header (SOF0) of a valid JPEG to claim h x w pixels.
std::vector<std::uint8_t> with_dimensions(std::vector<std::uint8_t> jpeg, int h, int w) {
  for (std::size_t i = 0; i + 8 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      jpeg[i + 5] = static_cast<std::uint8_t>(h >> 8);
      jpeg[i + 6] = static_cast<std::uint8_t>(h & 0xFF);
      jpeg[i + 7] = static_cast<std::uint8_t>(w >> 8);
      jpeg[i + 8] = static_cast<std::uint8_t>(w & 0xFF);
      return jpeg;
    }
  }
  ADD_FAILURE() << "no SOF0 marker";
  return jpeg;
}

TEST(ImageDecodeErrors, AbsurdDimensionsRejectedBeforeAllocating) {
  const auto jpeg = encode_jpeg(16, 16, blocks(16, 16, 3, kColours), {});
  for (const auto& [h, w] : std::vector<std::pair<int, int>>{{40000, 16}, {16, 65000}, {20000, 20000}}) {
    try {
      (void)decode_jpeg_memory(with_dimensions(jpeg, h, w), "huge.JPEG");
      ADD_FAILURE() << h << "x" << w << " accepted";
    } catch (const ImageError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("huge.JPEG"), std::string::npos) << msg;
      EXPECT_NE(msg.find("limits"), std::string::npos) << msg;
    }
  }
}

// ---- central crop -------------------------------------------------------------------------

// Pixel (y, x) = (y, x, y + x) modulo 256, so a crop's origin can be read off its first pixel.
Image coordinate_image(int h, int w) {
  Image img{h, w, std::vector<std::uint8_t>(static_cast<std::size_t>(h * w * 3))};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const std::size_t i = static_cast<std::size_t>((y * w + x) * 3);
      img.rgb[i] = static_cast<std::uint8_t>(y);
      img.rgb[i + 1] = static_cast<std::uint8_t>(x);
      img.rgb[i + 2] = static_cast<std::uint8_t>(y + x);
    }
  }
  return img;
}

TEST(CentralCrop, SizesAndOriginLikeTensorFlow) {
  // start = floor((n - n * 0.875) / 2) = floor(n / 16), size = n - 2 * start.
  struct Case {
    int h, w, y0, x0, ch, cw;
  };
  for (const Case& c : {Case{100, 200, 6, 12, 88, 176}, Case{16, 16, 1, 1, 14, 14}, Case{15, 17, 0, 1, 15, 15},
                        Case{375, 500, 23, 31, 329, 438}, Case{1, 1, 0, 0, 1, 1}, Case{224, 224, 14, 14, 196, 196}}) {
    const Image out = central_crop(coordinate_image(c.h, c.w));
    EXPECT_EQ(out.h, c.ch) << c.h << "x" << c.w;
    EXPECT_EQ(out.w, c.cw) << c.h << "x" << c.w;
    EXPECT_EQ(out.at(0, 0, 0), c.y0 % 256);
    EXPECT_EQ(out.at(0, 0, 1), c.x0 % 256);
    EXPECT_EQ(out.at(out.h - 1, out.w - 1, 0), (c.y0 + c.ch - 1) % 256);
    EXPECT_EQ(out.at(out.h - 1, out.w - 1, 1), (c.x0 + c.cw - 1) % 256);
  }
}

TEST(CentralCrop, OtherFractionsAndErrors) {
  const Image img = coordinate_image(10, 20);
  const Image half = central_crop(img, 0.5);  // start = floor(2.5) = 2 -> 6; floor(5) = 5 -> 10
  EXPECT_EQ(half.h, 6);
  EXPECT_EQ(half.w, 10);
  EXPECT_EQ(half.at(0, 0, 0), 2);
  EXPECT_EQ(half.at(0, 0, 1), 5);
  const Image all = central_crop(img, 1.0);
  EXPECT_EQ(all.h, img.h);
  EXPECT_EQ(all.w, img.w);
  EXPECT_EQ(all.rgb, img.rgb);
  EXPECT_THROW((void)central_crop(img, 0.0), ImageError);
  EXPECT_THROW((void)central_crop(img, 1.5), ImageError);
  EXPECT_THROW((void)central_crop(Image{}, 0.875), ImageError);
}

// ---- bilinear resize ----------------------------------------------------------------------

TEST(ResizeBilinear, IdentityReturnsInput) {
  const Image img = coordinate_image(13, 29);
  const Image out = resize_bilinear(img, 13, 29);
  EXPECT_EQ(out.h, 13);
  EXPECT_EQ(out.w, 29);
  EXPECT_EQ(out.rgb, img.rgb);
}

TEST(ResizeBilinear, ConstantImageStaysConstant) {
  Image img{37, 53, {}};
  for (int i = 0; i < 37 * 53; ++i) img.rgb.insert(img.rgb.end(), {3, 128, 254});
  for (const auto& [h, w] : std::vector<std::pair<int, int>>{{1, 1}, {128, 128}, {10, 200}, {224, 224}, {5, 7}}) {
    const Image out = resize_bilinear(img, h, w);
    ASSERT_EQ(out.h, h);
    ASSERT_EQ(out.w, w);
    ASSERT_EQ(out.rgb.size(), static_cast<std::size_t>(h * w * 3));
    for (std::size_t i = 0; i < out.rgb.size(); i += 3) {
      ASSERT_EQ(out.rgb[i], 3);
      ASSERT_EQ(out.rgb[i + 1], 128);
      ASSERT_EQ(out.rgb[i + 2], 254);
    }
  }
}

// Hand-computed from the documented formula, src = (dst + 0.5) * 2 / 4 - 0.5:
//   dst 0 -> -0.25 (clamped: in[0]), 1 -> 0.25, 2 -> 0.75, 3 -> 1.25 (clamped: in[1]).
// Input rows [0 100] and [200 40]; horizontally: [0 25 75 100] and [200 160 80 40];
// rows 1 and 2 mix them 0.75/0.25 and 0.25/0.75:
//   row 1: 0.75*[0 25 75 100] + 0.25*[200 160 80 40] = [50 58.75 76.25 85]   -> [50 59 76 85]
//   row 2: 0.25*[0 25 75 100] + 0.75*[200 160 80 40] = [150 126.25 78.75 55] -> [150 126 79 55]
TEST(ResizeBilinear, Upscale2x2To4x4HandComputed) {
  const Image out = resize_bilinear(gray_image(2, 2, {0, 100, 200, 40}), 4, 4);
  const std::vector<int> expected = {0, 25, 75, 100, 50, 59, 76, 85, 150, 126, 79, 55, 200, 160, 80, 40};
  ASSERT_EQ(out.h, 4);
  ASSERT_EQ(out.w, 4);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(out.at(y, x, c), expected[static_cast<std::size_t>(y * 4 + x)]) << y << "," << x;
}

// src = (dst + 0.5) * 4 / 2 - 0.5 = 0.5 and 2.5: each output pixel is the mean of a 2x2 block.
//   [10 20 | 30 40]          (10+20+50+60)/4 = 35      (30+40+70+81)/4 = 55.25 -> 55
//   [50 60 | 70 81]
//   [ 0  0 |255 255]         (0+0+2+0)/4 = 0.5 -> 1    (255+255+255+254)/4 = 254.75 -> 255
//   [ 2  0 |255 254]
TEST(ResizeBilinear, Downscale4x4To2x2HandComputed) {
  const Image out =
      resize_bilinear(gray_image(4, 4, {10, 20, 30, 40, 50, 60, 70, 81, 0, 0, 255, 255, 2, 0, 255, 254}), 2, 2);
  ASSERT_EQ(out.h, 2);
  ASSERT_EQ(out.w, 2);
  const std::vector<int> expected = {35, 55, 1, 255};
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 3; ++c)
        EXPECT_EQ(out.at(y, x, c), expected[static_cast<std::size_t>(y * 2 + x)]) << y << "," << x;
}

// 1x3 -> 1x2 (non-integer ratio): src = (dst + 0.5) * 1.5 - 0.5 = 0.25 and 1.75; channels apart.
//   R [0 100 200]: 0.75*0 + 0.25*100 = 25;  0.25*100 + 0.75*200 = 175
//   G [90 10 30]:  0.75*90 + 0.25*10 = 70;  0.25*10 + 0.75*30 = 25
//   B [1 2 3]:     1.25 -> 1;               2.75 -> 3
TEST(ResizeBilinear, NonIntegerRatioPerChannel) {
  const Image out = resize_bilinear(make_image(1, 3, {0, 90, 1, 100, 10, 2, 200, 30, 3}), 1, 2);
  ASSERT_EQ(out.h, 1);
  ASSERT_EQ(out.w, 2);
  EXPECT_EQ(out.rgb, (std::vector<std::uint8_t>{25, 70, 1, 175, 25, 3}));
}

TEST(ResizeBilinear, MonotoneRampStaysMonotoneAndErrors) {
  Image ramp{3, 64, {}};
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 64; ++x) ramp.rgb.insert(ramp.rgb.end(), 3, static_cast<std::uint8_t>(x * 4));
  for (const int w : {7, 63, 65, 200}) {
    const Image out = resize_bilinear(ramp, 5, w);
    for (int x = 1; x < w; ++x) ASSERT_LE(out.at(2, x - 1, 0), out.at(2, x, 0)) << "width " << w << " x " << x;
  }
  EXPECT_THROW((void)resize_bilinear(ramp, 0, 4), ImageError);
  EXPECT_THROW((void)resize_bilinear(Image{}, 4, 4), ImageError);
}

TEST(LoadForModel, DecodeCropResize) {
  TempDir dir;
  const std::string path = dir.file("flat.JPEG", encode_jpeg(100, 80, blocks(100, 80, 3, {{30, 140, 220}}), {}));
  const Image img = load_for_model(path, 128, 128);
  ASSERT_EQ(img.h, 128);
  ASSERT_EQ(img.w, 128);
  for (std::size_t i = 0; i < img.rgb.size(); i += 3) {
    ASSERT_NEAR(img.rgb[i], 30, 3);
    ASSERT_NEAR(img.rgb[i + 1], 140, 3);
    ASSERT_NEAR(img.rgb[i + 2], 220, 3);
  }
  EXPECT_THROW((void)load_for_model((dir.path() / "missing.JPEG").string(), 128, 128), ImageError);
}

TEST(WritePpm, HeaderAndPixels) {
  TempDir dir;
  const std::string path = (dir.path() / "a.ppm").string();
  write_ppm(make_image(1, 2, {1, 2, 3, 4, 5, 6}), path);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, std::string("P6\n2 1\n255\n\x01\x02\x03\x04\x05\x06", 17));
}

// ---- the shared ImageNet sample -----------------------------------------------------------

TEST(SharedSample, AllImagesDecode) {
  const fs::path dir = fs::path(BITSCALE_SHARED_DIR) / "data" / "imagenet-sample";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no shared sample at " << dir.string();
  const auto files = list_images(dir.string());
  EXPECT_EQ(files.size(), 500u);
  int grayscale = 0, cmyk = 0, with_warnings = 0;
  std::int64_t pixels = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& f : files) {
    JpegInfo info;
    try {
      const Image img = decode_jpeg(f, &info);
      ASSERT_GT(img.h, 0);
      ASSERT_EQ(img.rgb.size(), img.pixels() * 3);
      pixels += static_cast<std::int64_t>(img.pixels());
    } catch (const ImageError& e) {
      ADD_FAILURE() << e.what();
      continue;
    }
    grayscale += info.components == 1;
    cmyk += info.components == 4;
    if (info.warnings > 0) {
      ++with_warnings;
      std::printf("  warning: %s: %s\n", f.c_str(), info.first_warning.c_str());
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  decoded %zu images, %.1f Mpixel, in %.2f s; %d grayscale, %d CMYK, %d with warnings\n", files.size(),
              static_cast<double>(pixels) / 1e6, s, grayscale, cmyk, with_warnings);
  EXPECT_EQ(grayscale, 9);  // as the shared README says
}

TEST(SharedSample, PreprocessedForModel) {
  const fs::path file = fs::path(BITSCALE_SHARED_DIR) / "data" / "imagenet-sample" / "n01440764_tench.JPEG";
  if (!fs::exists(file)) GTEST_SKIP() << "no shared sample image " << file.string();
  const Image img = load_for_model(file.string(), 224, 224);
  EXPECT_EQ(img.h, 224);
  EXPECT_EQ(img.w, 224);
  // A photograph, not a flat or broken image: channels vary.
  const auto [lo, hi] = std::minmax_element(img.rgb.begin(), img.rgb.end());
  EXPECT_GT(*hi - *lo, 100);
}

// The embedded default images (data/images in the project, data/README.md) all decode: at most
// the 300 that ../shared/README.md allows, each with its shorter side at most 256 px (made by
// `bitscale downscale --short-side 256`), and at least one grayscale file kept 1-component.
TEST(EmbeddedData, ImagesDecode) {
  const fs::path dir = fs::path(BITSCALE_SOURCE_DIR) / "data" / "images";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no embedded images at " << dir.string();
  const auto files = list_images(dir.string());
  EXPECT_GE(files.size(), 10u);
  EXPECT_LE(files.size(), 300u);
  int grayscale = 0;
  for (const std::string& f : files) {
    JpegInfo info;
    Image img;
    EXPECT_NO_THROW(img = decode_jpeg(f, &info)) << f;
    EXPECT_LE(std::min(img.h, img.w), 256) << f;
    grayscale += info.components == 1;
  }
  EXPECT_GE(grayscale, 1) << "the embedded set should include a grayscale image";
}

}  // namespace
}  // namespace bitscale::data
