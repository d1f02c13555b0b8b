#include "nn/linear.h"

#include <cmath>

#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"

namespace lf {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  LF_CHECK(x.defined() && weight.defined(), "linear: input and weight must be defined tensors");
  LF_CHECK(weight.dim() == 2, "linear: weight must be [out, in], got {}", shape_str(weight.shape()));
  LF_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1),
           "linear: input {} does not end in the weight's in_features {} (weight {})", shape_str(x.shape()),
           weight.size(1), shape_str(weight.shape()));
  Shape out_shape = x.shape();
  out_shape.back() = weight.size(0);
  // [..., in] -> [M, in] (a view when x is contiguous), one GEMM against W^T [in, out], back to [..., out].
  Tensor x2 = x.dim() == 2 ? x : x.reshape({-1, x.size(-1)});
  Tensor y = matmul(x2, weight.transpose(0, 1));
  if (bias.defined()) y = add(y, bias);  // [M, out] + [out] broadcasts over rows
  return x.dim() == 2 ? y : y.reshape(out_shape);
}

Linear::Linear(int64_t in, int64_t out, bool with_bias) : in_features(in), out_features(out) {
  LF_CHECK(in > 0 && out > 0, "Linear: in_features {} and out_features {} must be positive", in, out);
  double bound = 1.0 / std::sqrt(double(in));
  weight = register_parameter("weight", uniform({out, in}, -bound, bound));
  if (with_bias) bias = register_parameter("bias", uniform({out}, -bound, bound));
}

}  // namespace lf
