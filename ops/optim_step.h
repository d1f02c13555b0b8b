#pragma once
// The fused optimizer update, one kernel over all parameters (nn/optim.cpp owns the state).
#include <vector>

#include "backends/backend.h"

namespace lf {

// Updates every slot's param, m, v in place. All slots on one device.
void adamw_update(const std::vector<AdamWSlot>& slots, const AdamWHyper& h);

}  // namespace lf
