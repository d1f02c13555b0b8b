#include "nn/linear.h"

#include <cmath>

#include "ops/creation.h"

namespace lf {

Linear::Linear(int64_t in, int64_t out, bool with_bias) : in_features(in), out_features(out) {
  LF_CHECK(in > 0 && out > 0, "Linear: in_features {} and out_features {} must be positive", in, out);
  double bound = 1.0 / std::sqrt(double(in));
  weight = register_parameter("weight", uniform({out, in}, -bound, bound));
  if (with_bias) bias = register_parameter("bias", uniform({out}, -bound, bound));
}

Tensor Linear::forward_rows(const Tensor& x, int64_t r0, int64_t r1) const {
  LF_CHECK(0 <= r0 && r0 <= r1 && r1 <= out_features, "Linear::forward_rows: rows [{}, {}) outside [0, {})", r0, r1,
           out_features);
  return linear(x, weight.slice(0, r0, r1), bias.defined() ? bias.slice(0, r0, r1) : Tensor());
}

}  // namespace lf
