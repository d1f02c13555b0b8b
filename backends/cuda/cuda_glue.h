#pragma once
// From Tensors to kernel arguments (used by cuda_backend.cpp and cuda_backend_nn.cpp): the checks every
// primitive makes, lf's enums mapped onto the kernels' mirrors (kernels.h), and strided descriptors.
#include <array>

#include "backends/backend.h"
#include "backends/cuda/kernels.h"

namespace lf::cuda {

KType ktype(DType t);
KUnary kop(UnaryOp op);
KBinary kop(BinaryOp op);

// Throws unless `t` is defined and lives on a CUDA device; `what` names it ("x", "weight", ...).
void check_cuda(const char* op, const char* what, const Tensor& t);
// Throws unless `t` is a defined, contiguous CUDA tensor with `dtype` and `numel` elements.
void check_output(const char* op, const char* what, const Tensor& t, DType dtype, int64_t numel);
// `t` itself when contiguous, else a contiguous copy on the GPU.
Tensor contiguous_input(const Tensor& t);
// `t`'s data pointer, or null for an undefined tensor (optional weight, bias, dw, ...).
const void* data_or_null(const Tensor& t);
void* mutable_data_or_null(const Tensor& t);

// The iteration space `shape` for N operands with the given strides (each as long as shape), with size-1
// dims dropped and neighbouring dims merged where every operand is contiguous across them. Throws when
// more than kMaxDims dims remain.
template <int N> Strided<N> make_strided(const char* op, const Shape& shape, const std::array<const Shape*, N>& strides);

}  // namespace lf::cuda
