#include "nn/attention.h"

#include <cmath>

#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/functional.h"
#include "ops/linalg.h"

namespace lf {

Tensor split_heads(const Tensor& x, int64_t heads) {
  int64_t B = x.size(0), n = x.size(1), D = x.size(2);
  return x.reshape({B, n, heads, D / heads}).transpose(1, 2);
}

Tensor merge_heads(const Tensor& x) {
  int64_t B = x.size(0), h = x.size(1), n = x.size(2), dh = x.size(3);
  return x.transpose(1, 2).reshape({B, n, h * dh});
}

Tensor key_mask_for(const char* op, const Tensor& mask, const Tensor& x) {
  LF_CHECK(mask.dim() == 2 && mask.size(0) == x.size(0) && mask.size(1) == x.size(1),
           "{}: key padding mask {} does not match input {}: expected [B, n] = [{},{}]", op,
           shape_str(mask.shape()), shape_str(x.shape()), x.size(0), x.size(1));
  LF_CHECK(mask.device() == x.device(), "{}: mask on {} but input on {}", op, mask.device(), x.device());
  return mask.dtype() == x.dtype() ? mask : mask.to(x.dtype());
}

namespace {
thread_local AttentionProbe* active_probe = nullptr;
}  // namespace

AttentionProbe::AttentionProbe() {
  LF_CHECK(active_probe == nullptr, "AttentionProbe: another probe is already recording on this thread");
  active_probe = this;
}
AttentionProbe::~AttentionProbe() { active_probe = nullptr; }

Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_pad) {
  // softmax(q k^T / sqrt(dh)): the scale goes on q [.., n, dh], which is m/dh times smaller than the scores.
  double scale = 1.0 / std::sqrt(double(q.size(-1)));
  Tensor att = matmul(mul(q, scale), k.transpose(-1, -2));  // scores [B, h, n, m]
  if (key_pad.defined()) att = masked_fill(att, key_pad, -1e30);
  // Reassigning drops the scores as soon as the probabilities exist (the backward keeps only these), so the
  // [B, h, n, dh] output below is never allocated while both [B, h, n, m] tensors are alive: that was the
  // peak of a long-sequence forward.
  att = softmax(att, -1);
  if (active_probe) active_probe->probs.push_back(att.detach());
  return matmul(att, v);  // [B, h, n, dh]
}

Tensor causal_mask(int64_t n, DType dtype, Device device) {
  Tensor pos = arange(n, DType::i64, device);
  return gt(pos.reshape({1, n}), pos.reshape({n, 1})).to(dtype).reshape({1, 1, n, n});  // key j > query i
}

MultiHeadSelfAttention::MultiHeadSelfAttention(int64_t dim_, int64_t heads_, bool causal_)
    : dim(dim_), heads(heads_), causal(causal_) {
  LF_CHECK(heads > 0 && dim % heads == 0, "MultiHeadSelfAttention: dim {} is not divisible by heads {}", dim,
           heads);
  qkv = register_module("qkv", std::make_shared<Linear>(dim, 3 * dim));
  out = register_module("out", std::make_shared<Linear>(dim, dim));
}

Tensor MultiHeadSelfAttention::forward(const Tensor& x, const Tensor& mask, const Tensor&) const {
  LF_CHECK(x.dim() == 3 && x.size(2) == dim, "MultiHeadSelfAttention: expected input [B, n, {}], got {}", dim,
           shape_str(x.shape()));
  int64_t B = x.size(0), n = x.size(1);
  // q, k, v [B, n, D] from the row blocks of the fused qkv weight, split into heads [B, h, n, dh] (views)
  Tensor q = split_heads(qkv->forward_rows(x, 0, dim), heads);
  Tensor k = split_heads(qkv->forward_rows(x, dim, 2 * dim), heads);
  Tensor v = split_heads(qkv->forward_rows(x, 2 * dim, 3 * dim), heads);
  Tensor key_pad;  // [B, 1, 1, n]: 1 on padded keys, broadcast over heads and queries
  if (mask.defined()) key_pad = sub(1.0, key_mask_for("MultiHeadSelfAttention", mask, x)).reshape({B, 1, 1, n});
  if (causal) {  // [1, 1, n, n], or with padding [B, 1, n, n]: a key is ignored when either says so
    Tensor future = causal_mask(n, x.dtype(), x.device());
    key_pad = key_pad.defined() ? maximum(key_pad, future) : future;
  }
  return out->forward(merge_heads(attend(q, k, v, key_pad)));
}

}  // namespace lf
