// What keeps a GPU training step free of host round trips, and the kernels that replaced slower ones:
// deferred index checks (raised at the next synchronisation), synchronize(), clip_grad_norm's one read,
// two-level batched GEMMs in one cuBLAS call (strided or pointer arrays), tiled bias-gradient reductions.
// Each against the CPU. Without a GPU (or in a build without CUDA) each test says so and passes.
#include <cmath>

#include "backends/profiler.h"
#include "nn/optim.h"
#include "tests/backends/cuda/gpu_compare.h"

using namespace lf;
using namespace lf::test::gpu;

TEST_CASE("cuda: a bad index is raised at the next synchronisation, once, naming the op") {
  LF_REQUIRE_GPU();
  Tensor w = randn({4, 3}).to(kGpu);
  Tensor bad = from_vector(std::vector<int64_t>{0, 2, 5}, {3}, kGpu);
  Tensor out = embedding(w, bad);  // queued: the host has not waited for the GPU yet
  Tensor fine = embedding(w, from_vector(std::vector<int64_t>{1}, {1}, kGpu));
  CHECK_ERROR(sum(out).item(), "embedding: index 5 is out of range for 4 rows", "on the GPU");
  CHECK(max_abs_diff(fine, w.to(Device::cpu()).narrow(0, 1, 1)) == 0);  // raised once: this read is clean
  // the first failure wins, whatever fails after it
  Tensor x = randn({2, 3}).to(kGpu);
  (void)index_select(x, 1, from_vector(std::vector<int64_t>{-3}, {1}, kGpu));
  (void)embedding(w, bad);
  CHECK_ERROR(backend_for(kGpu).synchronize(), "index_select: index -3 is out of range for dim 1 of size 3");
  backend_for(kGpu).synchronize();  // nothing pending
  // cross_entropy: ignore_index is not an error; a target outside [0, C) is
  Tensor logits = randn({3, 4}).to(kGpu);
  CHECK(
      std::isfinite(cross_entropy(logits, from_vector(std::vector<int64_t>{1, -100, 3}, {3}, kGpu)).item()));
  Tensor loss = cross_entropy(logits, from_vector(std::vector<int64_t>{1, 4, -100}, {3}, kGpu), -100);
  CHECK_ERROR(loss.item(), "cross_entropy: target 4 is out of range for 4 classes (ignore_index is -100)");
}

TEST_CASE("cuda: the profiler times GPU work; under it a bad index fails in the op itself") {
  LF_REQUIRE_GPU();
  Tensor w = randn({4, 3}).to(kGpu);
  Profiler p;  // it synchronises after every primitive, so a check fails where it is made
  (void)embedding(w, from_vector(std::vector<int64_t>{3, 0}, {2}, kGpu));
  CHECK(p.table().find("check_indices") != std::string::npos);
  CHECK(p.table().find("index_select") != std::string::npos);
  CHECK_ERROR(embedding(w, from_vector(std::vector<int64_t>{9}, {1}, kGpu)), "embedding: index 9");
}

TEST_CASE("cuda: clip_grad_norm matches the CPU (one read of the total)") {
  LF_REQUIRE_GPU();
  manual_seed(21);
  std::vector<Tensor> cpu, gpu;
  for (const Shape& s : {Shape{7, 5}, Shape{5}, Shape{3, 2, 4}}) {
    Tensor p = randn(s), g = randn(s);
    cpu.push_back(p.clone().requires_grad_());
    gpu.push_back(p.to(kGpu).requires_grad_());
    cpu.back().set_grad(g);
    gpu.back().set_grad(g.to(kGpu));
  }
  const double nc = clip_grad_norm(cpu, 1.0), ng = clip_grad_norm(gpu, 1.0);
  CHECK(ng == Approx(nc).epsilon(1e-6));
  for (size_t i = 0; i < cpu.size(); ++i) CHECK(max_abs_diff(gpu[i].grad(), cpu[i].grad()) < 1e-6);
}

TEST_CASE("cuda: two-level batched products (heads read in place) match the CPU") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(22);
    const double tol = dt == DType::f32 ? 1e-4 : 1e-11;
    // q, k as attention has them: [B, n, h, dh] viewed [B, h, n, dh]; (B, h) is walked by no single stride,
    // so the product goes through cuBLAS's pointer-array batch; its backward has both kinds
    Tensor q = leaf({2, 5, 3, 4}, dt), k = leaf({2, 5, 3, 4}, dt);
    check_gpu_matches_cpu(
        [](const std::vector<Tensor>& in) {
          return matmul(in[0].transpose(1, 2), in[1].transpose(1, 2).transpose(2, 3));  // [2, 3, 5, 5]
        },
        {q, k}, tol);
    // a shared projection against per-head values: stride 0 on one operand
    Tensor e = leaf({5, 2}, dt);
    check_gpu_matches_cpu(
        [](const std::vector<Tensor>& in) { return matmul(in[0].transpose(1, 2).transpose(2, 3), in[1]); },
        {k, e}, tol);
  }
}

TEST_CASE("cuda: bias gradients and middle reductions (tiled, split rows) match the CPU") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(23);
    const double tol = dt == DType::f32 ? 1e-4 : 1e-10;
    // the training step's shape: [4096, 128] rows summed per column (linear's bias gradient)
    Tensor x = leaf({4096, 128}, dt), w = leaf({64, 128}, dt), b = leaf({64}, dt);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
                          {x, w, b}, tol);
    // columns that are not a multiple of the 32-column tile, an outer dim, few rows (no split), max
    Tensor y = leaf({3, 700, 45}, dt), few = leaf({2, 5, 33}, dt);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return sum(in[0], {1}); }, {y}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return max(in[0], {1}); }, {y}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return sum(in[0], {1}); }, {few}, tol);
  }
  // i64 sums are exact
  Tensor i = randint(-1000, 1000, {3000, 37});
  CHECK(sum(i.to(kGpu), {0}).to_vector<int64_t>() == sum(i, {0}).to_vector<int64_t>());
}
