#pragma once
#include "core/tensor.h"

namespace lf {

// Matrix product. 1-D x 2-D, 2-D x 2-D, and batched [..., m, k] x [..., k, n] with broadcast batch dims.
// A transposed operand (e.g. w.transpose(0, 1)) goes to the GEMM as a transpose flag, not a copy.
Tensor matmul(const Tensor& a, const Tensor& b);

// x [..., in], weight [out, in], bias [out] (may be undefined) -> x W^T + b, [..., out] (torch's F.linear).
// The bias may also be any shape ending in out that broadcasts to the output (e.g. [n, out] for x [B, n, in]).
// One fused op: leading dims fold into one GEMM of [M, in] x [in, out] that adds onto rows preset to b,
// and the backward gives dW in W's own [out, in] layout and db as column sums, with no extra passes.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace lf
