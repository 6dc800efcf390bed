#include <fmt/format.h>

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/golden/golden_device.hpp"
#include "bitscale/rtl/rtl_device.hpp"

namespace bitscale::driver {

std::unique_ptr<Device> make_device(const std::string& backend, const DeviceOptions& opts) {
  if (backend == "rtl") {
    rtl::RtlOptions o;
    o.trace_fst = opts.trace_fst;
    o.seed = opts.seed;
    return std::make_unique<rtl::RtlDevice>(o);
  }
  if (backend == "golden") {
    if (!opts.trace_fst.empty()) {
      throw std::invalid_argument("waveforms (--fst) exist only for the rtl back-end");
    }
    return std::make_unique<golden::GoldenDevice>();
  }
  throw std::invalid_argument(fmt::format("unknown back-end '{}' (expected rtl or golden)", backend));
}

}  // namespace bitscale::driver
