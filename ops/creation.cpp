// Factories: constant tensors, ranges, copies of host vectors, and random tensors.
//
// Constants and random numbers are produced by the backend of the target device (fill / random), so a
// CUDA tensor never takes a detour through host memory. Ranges and host vectors are built on the CPU
// and then moved with .to(device): they are small, and the CPU is where their values come from.
#include "ops/creation.h"

#include <cmath>
#include <cstring>

#include "core/philox.h"
#include "ops/check.h"

namespace lf {

// ---- constants ----

// An integer tensor holds integers: a value that does not fit one is refused rather than converted.
static void check_fits(const char* op, double value, DType dtype) {
  LF_CHECK(is_floating(dtype) || (std::isfinite(value) && value >= -9.223372036854775808e18 &&
                                  value < 9.223372036854775808e18),
           "{}: value {} does not fit in {}", op, value, dtype);
}

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  check_fits("full", value, dtype);
  Tensor t = Tensor::empty(shape, dtype, device);
  backend_for(device).fill(t, value);
  return t;
}

Tensor zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }

Tensor zeros_like(const Tensor& t) {
  check_defined("zeros_like", t);
  return zeros(t.shape(), t.dtype(), t.device());
}

Tensor ones_like(const Tensor& t) {
  check_defined("ones_like", t);
  return ones(t.shape(), t.dtype(), t.device());
}

// ---- ranges ----

Tensor arange(double start, double end, double step, DType dtype, Device device) {
  LF_CHECK(step != 0 && std::isfinite(step) && std::isfinite(start) && std::isfinite(end),
           "arange: start {}, end {}, step {} must be finite with a non-zero step", start, end, step);
  // Number of values start, start+step, ... strictly before end (NumPy's rule).
  double count = std::ceil((end - start) / step);
  LF_CHECK(count < 9.0e15, "arange: start {}, end {}, step {} would make {} values", start, end, step, count);
  if (count > 0) check_fits("arange", start, dtype), check_fits("arange", start + (count - 1) * step, dtype);
  int64_t n = count > 0 ? int64_t(count) : 0;
  Tensor t = Tensor::empty({n}, dtype, Device::cpu());
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T* p = t.data<T>();
    for (int64_t i = 0; i < n; ++i) p[i] = T(start + double(i) * step);
  });
  return device.is_cpu() ? t : t.to(device);
}

Tensor arange(int64_t end, DType dtype, Device device) {
  return arange(0.0, double(end), 1.0, dtype, device);
}

// ---- host vectors ----

namespace {

template <typename T>
Tensor from_host(const std::vector<T>& values, const Shape& shape, Device device) {
  Tensor t = Tensor::empty(shape, dtype_of<T>(), Device::cpu());  // also rejects negative dims
  LF_CHECK(size_t(t.numel()) == values.size(), "from_vector: {} values do not fill shape {} ({} elements)",
           values.size(), shape_str(shape), t.numel());
  if (!values.empty()) std::memcpy(t.data<T>(), values.data(), values.size() * sizeof(T));
  return device.is_cpu() ? t : t.to(device);
}

}  // namespace

Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device) {
  return from_host(values, shape, device);
}
Tensor from_vector(const std::vector<double>& values, const Shape& shape, Device device) {
  return from_host(values, shape, device);
}
Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape, Device device) {
  return from_host(values, shape, device);
}

// ---- random ----

namespace {

// Fills a new tensor from the next numel() numbers of the global stream.
Tensor random_tensor(const char* op, const Shape& shape, RandomKind kind, double a, double b, DType dtype,
                     Device device) {
  LF_CHECK(is_floating(dtype), "{}: expected a floating dtype (f32 or f64), got {}", op, dtype);
  Tensor t = Tensor::empty(shape, dtype, device);
  backend_for(device).random(t, kind, a, b, next_random_range(uint64_t(t.numel())));
  return t;
}

}  // namespace

Tensor uniform(const Shape& shape, double low, double high, DType dtype, Device device) {
  LF_CHECK(low <= high, "uniform: low {} is greater than high {}", low, high);
  return random_tensor("uniform", shape, RandomKind::uniform, low, high, dtype, device);
}

Tensor rand(const Shape& shape, DType dtype, Device device) {
  return uniform(shape, 0.0, 1.0, dtype, device);
}

Tensor randn(const Shape& shape, DType dtype, Device device) {
  return random_tensor("randn", shape, RandomKind::normal, 0.0, 1.0, dtype, device);
}

// Integers in [low, high). Each value takes two 32-bit numbers of the Philox stream as one 64-bit draw u,
// and maps it to low + floor(u * range / 2^64) (Lemire's multiply-high): exact integer arithmetic, so the
// result can never reach `high`, and the bias is at most range / 2^64. Computed on the host from the
// counter-based stream, hence the same numbers for any device.
Tensor randint(int64_t low, int64_t high, const Shape& shape, Device device) {
  LF_CHECK(low < high, "randint: empty range [{}, {})", low, high);
  Tensor t = Tensor::empty(shape, DType::i64, Device::cpu());
  uint64_t n = uint64_t(t.numel());
  GeneratorState at = next_random_range(2 * n);
  uint64_t range = uint64_t(high) - uint64_t(low);  // fits: high - low < 2^64
  int64_t* p = t.data<int64_t>();
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t hi = philox_at(at.seed, at.offset, 2 * i), lo = philox_at(at.seed, at.offset, 2 * i + 1);
    uint64_t u = (hi << 32) | lo;
    uint64_t r = uint64_t((unsigned __int128)u * range >> 64);
    p[i] = int64_t(uint64_t(low) + r);  // two's complement wrap-around gives low + r exactly
  }
  return device.is_cpu() ? t : t.to(device);
}

}  // namespace lf
