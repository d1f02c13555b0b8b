// Reductions over any set of dims, all through one backend primitive: reduce the middle dim of a
// contiguous [outer, R, inner] tensor to [outer, inner].
//
//   x [B, T, C] contiguous, dims {0, 1}: the reduced dims are one block, so x is read in place as
//                           [outer = 1, R = B*T, inner = C] (a bias gradient: no copy).
//   x [B, T, C], dims {0, 2}: not one block: permute to [T, B, C] (kept dims first, a strided view), copy
//                           to contiguous, read as [outer = T, R = B*C, inner = 1] -> [T] -> reshape.
//
// Backward of sum copies the gradient back along the reduced dims; mean and var are composed from
// sum and elementwise ops, so autograd differentiates them for free.
#include "ops/reduce.h"

#include <algorithm>
#include <optional>

#include "autograd/node.h"
#include "ops/check.h"
#include "ops/creation.h"
#include "ops/elementwise.h"

namespace lf {

namespace {

// What a reduction of x over `dims` does to shapes.
struct ReducePlan {
  std::vector<bool> reduced;  // per dim of x
  Shape dims;                 // the reduced dims, normalised and sorted
  Shape out_shape;            // the result's shape (keepdim or not)
  Shape keep_shape;           // x's shape with 1 at every reduced dim
  int64_t M = 1;              // number of outputs
  int64_t R = 1;              // elements reduced into each output
};

ReducePlan make_plan(const char* op, const Tensor& x, const Shape& dims, bool keepdim) {
  check_defined(op, x);
  int64_t nd = x.dim();
  ReducePlan p;
  p.reduced.assign(size_t(nd), dims.empty());  // an empty list means every dim
  for (int64_t d : dims) {
    int64_t k = normalize_dim(op, d, nd);
    if (nd == 0) continue;  // a 0-d tensor accepts dim 0 / -1 and has nothing to reduce
    LF_CHECK(!p.reduced[size_t(k)], "{}: dim {} appears twice in dims ({}) for shape {}", op, d,
             fmt::join(dims, ","), shape_str(x.shape()));
    p.reduced[size_t(k)] = true;
  }
  for (int64_t d = 0; d < nd; ++d) {
    int64_t n = x.shape()[size_t(d)];
    if (p.reduced[size_t(d)]) {
      p.dims.push_back(d);
      p.R *= n;
      p.keep_shape.push_back(1);
      if (keepdim) p.out_shape.push_back(1);
    } else {
      p.M *= n;
      p.keep_shape.push_back(n);
      p.out_shape.push_back(n);
    }
  }
  return p;
}

// When x is contiguous and its reduced dims (ignoring size-1 dims) are one consecutive block, the
// product of the dims after that block: x is then [outer, R, inner] as it lies. Otherwise nothing.
std::optional<int64_t> inner_of_block(const Tensor& x, const ReducePlan& p) {
  if (!x.is_contiguous()) return std::nullopt;
  int64_t first = -1, last = -1;
  for (size_t d = 0; d < p.reduced.size(); ++d)
    if (p.reduced[d] && x.shape()[d] != 1) {
      if (first < 0) first = int64_t(d);
      last = int64_t(d);
    }
  if (first < 0) return std::nullopt;
  int64_t inner = 1;
  for (size_t d = 0; d < p.reduced.size(); ++d) {
    bool inside = int64_t(d) > first && int64_t(d) < last;
    if (inside && !p.reduced[d] && x.shape()[d] != 1) return std::nullopt;  // a kept dim splits the block
    if (int64_t(d) > last) inner *= x.shape()[d];
  }
  return inner;
}

// The [M] reduction of x by the plan, as a fresh contiguous tensor; records nothing.
Tensor reduce_rows(ReduceOp rop, const Tensor& x, const ReducePlan& p) {
  if (p.M > 0 && p.R > 0)
    if (auto inner = inner_of_block(x, p)) {
      Tensor out = Tensor::empty({p.M}, x.dtype(), x.device());
      backend_of(x).reduce(rop, x, out, *inner);
      return out;
    }
  // Permute: kept dims first, reduced dims last, so each output's inputs form one row.
  Shape shape, strides;
  for (int pass = 0; pass < 2; ++pass)
    for (size_t d = 0; d < p.reduced.size(); ++d)
      if (p.reduced[d] == (pass == 1)) {
        shape.push_back(x.shape()[d]);
        strides.push_back(x.strides()[d]);
      }
  Tensor v = x.as_strided(shape, strides, x.offset());
  if (!v.is_contiguous()) {
    Tensor c = Tensor::empty(shape, x.dtype(), x.device());
    backend_of(x).copy(v, c);
    v = c;
  }
  Tensor out = Tensor::empty({p.M}, x.dtype(), x.device());
  if (p.M == 0) return out;
  if (p.R == 0) {  // max was refused by the caller; an empty sum is 0
    backend_of(x).fill(out, 0.0);
    return out;
  }
  backend_of(x).reduce(rop, v.as_strided({p.M, p.R}, {p.R, 1}, v.offset()), out, 1);
  return out;
}

// g (of the plan's out_shape) viewed with keep_shape: size 1, stride 0 at the reduced dims. No copy.
Tensor keepdim_view(const Tensor& g, const ReducePlan& p) {
  if (g.shape() == p.keep_shape) return g;
  Shape strides;
  size_t j = 0;
  for (size_t d = 0; d < p.reduced.size(); ++d) strides.push_back(p.reduced[d] ? 0 : g.strides()[j++]);
  return g.as_strided(p.keep_shape, strides, g.offset());
}

// A contiguous buffer viewed with another shape of the same element count.
Tensor reshaped(const Tensor& buffer, const Shape& shape) {
  return buffer.as_strided(shape, contiguous_strides(shape), buffer.offset());
}

}  // namespace

Tensor sum(const Tensor& x, const Shape& dims, bool keepdim) {
  ReducePlan p = make_plan("sum", x, dims, keepdim);
  Tensor out = reshaped(reduce_rows(ReduceOp::sum, x, p), p.out_shape);
  // d sum / dx_i = 1: every input element receives the gradient of the output it was summed into.
  return record("sum", out, {x}, [p, in_shape = x.shape()](const Tensor& g, const std::vector<bool>&) {
    Tensor gk = keepdim_view(g, p);
    Tensor dx = Tensor::empty(in_shape, g.dtype(), g.device());
    backend_of(g).copy(
        gk.as_strided(in_shape, broadcast_strides(gk.shape(), gk.strides(), in_shape), gk.offset()), dx);
    return std::vector<Tensor>{dx};
  });
}

Tensor mean(const Tensor& x, const Shape& dims, bool keepdim) {
  check_float("mean", x);
  ReducePlan p = make_plan("mean", x, dims, keepdim);
  return div(sum(x, dims, keepdim), double(p.R));
}

Tensor max(const Tensor& x, const Shape& dims, bool keepdim) {
  ReducePlan p = make_plan("max", x, dims, keepdim);
  LF_CHECK(p.R > 0, "max: cannot take the max over an empty dimension (shape {}, dims ({}))",
           shape_str(x.shape()), fmt::join(dims, ","));
  Tensor buffer = reduce_rows(ReduceOp::max, x, p);
  Tensor out = reshaped(buffer, p.out_shape);
  if (!any_requires_grad({x})) return out;
  // The gradient goes to the elements equal to the max; k tied elements get 1/k of it each.
  // Saved: x (detached) and the max with keepdim shape (a fresh view of the buffer, not `out`).
  return record(
      "max", out, {x},
      [p, x = x.detach(), m = reshaped(buffer, p.keep_shape)](const Tensor& g, const std::vector<bool>&) {
        Tensor mask = eq(x, m);                  // x's shape: 1 at the maxima
        Tensor count = sum(mask, p.dims, true);  // keep_shape: number of maxima per output
        return std::vector<Tensor>{mul(mask, div(keepdim_view(g, p), count))};
      });
}

Tensor var(const Tensor& x, const Shape& dims, bool keepdim, int64_t correction) {
  check_float("var", x);
  ReducePlan p = make_plan("var", x, dims, keepdim);
  // sum((x - mean)^2) / (N - correction); N - correction <= 0 gives inf/nan, as in NumPy.
  Tensor d = sub(x, mean(x, dims, /*keepdim=*/true));
  return div(sum(mul(d, d), dims, keepdim), double(std::max<int64_t>(p.R - correction, 0)));
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  check_defined("sum_to", g);
  if (g.shape() == shape) return g;
  int64_t lead = g.dim() - int64_t(shape.size());
  LF_CHECK(lead >= 0, "sum_to: cannot sum shape {} down to the longer shape {}", shape_str(g.shape()),
           shape_str(shape));
  // Dims where `shape` has 1 but g does not were stretched by broadcasting: sum them, keeping the 1.
  Shape stretched;
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t gd = g.shape()[size_t(lead) + i];
    if (shape[i] == gd) continue;
    LF_CHECK(shape[i] == 1, "sum_to: shape {} does not broadcast to {} (dim {}: {} vs {})", shape_str(shape),
             shape_str(g.shape()), i, shape[i], gd);
    stretched.push_back(lead + int64_t(i));
  }
  Tensor r = stretched.empty() ? g : sum(g, stretched, /*keepdim=*/true);
  // Leading dims that `shape` lacks were added by broadcasting: sum them away.
  if (lead > 0) {
    Shape leading;
    for (int64_t d = 0; d < lead; ++d) leading.push_back(d);
    r = sum(r, leading, /*keepdim=*/false);
  }
  return r;
}

}  // namespace lf
