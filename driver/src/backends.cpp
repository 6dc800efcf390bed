#include <fmt/format.h>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/golden_device.hpp"
#if BITSCALE_WITH_RTL
#include "bitscale/rtl/rtl_device.hpp"
#endif

namespace bitscale::driver {

namespace {

void check_no_trace(const DeviceOptions& opts) {
  if (!opts.trace_fst.empty()) throw std::invalid_argument("waveforms (--fst) exist only for the rtl back-end");
}

}  // namespace

std::unique_ptr<Device> make_device(const std::string& backend, const DeviceOptions& opts) {
  if (backend == "rtl") {
#if BITSCALE_WITH_RTL
    rtl::RtlOptions o;
    o.trace_fst = opts.trace_fst;
    o.seed = opts.seed;
    if (opts.rows != 0 || opts.cols != 0) return rtl::make_rtl_device({opts.rows, opts.cols}, o);
    return std::make_unique<rtl::RtlDevice>(o);
#else
    throw std::invalid_argument("this build has no RTL back-end (configured with -DBITSCALE_RTL=OFF)");
#endif
  }
  if (backend == "golden") {
    check_no_trace(opts);
    if (opts.rows != 0 || opts.cols != 0) {
      return std::make_unique<golden::GoldenDevice>(golden::DeviceParams{.rows = opts.rows, .cols = opts.cols});
    }
    return std::make_unique<golden::GoldenDevice>();
  }
  throw std::invalid_argument(fmt::format("unknown back-end '{}' (expected rtl or golden)", backend));
}

std::unique_ptr<Accelerator> make_accelerator(Backend backend, const DeviceOptions& opts) {
  std::unique_ptr<Accelerator> acc;
  switch (backend) {
    case Backend::kGolden:
      check_no_trace(opts);
      acc = std::make_unique<Accelerator>(default_hw_config());
      break;
    case Backend::kGoldenDevice:
      acc = std::make_unique<Accelerator>(make_device("golden", opts));
      break;
    case Backend::kRtl:
      acc = std::make_unique<Accelerator>(make_device("rtl", opts));
      break;
  }
  if (acc) {
    acc->set_depthwise_mapping(opts.depthwise);
    acc->set_shift_mapping(opts.shifts);
    acc->set_pixel_mapping(opts.pixel);
    acc->set_gating(opts.gating);
    acc->set_transfer(opts.transfer);
    acc->set_port(opts.port);
    return acc;
  }
  throw std::invalid_argument(fmt::format("unknown back-end {}", static_cast<int>(backend)));
}

}  // namespace bitscale::driver
