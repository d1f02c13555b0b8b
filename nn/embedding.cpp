#include "nn/embedding.h"

#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/functional.h"

namespace lf {

Embedding::Embedding(int64_t num_, int64_t dim_, double init_std) : num(num_), dim(dim_) {
  LF_CHECK(num > 0 && dim > 0, "Embedding: num {} and dim {} must be positive", num, dim);
  LF_CHECK(init_std > 0, "Embedding: init_std must be positive, got {}", init_std);
  weight = register_parameter("weight", init_std == 1.0 ? randn({num, dim}) : mul(randn({num, dim}), init_std));
}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight, ids); }

}  // namespace lf
