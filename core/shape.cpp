#include "core/shape.h"

#include "core/error.h"

namespace lf {

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    LF_CHECK(da == db || da == 1 || db == 1, "{}: shapes {} and {} do not broadcast (dimension {}: {} vs {})", op,
             shape_str(a), shape_str(b), i, da, db);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& to) {
  Shape out(to.size(), 0);
  size_t off = to.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) out[off + i] = (shape[i] == 1 && to[off + i] != 1) ? 0 : strides[i];
  return out;
}

int64_t normalize_dim(const char* op, int64_t dim, int64_t ndim) {
  int64_t d = dim < 0 ? dim + ndim : dim;
  LF_CHECK(d >= 0 && d < std::max<int64_t>(ndim, 1), "{}: dim {} is out of range for a tensor with {} dims", op, dim,
           ndim);
  return d;
}

}  // namespace lf
