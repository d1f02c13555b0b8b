#pragma once
// Factories. Random ones draw from the global Philox stream (core/generator.h): same seed, same numbers,
// on any device.
#include <vector>

#include "core/tensor.h"

namespace lf {

Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = DType::f32, Device device = Device::cpu());
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor arange(int64_t end, DType dtype = DType::i64, Device device = Device::cpu());  // 0, 1, ..., end-1
Tensor arange(double start, double end, double step, DType dtype = DType::f32, Device device = Device::cpu());
// From host values; the shape's element count must equal values.size().
Tensor from_vector(const std::vector<float>& values, const Shape& shape, Device device = Device::cpu());
Tensor from_vector(const std::vector<double>& values, const Shape& shape, Device device = Device::cpu());
Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape, Device device = Device::cpu());
Tensor rand(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());   // U[0, 1)
Tensor uniform(const Shape& shape, double low, double high, DType dtype = DType::f32, Device device = Device::cpu());
Tensor randn(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());  // N(0, 1)
Tensor randint(int64_t low, int64_t high, const Shape& shape, Device device = Device::cpu());  // i64 in [low, high)

}  // namespace lf
