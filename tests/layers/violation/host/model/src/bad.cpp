// Fixture of the architecture_layers_detects_violation test: the model layer may not include the
// study layer's headers (cmake/check_layers.cmake must reject this file).
#include "bitscale/study/engine.hpp"
