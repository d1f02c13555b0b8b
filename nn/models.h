#pragma once
// Complete models: an Encoder with a head. They derive from Encoder so the parameter names stay flat and
// match the torch twin (bench/torch_twin.py) exactly: "pos", "tok.weight", "blocks.0.att.qkv.weight", ...,
// "ln.weight", "head.weight", "head.bias". The Linformer projections are "E" (one for the whole model,
// layerwise sharing: train_mlm's default) or "blocks.{i}.att.E" (and ".F") for the other sharings; every
// name and shape is listed in docs/checkpoints.md.
#include <memory>

#include "nn/encoder.h"
#include "nn/heads.h"

namespace lf {

// Masked language model over token ids. cfg.in_features must be 0 (token front).
class MaskedLM : public Encoder {
 public:
  explicit MaskedLM(const EncoderConfig& cfg);
  // ids i64 [B, n], mask [B, n] or undefined -> logits [B, n, vocab]
  Tensor forward(const Tensor& ids, const Tensor& mask = Tensor()) const;
  // Logits only where they are needed, as fairseq's RoBERTa head does: positions i64 [M] are flat indices
  // b * n + j into the batch -> logits [M, vocab]. With a vocabulary of thousands the head is then
  // 2 M D V FLOPs instead of 2 B n D V (M is ~15% of B n).
  Tensor forward_at(const Tensor& ids, const Tensor& positions, const Tensor& mask = Tensor()) const;

  std::shared_ptr<MaskedLMHead> head;
};

// Sequence classifier over token ids (cfg.in_features = 0) or per-position features (cfg.in_features = F,
// e.g. the 28 pixels of an image row): mean-pooled hidden states -> logits [B, classes].
class SequenceClassifier : public Encoder {
 public:
  SequenceClassifier(const EncoderConfig& cfg, int64_t classes);
  Tensor forward(const Tensor& input, const Tensor& mask = Tensor()) const;

  std::shared_ptr<ClassificationHead> head;
};

}  // namespace lf
