#pragma once
// Shapes and strides: small vectors of int64. Strides count elements, not bytes.
#include <cstdint>
#include <string>
#include <vector>

namespace lf {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);  // row-major: [a,b,c] -> [b*c, c, 1]
std::string shape_str(const Shape& shape);      // "[8,512,128]"

// NumPy broadcasting: align from the right, a size-1 dimension stretches. `op` names the caller in errors.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);
// The strides that read a tensor of `shape`/`strides` as if it had the (broadcast) shape `to`: 0 where stretched.
Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& to);
// Maps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
int64_t normalize_dim(const char* op, int64_t dim, int64_t ndim);

}  // namespace lf
