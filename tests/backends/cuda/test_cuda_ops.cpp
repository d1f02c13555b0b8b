// The CUDA backend against the CPU backend: every primitive, through the ops API, with the same inputs on
// both devices; forward values and gradients must agree (exactly for copies and dropout masks, to rounding
// elsewhere). Without a GPU (or in a build without CUDA) each test says so and passes.
#include <cmath>

#include "backends/cuda_options.h"
#include "nn/optim.h"
#include "ops/optim_step.h"
#include "tests/backends/cuda/gpu_compare.h"

using namespace lf;
using lf::test::all_close;
using lf::test::max_abs_diff;
using namespace lf::test::gpu;

TEST_CASE("cuda: tensors move to the GPU and back unchanged") {
  LF_REQUIRE_GPU();
  manual_seed(1);
  Tensor x = randn({3, 5, 7});
  Tensor g = x.to(kGpu);
  CHECK(g.device() == kGpu);
  CHECK(max_abs_diff(g.to(Device::cpu()), x) == 0);
  // strided views in both directions, and every dtype
  CHECK(max_abs_diff(x.transpose(0, 2).to(kGpu), x.transpose(0, 2)) == 0);
  CHECK(max_abs_diff(g.transpose(0, 2).to(Device::cpu()), x.transpose(0, 2)) == 0);
  CHECK(max_abs_diff(g.slice(1, 1, 5, 2).to(Device::cpu()), x.slice(1, 1, 5, 2)) == 0);
  Tensor ids = from_vector(std::vector<int64_t>{5, -3, 1ll << 40}, {3});
  CHECK(ids.to(kGpu).to(Device::cpu()).to_vector<int64_t>() == ids.to_vector<int64_t>());
  // dtype conversion on the GPU
  CHECK(max_abs_diff(g.to(DType::f64), x.to(DType::f64)) == 0);
  Tensor r = from_vector(std::vector<float>{-2.5f, 0.0f, 3.75f}, {3}).to(kGpu);
  CHECK(r.to(DType::i64).to(Device::cpu()).to_vector<int64_t>() == std::vector<int64_t>{-2, 0, 3});
  CHECK(g.slice(0, 1, 2).slice(1, 2, 3).slice(2, 3, 4).item() == x.at({1, 2, 3}));
}

TEST_CASE("cuda: copy, fill and contiguous on strided views") {
  LF_REQUIRE_GPU();
  manual_seed(2);
  Tensor x = randn({4, 6, 5});
  Tensor g = x.to(kGpu);
  // gather from permuted / sliced / expanded views
  CHECK(max_abs_diff(g.permute({2, 0, 1}).contiguous(), x.permute({2, 0, 1}).contiguous()) == 0);
  CHECK(max_abs_diff(g.slice(2, 1, 5, 2).contiguous(), x.slice(2, 1, 5, 2).contiguous()) == 0);
  CHECK(max_abs_diff(g.slice(0, 0, 1).expand({3, 6, 5}).contiguous(), x.slice(0, 0, 1).expand({3, 6, 5}).contiguous()) ==
        0);
  // the backend's copy into a strided destination, and fill of a strided view
  Backend& be = backend_for(kGpu);
  Tensor dst = zeros({5, 6}, DType::f32, kGpu);
  Tensor src = randn({6, 5}).to(kGpu);
  be.copy(src, dst.transpose(0, 1));
  CHECK(max_abs_diff(dst, src.transpose(0, 1).contiguous()) == 0);
  be.fill(dst.slice(1, 0, 6, 2), 7.0);
  auto v = dst.to_vector<float>();
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 6; ++j)
      if (j % 2 == 0) CHECK(v[size_t(i * 6 + j)] == 7.0f);
  CHECK(full({3, 2}, -1.5, DType::f64, kGpu).to_vector<double>() == std::vector<double>(6, -1.5));
  CHECK(zeros({1000}, DType::i64, kGpu).to_vector<int64_t>() == std::vector<int64_t>(1000, 0));
  CHECK(arange(5, DType::i64, kGpu).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
}

TEST_CASE("cuda: unary ops match the CPU, contiguous and strided") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(3);
    Tensor x = leaf({5, 7}, dt);
    const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
        {"neg", [](const Tensor& a) { return neg(a); }},
        {"exp", [](const Tensor& a) { return exp(a); }},
        {"log", [](const Tensor& a) { return log(abs(a) + 0.1); }},
        {"sqrt", [](const Tensor& a) { return sqrt(abs(a) + 0.1); }},
        {"rsqrt", [](const Tensor& a) { return rsqrt(abs(a) + 0.1); }},
        {"tanh", [](const Tensor& a) { return tanh(a); }},
        {"sigmoid", [](const Tensor& a) { return sigmoid(a); }},
        {"relu", [](const Tensor& a) { return relu(a); }},
        {"gelu", [](const Tensor& a) { return gelu(a); }},
        {"gelu_tanh", [](const Tensor& a) { return gelu(a, true); }},
        {"silu", [](const Tensor& a) { return silu(a); }},
        {"scalars", [](const Tensor& a) { return (2.0 - a) * 3.0 + 0.5; }},
        {"div_scalar", [](const Tensor& a) { return 1.0 / (abs(a) + 1.0); }},
        {"pow", [](const Tensor& a) { return pow(a, 2.0) + pow(abs(a) + 0.5, 1.7) + pow(a, 3.0); }},
    };
    for (const auto& [name, op] : ops) {
      INFO("op " << name);
      check_gpu_matches_cpu([&](const std::vector<Tensor>& in) { return op(in[0]); }, {x}, tol_for(dt));
      // the same on a transposed (non-contiguous) view
      check_gpu_matches_cpu([&](const std::vector<Tensor>& in) { return op(in[0].transpose(0, 1)); }, {x},
                            tol_for(dt));
    }
  }
  // the i64 subset
  Tensor i = from_vector(std::vector<int64_t>{-3, 0, 4, 9}, {4});
  CHECK((neg(i.to(kGpu)) * 3.0 + 1.0).to_vector<int64_t>() == (neg(i) * 3.0 + 1.0).to_vector<int64_t>());
  CHECK(abs(i.to(kGpu)).to_vector<int64_t>() == std::vector<int64_t>{3, 0, 4, 9});
}

TEST_CASE("cuda: binary ops with broadcasting match the CPU") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(4);
    Tensor a = leaf({4, 1, 5}, dt), b = leaf({3, 5}, dt), c = leaf({5}, dt);
    double tol = tol_for(dt);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return in[0] + in[1]; }, {a, b}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return in[0] - in[1] * in[2]; }, {a, b, c}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return in[0] / (abs(in[1]) + 0.5); }, {a, b}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return maximum(in[0], in[1]); }, {a, b}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return pow(abs(in[0]) + 0.5, in[1]); }, {a, b}, tol);
    // a transposed operand broadcast against a row
    Tensor m = leaf({5, 4}, dt);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return in[0].transpose(0, 1) * in[1]; }, {m, c}, tol);
    // more dims than the kernels' descriptor holds, but mergeable: a contiguous 10-d tensor
    Tensor big = leaf({2, 1, 2, 1, 2, 1, 2, 1, 2, 3}, dt);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {big}, tol);
  }
  // comparisons (not differentiable), also on i64
  manual_seed(5);
  Tensor x = randint(0, 3, {6, 4}), y = randint(0, 3, {4});
  for (auto cmp : {&eq, &gt, &lt}) {
    CHECK(cmp(x.to(kGpu), y.to(kGpu)).to_vector<int64_t>() == cmp(x, y).to_vector<int64_t>());
    Tensor xf = x.to(DType::f32), yf = y.to(DType::f32);
    CHECK(max_abs_diff(cmp(xf.to(kGpu), yf.to(kGpu)), cmp(xf, yf)) == 0);
  }
  CHECK((x.to(kGpu) + y.to(kGpu)).to_vector<int64_t>() == (x + y).to_vector<int64_t>());
}

TEST_CASE("cuda: reductions match the CPU") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(6);
    Tensor x = leaf({6, 50, 40}, dt);
    double tol = dt == DType::f32 ? 1e-4 : 1e-10;
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return sum(in[0]); }, {x}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return sum(in[0], {1}); }, {x}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return mean(in[0], {0, 2}, true); }, {x}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return max(in[0], {2}); }, {x}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return max(in[0]); }, {x}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return var(in[0], {1}); }, {x}, tol);
    // rows long enough for a block per row (> 1024) and for the split two-pass path (one row of 200k)
    Tensor wide = leaf({3, 3000}, dt);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return sum(in[0], {1}); }, {wide}, tol);
    Tensor flat = leaf({200000}, dt);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return sum(in[0]) / 1000.0; }, {flat}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return max(in[0]); }, {flat}, tol);
  }
  Tensor i = randint(-50, 50, {7, 9});
  CHECK(sum(i.to(kGpu), {1}).to_vector<int64_t>() == sum(i, {1}).to_vector<int64_t>());
  CHECK(max(i.to(kGpu)).to_vector<int64_t>() == max(i).to_vector<int64_t>());
  // a NaN makes the max NaN, as on the CPU
  Tensor n = from_vector(std::vector<float>{1.0f, NAN, 3.0f}, {3}, kGpu);
  CHECK(std::isnan(max(n).item()));
}

TEST_CASE("cuda: matmul (transposed, batched, broadcast) matches the CPU") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(7);
    double tol = dt == DType::f32 ? 1e-4 : 1e-11;
    Tensor a = leaf({5, 7}, dt), b = leaf({7, 3}, dt), bt = leaf({3, 7}, dt), at = leaf({7, 5}, dt);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {a, b}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return matmul(in[0], in[1].transpose(0, 1)); },
                          {a, bt}, tol);
    check_gpu_matches_cpu(
        [](const std::vector<Tensor>& in) { return matmul(in[0].transpose(0, 1), in[1].transpose(0, 1)); }, {at, bt},
        tol);
    Tensor ba = leaf({2, 3, 4, 5}, dt), bb = leaf({2, 3, 5, 6}, dt), shared = leaf({5, 6}, dt), bc = leaf({3, 5, 6}, dt);
    Tensor one = leaf({2, 1, 4, 5}, dt);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {ba, bb}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {ba, shared}, tol);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {one, bc}, tol);
    Tensor v = leaf({7}, dt);
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {v, b}, tol);
    // an empty inner dimension: the product is all zeros
    Tensor e = matmul(zeros({3, 0}, dt, kGpu), zeros({0, 4}, dt, kGpu));
    CHECK(e.to_vector<double>() == std::vector<double>(12, 0.0));
  }
}

TEST_CASE("cuda: TF32 is off by default and can be switched on") {
  LF_REQUIRE_GPU();
  CHECK_FALSE(cuda_tf32());
  manual_seed(8);
  Tensor a = randn({64, 256}), b = randn({256, 32});
  Tensor ref = matmul(a, b);
  CHECK(max_abs_diff(matmul(a.to(kGpu), b.to(kGpu)), ref) < 1e-3);
  set_cuda_tf32(true);
  CHECK(cuda_tf32());
  double err = max_abs_diff(matmul(a.to(kGpu), b.to(kGpu)), ref);
  set_cuda_tf32(false);
  CHECK(err < 0.5);  // TF32 keeps 10 mantissa bits: ~1e-3 relative on sums of 256 products of size ~1
}

TEST_CASE("cuda: softmax and log_softmax match the CPU, short and long rows") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(9);
    double tol = tol_for(dt);
    for (int64_t c : {1, 10, 1500}) {  // a warp per row up to 1024 columns, a block beyond
      INFO("columns " << c);
      Tensor x = leaf({6, c}, dt, 3.0);
      check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return softmax(in[0], -1); }, {x}, tol);
      check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return log_softmax(in[0], -1); }, {x}, tol);
    }
    Tensor y = leaf({4, 5, 3}, dt);  // over a middle dim
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return softmax(in[0], 1); }, {y}, tol);
  }
}

TEST_CASE("cuda: layer_norm matches the CPU, with and without affine parameters") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(10);
    double tol = dt == DType::f32 ? 1e-4 : 1e-10;
    // 300 rows: the dw/db column sums split the rows between blocks; 1500 columns: a block per row
    for (Shape shape : {Shape{300, 32}, Shape{2, 3, 1500}}) {
      INFO("shape " << shape_str(shape));
      int64_t c = shape.back();
      Tensor x = leaf(shape, dt), w = leaf({c}, dt), b = leaf({c}, dt);
      check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2]); },
                            {x, w, b}, tol);
      check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), Tensor()); }, {x},
                            tol);
      check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], Tensor()); }, {x, w},
                            tol);
    }
  }
}

TEST_CASE("cuda: cross_entropy with ignore_index matches the CPU") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(11);
    double tol = tol_for(dt);
    for (int64_t c : {10, 3000}) {
      INFO("classes " << c);
      Tensor logits = leaf({2, 8, c}, dt, 2.0);
      Tensor target = randint(0, c, {2, 8});
      auto tv = target.to_vector<int64_t>();
      tv[1] = tv[6] = tv[11] = -100;  // ignored rows
      check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1]); },
                            {logits, from_vector(tv, {2, 8})}, tol);
      tv[1] = tv[6] = tv[11] = 3;  // another ignore_index, which is also a valid class
      check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1], 3); },
                            {logits, from_vector(tv, {2, 8})}, tol);
    }
  }
  // a target outside [0, C) is refused, naming it
  Tensor logits = zeros({2, 4}, DType::f32, kGpu);
  Tensor bad = from_vector(std::vector<int64_t>{1, 7}, {2}, kGpu);
  // checked on the GPU and raised at the next synchronisation: here the loss's item()
  CHECK_ERROR(cross_entropy(logits, bad).item(), "cross_entropy: target 7 is out of range", "on the GPU");
}

TEST_CASE("cuda: dropout masks and random tensors equal the CPU's for the same seed") {
  LF_REQUIRE_GPU();
  Tensor x = ones({37, 41});
  for (double p : {0.1, 0.5}) {
    manual_seed(12);
    Tensor yc = dropout(x, p, true);
    manual_seed(12);
    Tensor yg = dropout(x.to(kGpu), p, true);
    CHECK(max_abs_diff(yg, yc) == 0);  // bit-identical masks
  }
  // an offset that is not a multiple of 4 (set by hand): the GPU splits Philox blocks differently
  set_generator_state({99, 6});
  Tensor mc = dropout(x, 0.3, true);
  set_generator_state({99, 6});
  Tensor mg = dropout(x.to(kGpu), 0.3, true);
  CHECK(max_abs_diff(mg, mc) == 0);
  // uniform is exact up to float rounding of the same double; normal uses the GPU's sinf/cosf/logf
  manual_seed(13);
  Tensor uc = rand({1001}), nc = randn({1001}, DType::f64);
  manual_seed(13);
  Tensor ug = rand({1001}, DType::f32, kGpu), ng = randn({1001}, DType::f64, kGpu);
  CHECK(max_abs_diff(ug, uc) <= 1e-7);
  CHECK(max_abs_diff(ng, nc) <= 1e-5);
}

TEST_CASE("cuda: embedding gather and scatter-add match the CPU") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(14);
    Tensor w = leaf({10, 6}, dt);
    Tensor ids = from_vector(std::vector<int64_t>{1, 3, 1, 9, 0, 3, 3, 7}, {2, 4});  // repeats add up in backward
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return embedding(in[0], in[1]); }, {w, ids},
                          tol_for(dt));
    // index_select along a middle dim, with a repeated index
    Tensor x = leaf({3, 5, 4}, dt);
    Tensor idx = from_vector(std::vector<int64_t>{4, 0, 4}, {3});
    check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return index_select(in[0], 1, in[1]); }, {x, idx},
                          tol_for(dt));
  }
  Tensor w = zeros({4, 2}, DType::f32, kGpu);
  CHECK_ERROR(embedding(w, from_vector(std::vector<int64_t>{0, 4}, {2}, kGpu)).to(Device::cpu()),
              "embedding: index 4 is out of range for 4 rows", "on the GPU");
}

TEST_CASE("cuda: masked_fill matches the CPU") {
  LF_REQUIRE_GPU();
  manual_seed(15);
  Tensor x = leaf({3, 4, 5});
  Tensor mask_f = from_vector(std::vector<float>{1, 0, 0, 1, 0}, {5});
  Tensor mask_i = from_vector(std::vector<int64_t>{0, 1, 1, 0}, {4, 1});
  check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return masked_fill(in[0], in[1], -1e9); }, {x, mask_f},
                        1e-6);
  check_gpu_matches_cpu([](const std::vector<Tensor>& in) { return masked_fill(in[0], in[1], 2.5); }, {x, mask_i},
                        1e-6);
}

TEST_CASE("cuda: the fused AdamW step matches the CPU") {
  LF_REQUIRE_GPU();
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    manual_seed(16);
    // tensors of different sizes, one of them empty: one launch walks them all
    std::vector<Shape> shapes = {{7, 3}, {1}, {0}, {1000}};
    NamedTensors cpu_params, gpu_params;
    for (size_t i = 0; i < shapes.size(); ++i) {
      Tensor p = randn(shapes[i], dt).detach().requires_grad_();
      cpu_params.push_back({std::to_string(i), p});
      gpu_params.push_back({std::to_string(i), p.detach().to(kGpu).requires_grad_()});
    }
    AdamW cpu_opt(cpu_params, 1e-2, 0.9, 0.99, 1e-8, 0.1), gpu_opt(gpu_params, 1e-2, 0.9, 0.99, 1e-8, 0.1);
    for (int step = 0; step < 3; ++step) {
      for (size_t i = 0; i < shapes.size(); ++i) {
        Tensor g = randn(shapes[i], dt);
        cpu_params[i].second.set_grad(g);
        gpu_params[i].second.set_grad(g.to(kGpu));
      }
      cpu_opt.step();
      gpu_opt.step();
    }
    double tol = dt == DType::f32 ? 1e-5 : 1e-12;
    for (size_t i = 0; i < shapes.size(); ++i) {
      INFO("parameter " << i);
      CHECK(all_close(gpu_params[i].second, cpu_params[i].second, tol, tol));
    }
    for (size_t i = 0; i < cpu_opt.state().size(); ++i)
      CHECK(all_close(gpu_opt.state()[i].second, cpu_opt.state()[i].second, tol, tol));
  }
}

TEST_CASE("cuda: memory_stats track GPU allocations") {
  LF_REQUIRE_GPU();
  Tensor warm = zeros({1}, DType::f32, kGpu);  // the allocator exists
  reset_peak_memory(kGpu);
  MemoryStats before = memory_stats(kGpu);
  {
    Tensor t = zeros({1 << 20}, DType::f32, kGpu);  // 4 MiB
    MemoryStats during = memory_stats(kGpu);
    CHECK(during.in_use >= before.in_use + (4 << 20));
    CHECK(during.peak >= during.in_use);
    CHECK(during.allocs >= before.allocs + 1);
  }
  MemoryStats after = memory_stats(kGpu);
  CHECK(after.in_use == before.in_use);
  CHECK(after.peak >= before.in_use + (4 << 20));
  CHECK(after.cached >= 4 << 20);  // kept for reuse
  Tensor again = zeros({1 << 20}, DType::f32, kGpu);  // served from the cache
  CHECK(memory_stats(kGpu).cached == after.cached - (4 << 20));
}

TEST_CASE("cuda: ops refuse inputs on different devices, naming both") {
  LF_REQUIRE_GPU();
  Tensor a = ones({2, 3}), b = ones({2, 3}, DType::f32, kGpu);
  CHECK_ERROR(add(a, b), "cpu", "cuda:0");
  CHECK_ERROR(matmul(a, b.transpose(0, 1)), "cpu", "cuda:0");
  CHECK_ERROR(masked_fill(b, a, 0.0), "cpu", "cuda:0");
  // the backend itself refuses a host tensor rather than dereference it on the GPU
  CHECK_ERROR(backend_for(kGpu).fill(a, 1.0), "fill", "cpu");
}
