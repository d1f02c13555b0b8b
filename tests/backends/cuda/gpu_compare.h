#pragma once
// What the cuda tests share: LF_REQUIRE_GPU (skip, with a warning, without a GPU) and check_gpu_matches_cpu
// (the same op on both devices, values and gradients compared).
#include <functional>

#include "backends/backend.h"
#include "tests/support/helpers.h"

namespace lf::test::gpu {

using lf::test::all_close;
using lf::test::max_abs_diff;

#define LF_REQUIRE_GPU()                                                \
  do {                                                                  \
    if (!lf::cuda_available()) {                                        \
      WARN("skipped: no CUDA GPU available (or a build without CUDA)"); \
      return;                                                           \
    }                                                                   \
  } while (0)

inline const Device kGpu = Device::cuda(0);

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Runs fn on fresh CPU leaves and on their copies on the GPU; compares the outputs, then the gradients of
// sum(out * w) for a fixed random w (so every output element matters) for the inputs that require grad.
inline void check_gpu_matches_cpu(const Fn& fn, const std::vector<Tensor>& inputs, double tol) {
  std::vector<Tensor> cpu_in, gpu_in;
  for (const Tensor& t : inputs) {
    Tensor c = t.detach().clone(), g = t.detach().to(kGpu);
    if (t.requires_grad()) {
      c.requires_grad_();
      g.requires_grad_();
    }
    cpu_in.push_back(c);
    gpu_in.push_back(g);
  }
  Tensor out_c = fn(cpu_in), out_g = fn(gpu_in);
  REQUIRE(out_g.device() == kGpu);
  REQUIRE(out_g.shape() == out_c.shape());
  REQUIRE(out_g.dtype() == out_c.dtype());
  INFO("forward max |gpu - cpu| = " << max_abs_diff(out_g, out_c));
  CHECK(all_close(out_g, out_c, tol, tol));
  if (!out_c.requires_grad()) return;
  Tensor w = randn(out_c.shape(), out_c.dtype());
  sum(out_c * w).backward();
  sum(out_g * w.to(kGpu)).backward();
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].requires_grad()) continue;
    REQUIRE(gpu_in[i].grad().defined());
    REQUIRE(gpu_in[i].grad().device() == kGpu);
    INFO("input " << i
                  << ": gradient max |gpu - cpu| = " << max_abs_diff(gpu_in[i].grad(), cpu_in[i].grad()));
    CHECK(all_close(gpu_in[i].grad(), cpu_in[i].grad(), tol, tol));
  }
}

inline Tensor leaf(const Shape& shape, DType dtype = DType::f32, double scale = 1.0) {
  return (randn(shape, dtype) * scale).detach().requires_grad_();
}

// f32 to rounding, f64 to near machine precision: both dtypes run the same kernels' two instantiations.
inline double tol_for(DType t) { return t == DType::f32 ? 2e-5 : 1e-11; }

}  // namespace lf::test::gpu
