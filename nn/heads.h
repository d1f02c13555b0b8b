#pragma once
// Output heads on top of the encoder's hidden states [B, n, D].
#include "nn/module.h"

namespace lf {

// Masked language modelling: per-position logits over the vocabulary, logits = h W^T + b.
// "weight" [vocab, D] (Linear init) and "bias" [vocab]; with a tied weight (the token embedding's), W is that
// tensor and is not registered again, so only "bias" appears under the head.
class MaskedLMHead : public Module {
 public:
  MaskedLMHead(int64_t dim, int64_t vocab, const Tensor& tied_weight = Tensor());
  Tensor forward(const Tensor& h) const;  // [B, n, D] -> logits [B, n, vocab]

  Tensor weight;  // [vocab, D]
  Tensor bias;    // [vocab]
};

// Sequence classification: mean of the hidden states over the real (unpadded) positions, then a linear
// layer: "weight" [classes, D], "bias" [classes].
class ClassificationHead : public Module {
 public:
  ClassificationHead(int64_t dim, int64_t classes);
  // h [B, n, D], mask [B, n] (1 = token, 0 = padding) or undefined (every position counts) -> logits [B, classes]
  Tensor forward(const Tensor& h, const Tensor& mask = Tensor()) const;

  Tensor weight;  // [classes, D]
  Tensor bias;    // [classes]
};

}  // namespace lf
