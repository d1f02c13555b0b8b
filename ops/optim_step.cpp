// adamw_update: checks every slot, then one fused backend call for all parameters.
#include "ops/optim_step.h"

#include "ops/check.h"

namespace lf {

void adamw_update(const std::vector<AdamWSlot>& slots, const AdamWHyper& h) {
  if (slots.empty()) return;
  LF_CHECK(h.step >= 1, "adamw_update: step must be >= 1 (it is 1-based, for bias correction), got {}", h.step);
  check_float("adamw_update", slots[0].param);
  Device device = slots[0].param.device();
  for (size_t i = 0; i < slots.size(); ++i) {
    const AdamWSlot& s = slots[i];
    const Tensor* parts[] = {&s.param, &s.grad, &s.m, &s.v};
    const char* names[] = {"param", "grad", "m", "v"};
    for (int j = 0; j < 4; ++j) {
      const Tensor& t = *parts[j];
      LF_CHECK(t.defined(), "adamw_update: slot {}: {} is undefined (a parameter without a gradient?)", i, names[j]);
      LF_CHECK(t.device() == device, "adamw_update: slot {}: {} is on {} but slot 0's param is on {}", i, names[j],
               t.device(), device);
      LF_CHECK(t.shape() == s.param.shape(), "adamw_update: slot {}: {} has shape {} but param has shape {}", i,
               names[j], shape_str(t.shape()), shape_str(s.param.shape()));
      LF_CHECK(t.dtype() == s.param.dtype(), "adamw_update: slot {}: {} is {} but param is {}", i, names[j],
               t.dtype(), s.param.dtype());
      LF_CHECK(t.is_contiguous(), "adamw_update: slot {}: {} {} is not contiguous", i, names[j],
               shape_str(t.shape()));
    }
  }
  backend_for(device).adamw(slots, h);
}

}  // namespace lf
