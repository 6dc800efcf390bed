// Umbrella header of the quant library: fixed-point rules, calibration, the quantized network.
#pragma once

#include "bitscale/quant/calibration.hpp"
#include "bitscale/quant/fixed_point.hpp"
#include "bitscale/quant/quantized_network.hpp"
