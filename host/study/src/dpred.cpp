#include "bitscale/study/dpred.hpp"

namespace bitscale::study {

void apply_dpred(quant::OffchipEncoding& offchip, driver::DeviceOptions& device) {
  offchip = quant::OffchipEncoding::kPerGroup;
  // Exact zero-block gating: the lead wires MODE.ZGATE here after the zgate merge (the
  // driver::DeviceOptions enum of that branch, set to gating on). Until then --dpred leaves the
  // device options as they are.
  (void)device;
}

}  // namespace bitscale::study
