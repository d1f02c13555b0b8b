// The fused ops a network is made of: softmax, layer_norm, cross_entropy, dropout, embedding, masked_fill.
//
// The row-wise kernels (softmax, layer_norm, cross_entropy) work on contiguous [M, C] matrices. An op over
// dim d of any tensor first moves d last (a transpose view, then one copy when that is not contiguous),
// views the result as [M, C], and maps the kernel's output back the same way.
#include <algorithm>

#include "autograd/node.h"
#include "ops/check.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/functional.h"
#include "ops/reduce.h"

namespace lf {

namespace {

// t with dim d moved last, as contiguous rows [M, C] (C = t.size(d)). No copy when d is already last and t
// is contiguous. Call only when t.numel() > 0, on tensors outside the graph.
Tensor to_rows(const Tensor& t, int64_t d) {
  if (t.dim() == 0) return t.reshape({1, 1});
  int64_t last = t.dim() - 1;
  Tensor moved = (d == last ? t : t.transpose(d, last)).contiguous();
  int64_t c = moved.shape()[last];
  return moved.reshape({moved.numel() / c, c});
}

// The inverse of to_rows: rows [M, C] back to a view of shape `shape` (dim d in its place).
Tensor from_rows(const Tensor& rows, const Shape& shape, int64_t d) {
  if (shape.empty()) return rows.reshape({});
  int64_t last = int64_t(shape.size()) - 1;
  Shape moved = shape;
  std::swap(moved[d], moved[last]);
  Tensor t = rows.reshape(moved);
  return d == last ? t : t.transpose(d, last);
}

Tensor softmax_impl(const char* op, const Tensor& x, int64_t dim, bool log) {
  check_float(op, x);
  int64_t d = normalize_dim(op, dim, x.dim());
  if (x.numel() == 0) return record(op, Tensor::empty(x.shape(), x.dtype(), x.device()), {x},
                                    [](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                                      return {g};
                                    });
  // x -> rows [M, C] -> y [M, C] (the kernel's output, saved for backward) -> out, a view of y in x's shape
  Tensor rows = to_rows(x.detach(), d);
  Tensor y = Tensor::empty(rows.shape(), x.dtype(), x.device());
  backend_of(x).softmax(rows, y, log);
  Tensor out = from_rows(y, x.shape(), d);  // a separate view: saving y does not keep `out` (and its Node) alive
  Shape shape = x.shape();
  return record(op, out, {x}, [y, shape, d, log](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
    Tensor dy = to_rows(g, d);
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    backend_of(y).softmax_backward(y, dy, dx, log);
    return {from_rows(dx, shape, d)};
  });
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl("softmax", x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_impl("log_softmax", x, dim, true); }

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check_float("layer_norm", x);
  LF_CHECK(x.dim() >= 1, "layer_norm: x must have at least 1 dim, got shape []");
  int64_t c = x.shape().back();
  for (const Tensor* p : {&weight, &bias}) {
    if (!p->defined()) continue;
    check_same("layer_norm", x, *p);
    LF_CHECK(p->shape() == Shape{c}, "layer_norm: {} has shape {} but x {} needs [{}]",
             p == &weight ? "weight" : "bias", shape_str(p->shape()), shape_str(x.shape()), c);
  }
  LF_CHECK(eps >= 0, "layer_norm: eps must be >= 0, got {}", eps);

  // x [..., C] -> rows [M, C]; y [M, C]; mean, rstd [M] kept for the backward
  int64_t m = c > 0 ? x.numel() / c : 0;
  Tensor xr = m > 0 ? to_rows(x.detach(), x.dim() - 1) : x.detach().reshape({m, c});
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor y = Tensor::empty({m, c}, x.dtype(), x.device());
  Tensor mean = Tensor::empty({m}, x.dtype(), x.device()), rstd = Tensor::empty({m}, x.dtype(), x.device());
  Backend& be = backend_of(x);
  if (y.numel() > 0) be.layer_norm(xr, w, b, eps, y, mean, rstd);
  Tensor out = y.reshape(x.shape());
  if (!any_requires_grad({x, weight, bias})) return out;
  Shape shape = x.shape();
  return record("layer_norm", out, {x, weight, bias},
                [xr, w, mean, rstd, shape](const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
                  int64_t m = xr.shape()[0], c = xr.shape()[1];
                  Tensor dx = Tensor::empty({m, c}, xr.dtype(), xr.device());
                  // dw and db are sums over rows: start from zeros so an empty batch gives zeros too
                  Tensor dw = needs[1] ? zeros({c}, xr.dtype(), xr.device()) : Tensor();
                  Tensor db = needs[2] ? zeros({c}, xr.dtype(), xr.device()) : Tensor();
                  if (dx.numel() > 0)
                    backend_of(xr).layer_norm_backward(xr, w, mean, rstd, g.contiguous().reshape({m, c}), dx, dw, db);
                  return {needs[0] ? dx.reshape(shape) : Tensor(), dw, db};
                });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, int64_t ignore_index) {
  check_float("cross_entropy", logits);
  check_defined("cross_entropy", target);
  LF_CHECK(logits.dim() >= 1, "cross_entropy: logits must be [..., C], got shape []");
  LF_CHECK(target.dtype() == DType::i64, "cross_entropy: target must be i64 class indices, got {} {}",
           shape_str(target.shape()), target.dtype());
  LF_CHECK(target.device() == logits.device(), "cross_entropy: logits on {} but target on {}", logits.device(),
           target.device());
  Shape lead(logits.shape().begin(), logits.shape().end() - 1);
  LF_CHECK(target.shape() == lead, "cross_entropy: target shape {} does not match logits {} (expected {})",
           shape_str(target.shape()), shape_str(logits.shape()), shape_str(lead));
  int64_t c = logits.shape().back(), n = numel(lead);
  LF_CHECK(c > 0 || n == 0, "cross_entropy: logits {} have no classes", shape_str(logits.shape()));

  // logits -> rows [N, C], target -> [N]; per-row loss and logsumexp [N] (lse is reused by the backward)
  Tensor rows = n > 0 ? to_rows(logits.detach(), logits.dim() - 1) : logits.detach().reshape({n, c});
  Tensor t = target.detach().contiguous().reshape({n});
  Tensor loss = Tensor::empty({n}, logits.dtype(), logits.device());
  Tensor lse = Tensor::empty({n}, logits.dtype(), logits.device());
  Backend& be = backend_of(logits);
  // Targets are checked where they are: at once on the CPU, on the device (and raised at its next
  // synchronisation) on a GPU, so that the step never waits for them.
  be.check_indices(t, {"cross_entropy", "target", c, ignore_index,
                       fmt::format("for {} classes (ignore_index is {})", c, ignore_index)});
  if (n > 0) be.cross_entropy(rows, t, ignore_index, loss, lse);

  // The mean over the rows that count, counted on the device too: [N] -> 0-d. With every row ignored the
  // loss rows are all 0, and dividing by max(count, 1) gives loss 0.
  Tensor ignored = sum(eq(t, full({}, double(ignore_index), DType::i64, t.device())));
  Tensor count =
      maximum(sub(double(n), ignored).to(logits.dtype()), ones({}, logits.dtype(), logits.device()));
  Tensor out = div(sum(loss), count).reshape({});
  Shape shape = logits.shape();
  return record("cross_entropy", out, {logits, target},
                [rows, t, lse, ignore_index, count, shape](const Tensor& g,
                                                           const std::vector<bool>&) -> std::vector<Tensor> {
                  // d(mean loss)/dlogits = g / count * (softmax - onehot) on counted rows; the kernel reads
                  // the scale g / count from the device
                  Tensor dl = Tensor::empty(rows.shape(), rows.dtype(), rows.device());
                  if (dl.numel() > 0)
                    backend_of(rows).cross_entropy_backward(rows, t, lse, ignore_index, div(g, count), dl);
                  return {dl.reshape(shape), Tensor()};
                });
}

Tensor dropout(const Tensor& x, double p, bool training) {
  check_float("dropout", x);
  LF_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got {}", p);
  if (!training || p == 0) return x;
  // mask = 1/(1-p) with probability 1-p, else 0: the kept values are scaled so the expectation is unchanged.
  // The backward is mul's: the gradient flows through the same mask.
  Tensor mask = Tensor::empty(x.shape(), x.dtype(), x.device());
  backend_of(x).random(mask, RandomKind::bernoulli, 1 - p, 1 / (1 - p), next_random_range(uint64_t(x.numel())));
  return mul(x, mask);
}

Tensor embedding(const Tensor& weight, const Tensor& ids) {
  check_float("embedding", weight);
  check_defined("embedding", ids);
  LF_CHECK(weight.dim() == 2, "embedding: weight must be [V, D], got {}", shape_str(weight.shape()));
  LF_CHECK(ids.dtype() == DType::i64, "embedding: ids must be i64, got {} {}", shape_str(ids.shape()), ids.dtype());
  LF_CHECK(ids.device() == weight.device(), "embedding: weight on {} but ids on {}", weight.device(), ids.device());
  int64_t v = weight.shape()[0], d = weight.shape()[1], n = ids.numel();

  // weight viewed as [1, V, D]; ids flattened to [N] -> rows [1, N, D] -> out [..., D]
  Tensor flat = ids.detach().contiguous().reshape({n});
  // at once on the CPU; on a GPU checked there and raised at its next synchronisation (no round trip)
  backend_of(weight).check_indices(flat,
                                   {"embedding", "index", v, std::nullopt, fmt::format("for {} rows", v)});
  Tensor rows = Tensor::empty({n, d}, weight.dtype(), weight.device());
  if (rows.numel() > 0) backend_of(weight).index_select(weight.detach().contiguous(), flat, rows, 1, v, d);
  Shape out_shape = ids.shape();
  out_shape.push_back(d);
  Tensor out = rows.reshape(out_shape);
  return record("embedding", out, {weight, ids},
                [flat, v, d, n](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                  // scatter-add each row's gradient into the row it was read from (repeated ids add up)
                  Tensor dw = zeros({v, d}, g.dtype(), g.device());
                  if (n * d > 0) backend_of(dw).index_add(g.contiguous().reshape({n, d}), flat, dw, 1, v, d);
                  return {dw, Tensor()};
                });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  check_defined("masked_fill", x);
  check_defined("masked_fill", mask);
  LF_CHECK(mask.device() == x.device(), "masked_fill: x on {} but mask on {}", x.device(), mask.device());
  Shape b = broadcast_shapes("masked_fill", x.shape(), mask.shape());
  LF_CHECK(b == x.shape(), "masked_fill: mask {} does not broadcast to x {}", shape_str(mask.shape()),
           shape_str(x.shape()));
  // the mask read with stride 0 along its broadcast dims
  Tensor m = mask.detach().as_strided(x.shape(), broadcast_strides(mask.shape(), mask.strides(), x.shape()),
                                      mask.offset());
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (out.numel() > 0) backend_of(x).masked_fill(x.detach(), m, value, out);
  Tensor mask_saved = mask.detach();
  return record("masked_fill", out, {x, mask},
                [mask_saved](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                  // filled positions do not depend on x
                  return {masked_fill(g, mask_saved, 0.0), Tensor()};
                });
}

}  // namespace lf
