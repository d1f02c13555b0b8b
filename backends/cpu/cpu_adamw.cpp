//
// The fused AdamW step (Loshchilov & Hutter, "Decoupled weight decay regularization"), in place on
// every parameter slot, one pass over memory per slot:
//   p -= lr * wd * p                                  decoupled weight decay (not folded into g)
//   m  = b1 * m + (1 - b1) * g                        first moment
//   v  = b2 * v + (1 - b2) * g^2                      second moment
//   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)   bias-corrected update, t = step >= 1
#include <cmath>

#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_loop.h"
#include "backends/scalar_math.h"

namespace lf {

namespace {

template <typename T>
void adamw_slot(const AdamWSlot& s, const AdamWHyper& h) {
  T* p = static_cast<T*>(s.param.raw_data());
  const T* g = static_cast<const T*>(s.grad.raw_data());
  T* m = static_cast<T*>(s.m.raw_data());
  T* v = static_cast<T*>(s.v.raw_data());
  const T decay = T(1.0 - h.lr * h.weight_decay);
  const T b1 = T(h.beta1), b2 = T(h.beta2), c1 = T(1.0 - h.beta1), c2 = T(1.0 - h.beta2);
  const T inv_bc1 = T(1.0 / (1.0 - std::pow(h.beta1, double(h.step))));
  const T inv_bc2 = T(1.0 / (1.0 - std::pow(h.beta2, double(h.step))));
  const T lr = T(h.lr), eps = T(h.eps);
  cpu::parallel_for(s.param.numel(), cpu::kGrain / 2, [&](int64_t lo, int64_t hi) {
#pragma omp simd
    for (int64_t i = lo; i < hi; ++i) {
      const T gi = g[i];
      const T mi = b1 * m[i] + c1 * gi;
      const T vi = b2 * v[i] + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * decay - lr * (mi * inv_bc1) / (math::sqrt(vi * inv_bc2) + eps);
    }
  });
}

}  // namespace

void CpuBackend::adamw(const std::vector<AdamWSlot>& slots, const AdamWHyper& h) {
  LF_CHECK(h.step >= 1, "adamw: step must be >= 1 (bias correction divides by 1 - beta^step), got {}",
           h.step);
  for (size_t k = 0; k < slots.size(); ++k) {
    const AdamWSlot& s = slots[k];
    LF_CHECK(s.param.defined() && s.grad.defined() && s.m.defined() && s.v.defined(),
             "adamw: slot {} has an undefined tensor", k);
    const DType dt = s.param.dtype();
    const int64_t n = s.param.numel();
    for (const Tensor* t : {&s.grad, &s.m, &s.v})
      LF_CHECK(t->dtype() == dt && t->numel() == n, "adamw: slot {}: param {} {} but grad/m/v has {} {}", k,
               shape_str(s.param.shape()), dt, shape_str(t->shape()), t->dtype());
    for (const Tensor* t : {&s.param, &s.grad, &s.m, &s.v})
      LF_CHECK(t->is_contiguous(), "adamw: slot {}: tensor {} must be contiguous", k, shape_str(t->shape()));
    dispatch_float(dt, "adamw", [&](auto tag) { adamw_slot<decltype(tag)>(s, h); });
  }
}

}  // namespace lf
