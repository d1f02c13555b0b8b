#include "nn/layer_norm.h"

#include "ops/creation.h"
#include "ops/functional.h"

namespace lf {

LayerNorm::LayerNorm(int64_t dim_, double eps_) : dim(dim_), eps(eps_) {
  LF_CHECK(dim > 0, "LayerNorm: dim {} must be positive", dim);
  weight = register_parameter("weight", ones({dim}));
  bias = register_parameter("bias", zeros({dim}));
}

Tensor LayerNorm::forward(const Tensor& x) const {
  LF_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == dim, "LayerNorm: input {} does not end in dim {}",
           x.defined() ? shape_str(x.shape()) : "undefined", dim);
  return layer_norm(x, weight, bias, eps);
}

}  // namespace lf
