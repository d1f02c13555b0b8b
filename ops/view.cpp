// Views: new shapes/strides/offsets over the same Storage, no data moved (reshape copies only when it must).
//
// Each view records a Node whose backward maps the output gradient back to the input's shape:
//   reshape/view/squeeze/unsqueeze -> reshape back     transpose/permute -> the inverse permutation
//   slice/narrow -> zeros with the gradient written into the same slice      expand -> sum_to
#include <algorithm>
#include <optional>

#include "autograd/node.h"
#include "ops/check.h"
#include "ops/creation.h"
#include "ops/reduce.h"

namespace lf {

namespace {

void check_self(const char* op, const Tensor& t) { LF_CHECK(t.defined(), "{}: called on an undefined tensor", op); }

// Replaces the one -1 in `to` by whatever makes the element counts agree, and checks that they do.
Shape infer_shape(const char* op, const Shape& from, const Shape& to) {
  int64_t n = numel(from), known = 1, infer_at = -1;
  for (size_t i = 0; i < to.size(); ++i) {
    if (to[i] == -1) {
      LF_CHECK(infer_at < 0, "{}: only one dimension can be -1, got {}", op, shape_str(to));
      infer_at = int64_t(i);
    } else {
      LF_CHECK(to[i] >= 0, "{}: invalid size {} in shape {}", op, to[i], shape_str(to));
      known = checked_mul(op, known, to[i]);
    }
  }
  Shape out = to;
  if (infer_at >= 0) {
    LF_CHECK(known != 0 && n % known == 0, "{0}: cannot {0} {1} ({2} elements) into {3}", op, shape_str(from), n,
             shape_str(to));
    out[infer_at] = n / known;
  }
  LF_CHECK(numel(out) == n, "{0}: cannot {0} {1} ({2} elements) into {3} ({4} elements)", op, shape_str(from), n,
           shape_str(out), numel(out));
  return out;
}

// The strides that let `new_shape` read the same elements, in the same row-major order, as the view
// (old_shape, old_strides) -- or nothing when that needs a copy.
//
// Walk the old dims from the right, grouping them into "chunks" of dims that are contiguous with each other
// (stride[d-1] == size[d] * stride[d]). Inside a chunk the memory is one arithmetic progression, so any new
// dims whose sizes multiply to exactly the chunk's size can be laid over it. A new dim that straddles two
// chunks cannot: that is when reshape has to copy. (Same algorithm as PyTorch's computeStride.)
std::optional<Shape> view_strides(const Shape& old_shape, const Shape& old_strides, const Shape& new_shape) {
  Shape new_strides(new_shape.size(), 1);
  if (old_shape.empty()) return new_strides;  // a scalar: every new dim has size 1
  int64_t n = numel(old_shape);
  if (n == 0) {  // nothing to read: any strides do, take row-major ones
    if (old_shape == new_shape) return old_strides;
    int64_t s = 1;
    for (size_t i = new_shape.size(); i-- > 0;) {
      new_strides[i] = s;
      s *= std::max<int64_t>(new_shape[i], 1);
    }
    return new_strides;
  }
  int64_t view_d = int64_t(new_shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(old_shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    // end of a chunk: the first dim, or the dim to the left does not continue this progression
    if (d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || new_shape[view_d] == 1)) {
        new_strides[view_d] = view_numel * chunk_base_stride;
        view_numel *= new_shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return new_strides;
}

// A view of self recorded under `name`; `backward` maps the view's gradient to self's.
Tensor make_view(const char* name, const Tensor& self, const Shape& shape, const Shape& strides, int64_t offset,
                 std::function<Tensor(const Tensor&)> backward) {
  return record(name, self.as_strided(shape, strides, offset), {self},
                [backward = std::move(backward)](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                  return {backward(g)};
                });
}

Tensor reshape_impl(const char* op, const Tensor& self, const Shape& requested, bool allow_copy) {
  check_self(op, self);
  Shape shape = infer_shape(op, self.shape(), requested);
  Shape in_shape = self.shape();
  auto back = [in_shape](const Tensor& g) { return g.reshape(in_shape); };
  if (auto strides = view_strides(self.shape(), self.strides(), shape))
    return make_view(op, self, shape, *strides, self.offset(), back);
  LF_CHECK(allow_copy,
           "{}: cannot view {} with strides {} as {} without copying (the dims to merge are not contiguous in "
           "memory); use reshape(), which copies when it must, or call contiguous() first",
           op, shape_str(self.shape()), shape_str(self.strides()), shape_str(shape));
  // Copy into row-major order, then view that. The copy is made outside the graph (detach) because the
  // recorded reshape Node below already carries the gradient back to self.
  Tensor base = self.detach().contiguous();
  Tensor out = base.as_strided(shape, contiguous_strides(shape), base.offset());
  return record(op, out, {self}, [back](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
    return {back(g)};
  });
}

Tensor slice_impl(const char* op, const Tensor& self, int64_t dim, int64_t start, int64_t end, int64_t step) {
  int64_t d = normalize_dim(op, dim, self.dim());
  LF_CHECK(self.dim() > 0, "{}: cannot slice a 0-d tensor", op);
  LF_CHECK(step > 0, "{}: step must be positive, got {}", op, step);
  // Python-like clamping: negative positions count from the end, out-of-range ones stop at the edges.
  int64_t n = self.shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  int64_t len = end == start ? 0 : (end - start - 1) / step + 1;  // ceil((end - start) / step), no overflow

  Shape shape = self.shape(), strides = self.strides();
  shape[d] = len;
  if (len > 1) strides[d] = checked_mul(op, strides[d], step);  // a single element's stride never matters
  int64_t offset = self.offset() + (len > 0 ? checked_mul(op, start, self.strides()[d]) : 0);
  Shape in_shape = self.shape();
  return make_view(op, self, shape, strides, offset, [in_shape, d, start, end, step](const Tensor& g) {
    // zeros of the input's shape, with g copied into the positions the slice read
    Tensor dx = zeros(in_shape, g.dtype(), g.device());
    backend_of(dx).copy(g, dx.slice(d, start, end, step));
    return dx;
  });
}

}  // namespace

Tensor Tensor::reshape(const Shape& shape) const { return reshape_impl("reshape", *this, shape, true); }

Tensor Tensor::view(const Shape& shape) const { return reshape_impl("view", *this, shape, false); }

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  check_self("transpose", *this);
  if (dim() == 0) {  // transpose(0, 0) or (-1, -1) of a scalar: nothing to swap
    normalize_dim("transpose", d0, 0);
    normalize_dim("transpose", d1, 0);
    return make_view("transpose", *this, shape(), strides(), offset(), [](const Tensor& g) { return g; });
  }
  int64_t a = normalize_dim("transpose", d0, dim()), b = normalize_dim("transpose", d1, dim());
  Shape s = shape(), st = strides();
  std::swap(s[a], s[b]);
  std::swap(st[a], st[b]);
  return make_view("transpose", *this, s, st, offset(), [a, b](const Tensor& g) { return g.transpose(a, b); });
}

Tensor Tensor::permute(const Shape& dims) const {
  check_self("permute", *this);
  LF_CHECK(int64_t(dims.size()) == dim(), "permute: got {} dims {} for a tensor of shape {}", dims.size(),
           shape_str(dims), shape_str(shape()));
  Shape perm(dims.size()), s(dims.size()), st(dims.size()), inverse(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = normalize_dim("permute", dims[i], dim());
    LF_CHECK(!seen[d], "permute: {} is not a permutation of the dims of {} (dim {} repeats)", shape_str(dims),
             shape_str(shape()), d);
    seen[d] = true;
    perm[i] = d;
    s[i] = shape()[d];
    st[i] = strides()[d];
    inverse[d] = int64_t(i);  // output dim i came from input dim d, so the gradient's dim i goes back to d
  }
  return make_view("permute", *this, s, st, offset(), [inverse](const Tensor& g) { return g.permute(inverse); });
}

Tensor Tensor::slice(int64_t dim, int64_t start, int64_t end, int64_t step) const {
  check_self("slice", *this);
  return slice_impl("slice", *this, dim, start, end, step);
}

Tensor Tensor::narrow(int64_t dim, int64_t start, int64_t length) const {
  check_self("narrow", *this);
  LF_CHECK(this->dim() > 0, "narrow: cannot narrow a 0-d tensor");
  int64_t d = normalize_dim("narrow", dim, this->dim());
  int64_t n = shape()[d];
  if (start < 0) start += n;
  LF_CHECK(start >= 0 && start <= n && length >= 0 && length <= n - start,
           "narrow: start {} and length {} are out of range for dim {} of size {} (shape {})", start, length, dim, n,
           shape_str(shape()));
  return slice_impl("narrow", *this, d, start, start + length, 1);
}

Tensor Tensor::expand(const Shape& to) const {
  check_self("expand", *this);
  LF_CHECK(to.size() >= shape().size(), "expand: cannot expand {} to {}: the target has fewer dims", shape_str(shape()),
           shape_str(to));
  size_t lead = to.size() - shape().size();  // new leading dims: stride 0, the same data repeated
  Shape s(to.size()), st(to.size());
  for (size_t i = 0; i < to.size(); ++i) {
    if (i < lead) {
      LF_CHECK(to[i] >= 0, "expand: cannot expand {} to {}: a new leading dim must have a size, got {}",
               shape_str(shape()), shape_str(to), to[i]);
      s[i] = to[i];
      st[i] = 0;
      continue;
    }
    int64_t have = shape()[i - lead], want = to[i] == -1 ? have : to[i];
    if (want == have) {
      s[i] = have;
      st[i] = strides()[i - lead];
    } else {
      LF_CHECK(have == 1 && want >= 0, "expand: cannot expand {} to {}: dim {} has size {} (only size-1 dims stretch)",
               shape_str(shape()), shape_str(to), i, have);
      s[i] = want;
      st[i] = 0;  // a size-1 dim read `want` times
    }
  }
  checked_numel("expand", s);  // a stride-0 view can name more elements than int64 counts: refuse it here
  Shape in_shape = shape();
  return make_view("expand", *this, s, st, offset(), [in_shape](const Tensor& g) { return sum_to(g, in_shape); });
}

Tensor Tensor::squeeze(int64_t dim) const {
  check_self("squeeze", *this);
  Shape in_shape = shape();
  auto back = [in_shape](const Tensor& g) { return g.reshape(in_shape); };
  int64_t d = normalize_dim("squeeze", dim, this->dim());
  // Like PyTorch, squeezing a dim whose size is not 1 (or a scalar) leaves the shape as it is.
  if (this->dim() == 0 || shape()[d] != 1) return make_view("squeeze", *this, shape(), strides(), offset(), back);
  Shape s = shape(), st = strides();
  s.erase(s.begin() + d);
  st.erase(st.begin() + d);
  return make_view("squeeze", *this, s, st, offset(), back);
}

Tensor Tensor::unsqueeze(int64_t dim) const {
  check_self("unsqueeze", *this);
  int64_t d = normalize_dim("unsqueeze", dim, this->dim() + 1);
  Shape s = shape(), st = strides();
  // the new size-1 dim never moves, so its stride is free; pick the row-major one so contiguity is kept
  int64_t stride = d < this->dim() ? checked_mul("unsqueeze", s[d], st[d]) : 1;
  s.insert(s.begin() + d, 1);
  st.insert(st.begin() + d, stride);
  Shape in_shape = shape();
  return make_view("unsqueeze", *this, s, st, offset(), [in_shape](const Tensor& g) { return g.reshape(in_shape); });
}

}  // namespace lf
