#pragma once
// One pre-norm transformer encoder block, as in the torch twin:
//
//   x = x + dropout(att(ln1(x), mask))     attention: standard or Linformer
//   x = x + dropout(ff(ln2(x)))            feed-forward: Linear(D, 4D), GELU, Linear(4D, D)
//
// Parameter names: ln1.{weight,bias}, ln2.{weight,bias}, att.qkv.{weight,bias}, att.out.{weight,bias},
// att.E / att.F (Linformer, by sharing mode), ff.0.{weight,bias}, ff.2.{weight,bias}.
#include <memory>

#include "nn/dropout.h"
#include "nn/encoder_config.h"
#include "nn/feed_forward.h"
#include "nn/layer_norm.h"

namespace lf {

class EncoderBlock : public Module {
 public:
  // Block `index` of the encoder (its Linformer k is cfg.k_at(index)).
  explicit EncoderBlock(const EncoderConfig& cfg, int64_t index = 0);
  // x [B, n, D] -> [B, n, D]; mask [B, n] (1 = token, 0 = padding) or undefined; shared_proj: the Encoder's
  // projection for layerwise Linformer sharing.
  Tensor forward(const Tensor& x, const Tensor& mask = Tensor(), const Tensor& shared_proj = Tensor()) const;

  std::shared_ptr<LayerNorm> ln1, ln2;
  std::shared_ptr<SelfAttention> att;
  std::shared_ptr<FeedForward> ff;
  std::shared_ptr<Dropout> drop;  // no parameters
};

}  // namespace lf
