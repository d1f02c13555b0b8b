// matmul: one batched GEMM call for every case.
//
//   a [..., m, k] @ b [..., k, n] -> out [..., m, n], batch dims broadcast (NumPy rules).
//   1-D operands are promoted (a [k] -> [1, k], b [k] -> [k, 1]) and the added dim is removed afterwards.
//
// The GEMM primitive reads each matrix either row-major (row stride lda) or transposed, and walks the batch
// with one stride per operand (0 = the same matrix for every batch entry). So most views need no copy:
// w.transpose(0, 1) becomes a transpose flag, x [B, T, D] @ w [D, E] uses batch stride 0 for w.
#include <optional>

#include "autograd/node.h"
#include "ops/check.h"
#include "ops/linalg.h"
#include "ops/reduce.h"

namespace lf {

namespace {

// How one operand is handed to the GEMM.
struct GemmOperand {
  Tensor t;            // keeps the memory alive (may be a contiguous copy)
  bool trans = false;  // stored column-major: the GEMM reads the row-major matrix t^T and transposes it
  int64_t ld = 0;      // row stride of the stored matrix
  int64_t batch_stride = 0;
};

// The single stride that steps through all batch entries of (shape, strides) in row-major order, or nothing
// when the dims cannot be merged (e.g. [2, 3] with strides [0, 5]: one dim broadcast, the other not).
std::optional<int64_t> flat_batch_stride(const Shape& shape, const Shape& strides) {
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

// Tries to describe t [..., r, c], broadcast to the batch shape `batch`, as a GEMM operand without copying.
std::optional<GemmOperand> describe(const Tensor& t, const Shape& batch) {
  int64_t nd = t.dim();
  int64_t r = t.shape()[nd - 2], c = t.shape()[nd - 1];
  int64_t sr = t.strides()[nd - 2], sc = t.strides()[nd - 1];
  Shape tb(t.shape().begin(), t.shape().end() - 2), tbs(t.strides().begin(), t.strides().end() - 2);
  auto bs = flat_batch_stride(batch, broadcast_strides(tb, tbs, batch));
  if (!bs) return std::nullopt;
  // A size-1 dim is never stepped over, so its stride does not matter. BLAS wants ld >= the stored row length.
  if ((c == 1 || sc == 1) && (r == 1 || sr >= std::max<int64_t>(1, c)))
    return GemmOperand{t, false, r == 1 ? std::max<int64_t>(1, c) : sr, *bs};
  if ((r == 1 || sr == 1) && (c == 1 || sc >= std::max<int64_t>(1, r)))
    return GemmOperand{t, true, c == 1 ? std::max<int64_t>(1, r) : sc, *bs};
  return std::nullopt;
}

GemmOperand gemm_operand(const Tensor& t, const Shape& batch) {
  if (auto op = describe(t, batch)) return *op;
  // Matrix dims with a layout the GEMM cannot read (e.g. a strided slice): make the operand row-major.
  Tensor c = t.contiguous();
  if (auto op = describe(c, batch)) return *op;
  // Batch dims that no single stride can walk (broadcast mixed with real dims): materialise the broadcast.
  Shape full = batch;
  full.push_back(t.shape()[t.dim() - 2]);
  full.push_back(t.shape()[t.dim() - 1]);
  return *describe(c.expand(full).contiguous(), batch);
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
      GemmOperand A = gemm_operand(a.detach(), batch), B = gemm_operand(b.detach(), batch);
      be.gemm(a.dtype(), A.trans, B.trans, m, n, k, 1.0, A.t.raw_data(), A.ld, A.batch_stride, B.t.raw_data(), B.ld,
              B.batch_stride, 0.0, out.raw_data(), std::max<int64_t>(1, n), m * n, numel(batch));
    }
  }
  if (!any_requires_grad({a, b})) return out;
  // Save only what the other operand's gradient needs.
  Tensor a_saved = b.requires_grad() ? a.detach() : Tensor();
  Tensor b_saved = a.requires_grad() ? b.detach() : Tensor();
  Shape a_shape = a.shape(), b_shape = b.shape();
  return record("matmul", out, {a, b},
                [a_saved, b_saved, a_shape, b_shape](const Tensor& g, const std::vector<bool>& needs)
                    -> std::vector<Tensor> {
                  Tensor da, db;
                  // dA = g @ B^T, dB = A^T @ g; the transposes are views that reach the GEMM as flags.
                  // Broadcast batch dims got the same matrix several times: sum those gradients back.
                  if (needs[0]) {
                    da = matmul(g, b_saved.transpose(-1, -2));
                    if (da.shape() != a_shape) da = sum_to(da, a_shape);
                  }
                  if (needs[1]) {
                    db = matmul(a_saved.transpose(-1, -2), g);
                    if (db.shape() != b_shape) db = sum_to(db, b_shape);
                  }
                  return {da, db};
                });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same("matmul", a, b);
  check_float("matmul", a);
  LF_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: both operands need at least 1 dim, got shapes {} and {}",
           shape_str(a.shape()), shape_str(b.shape()));
  int64_t ka = a.size(-1), kb = b.dim() == 1 ? b.size(0) : b.size(-2);
  LF_CHECK(ka == kb, "matmul: cannot multiply {} by {}: inner dimensions {} and {} differ", shape_str(a.shape()),
           shape_str(b.shape()), ka, kb);
  // 1-D operands: add the missing matrix dim as a (differentiable) view, multiply, remove it again.
  if (a.dim() == 1 && b.dim() == 1) return matmul_nd(a.unsqueeze(0), b.unsqueeze(-1)).reshape({});
  if (a.dim() == 1) return matmul_nd(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul_nd(a, b.unsqueeze(-1)).squeeze(-1);
  return matmul_nd(a, b);
}

}  // namespace lf
