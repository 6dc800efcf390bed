// Downscaling for the embedded image set: the area average, the JPEG encoder, the size rule, the
// file and directory operations, and the properties of the committed data/images.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "bitscale/data/dataset.hpp"
#include "bitscale/data/downscale.hpp"
#include "bitscale/data/image.hpp"
#include "bitscale/data/labels.hpp"
#include "bitscale/util/file.hpp"
#include "test_files.hpp"

namespace bitscale::data {
namespace {

namespace fs = std::filesystem;

Image gray_image(int h, int w, const std::vector<int>& values) {
  Image img;
  img.h = h;
  img.w = w;
  for (int v : values) {
    for (int c = 0; c < 3; ++c) img.rgb.push_back(static_cast<std::uint8_t>(v));
  }
  return img;
}

// A smooth colour image (gradients), which JPEG reproduces closely.
Image smooth_image(int h, int w) {
  Image img;
  img.h = h;
  img.w = w;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      img.rgb.push_back(static_cast<std::uint8_t>(40 + 150 * x / w));
      img.rgb.push_back(static_cast<std::uint8_t>(60 + 120 * y / h));
      img.rgb.push_back(static_cast<std::uint8_t>(200 - 100 * (x + y) / (w + h)));
    }
  }
  return img;
}

Image noise_image(int h, int w, unsigned seed) {
  Image img;
  img.h = h;
  img.w = w;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(0, 255);
  for (std::size_t i = 0; i < static_cast<std::size_t>(h) * static_cast<std::size_t>(w) * 3; ++i)
    img.rgb.push_back(static_cast<std::uint8_t>(d(rng)));
  return img;
}

void write_jpeg(const fs::path& path, const Image& img, JpegColor color, int quality = 95) {
  const std::vector<std::uint8_t> bytes = encode_jpeg(img, quality, color);
  util::write_file(path.string(), std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string file_bytes(const fs::path& p) { return util::read_file(p.string()); }

std::string fmt_name(int i) { return "img" + std::to_string(i) + ".JPEG"; }

// ---- resize_area -------------------------------------------------------------------------------

// 3 -> 2 pixels: output 0 covers input 0 fully and half of input 1 (weights 2/3, 1/3), output 1
// the other half of input 1 and input 2 (1/3, 2/3). Row 0, 30, 90: (0*2 + 30) / 3 = 10 and
// (30 + 90*2) / 3 = 70.
TEST(ResizeArea, ThreeToTwoWeightsByCoveredArea) {
  const Image out = resize_area(gray_image(1, 3, {0, 30, 90}), 1, 2);
  ASSERT_EQ(out.h, 1);
  ASSERT_EQ(out.w, 2);
  EXPECT_EQ(out.at(0, 0, 0), 10);
  EXPECT_EQ(out.at(0, 1, 0), 70);
}

// 2x2 blocks are averaged; 127.5 rounds up to 128.
TEST(ResizeArea, HalvingAveragesBlocksRoundingHalvesUp) {
  const Image out = resize_area(gray_image(2, 4, {0, 255, 10, 20, 255, 0, 30, 40}), 1, 2);
  EXPECT_EQ(out.at(0, 0, 0), 128);  // (0 + 255 + 255 + 0) / 4 = 127.5
  EXPECT_EQ(out.at(0, 1, 1), 25);   // (10 + 20 + 30 + 40) / 4
}

// One-pixel stripes shrunk by 2 become their mean, where nearest-neighbour sampling would keep
// only one of the two colours: the filter does not alias.
TEST(ResizeArea, StripesAverageInsteadOfAliasing) {
  std::vector<int> v;
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) v.push_back(x % 2 == 0 ? 0 : 200);
  const Image out = resize_area(gray_image(8, 8, v), 4, 4);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_EQ(out.at(y, x, 0), 100) << y << "," << x;
}

// Every input pixel counts with the same total weight, so the mean is kept up to rounding (each
// output is rounded by at most 0.5), for ratios that are not integers.
TEST(ResizeArea, KeepsTheMeanForNonIntegerRatios) {
  const Image in = noise_image(37, 53, 7);
  const Image out = resize_area(in, 11, 17);
  for (int c = 0; c < 3; ++c) {
    double sum_in = 0, sum_out = 0;
    for (int y = 0; y < in.h; ++y)
      for (int x = 0; x < in.w; ++x) sum_in += in.at(y, x, c);
    for (int y = 0; y < out.h; ++y)
      for (int x = 0; x < out.w; ++x) sum_out += out.at(y, x, c);
    EXPECT_NEAR(sum_out / static_cast<double>(out.pixels()), sum_in / static_cast<double>(in.pixels()), 0.5);
  }
}

TEST(ResizeArea, ConstantStaysConstantAndEqualChannelsStayEqual) {
  const Image flat = gray_image(5, 7, std::vector<int>(35, 77));
  const Image out = resize_area(flat, 2, 3);
  for (std::uint8_t v : out.rgb) EXPECT_EQ(v, 77);
  Image gray = noise_image(19, 23, 3);
  for (std::size_t i = 0; i < gray.pixels(); ++i) gray.rgb[i * 3 + 1] = gray.rgb[i * 3 + 2] = gray.rgb[i * 3];
  const Image g = resize_area(gray, 6, 9);
  for (std::size_t i = 0; i < g.pixels(); ++i) {
    EXPECT_EQ(g.rgb[i * 3], g.rgb[i * 3 + 1]);
    EXPECT_EQ(g.rgb[i * 3], g.rgb[i * 3 + 2]);
  }
}

TEST(ResizeArea, RefusesEnlargingAndEmptySizes) {
  const Image img = smooth_image(10, 20);
  EXPECT_THROW((void)resize_area(img, 11, 20), ImageError);
  EXPECT_THROW((void)resize_area(img, 10, 21), ImageError);
  EXPECT_THROW((void)resize_area(img, 0, 5), ImageError);
  EXPECT_THROW((void)resize_area(Image{}, 1, 1), ImageError);
  const Image same = resize_area(img, 10, 20);
  EXPECT_EQ(same.rgb, img.rgb);
}

// ---- encode_jpeg -------------------------------------------------------------------------------

TEST(EncodeJpeg, RoundTripKeepsSizeAndIsClose) {
  const Image img = smooth_image(30, 41);  // not multiples of the 8x8 / 16x16 blocks
  const std::vector<std::uint8_t> bytes = encode_jpeg(img, 95, JpegColor::kRgb);
  JpegInfo info;
  const Image back = decode_jpeg_memory(bytes, "encoded", &info);
  EXPECT_EQ(info.components, 3);
  ASSERT_EQ(back.h, 30);
  ASSERT_EQ(back.w, 41);
  double err = 0;
  for (std::size_t i = 0; i < img.rgb.size(); ++i) err += std::abs(int{img.rgb[i]} - int{back.rgb[i]});
  EXPECT_LT(err / static_cast<double>(img.rgb.size()), 3.0);  // smooth content, quality 95
}

TEST(EncodeJpeg, GrayscaleIsOneComponent) {
  std::vector<int> v;
  for (int i = 0; i < 16 * 24; ++i) v.push_back(i % 24 * 10);
  const std::vector<std::uint8_t> bytes = encode_jpeg(gray_image(16, 24, v), 90, JpegColor::kGrayscale);
  JpegInfo info;
  const Image back = decode_jpeg_memory(bytes, "gray", &info);
  EXPECT_EQ(info.components, 1);
  EXPECT_EQ(back.h, 16);
  EXPECT_EQ(back.w, 24);
}

TEST(EncodeJpeg, HigherQualityTakesMoreBytes) {
  const Image img = noise_image(64, 64, 11);
  EXPECT_LT(encode_jpeg(img, 30, JpegColor::kRgb).size(), encode_jpeg(img, 95, JpegColor::kRgb).size());
}

TEST(EncodeJpeg, RefusesBadQualityColouredGrayscaleAndEmptyImages) {
  const Image img = smooth_image(8, 8);
  EXPECT_THROW((void)encode_jpeg(img, 0, JpegColor::kRgb), ImageError);
  EXPECT_THROW((void)encode_jpeg(img, 101, JpegColor::kRgb), ImageError);
  EXPECT_THROW((void)encode_jpeg(Image{}, 90, JpegColor::kRgb), ImageError);
  try {
    (void)encode_jpeg(img, 90, JpegColor::kGrayscale);
    FAIL() << "a coloured image was encoded as grayscale";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("grayscale requested but pixel (0, 0)"), std::string::npos) << e.what();
  }
}

// ---- shorter_side_size ---------------------------------------------------------------------------

TEST(ShorterSideSize, ScalesTheShorterSideAndRoundsTheLonger) {
  EXPECT_EQ(shorter_side_size(375, 500, 184), (ImageSize{184, 245}));  // 500 * 184 / 375 = 245.33
  EXPECT_EQ(shorter_side_size(500, 375, 184), (ImageSize{245, 184}));
  EXPECT_EQ(shorter_side_size(400, 600, 184), (ImageSize{184, 276}));  // exactly 276
  EXPECT_EQ(shorter_side_size(368, 369, 184), (ImageSize{184, 185}));  // 184.5 rounds up
  EXPECT_EQ(shorter_side_size(300, 300, 184), (ImageSize{184, 184}));
}

TEST(ShorterSideSize, NeverEnlarges) {
  EXPECT_EQ(shorter_side_size(100, 80, 184), (ImageSize{100, 80}));
  EXPECT_EQ(shorter_side_size(184, 900, 184), (ImageSize{184, 900}));
  EXPECT_THROW((void)shorter_side_size(0, 10, 184), ImageError);
  EXPECT_THROW((void)shorter_side_size(10, 10, 0), ImageError);
}

// ---- files and directories ---------------------------------------------------------------------

TEST(DownscaleFile, ResizesCopiesAndKeepsGrayscale) {
  const fs::path dir = test::temp_dir("downscale_file");
  write_jpeg(dir / "big.jpg", smooth_image(300, 400), JpegColor::kRgb);
  write_jpeg(dir / "small.jpg", smooth_image(100, 150), JpegColor::kRgb);
  std::vector<int> v(260 * 500);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int>(i % 251);
  write_jpeg(dir / "gray.jpg", gray_image(500, 260, v), JpegColor::kGrayscale);

  const DownscaleResult big = downscale_jpeg_file((dir / "big.jpg").string(), (dir / "big_out.jpg").string(), 184, 90);
  EXPECT_EQ(big.action, DownscaleAction::kResized);
  EXPECT_EQ(big.in, (ImageSize{300, 400}));
  EXPECT_EQ(big.out, (ImageSize{184, 245}));  // 400 * 184 / 300 = 245.33
  const Image b = decode_jpeg((dir / "big_out.jpg").string());
  EXPECT_EQ(b.h, 184);
  EXPECT_EQ(b.w, 245);
  EXPECT_EQ(big.bytes_out, fs::file_size(dir / "big_out.jpg"));

  const DownscaleResult small =
      downscale_jpeg_file((dir / "small.jpg").string(), (dir / "small_out.jpg").string(), 184, 90);
  EXPECT_EQ(small.action, DownscaleAction::kCopied);
  EXPECT_EQ(file_bytes(dir / "small_out.jpg"), file_bytes(dir / "small.jpg"));

  const DownscaleResult gray =
      downscale_jpeg_file((dir / "gray.jpg").string(), (dir / "gray_out.jpg").string(), 128, 90);
  EXPECT_EQ(gray.components, 1);
  EXPECT_EQ(gray.out, (ImageSize{246, 128}));  // 500 * 128 / 260 = 246.15
  JpegInfo info;
  const Image g = decode_jpeg((dir / "gray_out.jpg").string(), &info);
  EXPECT_EQ(info.components, 1);
  EXPECT_EQ(g.w, 128);
  fs::remove_all(dir);
}

TEST(DownscaleFile, RefusesWhatIsNotAJpegNamingTheFile) {
  const fs::path dir = test::temp_dir("downscale_bad");
  util::write_file((dir / "notes.jpg").string(), "not a picture\n");
  try {
    (void)downscale_jpeg_file((dir / "notes.jpg").string(), (dir / "out.jpg").string(), 184, 90);
    FAIL() << "a text file was accepted";
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("notes.jpg"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "out.jpg"));
  EXPECT_THROW((void)downscale_jpeg_file((dir / "missing.jpg").string(), (dir / "o.jpg").string(), 184, 90),
               ImageError);
  EXPECT_THROW((void)downscale_jpeg_file(dir.string(), (dir / "o.jpg").string(), 184, 90), ImageError);
  fs::remove_all(dir);
}

TEST(DownscaleImages, SpreadSubsetAndRefusals) {
  const fs::path dir = test::temp_dir("downscale_set");
  const fs::path src = dir / "src";
  fs::create_directories(src);
  for (int i = 0; i < 5; ++i) write_jpeg(src / fmt_name(i), smooth_image(200 + i, 220), JpegColor::kRgb);
  util::write_file((src / "README.txt").string(), "skipped\n");

  DownscaleSetJob job{src.string(), (dir / "out").string(), 3, 150, 85};
  std::vector<std::string> warnings;
  const DownscaleSetResult r = downscale_images(job, [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(r.listed, 5u);
  // spread(5, 3): positions floor(i * 5 / 3) = 0, 1, 3.
  EXPECT_EQ(r.names, (std::vector<std::string>{fmt_name(0), fmt_name(1), fmt_name(3)}));
  EXPECT_EQ(r.count(DownscaleAction::kResized), 3u);
  EXPECT_EQ(list_images(job.out).size(), 3u);
  EXPECT_EQ(warnings.size(), 1u);
  const std::string summary = downscale_summary(job, r);
  EXPECT_NE(summary.find("3 of the 5 images"), std::string::npos) << summary;
  EXPECT_NE(summary.find("3 resized to a shorter side of 150 px"), std::string::npos) << summary;

  // The destination now holds files: refused, nothing changed.
  EXPECT_THROW((void)downscale_images(job), std::invalid_argument);
  // The source as destination.
  DownscaleSetJob same = job;
  same.out = src.string();
  try {
    (void)downscale_images(same);
    FAIL() << "--out = --images was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("is the source directory"), std::string::npos) << e.what();
  }
  DownscaleSetJob bad = job;
  bad.out = (dir / "out2").string();
  bad.quality = 0;
  EXPECT_THROW((void)downscale_images(bad), std::invalid_argument);
  bad.quality = 90;
  bad.images = (dir / "nowhere").string();
  EXPECT_THROW((void)downscale_images(bad), LabelError);
  EXPECT_FALSE(fs::exists(bad.out));
  fs::remove_all(dir);
}

// ../shared/README.md allows the embedded default 6 MB in all (models included) and at most 300
// downscaled sample images.
TEST(EmbeddedData, WithinTheSharedAllowance) {
  const fs::path data = fs::path(BITSCALE_SOURCE_DIR) / "data";
  if (!fs::is_directory(data / "images")) GTEST_SKIP() << "no embedded data at " << data.string();
  std::uintmax_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(data)) {
    if (e.is_regular_file()) bytes += e.file_size();
  }
  EXPECT_LE(bytes, 6'000'000u);
  EXPECT_LE(list_images((data / "images").string()).size(), 300u);
}

}  // namespace
}  // namespace bitscale::data
