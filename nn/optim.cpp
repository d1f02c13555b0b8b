#include "nn/optim.h"

#include <cmath>
#include <map>
#include <set>

#include "autograd/grad_mode.h"
#include "ops/convert.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/optim_step.h"
#include "ops/reduce.h"

namespace lf {

ParamList::ParamList(const std::vector<Tensor>& params) {
  for (size_t i = 0; i < params.size(); ++i) named.emplace_back(std::to_string(i), params[i]);
}

Optimizer::Optimizer(ParamList params, double lr) : params_(std::move(params.named)), lr_(lr) {
  std::set<const TensorImpl*> seen;
  for (auto& [name, p] : params_) {
    LF_CHECK(p.defined() && p.requires_grad() && p.is_leaf(),
             "optimizer: parameter '{}' must be a leaf tensor with requires_grad", name);
    LF_CHECK(p.is_contiguous(), "optimizer: parameter '{}' {} must be contiguous", name, shape_str(p.shape()));
    LF_CHECK(seen.insert(p.impl()).second, "optimizer: parameter '{}' is listed twice", name);
  }
  LF_CHECK(lr >= 0, "optimizer: learning rate {} must be >= 0", lr);
  lr_scale_.assign(params_.size(), 1.0);
}

void Optimizer::set_lr_scale(const std::string& name, double scale) {
  LF_CHECK(std::isfinite(scale) && scale >= 0, "optimizer: lr scale {} of '{}' must be finite and >= 0", scale,
           name);
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].first == name) {
      lr_scale_[i] = scale;
      return;
    }
  throw Error(fmt::format("optimizer: no parameter named '{}' to set an lr scale for", name));
}

void Optimizer::zero_grad() {
  for (auto& [name, p] : params_) p.zero_grad();
}

void Optimizer::set_step_count(int64_t step) {
  LF_CHECK(step >= 0, "optimizer: step count {} must be >= 0", step);
  step_ = step;
}

Tensor Optimizer::add_state(const std::string& slot, const std::string& name, const Tensor& param) {
  Tensor t = zeros(param.shape(), param.dtype(), param.device());
  state_.emplace_back(slot + "." + name, t);
  return t;
}

void Optimizer::load_state(const NamedTensors& saved, int64_t step_count) {
  std::map<std::string, Tensor> lookup(saved.begin(), saved.end());
  load_named_tensors("optimizer load_state", state_, lookup, /*strict=*/true);
  set_step_count(step_count);
}

// ---- SGD ----

SGD::SGD(ParamList params, double lr, double momentum_, double weight_decay_, bool nesterov_)
    : Optimizer(std::move(params), lr), momentum(momentum_), weight_decay(weight_decay_), nesterov(nesterov_) {
  LF_CHECK(momentum >= 0 && weight_decay >= 0, "SGD: momentum {} and weight_decay {} must be >= 0", momentum,
           weight_decay);
  LF_CHECK(!nesterov || momentum > 0, "SGD: nesterov needs momentum > 0");
  if (momentum > 0)
    for (auto& [name, p] : params_) add_state("momentum", name, p);
}

void SGD::step() {
  NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i].second;
    Tensor g = p.grad();
    if (!g.defined() || lr_scale_[i] == 0) continue;
    if (weight_decay > 0) g = add(g, mul(p, weight_decay));
    if (momentum > 0) {
      const Tensor& buf = state_[i].second;
      assign_(buf, add(mul(buf, momentum), g));  // buf = momentum * buf + g
      g = nesterov ? add(g, mul(buf, momentum)) : buf;
    }
    assign_(p, sub(p, mul(g, lr_ * lr_scale_[i])));
  }
  ++step_;
}

// ---- AdamW / Adam ----

AdamW::AdamW(ParamList params, double lr, double beta1_, double beta2_, double eps_, double weight_decay_)
    : Optimizer(std::move(params), lr), beta1(beta1_), beta2(beta2_), eps(eps_), weight_decay(weight_decay_) {
  LF_CHECK(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "AdamW: betas ({}, {}) must be in [0, 1)", beta1,
           beta2);
  LF_CHECK(eps > 0 && weight_decay >= 0, "AdamW: eps {} must be > 0 and weight_decay {} >= 0", eps, weight_decay);
  // State laid out as m.<all params>, then v.<all params>: state_[i] is m of param i, state_[n + i] its v.
  for (auto& [name, p] : params_) add_state("m", name, p);
  for (auto& [name, p] : params_) add_state("v", name, p);
}

void AdamW::step() {
  NoGradGuard no_grad;
  ++step_;
  // One fused update per device and lr scale (normally exactly one) over every parameter with a gradient.
  std::map<std::pair<std::string, double>, std::vector<AdamWSlot>> groups;
  size_t n = params_.size();
  for (size_t i = 0; i < n; ++i) {
    const auto& [name, p] = params_[i];
    Tensor g = p.grad();
    if (!g.defined() || lr_scale_[i] == 0) continue;  // a frozen parameter keeps its moments too
    LF_CHECK(g.shape() == p.shape() && g.dtype() == p.dtype() && g.device() == p.device(),
             "AdamW: gradient {} {} {} of '{}' does not match the parameter {} {} {}", shape_str(g.shape()),
             g.dtype(), g.device(), name, shape_str(p.shape()), p.dtype(), p.device());
    const Tensor& m = state_[i].second;
    const Tensor& v = state_[n + i].second;
    LF_CHECK(m.device() == p.device() && m.dtype() == p.dtype(),
             "AdamW: state of '{}' is {} on {} but the parameter is {} on {} (build the optimizer after model.to())",
             name, m.dtype(), m.device(), p.dtype(), p.device());
    if (!decoupled_ && weight_decay > 0) g = add(g, mul(p, weight_decay));  // Adam's L2 term
    groups[{p.device().str(), lr_scale_[i]}].push_back({p, g.contiguous(), m, v});
  }
  for (auto& [key, slots] : groups)
    adamw_update(slots, {lr_ * key.second, beta1, beta2, eps, decoupled_ ? weight_decay : 0.0, step_});
}

Adam::Adam(ParamList params, double lr, double beta1, double beta2, double eps, double weight_decay)
    : AdamW(std::move(params), lr, beta1, beta2, eps, weight_decay) {
  decoupled_ = false;
}

// ---- clipping ----

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  LF_CHECK(max_norm > 0, "clip_grad_norm: max_norm {} must be > 0", max_norm);
  NoGradGuard no_grad;
  // The squares summed on each gradient's device, in f64, and read back once per device: on a GPU one wait
  // per step here (the other is the loss's item(); docs/architecture.md, "When the host waits for the GPU").
  std::map<std::string, Tensor> per_device;  // device -> 0-d f64 sum of squares
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    Tensor sq = sum(mul(g, g)).to(DType::f64);
    Tensor& acc = per_device[g.device().str()];
    acc = acc.defined() ? add(acc, sq) : sq;
  }
  double total = 0;
  for (const auto& [device, acc] : per_device) total += acc.item();
  double norm = std::sqrt(total);
  if (norm > max_norm) {
    // A new tensor per gradient rather than an in-place scale: the engine may hand the same gradient tensor
    // to two leaves, which an in-place scale would shrink twice.
    double scale = max_norm / (norm + 1e-6);
    for (const Tensor& p : params) {
      Tensor g = p.grad();
      if (g.defined()) const_cast<Tensor&>(p).set_grad(mul(g, scale));
    }
  }
  return norm;
}

}  // namespace lf
