#pragma once
#include <vector>

#include "core/tensor.h"

namespace lf {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);    // same shape except along dim
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);  // same shape; a new dim at `dim`
// out = x indexed along dim by i64 `index` (1-D); backward scatters-adds into x's gradient.
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);

}  // namespace lf
