#pragma once
// User-facing switches of the CUDA backend that compile in every build. Without CUDA they are inert:
// asking for TF32 then throws, since there is no GPU to run it on.
#ifdef LF_WITH_CUDA
#include "backends/cuda/cuda_backend.h"  // set_cuda_tf32, cuda_tf32
#else
#include "core/error.h"

namespace lf {

// f32 matrix products on TF32 tensor cores (see backends/cuda/cuda_backend.h).
inline void set_cuda_tf32(bool on) {
  if (on) throw Error("set_cuda_tf32: this build has no CUDA backend (configure with -DLF_CUDA=ON)");
}
inline bool cuda_tf32() { return false; }

}  // namespace lf
#endif
