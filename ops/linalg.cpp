// matmul: one batched GEMM call for every case; linear: x W^T + b as one fused op.
//
//   a [..., m, k] @ b [..., k, n] -> out [..., m, n], batch dims broadcast (NumPy rules).
//   1-D operands are promoted (a [k] -> [1, k], b [k] -> [k, 1]) and the added dim is removed afterwards.
//
// The GEMM primitive reads each matrix either row-major (row stride lda) or transposed, and walks the batch
// in two levels with one stride per operand and level (0 = the same matrix again). So most views need no
// copy: w.transpose(0, 1) becomes a transpose flag, x [B, T, D] @ w [D, E] uses batch stride 0 for w, and
// attention's heads [B, n, h, dh] -> [B, h, n, dh] are walked as B (outer) x h (inner).
#include "ops/linalg.h"

#include <optional>
#include <tuple>
#include <utility>

#include "autograd/node.h"
#include "ops/check.h"
#include "ops/reduce.h"

namespace lf {

namespace {

// How one operand is handed to the GEMM. The batch is walked in two levels, outer x inner (e.g. attention's
// [B, h]), each with one stride per operand (GemmArgs in backends/backend.h).
struct GemmOperand {
  Tensor t;            // keeps the memory alive (may be a contiguous copy)
  bool trans = false;  // stored column-major: the GEMM reads the row-major matrix t^T and transposes it
  int64_t ld = 0;      // row stride of the stored matrix
  int64_t outer_stride = 0, inner_stride = 0;  // between batch entries (0 = broadcast)
};

// The single stride that steps through all entries of (shape, strides) in row-major order, or nothing
// when the dims cannot be merged (e.g. [2, 3] with strides [0, 5]: one dim broadcast, the other not).
std::optional<int64_t> flat_stride(const Shape& shape, const Shape& strides) {
  std::optional<int64_t> stride;
  int64_t next = 0;  // the stride the next dim to the left must have to continue the progression
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;  // a size-1 dim is never stepped over
    if (stride && strides[i] != next) return std::nullopt;
    if (!stride) stride = strides[i];
    next = strides[i] * shape[i];
  }
  return stride.value_or(0);
}

// Tries to describe t [..., r, c], broadcast to the batch shape `batch` and walked as batch[:split] (outer)
// x batch[split:] (inner), as a GEMM operand without copying.
std::optional<GemmOperand> describe(const Tensor& t, const Shape& batch, size_t split) {
  int64_t nd = t.dim();
  int64_t r = t.shape()[nd - 2], c = t.shape()[nd - 1];
  int64_t sr = t.strides()[nd - 2], sc = t.strides()[nd - 1];
  Shape tb(t.shape().begin(), t.shape().end() - 2), tbs(t.strides().begin(), t.strides().end() - 2);
  Shape bs = broadcast_strides(tb, tbs, batch);
  auto outer = flat_stride(Shape(batch.begin(), batch.begin() + long(split)),
                           Shape(bs.begin(), bs.begin() + long(split)));
  auto inner =
      flat_stride(Shape(batch.begin() + long(split), batch.end()), Shape(bs.begin() + long(split), bs.end()));
  if (!outer || !inner) return std::nullopt;
  // A size-1 dim is never stepped over, so its stride does not matter. BLAS wants ld >= the stored row
  // length.
  if ((c == 1 || sc == 1) && (r == 1 || sr >= std::max<int64_t>(1, c)))
    return GemmOperand{t, false, r == 1 ? std::max<int64_t>(1, c) : sr, *outer, *inner};
  if ((r == 1 || sr == 1) && (c == 1 || sc >= std::max<int64_t>(1, r)))
    return GemmOperand{t, true, c == 1 ? std::max<int64_t>(1, r) : sc, *outer, *inner};
  return std::nullopt;
}

// Both operands of a @ b for the batch shape `batch`, and where the batch splits into outer x inner.
// Prefers no copy: one level (split 0) if both operands allow it, else the first split that does (a head
// split view [B, h, n, dh] of a [B, n, h*dh] tensor has strides that no single stride walks, but B and h
// each have one). Failing that, copies what the GEMM cannot read.
std::tuple<GemmOperand, GemmOperand, size_t> gemm_operands(const Tensor& a, const Tensor& b,
                                                           const Shape& batch) {
  for (size_t split = 0; split < std::max<size_t>(1, batch.size()); ++split) {
    auto A = describe(a, batch, split), B = describe(b, batch, split);
    if (A && B) return {*A, *B, split};
  }
  auto operand = [&](const Tensor& t) {
    if (auto op = describe(t, batch, 0)) return *op;
    // Matrix dims with a layout the GEMM cannot read (e.g. a strided slice): make the operand row-major.
    Tensor c = t.contiguous();
    if (auto op = describe(c, batch, 0)) return *op;
    // Batch dims that no single stride can walk (broadcast mixed with real dims): materialise the broadcast.
    Shape full = batch;
    full.push_back(t.shape()[t.dim() - 2]);
    full.push_back(t.shape()[t.dim() - 1]);
    return *describe(c.expand(full).contiguous(), batch, 0);
  };
  return {operand(a), operand(b), 0};
}

// True when the matrix dims of t are stored column-major (t is a transposed view, e.g. W^T in linear).
bool column_major(const Tensor& t) {
  int64_t nd = t.dim();
  return t.shape()[nd - 2] > 1 && t.shape()[nd - 1] > 1 && t.strides()[nd - 2] == 1;
}

// One operand's gradient, x @ y (g @ b^T or a^T @ g), summed down to the operand's `shape` where its batch
// dims were broadcast. When the operand is stored column-major, the product is computed transposed,
// (y^T x^T)^T, so that the gradient comes back in the operand's own layout: the gradient of W through
// linear's view W^T then arrives as a contiguous [out, in], with no transposing copy.
Tensor grad_product(const Tensor& x, const Tensor& y, bool transposed, const Shape& shape) {
  if (!transposed) {
    Tensor r = matmul(x, y);
    return r.shape() == shape ? r : sum_to(r, shape);
  }
  Shape tshape = shape;
  std::swap(tshape[tshape.size() - 1], tshape[tshape.size() - 2]);
  Tensor r = matmul(y.transpose(-1, -2), x.transpose(-1, -2));
  if (r.shape() != tshape) r = sum_to(r, tshape);
  return r.transpose(-1, -2);
}

// a [..., m, k] @ b [..., k, n] for 2-D or more, inner dims already checked.
Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape batch = broadcast_shapes("matmul", Shape(a.shape().begin(), a.shape().end() - 2),
                                 Shape(b.shape().begin(), b.shape().end() - 2));
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  Backend& be = backend_of(a);
  if (out.numel() > 0) {
    if (k == 0) {  // an empty sum: all zeros
      be.fill(out, 0.0);
    } else {
      // detach: the data is read outside the graph; the Node recorded below carries the gradients
      auto [A, B, split] = gemm_operands(a.detach(), b.detach(), batch);
      GemmArgs g{.dtype = a.dtype(),
                 .ta = A.trans,
                 .tb = B.trans,
                 .m = m,
                 .n = n,
                 .k = k,
                 .a = A.t.raw_data(),
                 .lda = A.ld,
                 .b = B.t.raw_data(),
                 .ldb = B.ld,
                 .c = out.raw_data(),
                 .ldc = std::max<int64_t>(1, n)};
      for (size_t d = 0; d < batch.size(); ++d) g.batch[d < split ? 0 : 1] *= batch[d];
      g.stride_a[0] = A.outer_stride, g.stride_a[1] = A.inner_stride;
      g.stride_b[0] = B.outer_stride, g.stride_b[1] = B.inner_stride;
      g.stride_c[0] = g.batch[1] * m * n, g.stride_c[1] = m * n;
      be.gemm(g);
    }
  }
  if (!any_requires_grad({a, b})) return out;
  // Save only what the other operand's gradient needs.
  Tensor a_saved = b.requires_grad() ? a.detach() : Tensor();
  Tensor b_saved = a.requires_grad() ? b.detach() : Tensor();
  Shape a_shape = a.shape(), b_shape = b.shape();
  bool a_cm = column_major(a), b_cm = column_major(b);
  return record("matmul", out, {a, b},
                [a_saved, b_saved, a_shape, b_shape, a_cm, b_cm](
                    const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
                  Tensor da, db;
                  // dA = g @ B^T, dB = A^T @ g; the transposes are views that reach the GEMM as flags.
                  // Broadcast batch dims got the same matrix several times: sum those gradients back.
                  if (needs[0]) da = grad_product(g, b_saved.transpose(-1, -2), a_cm, a_shape);
                  if (needs[1]) db = grad_product(a_saved.transpose(-1, -2), g, b_cm, b_shape);
                  return {da, db};
                });
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_same("linear", x, weight);
  check_float("linear", x);
  LF_CHECK(weight.dim() == 2, "linear: weight must be [out, in], got {}", shape_str(weight.shape()));
  LF_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1),
           "linear: input {} does not end in the weight's in_features {} (weight {})", shape_str(x.shape()),
           weight.size(1), shape_str(weight.shape()));
  const int64_t in = weight.size(1), out_f = weight.size(0);
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  if (bias.defined()) {
    check_same("linear", x, bias);
    LF_CHECK(bias.dim() >= 1 && bias.dim() <= x.dim() && bias.size(-1) == out_f &&
                 broadcast_shapes("linear", bias.shape(), out_shape) == out_shape,
             "linear: bias must be [{}] or broadcast to the output {} (weight {}), got {}", out_f,
             shape_str(out_shape), shape_str(weight.shape()), shape_str(bias.shape()));
  }
  // [..., in] -> [M, in] (a view when x is contiguous); the op itself works on 2-D.
  Tensor x2 = x.dim() == 2 ? x : x.reshape({-1, in});
  const int64_t M = x2.size(0);
  Tensor y = Tensor::empty({M, out_f}, x.dtype(), x.device());
  Backend& be = backend_of(x);
  if (y.numel() > 0) {
    // y = b (broadcast over the rows), then y += x W^T in the GEMM (beta = 1): the bias costs no extra pass
    // over y. W [out, in] is read transposed through the GEMM's flag.
    if (bias.defined()) {
      Tensor b = bias.detach();
      be.copy(b.as_strided(out_shape, broadcast_strides(b.shape(), b.strides(), out_shape), b.offset()),
              y.as_strided(out_shape, contiguous_strides(out_shape), y.offset()));
    }
    if (in == 0) {
      if (!bias.defined()) be.fill(y, 0.0);
    } else {
      auto [X, W, split] = gemm_operands(x2.detach(), weight.detach().transpose(0, 1), {});
      (void)split;
      be.gemm(GemmArgs{.dtype = x.dtype(),
                       .ta = X.trans,
                       .tb = W.trans,
                       .m = M,
                       .n = out_f,
                       .k = in,
                       .beta = bias.defined() ? 1.0 : 0.0,
                       .a = X.t.raw_data(),
                       .lda = X.ld,
                       .b = W.t.raw_data(),
                       .ldb = W.ld,
                       .c = y.raw_data(),
                       .ldc = out_f});
    }
  }
  std::vector<Tensor> inputs{x2, weight};
  if (bias.defined()) inputs.push_back(bias);
  if (any_requires_grad(inputs)) {
    // dx = g W, dW = g^T x (already [out, in]), db = g summed over what the bias was broadcast along
    // (the column sums of g for a bias [out]).
    Tensor x_saved = weight.requires_grad() ? x2.detach() : Tensor();
    Shape bias_shape = bias.defined() ? bias.shape() : Shape{};
    y = record("linear", y, inputs,
               [x_saved, w = weight.detach(), out_shape, bias_shape](
                   const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
                 std::vector<Tensor> grads(needs.size());
                 if (needs[0]) grads[0] = matmul(g, w);
                 if (needs[1]) grads[1] = matmul(g.transpose(0, 1), x_saved);
                 if (needs.size() > 2 && needs[2]) grads[2] = sum_to(g.reshape(out_shape), bias_shape);
                 return grads;
               });
  }
  return x.dim() == 2 ? y : y.reshape(out_shape);
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same("matmul", a, b);
  check_float("matmul", a);
  LF_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: both operands need at least 1 dim, got shapes {} and {}",
           shape_str(a.shape()), shape_str(b.shape()));
  int64_t ka = a.size(-1), kb = b.dim() == 1 ? b.size(0) : b.size(-2);
  LF_CHECK(ka == kb, "matmul: cannot multiply {} by {}: inner dimensions {} and {} differ",
           shape_str(a.shape()), shape_str(b.shape()), ka, kb);
  // 1-D operands: add the missing matrix dim as a (differentiable) view, multiply, remove it again.
  if (a.dim() == 1 && b.dim() == 1) return matmul_nd(a.unsqueeze(0), b.unsqueeze(-1)).reshape({});
  if (a.dim() == 1) return matmul_nd(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul_nd(a, b.unsqueeze(-1)).squeeze(-1);
  return matmul_nd(a, b);
}

}  // namespace lf
