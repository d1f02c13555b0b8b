#include "nn/linformer_projection.h"

#include <cmath>

#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/join.h"
#include "ops/linalg.h"

namespace lf {

std::string_view projection_kind_name(ProjectionKind p) {
  switch (p) {
    case ProjectionKind::learned:
      return "learned";
    case ProjectionKind::random:
      return "random";
    case ProjectionKind::pool:
      return "pool";
    case ProjectionKind::conv:
      return "conv";
  }
  return "?";
}

ProjectionKind parse_projection_kind(std::string_view name) {
  for (ProjectionKind p :
       {ProjectionKind::learned, ProjectionKind::random, ProjectionKind::pool, ProjectionKind::conv})
    if (projection_kind_name(p) == name) return p;
  throw Error(fmt::format("projection: unknown kind '{}' (choose learned, random, pool or conv)", name));
}

std::string_view projection_init_name(ProjectionInit p) {
  switch (p) {
    case ProjectionInit::uniform:
      return "uniform";
    case ProjectionInit::xavier:
      return "xavier";
    case ProjectionInit::gaussian:
      return "gaussian";
    case ProjectionInit::pooling:
      return "pooling";
  }
  return "?";
}

ProjectionInit parse_projection_init(std::string_view name) {
  for (ProjectionInit p :
       {ProjectionInit::uniform, ProjectionInit::xavier, ProjectionInit::gaussian, ProjectionInit::pooling})
    if (projection_init_name(p) == name) return p;
  throw Error(
      fmt::format("projection init: unknown kind '{}' (choose uniform, xavier, gaussian or pooling)", name));
}

namespace {
// [n, k]: row i in block j = floor(i k / n) holds 1 / (block j's size) in column j.
Tensor block_means(int64_t n, int64_t k) {
  std::vector<float> block(size_t(n * k), 0.0f);
  std::vector<int64_t> count(size_t(k), 0);
  for (int64_t i = 0; i < n; ++i) ++count[size_t(i * k / n)];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t j = i * k / n;
    block[size_t(i * k + j)] = 1.0f / float(count[size_t(j)]);
  }
  return from_vector(block, {n, k});
}
}  // namespace

Tensor linformer_projection(const Shape& shape, ProjectionInit init) {
  LF_CHECK(shape.size() >= 2, "linformer_projection: shape {} needs [..., max_len, k]", shape_str(shape));
  const int64_t n = shape[shape.size() - 2], k = shape.back();
  switch (init) {
    case ProjectionInit::uniform:
      return uniform(shape, -1.0 / std::sqrt(double(k)), 1.0 / std::sqrt(double(k)));
    case ProjectionInit::xavier: {
      double bound = std::sqrt(0.5) * std::sqrt(6.0 / double(n + k));
      return uniform(shape, -bound, bound);
    }
    case ProjectionInit::gaussian:
      return mul(randn(shape), 1.0 / std::sqrt(double(k)));
    case ProjectionInit::pooling:
      return add(uniform(shape, -0.01, 0.01), block_means(n, k));  // [..., n, k] + [n, k]
  }
  return Tensor();
}

Shape projection_shape(ProjectionKind kind, bool per_head, int64_t dim, int64_t heads, int64_t max_len,
                       int64_t k) {
  Shape s;
  if (kind == ProjectionKind::conv) {
    LF_CHECK(k > 0 && max_len % k == 0,
             "projection conv: k {} must divide max_len {} (kernel = stride = max_len / k positions)", k,
             max_len);
    const int64_t dh = dim / heads;
    s = {dh, (max_len / k) * dh};
  } else {
    s = {max_len, k};
  }
  if (per_head) s.insert(s.begin(), heads);
  return s;
}

Tensor make_projection(ProjectionKind kind, const Shape& shape, ProjectionInit init, int64_t max_len,
                       int64_t k) {
  switch (kind) {
    case ProjectionKind::learned:
      return linformer_projection(shape, init);
    case ProjectionKind::random:
      return mul(randn(shape), 1.0 / std::sqrt(double(k)));  // N(0, 1/k)
    case ProjectionKind::pool:
      return add(zeros(shape), block_means(max_len, k));  // every index alike
    case ProjectionKind::conv: {
      const int64_t dh = shape[shape.size() - 2], sdh = shape.back();
      if (init != ProjectionInit::pooling) {
        const double b = 1.0 / std::sqrt(double(sdh));
        return uniform(shape, -b, b);
      }
      // Output channel c averages input channel c over the block's s positions: W[c, t dh + c] = 1 / s.
      std::vector<float> avg(size_t(dh * sdh), 0.0f);
      const int64_t s = sdh / dh;
      for (int64_t c = 0; c < dh; ++c)
        for (int64_t t = 0; t < s; ++t) avg[size_t(c * sdh + t * dh + c)] = 1.0f / float(s);
      return add(uniform(shape, -0.01, 0.01), from_vector(avg, {dh, sdh}));
    }
  }
  return Tensor();
}

Tensor conv_project(const Tensor& W, const Tensor& t, int64_t heads, int64_t s) {
  const int64_t B = t.size(0), n = t.size(1), D = t.size(2), dh = D / heads, kk = (n + s - 1) / s;
  Tensor x = t;
  if (kk * s != n)
    x = cat({t, zeros({B, kk * s - n, D}, t.dtype(), t.device())}, 1);  // the last block padded
  // [B, kk s, D] -> [B, kk, s, h, dh] -> [B, h, kk, s, dh] -> [B, h, kk, s dh]: block j of head i, flattened
  // position-major (index t dh + c), as W's columns are.
  Tensor blocks = x.reshape({B, kk, s, heads, dh}).permute({0, 3, 1, 2, 4}).reshape({B, heads, kk, s * dh});
  Tensor Wt =
      W.dim() == 2 ? W.transpose(0, 1) : W.transpose(1, 2).unsqueeze(0);  // [s dh, dh] or [1, h, s dh, dh]
  return matmul(blocks, Wt);                                              // [B, h, kk, dh]
}

}  // namespace lf
