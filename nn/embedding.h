#pragma once
// Embedding: a lookup table of vectors, one row per token id.
#include "nn/module.h"

namespace lf {

class Embedding : public Module {
 public:
  // weight [num, dim] ~ N(0, init_std^2): N(0, 1) by default, as torch.nn.Embedding.
  Embedding(int64_t num, int64_t dim, double init_std = 1.0);  // weight ~ N(0, init_std^2); 1 as PyTorch
  // ids i64 [...] -> [..., dim]
  Tensor forward(const Tensor& ids) const;

  int64_t num, dim;
  Tensor weight;  // [num, dim]
};

}  // namespace lf
