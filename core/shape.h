#pragma once
// Shapes and strides: small vectors of int64. Strides count elements, not bytes.
#include <cstdint>
#include <string>
#include <vector>

namespace lf {

using Shape = std::vector<int64_t>;

// Size arithmetic that refuses to overflow: a * b and a + b, or an lf::Error naming `op` and both values
// when the result does not fit in int64. Every element count, stride and byte count goes through these
// (numel, contiguous_strides, Tensor::empty, as_strided), so a hostile shape cannot wrap around into a
// small allocation that later code indexes past.
int64_t checked_mul(const char* op, int64_t a, int64_t b);
int64_t checked_add(const char* op, int64_t a, int64_t b);

int64_t checked_numel(const char* op, const Shape& shape);  // the product of the sizes, checked
inline int64_t numel(const Shape& shape) { return checked_numel("numel", shape); }
Shape contiguous_strides(const Shape& shape);  // row-major: [a,b,c] -> [b*c, c, 1], checked
std::string shape_str(const Shape& shape);      // "[8,512,128]"

// NumPy broadcasting: align from the right, a size-1 dimension stretches. `op` names the caller in errors.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
// The strides that read a tensor of `shape`/`strides` as if it had the (broadcast) shape `to`: 0 where stretched.
Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& to);
// Maps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
int64_t normalize_dim(const char* op, int64_t dim, int64_t ndim);

}  // namespace lf
