#pragma once
// Optimizers: SGD (with momentum), Adam and AdamW, plus global-norm gradient clipping.
//
//   lf::AdamW opt(model.named_parameters(), /*lr=*/1e-3);
//   for (...) { opt.zero_grad(); loss = ...; loss.backward(); lf::clip_grad_norm(model.parameters(), 1.0);
//               opt.set_lr(schedule.at(opt.step_count())); opt.step(); }
//
// Updates happen in place on the parameters' storage, outside the graph. Per-parameter state (momentum
// buffers, Adam moments) is allocated at construction, zero, on each parameter's device and dtype, so build
// the optimizer after model.to(device). state() names every state tensor "<slot>.<parameter name>" for
// checkpoints; load_state() copies a saved state back in place.
#include <string>
#include <vector>

#include "nn/module.h"

namespace lf {

// The parameters an optimizer updates: model.named_parameters(), or plain tensors (named "0", "1", ...).
struct ParamList {
  NamedTensors named;
  ParamList(NamedTensors params) : named(std::move(params)) {}
  ParamList(const std::vector<Tensor>& params);
};

class Optimizer {
 public:
  Optimizer(ParamList params, double lr);
  virtual ~Optimizer() = default;

  // One update from the current gradients; parameters whose gradient is undefined are left alone.
  virtual void step() = 0;
  void zero_grad();  // sets every parameter's gradient to undefined

  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  // Per-parameter multiplier of lr() (1 by default; 0 freezes the parameter): PyTorch's parameter groups,
  // reduced to the one knob a schedule needs. Throws naming `name` when no parameter has that name.
  void set_lr_scale(const std::string& name, double scale);
  double lr_scale(size_t param_index) const { return lr_scale_[param_index]; }
  int64_t step_count() const { return step_; }  // completed step() calls (Adam's bias-correction t)
  void set_step_count(int64_t step);
  const NamedTensors& named_params() const { return params_; }

  // "<slot>.<name>" -> state tensor (the live tensors: copying into them changes the optimizer).
  const NamedTensors& state() const { return state_; }
  // Restores state() and the step count from a checkpoint; one lf::Error lists every missing, unexpected or
  // mis-shaped entry, and nothing is copied unless all match.
  void load_state(const NamedTensors& saved, int64_t step_count);

 protected:
  // Appends a zero tensor shaped like `param` as "<slot>.<name>" and returns it.
  Tensor add_state(const std::string& slot, const std::string& name, const Tensor& param);

  NamedTensors params_;
  NamedTensors state_;
  std::vector<double> lr_scale_;  // one per params_ entry
  double lr_;
  int64_t step_ = 0;
};

// SGD: g = grad + weight_decay * p; buf = momentum * buf + g; p -= lr * (nesterov ? g + momentum * buf : buf).
// With momentum 0 there is no buffer and p -= lr * g. (PyTorch's SGD with dampening 0.) State: "momentum.*".
class SGD : public Optimizer {
 public:
  SGD(ParamList params, double lr, double momentum = 0.0, double weight_decay = 0.0, bool nesterov = false);
  void step() override;

  double momentum, weight_decay;
  bool nesterov;
};

// AdamW (Loshchilov & Hutter): decoupled weight decay p -= lr * wd * p, then the Adam update with
// bias correction: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, p -= lr * m_hat / (sqrt(v_hat) + eps),
// m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t). One fused kernel call updates every parameter on a device.
// State: "m.*" and "v.*".
class AdamW : public Optimizer {
 public:
  AdamW(ParamList params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0.01);
  void step() override;

  double beta1, beta2, eps, weight_decay;

 protected:
  bool decoupled_ = true;  // false: Adam's L2 penalty, weight_decay * p added to the gradient instead
};

// Adam: the L2 form of weight decay (g += weight_decay * p before the moments), same kernel otherwise.
class Adam : public AdamW {
 public:
  Adam(ParamList params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
       double weight_decay = 0.0);
};

// Global L2 norm of all gradients (parameters without a gradient are skipped). When it exceeds max_norm,
// every gradient is replaced by itself * max_norm / (norm + 1e-6). Returns the norm before clipping.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace lf
