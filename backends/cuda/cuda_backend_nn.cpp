// The CUDA backend's network primitives: softmax, layer_norm, cross_entropy (forward and backward),
// index_select / index_add, and the fused AdamW step. Checks as in the CPU backend, then a launcher.
#include <map>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_glue.h"

namespace lf {

using cuda::ktype;

namespace {

// [rows, cols] from a tensor whose last dim is cols (a 0-d tensor is one row of one).
void rows_cols(const Tensor& t, int64_t& rows, int64_t& cols) {
  cols = t.dim() == 0 ? 1 : t.shape().back();
  rows = cols == 0 ? 0 : t.numel() / cols;
}

// weight / bias of layer_norm: undefined, or [cols] of x's dtype on the GPU (made contiguous into `keep`).
const void* param_ptr(const char* what, const Tensor& p, DType dtype, int64_t cols, Tensor& keep) {
  if (!p.defined()) return nullptr;
  check_on(DeviceType::cuda, "layer_norm", what, p);
  LF_CHECK(p.dtype() == dtype && p.numel() == cols, "layer_norm: {} {} {} does not match C = {} and dtype {}", what,
           shape_str(p.shape()), p.dtype(), cols, dtype);
  keep = contiguous_input(cuda_backend(), p);
  return keep.raw_data();
}

void check_float(const char* op, DType t) {
  LF_CHECK(is_floating(t), "{}: expected a floating dtype (f32 or f64), got {}", op, t);
}

}  // namespace

// ---- softmax ----

void CudaBackend::softmax(const Tensor& x_in, const Tensor& y, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  check_on(DeviceType::cuda, name, "x", x_in);
  check_float(name, x_in.dtype());
  int64_t rows, cols;
  rows_cols(x_in, rows, cols);
  check_output(DeviceType::cuda, name, "output", y, x_in.dtype(), x_in.numel());
  if (rows == 0) return;
  Tensor x = contiguous_input(cuda_backend(), x_in);
  cuda::launch_softmax_forward(ktype(x.dtype()), x.raw_data(), y.raw_data(), rows, cols, log);
}

void CudaBackend::softmax_backward(const Tensor& y_in, const Tensor& dy_in, const Tensor& dx, bool log) {
  const char* name = log ? "log_softmax_backward" : "softmax_backward";
  check_on(DeviceType::cuda, name, "y", y_in);
  check_on(DeviceType::cuda, name, "dy", dy_in);
  check_float(name, y_in.dtype());
  LF_CHECK(y_in.shape() == dy_in.shape() && y_in.dtype() == dy_in.dtype(), "{}: y {} {} and dy {} {} differ", name,
           shape_str(y_in.shape()), y_in.dtype(), shape_str(dy_in.shape()), dy_in.dtype());
  int64_t rows, cols;
  rows_cols(y_in, rows, cols);
  check_output(DeviceType::cuda, name, "dx", dx, y_in.dtype(), y_in.numel());
  if (rows == 0) return;
  Tensor y = contiguous_input(cuda_backend(), y_in), dy = contiguous_input(cuda_backend(), dy_in);
  cuda::launch_softmax_backward(ktype(y.dtype()), y.raw_data(), dy.raw_data(), dx.raw_data(), rows, cols, log);
}

// ---- layer_norm ----

void CudaBackend::layer_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias, double eps,
                             const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  check_on(DeviceType::cuda, "layer_norm", "x", x_in);
  check_float("layer_norm", x_in.dtype());
  int64_t rows, cols;
  rows_cols(x_in, rows, cols);
  check_output(DeviceType::cuda, "layer_norm", "y", y, x_in.dtype(), x_in.numel());
  check_output(DeviceType::cuda, "layer_norm", "mean", mean, x_in.dtype(), rows);
  check_output(DeviceType::cuda, "layer_norm", "rstd", rstd, x_in.dtype(), rows);
  if (rows == 0) return;
  Tensor x = contiguous_input(cuda_backend(), x_in), wk, bk;
  const void* w = param_ptr("weight", weight, x.dtype(), cols, wk);
  const void* b = param_ptr("bias", bias, x.dtype(), cols, bk);
  cuda::launch_layer_norm_forward(ktype(x.dtype()), x.raw_data(), w, b, eps, y.raw_data(), mean.raw_data(),
                                  rstd.raw_data(), rows, cols);
}

void CudaBackend::layer_norm_backward(const Tensor& x_in, const Tensor& weight, const Tensor& mean_in,
                                      const Tensor& rstd_in, const Tensor& dy_in, const Tensor& dx, const Tensor& dw,
                                      const Tensor& db) {
  const char* name = "layer_norm_backward";
  check_on(DeviceType::cuda, name, "x", x_in);
  check_on(DeviceType::cuda, name, "dy", dy_in);
  check_on(DeviceType::cuda, name, "mean", mean_in);
  check_on(DeviceType::cuda, name, "rstd", rstd_in);
  const DType dt = x_in.dtype();
  check_float(name, dt);
  int64_t rows, cols;
  rows_cols(x_in, rows, cols);
  LF_CHECK(dy_in.shape() == x_in.shape() && dy_in.dtype() == dt, "{}: dy {} {} does not match x {} {}", name,
           shape_str(dy_in.shape()), dy_in.dtype(), shape_str(x_in.shape()), dt);
  LF_CHECK(mean_in.numel() == rows && rstd_in.numel() == rows && mean_in.dtype() == dt && rstd_in.dtype() == dt,
           "{}: mean {} and rstd {} must be {} [{}]", name, shape_str(mean_in.shape()), shape_str(rstd_in.shape()), dt,
           rows);
  if (dx.defined()) check_output(DeviceType::cuda, name, "dx", dx, dt, x_in.numel());
  if (dw.defined()) check_output(DeviceType::cuda, name, "dw", dw, dt, cols);
  if (db.defined()) check_output(DeviceType::cuda, name, "db", db, dt, cols);
  if (cols == 0) return;  // nothing to write anywhere
  // rows == 0 still launches: dw and db are then written as empty sums (zeros).
  Tensor x = contiguous_input(cuda_backend(), x_in), dy = contiguous_input(cuda_backend(), dy_in);
  Tensor mean = contiguous_input(cuda_backend(), mean_in), rstd = contiguous_input(cuda_backend(), rstd_in), wk;
  const void* w = param_ptr("weight", weight, dt, cols, wk);
  cuda::launch_layer_norm_backward(ktype(dt), x.raw_data(), w, mean.raw_data(), rstd.raw_data(), dy.raw_data(),
                                   cuda::mutable_data_or_null(dx), cuda::mutable_data_or_null(dw),
                                   cuda::mutable_data_or_null(db), rows, cols);
}

// ---- cross_entropy ----

void CudaBackend::cross_entropy(const Tensor& logits_in, const Tensor& target_in, int64_t ignore_index,
                                const Tensor& loss, const Tensor& lse) {
  check_on(DeviceType::cuda, "cross_entropy", "logits", logits_in);
  check_on(DeviceType::cuda, "cross_entropy", "target", target_in);
  check_float("cross_entropy", logits_in.dtype());
  int64_t rows, cols;
  rows_cols(logits_in, rows, cols);
  LF_CHECK(target_in.dtype() == DType::i64, "cross_entropy: target must be i64, got {}", target_in.dtype());
  LF_CHECK(target_in.numel() == rows, "cross_entropy: logits {} have {} rows but target {} has {} elements",
           shape_str(logits_in.shape()), rows, shape_str(target_in.shape()), target_in.numel());
  check_output(DeviceType::cuda, "cross_entropy", "loss", loss, logits_in.dtype(), rows);
  check_output(DeviceType::cuda, "cross_entropy", "lse", lse, logits_in.dtype(), rows);
  if (rows == 0) return;
  Tensor x = contiguous_input(cuda_backend(), logits_in), target = contiguous_input(cuda_backend(), target_in);
  cuda::launch_cross_entropy_forward(ktype(x.dtype()), x.raw_data(), target.data<int64_t>(), ignore_index,
                                     loss.raw_data(), lse.raw_data(), rows, cols);
}

void CudaBackend::cross_entropy_backward(const Tensor& logits_in, const Tensor& target_in,
                                         const Tensor& lse_in, int64_t ignore_index, const Tensor& scale,
                                         const Tensor& dlogits) {
  const char* name = "cross_entropy_backward";
  check_on(DeviceType::cuda, name, "logits", logits_in);
  check_on(DeviceType::cuda, name, "target", target_in);
  check_on(DeviceType::cuda, name, "lse", lse_in);
  check_float(name, logits_in.dtype());
  int64_t rows, cols;
  rows_cols(logits_in, rows, cols);
  LF_CHECK(target_in.dtype() == DType::i64 && target_in.numel() == rows, "{}: target {} {} does not match logits {}",
           name, shape_str(target_in.shape()), target_in.dtype(), shape_str(logits_in.shape()));
  LF_CHECK(lse_in.dtype() == logits_in.dtype() && lse_in.numel() == rows, "{}: lse {} {} does not match logits {}",
           name, shape_str(lse_in.shape()), lse_in.dtype(), shape_str(logits_in.shape()));
  check_on(DeviceType::cuda, name, "scale", scale);
  LF_CHECK(scale.numel() == 1 && scale.dtype() == logits_in.dtype(),
           "{}: scale must be one {} element, got {} {}", name, logits_in.dtype(), shape_str(scale.shape()),
           scale.dtype());
  check_output(DeviceType::cuda, name, "dlogits", dlogits, logits_in.dtype(), logits_in.numel());
  if (rows == 0) return;
  Tensor x = contiguous_input(cuda_backend(), logits_in),
         target = contiguous_input(cuda_backend(), target_in);
  Tensor lse = contiguous_input(cuda_backend(), lse_in);
  cuda::launch_cross_entropy_backward(ktype(x.dtype()), x.raw_data(), target.data<int64_t>(), lse.raw_data(),
                                      ignore_index, scale.raw_data(), dlogits.raw_data(), rows, cols);
}

// ---- index_select / index_add ----
// Unlike the CPU backend, the indices are not range-checked here: the ops have called check_indices,
// which checks on the GPU without a round trip to the host (see index.cu).

namespace {

Tensor checked_index_tensor(const char* op, const Tensor& idx, int64_t outer, int64_t n, int64_t inner) {
  LF_CHECK(outer >= 0 && n >= 0 && inner >= 0, "{}: negative view [outer={}, n={}, inner={}]", op, outer, n, inner);
  check_on(DeviceType::cuda, op, "index", idx);
  LF_CHECK(idx.dtype() == DType::i64, "{}: indices must be i64, got {} {}", op, shape_str(idx.shape()), idx.dtype());
  return contiguous_input(cuda_backend(), idx);
}

}  // namespace

void CudaBackend::index_select(const Tensor& x_in, const Tensor& idx_in, const Tensor& out, int64_t outer, int64_t n,
                               int64_t inner) {
  const char* op = "index_select";
  check_on(DeviceType::cuda, op, "x", x_in);
  Tensor idx = checked_index_tensor(op, idx_in, outer, n, inner);
  LF_CHECK(x_in.numel() == outer * n * inner, "{}: input {} is not [outer={}, n={}, inner={}]", op,
           shape_str(x_in.shape()), outer, n, inner);
  const int64_t count = idx.numel();
  check_output(DeviceType::cuda, op, "output", out, x_in.dtype(), outer * count * inner);
  Tensor x = contiguous_input(cuda_backend(), x_in);
  cuda::launch_index_select(ktype(x.dtype()), x.raw_data(), idx.data<int64_t>(), count, out.raw_data(), outer, n,
                            inner);
}

void CudaBackend::index_add(const Tensor& src_in, const Tensor& idx_in, const Tensor& out, int64_t outer, int64_t n,
                            int64_t inner) {
  const char* op = "index_add";
  check_on(DeviceType::cuda, op, "src", src_in);
  Tensor idx = checked_index_tensor(op, idx_in, outer, n, inner);
  const int64_t count = idx.numel();
  LF_CHECK(src_in.numel() == outer * count * inner, "{}: source {} is not [outer={}, {} indices, inner={}]", op,
           shape_str(src_in.shape()), outer, count, inner);
  check_output(DeviceType::cuda, op, "output", out, src_in.dtype(), outer * n * inner);
  Tensor src = contiguous_input(cuda_backend(), src_in);
  cuda::launch_index_add(ktype(src.dtype()), src.raw_data(), idx.data<int64_t>(), count, out.raw_data(), outer, n,
                         inner);
}

// ---- adamw ----

void CudaBackend::adamw(const std::vector<AdamWSlot>& slots, const AdamWHyper& h) {
  LF_CHECK(h.step >= 1, "adamw: step must be >= 1 (bias correction divides by 1 - beta^step), got {}", h.step);
  // One launch per dtype over all of its slots (a model is normally all f32).
  std::map<DType, std::vector<cuda::AdamWTensors>> groups;
  for (size_t k = 0; k < slots.size(); ++k) {
    const AdamWSlot& s = slots[k];
    LF_CHECK(s.param.defined() && s.grad.defined() && s.m.defined() && s.v.defined(),
             "adamw: slot {} has an undefined tensor", k);
    const DType dt = s.param.dtype();
    const int64_t n = s.param.numel();
    check_float("adamw", dt);
    for (const Tensor* t : {&s.grad, &s.m, &s.v})
      LF_CHECK(t->dtype() == dt && t->numel() == n, "adamw: slot {}: param {} {} but grad/m/v has {} {}", k,
               shape_str(s.param.shape()), dt, shape_str(t->shape()), t->dtype());
    for (const Tensor* t : {&s.param, &s.grad, &s.m, &s.v}) {
      check_on(DeviceType::cuda, "adamw", "a slot tensor", *t);
      LF_CHECK(t->is_contiguous(), "adamw: slot {}: tensor {} must be contiguous", k, shape_str(t->shape()));
    }
    groups[dt].push_back({s.param.raw_data(), s.grad.raw_data(), s.m.raw_data(), s.v.raw_data(), n});
  }
  const cuda::AdamWConsts c{h.lr, h.beta1, h.beta2, h.eps, h.weight_decay, h.step};
  for (const auto& [dt, tensors] : groups)
    cuda::launch_adamw(ktype(dt), tensors.data(), int64_t(tensors.size()), c);
}

}  // namespace lf
