#pragma once
// From Tensors to kernel arguments (used by cuda_backend.cpp and cuda_backend_nn.cpp): lf's dtype mapped
// onto the kernels' mirror (kernels.h), and strided descriptors. The argument checks and contiguous copies
// every backend shares are in backends/kernel_args.h.
#include <array>

#include "backends/backend.h"
#include "backends/kernel_args.h"
#include "backends/cuda/kernels.h"

namespace lf::cuda {

KType ktype(DType t);
// `t`'s data pointer, or null for an undefined tensor (optional weight, bias, dw, ...).
const void* data_or_null(const Tensor& t);
void* mutable_data_or_null(const Tensor& t);

// The iteration space `shape` for N operands with the given strides (each as long as shape), simplified by
// plan_loop (size-1 dims dropped, dims merged where every operand is contiguous across them) and laid out
// innermost first. Throws when more than kMaxDims dims remain.
template <int N> Strided<N> make_strided(const char* op, const Shape& shape, const std::array<const Shape*, N>& strides);

}  // namespace lf::cuda
