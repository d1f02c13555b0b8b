#include "nn/linformer_attention.h"

#include <cmath>

#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduce.h"

namespace lf {

std::string_view sharing_name(Sharing s) {
  switch (s) {
    case Sharing::none: return "none";
    case Sharing::headwise: return "headwise";
    case Sharing::kv: return "kv";
    case Sharing::layerwise: return "layerwise";
  }
  return "?";
}

Sharing parse_sharing(std::string_view name) {
  for (Sharing s : {Sharing::none, Sharing::headwise, Sharing::kv, Sharing::layerwise})
    if (sharing_name(s) == name) return s;
  throw Error(fmt::format("sharing: unknown mode '{}' (choose none, headwise, kv or layerwise)", name));
}

bool is_linformer_projection(std::string_view name) {
  const size_t dot = name.rfind('.');
  const std::string_view last = dot == std::string_view::npos ? name : name.substr(dot + 1);
  return last == "E" || last == "F";
}

std::vector<std::string> layer_projection_names(Sharing sharing) {
  switch (sharing) {
    case Sharing::none:
    case Sharing::headwise: return {"E", "F"};
    case Sharing::kv: return {"E"};
    case Sharing::layerwise: return {};
  }
  return {};
}

LinformerSelfAttention::LinformerSelfAttention(int64_t dim_, int64_t heads_, int64_t max_len_, int64_t k_,
                                               Sharing sharing_, ProjectionInit init, ProjectionKind kind_)
    : dim(dim_), heads(heads_), max_len(max_len_), k(k_), sharing(sharing_), kind(kind_) {
  LF_CHECK(heads > 0 && dim % heads == 0, "LinformerSelfAttention: dim {} is not divisible by heads {}", dim,
           heads);
  LF_CHECK(max_len > 0 && k > 0, "LinformerSelfAttention: max_len {} and k {} must be positive", max_len, k);
  qkv = register_module("qkv", std::make_shared<Linear>(dim, 3 * dim));
  out = register_module("out", std::make_shared<Linear>(dim, dim));
  const Shape shape = projection_shape(kind, sharing == Sharing::none, dim, heads, max_len, k);
  for (const std::string& name : layer_projection_names(sharing)) {
    Tensor p = make_projection(kind, shape, init, max_len, k);
    p = projection_trained(kind) ? register_parameter(name, p) : register_buffer(name, p);
    (name == "E" ? E : F) = p;
  }
  if (sharing == Sharing::kv) F = E;
}

namespace {

// Projects t [B, n, D] along the sequence axis with the first n rows of each head's P [h, max_len, k],
// giving [B, h, k, dh] (Sharing::none).
Tensor project(const Tensor& P, const Tensor& t, int64_t heads) {
  int64_t n = t.size(1);
  // Broadcasting P over the batch would make the GEMM read a copy of P per batch entry;
  // instead fold the batch into the columns: t [B, n, D] -> [h, n, B*dh] (one copy of t), then one GEMM per
  // head [k, n] x [n, B*dh] -> [h, k, B*dh], and a view back to [B, h, k, dh].
  int64_t B = t.size(0), dh = t.size(2) / heads;
  Tensor Pn = P.slice(1, 0, n);  // [h, n, k]
  Tensor cols = t.reshape({B, n, heads, dh}).permute({2, 1, 0, 3}).reshape({heads, n, B * dh});
  Tensor r = matmul(Pn.transpose(1, 2), cols);                       // [h, k, B*dh]
  return r.reshape({heads, P.size(2), B, dh}).permute({2, 0, 1, 3});  // [B, h, k, dh]
}

// P_n^T (X W^T + 1 b^T) for one matrix P [>= n, k] shared by the heads: the keys (or values, or both side
// by side) projected to k rows, [B, k, r1 - r0], where W, b are rows r0..r1 of the qkv projection.
//
// Computed as (P_n^T X) W^T + (P_n^T 1) b^T: the same function, but the [D -> r] projection runs on k
// rows instead of n. Per batch entry the GEMMs cost 2knD + 2kDr FLOPs instead of 2nDr + 2knr: for
// n = 512, k = 128, D = 128 that is 21 instead of 34 MFLOP for r = D, 25 instead of 67 for K and V
// together (r = 2D). With padding, X's padded rows are zero and "1" is the key mask `keep` [B, n, 1].
Tensor project_then_map(const Tensor& P, const Tensor& x, const Tensor& keep, const Linear& qkv, int64_t r0,
                        int64_t r1) {
  int64_t n = x.size(1);
  Tensor Pt = P.slice(0, 0, n).transpose(0, 1);  // [k, n], a view
  Tensor bias;  // (P_n^T 1) b^T: [k, r], or [B, k, r] with padding; linear adds it inside its GEMM
  if (qkv.bias.defined()) {
    Tensor ones = keep.defined() ? matmul(Pt, keep) : sum(Pt, {1}, /*keepdim=*/true);  // [B, k, 1] or [k, 1]
    bias = mul(ones, qkv.bias.slice(0, r0, r1));
  }
  return linear(matmul(Pt, x), qkv.weight.slice(0, r0, r1), bias);  // [B, k, r]
}

}  // namespace

Tensor LinformerSelfAttention::forward(const Tensor& x, const Tensor& mask, const Tensor& shared_proj) const {
  LF_CHECK(x.dim() == 3 && x.size(2) == dim, "LinformerSelfAttention: expected input [B, n, {}], got {}", dim,
           shape_str(x.shape()));
  int64_t B = x.size(0), n = x.size(1);
  LF_CHECK(n <= max_len, "LinformerSelfAttention: sequence length {} exceeds max_len {} (the rows of E and F)", n,
           max_len);
  Tensor Ep = E, Fp = F;
  if (sharing == Sharing::layerwise) {
    const Shape want = projection_shape(kind, false, dim, heads, max_len, k);
    LF_CHECK(shared_proj.defined() && shared_proj.shape() == want,
             "LinformerSelfAttention: layerwise sharing needs the Encoder's projection {}, got {}", shape_str(want),
             shared_proj.defined() ? shape_str(shared_proj.shape()) : "none");
    Ep = Fp = shared_proj;
  }

  // q, k, v come from the row blocks of the fused qkv weight (rows 0..D-1, D..2D-1, 2D..3D-1).
  Tensor q = qkv->forward_rows(x, 0, dim);  // [B, n, D]
  // Zeroing the padded rows of K and V (or of X, which makes them) lets E^T K sum over real positions only.
  Tensor keep = mask.defined() ? key_mask_for("LinformerSelfAttention", mask, x).reshape({B, n, 1}) : Tensor();
  auto masked = [&](Tensor t) { return keep.defined() ? mul(t, keep) : t; };
  Tensor kp, vp;  // [B, h, k, dh]
  if (kind == ProjectionKind::conv) {
    // Strided convolutions over each head's full K and V: [B, h, ceil(n / s), dh].
    const int64_t s = max_len / k;
    kp = conv_project(Ep, masked(qkv->forward_rows(x, dim, 2 * dim)), heads, s);
    vp = conv_project(Fp, masked(qkv->forward_rows(x, 2 * dim, 3 * dim)), heads, s);
  } else if (sharing == Sharing::none) {
    // A matrix per head: K and V in full [B, n, D], each head's columns projected by its own E, F.
    kp = project(Ep, masked(qkv->forward_rows(x, dim, 2 * dim)), heads);
    vp = project(Fp, masked(qkv->forward_rows(x, 2 * dim, 3 * dim)), heads);
  } else if (Ep.same(Fp)) {
    // kv and layerwise sharing (E = F): K' and V' side by side [B, k, 2D] from one E^T X.
    Tensor both = project_then_map(Ep, masked(x), keep, *qkv, dim, 3 * dim);
    kp = split_heads(both.slice(2, 0, dim), heads);
    vp = split_heads(both.slice(2, dim, 2 * dim), heads);
  } else {
    Tensor xm = masked(x);
    kp = split_heads(project_then_map(Ep, xm, keep, *qkv, dim, 2 * dim), heads);
    vp = split_heads(project_then_map(Fp, xm, keep, *qkv, 2 * dim, 3 * dim), heads);
  }
  Tensor y = attend(split_heads(q, heads), kp, vp, Tensor());  // [B, h, n, dh]
  return out->forward(merge_heads(y));
}

}  // namespace lf
