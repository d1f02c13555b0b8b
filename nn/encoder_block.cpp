#include "nn/encoder_block.h"

#include "ops/elementwise.h"

namespace lf {

EncoderBlock::EncoderBlock(const EncoderConfig& cfg, int64_t index) {
  cfg.validate();
  ln1 = register_module("ln1", std::make_shared<LayerNorm>(cfg.dim));
  ln2 = register_module("ln2", std::make_shared<LayerNorm>(cfg.dim));
  if (cfg.kind == AttentionKind::standard)
    att = register_module("att", std::make_shared<MultiHeadSelfAttention>(cfg.dim, cfg.heads, cfg.causal));
  else
    att = register_module(
        "att", std::make_shared<LinformerSelfAttention>(cfg.dim, cfg.heads, cfg.max_len, cfg.k_at(index), cfg.sharing,
                                                      cfg.proj_init, cfg.projection));
  ff = register_module("ff", std::make_shared<FeedForward>(cfg.dim));
  drop = register_module("drop", std::make_shared<Dropout>(cfg.dropout));
}

Tensor EncoderBlock::forward(const Tensor& x, const Tensor& mask, const Tensor& shared_proj) const {
  // Pre-norm: each branch sees a normalised input, the residual stream x itself is never normalised, which
  // keeps gradients well-scaled through deep stacks without warmup tricks.
  Tensor h = add(x, drop->forward(att->forward(ln1->forward(x), mask, shared_proj)));  // [B, n, D]
  return add(h, drop->forward(ff->forward(ln2->forward(h))));                          // [B, n, D]
}

}  // namespace lf
