#pragma once
// The fused, numerically stable ops a network is made of. Each has a kernel for forward and backward.
#include "core/tensor.h"

namespace lf {

Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
// Normalises over the last dim (size C); weight and bias [C] may be undefined Tensors.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);
// logits [N, C] (or [..., C]), target i64 [N] (or [...]): mean negative log-likelihood over the targets
// that are not ignore_index. Log-softmax and NLL in one kernel.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index = -100);
// Cross-entropy against the smoothed target distribution (Szegedy et al. 2016): 1 - smoothing on the true
// class plus smoothing / C on every class, as PyTorch's label_smoothing. smoothing in [0, 1]; 0 is
// cross_entropy. Composed from cross_entropy and log_softmax (ops/label_smoothing.cpp).
Tensor label_smoothed_cross_entropy(const Tensor& logits, const Tensor& target, double smoothing,
                                    int64_t ignore_index = -100);
// Zeroes each element with probability p and scales the rest by 1/(1-p); identity when !training or p == 0.
Tensor dropout(const Tensor& x, double p, bool training);
// weight [V, D], ids i64 [...] -> [..., D]. Backward scatter-adds into weight's gradient.
Tensor embedding(const Tensor& weight, const Tensor& ids);
// value where mask != 0, else x. mask broadcasts to x (any dtype).
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

}  // namespace lf
