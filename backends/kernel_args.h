#pragma once
// What every backend does between the Tensors it is given and its kernels, written once: the argument
// checks (each throws lf::Error naming the op, the operand and the values), a contiguous copy of a strided
// input, and the loop plan that merges the dims of strided operands.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <optional>
#include <vector>

#include "backends/backend.h"

namespace lf {

// Throws unless `t` is defined and lives on a device of type `where`; `what` names it ("x", "weight", ...).
void check_on(DeviceType where, const char* op, const char* what, const Tensor& t);
// Throws unless `t` is a defined, contiguous tensor on `where` with `dtype` and `numel` elements.
void check_output(DeviceType where, const char* op, const char* what, const Tensor& t, DType dtype,
                  int64_t numel);
// `t` itself when it is contiguous, else a contiguous copy made by `backend` on t's device.
Tensor contiguous_input(Backend& backend, const Tensor& t);

// The elementwise primitives' checks: operands on `where`, shapes equal to the output's, dtypes as the
// contract says, an i64 op that its row in backends/pointwise_ops.h allows (with an integral scalar).
// Each returns false when there is nothing to compute (an empty output).
bool checked_unary(UnaryOp op, const Tensor& x, const Tensor& out, double alpha, DeviceType where);
bool checked_binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out, DeviceType where);
bool checked_masked_fill(const Tensor& x, const Tensor& mask, const Tensor& out, DeviceType where);

// gemm: a floating dtype, no negative size, C's batch strides nonzero where its products would collide, row
// strides at least the stored row lengths. Returns g with each ld raised to what BLAS libraries insist on
// (>= 1 and >= the row length even for a one-row or empty matrix, whose stride is never used), or nothing
// when there is no product to compute.
std::optional<GemmArgs> checked_gemm(const GemmArgs& g);
// reduce: out's elements split into blocks of `inner`, and x into out.numel() groups. Returns R, the number
// of elements reduced into each output (0 when out is empty).
int64_t checked_reduce(const char* name, const Tensor& x, const Tensor& out, int64_t inner);

// ---- the loop plan of N same-shape strided operands ----
// The iteration space simplified: size-1 dims dropped and neighbouring dims merged where they are
// contiguous with each other *in every operand*, so a contiguous tensor becomes one long dim, and
// `a [M, C] + b [C]` (b expanded: strides [0, 1]) stays [M, C] with b's row re-read per row.
// With `by_first_operand`, dims are first ordered so operand 0's strides decrease (the CPU passes the
// output first, so a transposed output is written in memory order); without, the order stays row-major,
// which the GPU needs because its kernels write a contiguous output at the row-major index.
template <size_t N>
struct LoopPlan {
  int64_t numel = 1;
  std::vector<int64_t> shape;                   // outermost first; {1} for a single element
  std::vector<std::array<int64_t, N>> strides;  // strides[d][k]: operand k along dim d
};

template <size_t N>
LoopPlan<N> plan_loop(const Shape& shape, const std::array<const Shape*, N>& strides, bool by_first_operand) {
  LoopPlan<N> p;
  p.numel = lf::numel(shape);
  std::vector<int> dims;
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1) dims.push_back(int(d));
  if (by_first_operand) {  // stable, so a row-major operand 0 keeps its order
    const Shape& s0 = *strides[0];
    std::stable_sort(dims.begin(), dims.end(),
                     [&](int x, int y) { return std::abs(s0[x]) > std::abs(s0[y]); });
  }
  for (int d : dims) {
    std::array<int64_t, N> st;
    for (size_t k = 0; k < N; ++k) st[k] = (*strides[k])[d];
    // Dim d joins the one above it when, for every operand, stepping once along that one moves as far as
    // running through all of d.
    bool merge = !p.shape.empty();
    for (size_t k = 0; merge && k < N; ++k) merge = p.strides.back()[k] == st[k] * shape[d];
    if (merge) {
      p.shape.back() *= shape[d];
      p.strides.back() = st;
    } else {
      p.shape.push_back(shape[d]);
      p.strides.push_back(st);
    }
  }
  if (p.shape.empty()) {  // a single element
    p.shape.push_back(1);
    p.strides.push_back({});
  }
  return p;
}

}  // namespace lf
