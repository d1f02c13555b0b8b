// Bucketed gradient all-reduce, the start-up broadcast and the check that all ranks run the same command.
#include "dist/data_parallel.h"

#include <chrono>
#include <cstring>

#include "core/error.h"

namespace lf {

namespace {

// The f32 CPU tensor of a parameter or gradient, checked: the MPI calls read and write its memory.
float* host_floats(const Tensor& t, const std::string& name) {
  LF_CHECK(t.device() == Device::cpu() && t.dtype() == DType::f32 && t.is_contiguous(),
           "data parallel: {} must be a contiguous f32 CPU tensor (got {} on {}); the MPI communicator "
           "reduces host memory",
           name, t.dtype(), t.device());
  return t.data<float>();
}

}  // namespace

GradientReducer::GradientReducer(Communicator& comm, NamedTensors params, int64_t bucket_bytes)
    : comm_(comm), params_(std::move(params)) {
  LF_CHECK(bucket_bytes > 0, "GradientReducer: bucket_bytes {} must be positive", bucket_bytes);
  const int64_t cap = bucket_bytes / int64_t(sizeof(float));
  int64_t largest = 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    host_floats(params_[i].second, params_[i].first);
    const int64_t n = params_[i].second.numel();
    // Close the open bucket when this parameter would overflow it (a parameter is never split).
    if (buckets_.empty() || (buckets_.back().numel > 0 && buckets_.back().numel + n > cap))
      buckets_.emplace_back();
    buckets_.back().params.push_back(i);
    buckets_.back().numel += n;
    largest = std::max(largest, buckets_.back().numel);
  }
  buffer_.resize(size_t(largest));
}

void GradientReducer::all_reduce_gradients() {
  if (comm_.size() == 1) return;
  for (const Bucket& b : buckets_) {
    // pack: the bucket's gradients one after another (zeros for a parameter without one)
    float* at = buffer_.data();
    for (size_t i : b.params) {
      const auto& [name, p] = params_[i];
      const Tensor g = p.grad();
      const size_t n = size_t(p.numel());
      if (g.defined())
        std::memcpy(at, host_floats(g.contiguous(), name + ".grad"), n * sizeof(float));
      else
        std::memset(at, 0, n * sizeof(float));
      at += n;
    }
    const auto t0 = std::chrono::steady_clock::now();
    comm_.all_reduce_sum(buffer_.data(), b.numel);
    comm_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // unpack into new gradient tensors: a gradient may be shared (autograd never writes one in place, so
    // one tensor can be the gradient of two leaves; docs/architecture.md), and so is never overwritten
    at = buffer_.data();
    for (size_t i : b.params) {
      Tensor& p = params_[i].second;
      Tensor g = Tensor::empty(p.shape(), DType::f32, p.device());
      std::memcpy(g.data<float>(), at, size_t(p.numel()) * sizeof(float));
      p.set_grad(g);
      at += p.numel();
    }
  }
}

double GradientReducer::sum(double v) const {
  comm_.all_reduce_sum(&v, 1);
  return v;
}

void broadcast_tensors(Communicator& comm, const std::vector<Tensor>& tensors, int root) {
  if (comm.size() == 1) return;
  for (const Tensor& t : tensors) {
    LF_CHECK(t.device() == Device::cpu() && t.is_contiguous(),
             "broadcast_tensors: a tensor of shape {} is not a contiguous CPU tensor", shape_str(t.shape()));
    comm.broadcast(t.raw_data(), t.numel() * int64_t(dtype_size(t.dtype())), root);
  }
}

std::vector<int> ranks_differing(Communicator& comm, const std::string& text) {
  // Rank 0's text goes to everyone (its length first); each rank compares, and a max-reduction of
  // "differs" flags, one per rank, tells every rank who differs.
  int64_t len = int64_t(text.size());
  comm.broadcast(&len, sizeof len, 0);
  std::string first = comm.rank() == 0 ? text : std::string(size_t(len), '\0');
  comm.broadcast(first.data(), len, 0);
  std::vector<int64_t> differs(size_t(comm.size()), 0);
  differs[size_t(comm.rank())] = text != first;
  comm.all_reduce_max(differs.data(), int64_t(differs.size()));
  std::vector<int> out;
  for (int r = 0; r < comm.size(); ++r)
    if (differs[size_t(r)]) out.push_back(r);
  return out;
}

}  // namespace lf
