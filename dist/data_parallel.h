#pragma once
// Data parallelism (as PyTorch's DistributedDataParallel): N ranks hold the same model, each computes the
// gradient of its shard of the global batch, and the gradients are summed across ranks before the
// optimizer steps, so every rank takes the same step and the weights stay identical, bit for bit.
//
//   broadcast_tensors(comm, model.parameters() + buffers)  once: every rank starts from rank 0's weights
//   per step: loss_r = (sum of rank r's per-example losses) / (examples in the global batch)
//             loss_r.backward()                           gradient of rank r's share of the global mean
//             reducer.all_reduce_gradients()              sum over ranks = the gradient of the global mean
//
// The gradients go in buckets: the parameters, in their fixed order, are packed into flat buffers of about
// `bucket_bytes` (PyTorch DDP's default is 25 MB; 4 MB here suits a model of a few MB), and each buffer is
// one all-reduce. One call per parameter would pay the per-call latency ~50 times per step for the MLM;
// one call for everything would need a second copy of all gradients. A parameter used in several places
// (Linformer's layerwise E) is one tensor and is reduced once.
#include <string>
#include <vector>

#include "core/tensor.h"
#include "dist/communicator.h"

namespace lf {

inline constexpr int64_t kDefaultBucketBytes = int64_t(4) << 20;

class GradientReducer {
 public:
  // params: the trained parameters (f32, CPU), in the same order on every rank (Module::named_parameters
  // gives that). bucket_bytes: the size at which a bucket is closed (a larger parameter has one of its own).
  GradientReducer(Communicator& comm, NamedTensors params, int64_t bucket_bytes = kDefaultBucketBytes);

  // Sums every parameter's gradient over the ranks, in place. A parameter without a gradient on this rank
  // (not used by its shard) counts as zeros and has one afterwards.
  void all_reduce_gradients();
  // The sum of `v` over the ranks (e.g. each rank's share of the loss).
  double sum(double v) const;

  struct Bucket {
    std::vector<size_t> params;  // indices into the parameter list
    int64_t numel = 0;
  };
  const std::vector<Bucket>& buckets() const { return buckets_; }
  Communicator& comm() const { return comm_; }
  // Seconds spent in the all-reduce calls so far (what a step pays for communication).
  double seconds_communicating() const { return comm_seconds_; }

 private:
  Communicator& comm_;
  NamedTensors params_;
  std::vector<Bucket> buckets_;
  std::vector<float> buffer_;  // the largest bucket
  double comm_seconds_ = 0;
};

// Copies rank 0's values of `tensors` (f32 or i64 CPU tensors: parameters and buffers) to every rank, in
// place: every rank starts identical, whatever seed it was given.
void broadcast_tensors(Communicator& comm, const std::vector<Tensor>& tensors, int root = 0);

// The rank numbers where `text` (e.g. the command line) differs from rank 0's; empty when all agree. Every
// rank gets the same answer, so all can refuse to start together.
std::vector<int> ranks_differing(Communicator& comm, const std::string& text);

}  // namespace lf
