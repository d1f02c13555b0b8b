#pragma once
// In-place assignment, the one way code above ops/ writes into an existing tensor's storage.
// (Tensor's contiguous/clone/to/item/at/to_vector, declared in core/tensor.h, live in ops/convert.cpp too.)
#include "core/tensor.h"

namespace lf {

// dst[i] = src[i] for tensors of the same shape: src's values converted to dst's dtype, moved first when
// src lives on another device; dst may be a strided view. Records no graph, so it is refused while grad
// mode is on for a dst that requires grad (wrap parameter updates in NoGradGuard). Returns dst.
const Tensor& assign_(const Tensor& dst, const Tensor& src);

}  // namespace lf
