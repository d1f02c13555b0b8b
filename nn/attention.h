#pragma once
// Multi-head self-attention, the standard O(n^2) kind, and the pieces it shares with Linformer attention.
//
//   x [B, n, D] -> qkv Linear -> q, k, v [B, n, D] -> split heads [B, h, n, dh]   (D = h * dh)
//   att = softmax(q k^T / sqrt(dh)) [B, h, n, n],  y = att v [B, h, n, dh] -> merge heads [B, n, D] -> out Linear
//
// Key padding mask: mask [B, n] with 1 for a real token and 0 for padding (any dtype, values 0 or 1). Padded
// keys get score -1e30 before the softmax, so their weight is exactly 0 and changing a padded token changes
// no real token's output. (A finite value rather than -inf keeps an all-padding row finite.)
#include <memory>
#include <vector>

#include "nn/linear.h"

namespace lf {

// What an EncoderBlock calls: standard or Linformer attention behind one interface.
class SelfAttention : public Module {
 public:
  // x [B, n, dim] -> [B, n, dim]. mask [B, n] or undefined. shared_proj: the Encoder-wide projection of
  // layerwise Linformer sharing, undefined otherwise (standard attention ignores it).
  virtual Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& shared_proj) const = 0;
};

// [B, n, h*dh] -> [B, h, n, dh]: a reshape (a view for the column slices of the fused qkv) and a transpose.
Tensor split_heads(const Tensor& x, int64_t heads);
// [B, h, n, dh] -> [B, n, h*dh]
Tensor merge_heads(const Tensor& x);
// Checks mask [B, n] against x [B, n, D] and returns it in x's dtype (1 = token, 0 = padding).
Tensor key_mask_for(const char* op, const Tensor& mask, const Tensor& x);
// Scaled dot-product attention. q [B, h, n, dh], k and v [B, h, m, dh]; key_pad broadcastable to
// [B, h, n, m], nonzero where a key must be ignored, or undefined. -> [B, h, n, dh]
// (key_pad may combine padding and a causal mask: see causal_mask.)
Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_pad);

// [1, 1, n, n] in `dtype` on `device`: 1 where key j comes after query i (j > i), 0 elsewhere.
Tensor causal_mask(int64_t n, DType dtype, Device device);

// Records the attention probabilities P of every attend() call made on this thread while it is alive, in
// call order (an encoder's forward pass calls it once per block, first block first): P [B, h, n, m],
// detached, with m = n for standard attention and m = k for Linformer. Used to study P's spectrum (the
// Linformer paper's Figure 1: examples/spectrum.cpp). Probes do not nest: a second one is refused.
class AttentionProbe {
 public:
  AttentionProbe();
  ~AttentionProbe();
  AttentionProbe(const AttentionProbe&) = delete;
  AttentionProbe& operator=(const AttentionProbe&) = delete;
  std::vector<Tensor> probs;
};

// With `causal`, query i attends to keys j <= i only: scores above the diagonal get -1e30 like padded keys,
// so the output at position i does not depend on any later input (its gradient with respect to them is
// exactly 0).
class MultiHeadSelfAttention : public SelfAttention {
 public:
  MultiHeadSelfAttention(int64_t dim, int64_t heads, bool causal = false);
  Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& shared_proj = Tensor()) const override;

  int64_t dim, heads;
  bool causal;
  std::shared_ptr<Linear> qkv;  // "qkv": [3D, D], rows 0..D-1 make q, D..2D-1 k, 2D..3D-1 v (as torch chunk(3))
  std::shared_ptr<Linear> out;  // "out": [D, D]
};

}  // namespace lf
