#pragma once
// Linformer self-attention (Wang et al. 2020, arXiv 2006.04768): keys and values are projected along the
// sequence axis from n rows down to k rows before attention, so the score matrix is [n, k] instead of [n, n]
// and time and memory grow linearly in n.
//
//   x [B, n, D] -> qkv Linear -> q, K, V [B, n, D]
//   K' = E_n^T K [B, k, D],  V' = F_n^T V [B, k, D]      E_n, F_n = first n rows of E, F [max_len, k]
//   split heads: q [B, h, n, dh], K', V' [B, h, k, dh]
//   y = softmax(q K'^T / sqrt(dh)) V' [B, h, n, dh] -> merge heads [B, n, D] -> out Linear
//
// When E is shared by the heads (every mode but none), K' is computed as (E_n^T X) Wk^T + (E_n^T 1) bk^T:
// the same function by associativity, but the D x D key and value maps run on k rows instead of n, and
// the full-length K and V are never stored (linformer_attention.cpp, project_then_map).
//
// Sharing of E and F (the paper's section 4):
//   none       E, F per head: "E", "F" of shape [h, max_len, k]; each head projects its own dh columns
//   headwise   one E and one F per layer, shared by the heads: "E", "F" [max_len, k] (the torch twin's layout)
//   kv         E = F per layer: one parameter "E" [max_len, k]
//   layerwise  one matrix for every layer, head, key and value: owned by the Encoder ("E" [max_len, k]) and
//              passed to forward() as shared_proj; the layer itself has no E or F
//
// Padding: with a key padding mask [B, n] (1 = token, 0 = padding) the padded rows of K and V are zeroed
// before the projection, so padded positions contribute nothing to K' and V', and changing a padded input
// changes no real token's output.
#include <memory>
#include <string_view>

#include "nn/attention.h"
#include "nn/linformer_projection.h"

namespace lf {

enum class Sharing { none, headwise, kv, layerwise };
std::string_view sharing_name(Sharing s);    // "none", "headwise", "kv", "layerwise"
Sharing parse_sharing(std::string_view name);  // the reverse; throws lf::Error naming the choices

// The projection names an attention layer owns: "E" and "F" (none, headwise), "E" (kv), nothing (layerwise:
// the Encoder owns its one "E"). Their shapes: projection_shape(kind, sharing == none, ...).
std::vector<std::string> layer_projection_names(Sharing sharing);

class LinformerSelfAttention : public SelfAttention {
 public:
  LinformerSelfAttention(int64_t dim, int64_t heads, int64_t max_len, int64_t k, Sharing sharing,
                         ProjectionInit init = ProjectionInit::uniform, ProjectionKind kind = ProjectionKind::learned);
  // x [B, n, dim] with n <= max_len; mask [B, n] or undefined; shared_proj: the Encoder's "E" for layerwise
  // sharing (of projection_shape(kind, false, ...)).
  Tensor forward(const Tensor& x, const Tensor& mask, const Tensor& shared_proj = Tensor()) const override;

  int64_t dim, heads, max_len, k;
  Sharing sharing;
  ProjectionKind kind;
  std::shared_ptr<Linear> qkv;  // "qkv": [3D, D] (q, k, v row blocks)
  std::shared_ptr<Linear> out;  // "out": [D, D]
  Tensor E, F;  // see the table above (parameters, or buffers for random and pool); F is E for kv, both
                // undefined for layerwise
};

// Whether a parameter name (as named_parameters() gives it) is one of Linformer's projections: "E" or "F"
// at any depth ("encoder.E" for layerwise sharing, "...attn.E" / "...attn.F" otherwise).
bool is_linformer_projection(std::string_view param_name);

}  // namespace lf
