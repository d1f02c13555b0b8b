#include "nn/embedding.h"

#include "ops/creation.h"
#include "ops/functional.h"

namespace lf {

Embedding::Embedding(int64_t num_, int64_t dim_) : num(num_), dim(dim_) {
  LF_CHECK(num > 0 && dim > 0, "Embedding: num {} and dim {} must be positive", num, dim);
  weight = register_parameter("weight", randn({num, dim}));
}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight, ids); }

}  // namespace lf
