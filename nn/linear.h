#pragma once
// Linear: y = x W^T + b, with W [out, in] and b [out] as in torch.nn.Linear (so checkpoints map 1:1).
#include "nn/module.h"
#include "ops/linalg.h"  // lf::linear, the fused op behind forward()

namespace lf {

class Linear : public Module {
 public:
  // PyTorch's default init: kaiming_uniform(a = sqrt(5)) on W, which is U(-1/sqrt(in), 1/sqrt(in)), and the
  // same bound for b.
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) const { return linear(x, weight, bias); }
  // Only outputs r0..r1-1: x W[r0:r1]^T + b[r0:r1]. The row blocks of W and b are views, so a fused
  // projection (attention's qkv) can be used piecewise without slicing its output; their gradients land in
  // the matching rows of W's gradient.
  Tensor forward_rows(const Tensor& x, int64_t r0, int64_t r1) const;

  int64_t in_features, out_features;
  Tensor weight;  // [out, in]
  Tensor bias;    // [out], undefined when built without bias
};

}  // namespace lf
