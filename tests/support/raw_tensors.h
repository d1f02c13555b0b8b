#pragma once
// Tensors for tests that call backend primitives directly (no ops/): built with Tensor::empty and filled
// through data<T>(), read back element by element through the strides.
#include <cmath>
#include <vector>

#include "tests/support/helpers.h"

namespace lf::test {

template <typename T>
inline Tensor make(const Shape& shape, const std::vector<double>& v) {
  Tensor t = Tensor::empty(shape, dtype_of<T>());
  REQUIRE(int64_t(v.size()) == t.numel());
  T* p = t.data<T>();
  for (size_t i = 0; i < v.size(); ++i) p[i] = T(v[i]);
  return t;
}
inline Tensor f32(const Shape& shape, const std::vector<double>& v) { return make<float>(shape, v); }
inline Tensor f64(const Shape& shape, const std::vector<double>& v) { return make<double>(shape, v); }
inline Tensor i64(const Shape& shape, const std::vector<double>& v) { return make<int64_t>(shape, v); }

// Values of any (strided) view in row-major order, as doubles.
inline std::vector<double> vals(const Tensor& t) {
  std::vector<double> out;
  std::vector<int64_t> idx(t.dim(), 0);
  for (int64_t n = 0; n < t.numel(); ++n) {
    int64_t off = 0;
    for (int64_t d = 0; d < t.dim(); ++d) off += idx[d] * t.strides()[d];
    dispatch(t.dtype(),
             [&](auto tag) { out.push_back(double(static_cast<decltype(tag)*>(t.raw_data())[off])); });
    for (int64_t d = t.dim() - 1; d >= 0; --d) {
      if (++idx[d] < t.shape()[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

// start, start + step, ... (n values)
inline std::vector<double> iota(int64_t n, double start = 0, double step = 1) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + step * double(i);
  return v;
}
// Elementwise |a - b| <= tol * (1 + |b|), naming the first elements that differ.
inline void check_close(const std::vector<double>& a, const std::vector<double>& b, double tol) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("element " << i << ": " << a[i] << " vs " << b[i]);
    CHECK(std::abs(a[i] - b[i]) <= tol * (1 + std::abs(b[i])));
  }
}

}  // namespace lf::test
