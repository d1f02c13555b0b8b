#include "core/shape.h"

#include "core/error.h"

namespace lf {

int64_t checked_mul(const char* op, int64_t a, int64_t b) {
  int64_t r;
  LF_CHECK(!__builtin_mul_overflow(a, b, &r), "{}: size {} * {} overflows int64", op, a, b);
  return r;
}

int64_t checked_add(const char* op, int64_t a, int64_t b) {
  int64_t r;
  LF_CHECK(!__builtin_add_overflow(a, b, &r), "{}: size {} + {} overflows int64", op, a, b);
  return r;
}

int64_t checked_numel(const char* op, const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) {
    if (__builtin_mul_overflow(n, s, &n))
      throw Error(fmt::format("{}: shape {} has more elements than int64 can count", op, shape_str(shape)));
  }
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    if (__builtin_mul_overflow(s, shape[i], &s))
      throw Error(fmt::format("strides: shape {} is too large (its row-major strides overflow int64)", shape_str(shape)));
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
