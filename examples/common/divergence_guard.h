#pragma once
// What every training program does so that a diverged run loses nothing: a NaN or infinite loss or
// gradient norm stops the run *before* the update that would spread it into the weights, and the checkpoint
// file is only ever written with finite weights. The message says which step, which quantity, and which
// file holds the last good state:
//
//   step 2: the training loss is nan: training diverged; runs/x/checkpoint.safetensors holds step 1, the last
//   state with finite weights (start again with a lower --lr)
#include <string>
#include <vector>

#include "dist/data_parallel.h"
#include "io/checkpoint.h"

namespace lf {

class DivergenceGuard {
 public:
  // path: the run's checkpoint file; params: the weights a checkpoint would hold; saved: the step the file
  // holds now (0: none written); advice: what to change, e.g. "start again with a lower --lr".
  DivergenceGuard(std::string path, std::vector<Tensor> params, int64_t saved, std::string advice);

  // lf::Error "step S: the <what> is <value>: training diverged; ..." when value is not finite.
  void check(int64_t step, const char* what, double value) const;
  // One optimizer step on `loss` (a scalar): checks the loss, backward, clips the gradient norm to `clip`,
  // checks the norm, steps. Returns the loss. In a data-parallel job (set_data_parallel) `loss` is this
  // rank's share of the global batch's loss: the returned and checked loss is the sum over the ranks, and
  // the gradients are summed over the ranks before clipping, so every rank takes the same step.
  double step(int64_t step, const Tensor& loss, Optimizer& opt, double clip) const;
  // Writes `ck` unless a weight is NaN or infinite (then lf::Error, and the file keeps its last state). In a
  // data-parallel job only rank 0 writes (every rank holds the same weights).
  void save(const Module& model, const Optimizer& opt, const Checkpoint& ck);
  void set_data_parallel(GradientReducer* reducer) { reducer_ = reducer; }
  int64_t saved() const { return saved_; }

 private:
  std::string kept() const;  // "<path> holds step S, ..." or "no checkpoint was written"
  std::string path_, advice_;
  std::vector<Tensor> params_;
  int64_t saved_;
  GradientReducer* reducer_ = nullptr;
};

}  // namespace lf
