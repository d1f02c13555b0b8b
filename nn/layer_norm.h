#pragma once
// LayerNorm over the last dim: y = (x - mean) / sqrt(var + eps) * weight + bias.
#include "nn/module.h"

namespace lf {

class LayerNorm : public Module {
 public:
  // weight = 1, bias = 0, as torch.nn.LayerNorm.
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;  // [..., dim] -> [..., dim]

  int64_t dim;
  double eps;
  Tensor weight, bias;  // [dim]
};

}  // namespace lf
