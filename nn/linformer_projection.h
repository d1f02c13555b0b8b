#pragma once
// Linformer's projections along the sequence axis: how the n positions of K and V become k rows.
//
// What they are (train_mlm --projection, EncoderConfig::projection):
//   learned  E, F [max_len, k]: trained parameters, K' = E_n^T K (the paper; how they start: ProjectionInit)
//   random   E, F: fixed random matrices with N(0, 1/k) entries, never trained (the paper's Theorem 2: a
//   random
//            projection keeps the attention's information with high probability; fairseq's --freeze-compress)
//   pool     E, F: fixed mean pooling, projected row j the average of positions [j max_len / k,
//            (j+1) max_len / k) (no noise, never trained)
//   conv     a strided convolution along the sequence, kernel = stride = s = max_len / k, one per head's
//            channels (linformer-pytorch's "convolution"): each block of s positions of a head's K [n, dh]
//            becomes one row, K'[j] = W vec(K[js .. js+s-1]), W [dh, s dh] trained
// random and pool are buffers (saved in the state dict, not parameters); learned and conv are parameters.
// Sharing (nn/linformer_attention.h) decides how many there are; their names are always "E" and "F".
#include <string_view>

#include "core/tensor.h"

namespace lf {

enum class ProjectionKind { learned, random, pool, conv };
std::string_view projection_kind_name(ProjectionKind p);      // "learned", "random", "pool", "conv"
ProjectionKind parse_projection_kind(std::string_view name);  // lf::Error names the choices
inline bool projection_trained(ProjectionKind p) {
  return p == ProjectionKind::learned || p == ProjectionKind::conv;
}

// How learned E and F start (train_mlm --proj-init; docs/results.md compares them):
//   uniform   U(-1/sqrt(k), 1/sqrt(k)), as the torch twin and linformer-pytorch
//   xavier    xavier_uniform with gain 1/sqrt(2), as fairseq's Linformer: U(-b, b), b = sqrt(3 / (max_len +
//   k)) gaussian  N(0, 1/k), the random projection of the paper's Theorem 2 pooling   block averages:
//   projected row j averages positions [j max_len / k, (j+1) max_len / k), plus
//             U(-0.01, 0.01) noise. Each projected key starts as a summary of one stretch of the sequence,
//             so attention can address "around position i" from step 0 instead of first learning locality
//             back out of a projection that mixes every position into every row.
// A conv kernel starts as the block average of each channel (pooling, plus the same noise), or for the
// other inits as PyTorch's Conv1d: U(-1/sqrt(s dh), 1/sqrt(s dh)).
enum class ProjectionInit { uniform, xavier, gaussian, pooling };
std::string_view projection_init_name(ProjectionInit p);
ProjectionInit parse_projection_init(std::string_view name);  // lf::Error names the choices

// A fresh learned projection of `shape` ([..., max_len, k]), every leading index initialised alike.
Tensor linformer_projection(const Shape& shape, ProjectionInit init = ProjectionInit::uniform);

// The shape of one projection: [max_len, k] ([heads, max_len, k] when per_head), or for conv the kernel
// [dh, s dh] ([heads, dh, s dh]) with dh = dim / heads, s = max_len / k (conv needs k to divide max_len).
Shape projection_shape(ProjectionKind kind, bool per_head, int64_t dim, int64_t heads, int64_t max_len,
                       int64_t k);
// Its starting value (see above); shape from projection_shape.
Tensor make_projection(ProjectionKind kind, const Shape& shape, ProjectionInit init, int64_t max_len,
                       int64_t k);

// conv: t [B, n, D] (n <= s k) -> [B, h, ceil(n / s), dh]: each head's rows in blocks of s positions (the
// last block zero-padded), each block mapped by W [dh, s dh], or by head i's W[i] when W is [h, dh, s dh].
Tensor conv_project(const Tensor& W, const Tensor& t, int64_t heads, int64_t s);

}  // namespace lf
