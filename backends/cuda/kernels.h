#pragma once
// The CUDA backend in two layers:
//   cuda_backend.cpp (g++, C++20): takes the Tensors apart (checks, dtypes, shapes, strides) and calls
//                                  the launchers declared here;
//   *.cu (nvcc): the launchers and their kernels, which see raw pointers, sizes and small POD descriptors.
// The .cu files include no header that pulls in {fmt} (core/error.h does), which nvcc cannot parse under
// C++20. They share the fmt-free headers: backends/pointwise_ops.h (the elementwise op table and its
// formulas, also the CPU's) and backends/scalar_math.h. The few other enums the kernels need are mirrored
// here; cuda_glue.cpp maps lf's onto them with switches, so a value added there but not here is a -Wswitch
// warning, not a silent mismatch.
#include <cstddef>
#include <cstdint>

#include "backends/pointwise_ops.h"

namespace lf::cuda {

enum class KType : uint8_t { f32, f64, i64 };
enum class KReduce : uint8_t { sum, max };
enum class KRandom : uint8_t { uniform, normal, bernoulli };

// Strided iteration over an index space of up to kMaxDims dims for N operands, innermost dim first (d = 0):
// linear index i (row-major over the space) -> operand k's element offset sum_d index_d * stride[k][d].
// Kernels take it by value (a few hundred bytes of kernel parameters). cuda_glue.cpp builds it from the
// shared loop plan (backends/kernel_args.h), which merges dims that are contiguous for every operand, so
// [B, T, C] + bias [C] becomes [B*T, C], and a fully contiguous case becomes 1-D with unit strides:
// `contiguous()`, the kernels' fast path.
constexpr int kMaxDims = 8;
template <int N> struct Strided {
  int ndim = 0;
  int64_t size[kMaxDims] = {};
  int64_t stride[N][kMaxDims] = {};

  bool contiguous() const {
    if (ndim == 0) return true;  // a single element
    if (ndim > 1) return false;
    for (int k = 0; k < N; ++k)
      if (stride[k][0] != 1) return false;
    return true;
  }
};

// Device scratch memory from the caching CUDA allocator, given back to its cache at scope exit. Reusing it
// at once is safe: all work runs in order on the default stream, so a later kernel that gets the same
// block waits for the kernels that used it before. (Defined in cuda_allocator.cpp.)
class Scratch {
 public:
  explicit Scratch(size_t bytes);
  ~Scratch();
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <typename T> T* as() const { return static_cast<T*>(ptr_); }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// ---- copy_random.cu ----
// dst = src converted to dst's type; operand 0 of `s` is src, operand 1 is dst.
void launch_copy(KType src_type, const void* src, KType dst_type, void* dst, int64_t n, const Strided<2>& s);
// dst (strided through `s`, n elements) = value.
void launch_fill(KType type, void* dst, int64_t n, double value, const Strided<1>& s);
// dst[i] from element i of the Philox stream (seed, offset); same numbers as the CPU backend.
void launch_random(KType type, void* dst, int64_t n, KRandom kind, double a, double b, uint64_t seed,
                   uint64_t offset);

// ---- elementwise.cu ---- (out contiguous [n]; inputs strided through `s`)
void launch_unary(KType type, UnaryOp op, const void* x, void* out, int64_t n, const Strided<1>& s, double alpha);
// out has type `type`, except for eq/gt/lt, which write 1 or 0 in out_type.
void launch_binary(KType type, BinaryOp op, const void* a, const void* b, KType out_type, void* out, int64_t n,
                   const Strided<2>& s);
// out = mask != 0 ? value : x; operand 0 is x, operand 1 the mask (of any type).
void launch_masked_fill(KType type, const void* x, KType mask_type, const void* mask, double value, void* out,
                        int64_t n, const Strided<2>& s);

// ---- reduce.cu ---- x contiguous [rows, cols] -> out [rows]
void launch_reduce_rows(KType type, KReduce op, const void* x, void* out, int64_t rows, int64_t cols);
// x contiguous [outer, R, inner] -> out [outer, inner], reduced over R
void launch_reduce_middle(KType type, KReduce op, const void* x, void* out, int64_t outer, int64_t R,
                          int64_t inner);

// ---- gemm.cu ---- row-major C[i, j] = alpha op(A[i, j]) op(B[i, j]) + beta C[i, j]; arguments as in
// Backend::gemm, leading dimensions already checked and normalised by cuda_backend.cpp. One cuBLAS call.
// The two-level batch: i < count[0], j < count[1]; matrix (i, j) of A starts a[0] * i + a[1] * j elements in.
struct GemmBatch {
  int64_t count[2];
  int64_t a[2], b[2], c[2];
};
void launch_gemm(KType type, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
                 int64_t lda, const void* b, int64_t ldb, double beta, void* c, int64_t ldc,
                 const GemmBatch& batch, bool allow_tf32);

// ---- softmax.cu ---- contiguous [rows, cols], row-wise
void launch_softmax_forward(KType type, const void* x, void* y, int64_t rows, int64_t cols, bool log);
void launch_softmax_backward(KType type, const void* y, const void* dy, void* dx, int64_t rows, int64_t cols,
                             bool log);

// ---- layernorm.cu ---- contiguous x, y, dy, dx [rows, cols]; mean, rstd [rows]; w, b, dw, db [cols] or null
void launch_layer_norm_forward(KType type, const void* x, const void* w, const void* b, double eps, void* y,
                               void* mean, void* rstd, int64_t rows, int64_t cols);
void launch_layer_norm_backward(KType type, const void* x, const void* w, const void* mean, const void* rstd,
                                const void* dy, void* dx, void* dw, void* db, int64_t rows, int64_t cols);

// ---- cross_entropy.cu ---- logits [rows, cols] contiguous, target [rows]; scale: one element on the device
void launch_cross_entropy_forward(KType type, const void* logits, const int64_t* target, int64_t ignore_index,
                                  void* loss, void* lse, int64_t rows, int64_t cols);
void launch_cross_entropy_backward(KType type, const void* logits, const int64_t* target, const void* lse,
                                   int64_t ignore_index, const void* scale, void* dlogits, int64_t rows,
                                   int64_t cols);

// ---- index.cu ---- x viewed as [outer, n, inner], idx [nidx], checked to lie in [0, n) by the ops
// check_indices (the kernels skip any that do not, rather than touch memory outside the tensor).
void launch_index_select(KType type, const void* x, const int64_t* idx, int64_t nidx, void* out, int64_t outer,
                         int64_t n, int64_t inner);
void launch_index_add(KType type, const void* src, const int64_t* idx, int64_t nidx, void* out, int64_t outer,
                      int64_t n, int64_t inner);
// A deferred range check (backends/index_check.h): the first failure of any check is kept in a CheckSlot in
// device memory (zeroed), as the check's id and the bad value, until the host reads it back.
struct CheckSlot {
  unsigned int id;  // 0: no failure yet
  int64_t value;
};
// Records (id, idx[i]) in slot, unless a failure is already there, for an idx[i] outside [0, limit) that is
// not `skip` (when has_skip).
void launch_check_indices(const int64_t* idx, int64_t n, int64_t limit, bool has_skip, int64_t skip,
                          unsigned int id, CheckSlot* slot);

// ---- adamw.cu ---- one launch over all tensors of one dtype
struct AdamWTensors {
  void* param;
  const void* grad;
  void* m;
  void* v;
  int64_t n;  // elements
};
struct AdamWConsts {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;  // >= 1
};
void launch_adamw(KType type, const AdamWTensors* tensors, int64_t count, const AdamWConsts& h);

}  // namespace lf::cuda
