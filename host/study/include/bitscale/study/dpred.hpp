// `--dpred` of characterize, sweep, eval and apply: DPRed's per-group precision (docs/DPRED.md)
// used by the dynamic bit-width controller, both ways at once: the off-chip bytes of every run
// counted with the per-group encoding (quant::OffchipEncoding::kPerGroup, priced by the memory
// energy model, docs/ENERGY.md) and exact zero-block gating in the array.
#pragma once

#include "bitscale/driver/accelerator.hpp"
#include "bitscale/quant/traffic.hpp"

namespace bitscale::study {

/// What --dpred sets: `offchip` to the per-group encoding and, on `device` (the options every
/// accelerator of the run is made with), exact zero-block gating (driver::Gating::kZeroBlocks).
void apply_dpred(quant::OffchipEncoding& offchip, driver::DeviceOptions& device);

}  // namespace bitscale::study
