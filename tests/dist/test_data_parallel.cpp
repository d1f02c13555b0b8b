// dist/data_parallel: bucket layout, and (run by ctest under `mpirun -np 2` when the build has MPI, label
// "mpi") the start-up broadcast, the bucketed all-reduce against a hand-computed sum and against one bucket
// per parameter, a missing gradient, Linformer's shared E, and the command-line check.
#include "dist/data_parallel.h"
#include "nn/models.h"
#include "tests/support/helpers.h"

using namespace lf;

namespace {

// Parameters of the given sizes, [n] each, with requires_grad.
NamedTensors params_of(const std::vector<int64_t>& sizes) {
  NamedTensors p;
  for (size_t i = 0; i < sizes.size(); ++i)
    p.emplace_back(fmt::format("p{}", i), zeros({sizes[i]}).requires_grad_());
  return p;
}

// Gives every parameter the gradient g[j] = (rank + 1) * (j + 1) + 1000 * i (i: the parameter).
void set_rank_gradients(NamedTensors& params, int rank) {
  for (size_t i = 0; i < params.size(); ++i) {
    std::vector<float> g(size_t(params[i].second.numel()));
    for (size_t j = 0; j < g.size(); ++j) g[j] = float((rank + 1) * int64_t(j + 1) + 1000 * int64_t(i));
    params[i].second.set_grad(from_vector(g, params[i].second.shape()));
  }
}

}  // namespace

TEST_CASE("GradientReducer packs parameters in order into buckets of at most bucket_bytes") {
  NamedTensors p = params_of({10, 20, 30, 100, 5, 5});
  GradientReducer r(world(), p, /*bucket_bytes=*/40 * 4);  // 40 floats
  const auto& b = r.buckets();
  REQUIRE(b.size() == 4);
  CHECK(b[0].params == std::vector<size_t>{0, 1});  // 30 floats; the next would make 60
  CHECK(b[1].params == std::vector<size_t>{2});
  CHECK(b[2].params == std::vector<size_t>{3});  // larger than a bucket: one of its own, not split
  CHECK(b[3].params == std::vector<size_t>{4, 5});
  CHECK(b[2].numel == 100);
  CHECK(GradientReducer(world(), p).buckets().size() == 1);  // 4 MB hold all
  CHECK_ERROR(GradientReducer(world(), p, 0), "bucket_bytes 0");
  NamedTensors wrong = {{"w", zeros({3}, DType::f64).requires_grad_()}};
  CHECK_ERROR(GradientReducer(world(), wrong), "w must be a contiguous f32 CPU tensor");
}

TEST_CASE("a reduction over the ranks gives every rank the sum") {
  Communicator& comm = world();
  const int R = comm.size();
  NamedTensors p = params_of({3, 7, 2});
  set_rank_gradients(p, comm.rank());
  GradientReducer(comm, p, 8 * 4).all_reduce_gradients();
  for (size_t i = 0; i < p.size(); ++i) {
    const std::vector<float> g = p[i].second.grad().to_vector<float>();
    for (size_t j = 0; j < g.size(); ++j)  // sum over r of (r + 1) (j + 1) + 1000 i
      CHECK(g[j] == float(R * (R + 1) / 2 * int64_t(j + 1) + R * 1000 * int64_t(i)));
  }
  GradientReducer r(comm, p);
  CHECK(r.sum(comm.rank() + 0.5) == Approx(R * (R - 1) / 2.0 + 0.5 * R));
}

TEST_CASE("buckets of any size give the same gradients, bit for bit") {
  Communicator& comm = world();
  manual_seed(100 + uint64_t(comm.rank()));  // different gradients on every rank
  auto random_grads = [](NamedTensors& p) {
    for (auto& [name, t] : p) t.set_grad(randn(t.shape()));
  };
  NamedTensors a = params_of({64, 33, 1, 500, 7}), b = params_of({64, 33, 1, 500, 7});
  random_grads(a);
  for (size_t i = 0; i < a.size(); ++i) b[i].second.set_grad(a[i].second.grad().clone());
  GradientReducer(comm, a, 1).all_reduce_gradients();  // one parameter per bucket
  GradientReducer(comm, b).all_reduce_gradients();     // everything in one bucket
  for (size_t i = 0; i < a.size(); ++i)
    CHECK(a[i].second.grad().to_vector<float>() == b[i].second.grad().to_vector<float>());
}

TEST_CASE("two parameters sharing one gradient tensor each get their own sum") {
  // autograd may hand the same tensor to two leaves (add's backward returns {g, g}); the reducer must not
  // write through one into the other
  Communicator& comm = world();
  NamedTensors p = params_of({3, 3});
  Tensor shared = full({3}, 1.0);
  p[0].second.set_grad(shared);
  p[1].second.set_grad(shared);
  GradientReducer(comm, p, 4).all_reduce_gradients();  // one parameter per bucket
  const std::vector<float> want(3, float(comm.size()));
  CHECK(p[0].second.grad().to_vector<float>() == want);
  CHECK(p[1].second.grad().to_vector<float>() == want);
  CHECK(shared.to_vector<float>() == std::vector<float>(3, 1.0f));  // the original is left alone
}

TEST_CASE("a parameter without a gradient on a rank counts as zeros") {
  Communicator& comm = world();
  NamedTensors p = params_of({4});
  if (comm.rank() == 0) p[0].second.set_grad(full({4}, 2.5));
  GradientReducer(comm, p).all_reduce_gradients();
  if (comm.size() > 1) {
    REQUIRE(p[0].second.grad().defined());
    CHECK(p[0].second.grad().to_vector<float>() == std::vector<float>(4, 2.5f));
  }
}

TEST_CASE("broadcast_tensors gives every rank rank 0's weights; Linformer's shared E is reduced once") {
  Communicator& comm = world();
  EncoderConfig cfg;
  cfg.vocab = 32, cfg.dim = 8, cfg.depth = 2, cfg.heads = 2, cfg.max_len = 8, cfg.k = 4;
  cfg.kind = AttentionKind::linformer, cfg.sharing = Sharing::layerwise;
  manual_seed(7 + uint64_t(comm.rank()));  // a different init on every rank
  MaskedLM model(cfg);
  std::vector<Tensor> state;
  for (auto& [name, t] : model.state_dict()) state.push_back(t);
  broadcast_tensors(comm, state);
  // every rank now has rank 0's init, the one seed 7 gives
  manual_seed(7);
  MaskedLM rank0(cfg);
  const NamedTensors mine = model.state_dict(), want = rank0.state_dict();
  for (size_t i = 0; i < mine.size(); ++i)
    CHECK(mine[i].second.to_vector<float>() == want[i].second.to_vector<float>());

  int shared = 0;
  for (auto& [name, t] : model.named_parameters()) shared += name == "E";
  CHECK(shared == 1);  // one tensor for every layer, head, key and value: one slot in one bucket
  Tensor ids = from_vector(std::vector<int64_t>(16, int64_t(comm.rank() + 1)), {2, 8});
  sum(model.forward(ids)).backward();
  std::vector<float> local;
  for (auto& [name, t] : model.named_parameters())
    if (name == "E") local = t.grad().to_vector<float>();
  GradientReducer(comm, model.named_parameters()).all_reduce_gradients();
  std::vector<float> summed = local;
  comm.all_reduce_sum(summed.data(), int64_t(summed.size()));
  for (auto& [name, t] : model.named_parameters())
    if (name == "E") CHECK(t.grad().to_vector<float>() == summed);
}

TEST_CASE("ranks_differing names the ranks whose text is not rank 0's") {
  Communicator& comm = world();
  CHECK(ranks_differing(comm, "--batch 8").empty());
  const std::vector<int> d = ranks_differing(comm, comm.rank() == 1 ? "--batch 9" : "--batch 8");
  if (comm.size() > 1)
    CHECK(d == std::vector<int>{1});
  else
    CHECK(d.empty());
}
