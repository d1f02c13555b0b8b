#include "examples/common/divergence_guard.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "ops/ops.h"

namespace lf {

DivergenceGuard::DivergenceGuard(std::string path, std::vector<Tensor> params, int64_t saved, std::string advice)
    : path_(std::move(path)), advice_(std::move(advice)), params_(std::move(params)), saved_(saved) {}

std::string DivergenceGuard::kept() const {
  return saved_ > 0 ? fmt::format("{} holds step {}, the last state with finite weights", path_, saved_)
                    : std::string("no checkpoint was written");
}

void DivergenceGuard::check(int64_t step, const char* what, double value) const {
  if (!std::isfinite(value))
    throw Error(fmt::format("step {}: the {} is {}: training diverged; {} ({})", step, what, value, kept(),
                            advice_));
}

double DivergenceGuard::step(int64_t step, const Tensor& loss, Optimizer& opt, double clip) const {
  const double l = reducer_ ? reducer_->sum(loss.item()) : loss.item();
  check(step, "training loss", l);
  opt.zero_grad();
  loss.backward();
  if (reducer_) reducer_->all_reduce_gradients();
  check(step, "gradient norm", clip_grad_norm(params_, clip));
  opt.step();
  return l;
}

void DivergenceGuard::save(const Module& model, const Optimizer& opt, const Checkpoint& ck) {
  {
    NoGradGuard no_grad;
    for (const Tensor& p : params_)
      LF_CHECK(std::isfinite(sum(mul(p, p)).item()),
               "step {}: a weight became NaN or infinite: training diverged; {} ({})", ck.step, kept(), advice_);
  }
  if (!reducer_ || reducer_->comm().rank() == 0) save_checkpoint(path_, model, opt, ck);
  saved_ = ck.step;
}

}  // namespace lf
