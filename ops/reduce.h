#pragma once
// Reductions over any set of dims (negative dims count from the end); an empty dim list means all dims.
#include "core/tensor.h"

namespace lf {

Tensor sum(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const Shape& dims = {}, bool keepdim = false);
Tensor max(const Tensor& x, const Shape& dims = {}, bool keepdim = false);  // values; ties share the gradient
// Variance with Bessel's correction by default (divides by N - correction).
Tensor var(const Tensor& x, const Shape& dims = {}, bool keepdim = false, int64_t correction = 1);

// The one helper that undoes broadcasting in backward: sums `g` over the dims that were stretched to
// reach g's shape from `shape`, and returns a tensor of `shape`.
Tensor sum_to(const Tensor& g, const Shape& shape);

}  // namespace lf
