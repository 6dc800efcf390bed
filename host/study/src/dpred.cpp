#include "bitscale/study/dpred.hpp"

namespace bitscale::study {

void apply_dpred(quant::OffchipEncoding& offchip, driver::DeviceOptions& device) {
  offchip = quant::OffchipEncoding::kPerGroup;
  // Exact zero-block gating (MODE.ZGATE, docs/NUMERICS.md): outputs unchanged, CNT_BLK counts only
  // the block products computed, and the energy model prices the rest as skipped.
  device.gating = driver::Gating::kZeroBlocks;
}

}  // namespace bitscale::study
