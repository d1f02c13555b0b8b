#pragma once
#include "core/tensor.h"

namespace lf {

// Matrix product. 1-D x 2-D, 2-D x 2-D, and batched [..., m, k] x [..., k, n] with broadcast batch dims.
// A transposed operand (e.g. w.transpose(0, 1)) goes to the GEMM as a transpose flag, not a copy.
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace lf
