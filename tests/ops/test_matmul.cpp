// matmul: values against a naive triple loop, every operand layout, broadcasting, gradients, errors.
#include "backends/profiler.h"
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::all_close;
using lf::test::leaf64;

namespace {

// Naive reference for a [B, m, k] @ b [B, k, n] given as contiguous f64 values.
Tensor reference_bmm(const Tensor& a, const Tensor& b) {
  std::vector<double> va = a.to(DType::f64).to_vector<double>(), vb = b.to(DType::f64).to_vector<double>();
  int64_t B = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
  std::vector<double> c(size_t(B * m * n), 0.0);
  for (int64_t z = 0; z < B; ++z)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t p = 0; p < k; ++p) c[(z * m + i) * n + j] += va[(z * m + i) * k + p] * vb[(z * k + p) * n + j];
  return from_vector(c, {B, m, n});
}

// Reference for any batched case: broadcast both operands explicitly, then the naive loop.
Tensor reference(const Tensor& a, const Tensor& b) {
  Shape ab(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes("test", ab, bb);
  Shape sa = batch, sb = batch;
  sa.insert(sa.end(), a.shape().end() - 2, a.shape().end());
  sb.insert(sb.end(), b.shape().end() - 2, b.shape().end());
  int64_t B = numel(batch);
  Tensor c = reference_bmm(a.expand(sa).reshape({B, a.size(-2), a.size(-1)}),
                           b.expand(sb).reshape({B, b.size(-2), b.size(-1)}));
  Shape out = batch;
  out.push_back(a.size(-2));
  out.push_back(b.size(-1));
  return c.reshape(out);
}

}  // namespace

TEST_CASE("matmul of two small matrices") {
  Tensor a = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector(std::vector<float>{7, 8, 9, 10, 11, 12}, {3, 2});
  Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{2, 2});
  CHECK(c.to_vector<float>() == std::vector<float>{58, 64, 139, 154});
}

TEST_CASE("matmul reads transposed and strided operands correctly") {
  manual_seed(3);
  Tensor a = randn({4, 5}, DType::f64), w = randn({3, 5}, DType::f64);
  Tensor wt = w.transpose(0, 1);  // [5, 3], column-major: passed as a transpose flag
  CHECK(all_close(matmul(a, wt), reference(a.unsqueeze(0), wt.contiguous().unsqueeze(0)).squeeze(0), 1e-12));
  Tensor at = randn({5, 4}, DType::f64).transpose(0, 1);  // both operands transposed
  CHECK(all_close(matmul(at, wt), reference(at.contiguous().unsqueeze(0), wt.contiguous().unsqueeze(0)).squeeze(0),
                  1e-12));
  // every other column: neither row- nor column-major, so it is copied first
  Tensor big = randn({5, 6}, DType::f64);
  Tensor strided = big.slice(1, 0, 6, 2);  // [5, 3], strides [6, 2]
  CHECK(all_close(matmul(a, strided), reference(a.unsqueeze(0), strided.contiguous().unsqueeze(0)).squeeze(0), 1e-12));
  // a row slice keeps a row stride larger than the row length
  Tensor rows = big.slice(1, 1, 4);  // [5, 3], strides [6, 1]
  CHECK(all_close(matmul(a, rows), reference(a.unsqueeze(0), rows.contiguous().unsqueeze(0)).squeeze(0), 1e-12));
}

TEST_CASE("batched matmul broadcasts batch dims") {
  manual_seed(4);
  SECTION("a shared weight matrix: [2, 3, 4] @ [4, 5]") {
    Tensor x = randn({2, 3, 4}, DType::f64), w = randn({4, 5}, DType::f64);
    Tensor y = matmul(x, w);
    CHECK(y.shape() == Shape{2, 3, 5});
    CHECK(all_close(y, reference(x, w.unsqueeze(0)), 1e-12));
  }
  SECTION("[2, 1, 3, 4] @ [5, 4, 2] -> [2, 5, 3, 2]") {
    Tensor a = randn({2, 1, 3, 4}, DType::f64), b = randn({5, 4, 2}, DType::f64);
    Tensor y = matmul(a, b);
    CHECK(y.shape() == Shape{2, 5, 3, 2});
    CHECK(all_close(y, reference(a, b), 1e-12));
  }
  SECTION("batch dims that one stride cannot walk are materialised") {
    Tensor a = randn({2, 3, 2, 4}, DType::f64), b = randn({3, 4, 2}, DType::f64);
    CHECK(all_close(matmul(a, b), reference(a, b), 1e-12));
    Tensor bt = randn({3, 2, 4}, DType::f64).transpose(1, 2);  // and transposed
    CHECK(all_close(matmul(a, bt), reference(a, bt.contiguous()), 1e-12));
  }
  SECTION("a permuted batch (attention heads)") {
    Tensor q = randn({2, 4, 3, 5}, DType::f64).permute({0, 2, 1, 3});  // [2, 3, 4, 5]
    Tensor k = randn({2, 4, 3, 5}, DType::f64).permute({0, 2, 3, 1});  // [2, 3, 5, 4]
    CHECK(all_close(matmul(q, k), reference(q.contiguous(), k.contiguous()), 1e-12));
  }
  SECTION("a head split view is read in place: two batch levels, no copy") {
    // [B, n, h*dh] -> [B, h, n, dh]: strides (n*h*dh, dh) for (B, h), which no single stride walks
    Tensor q = randn({2, 3, 4 * 5}, DType::f64).reshape({2, 3, 4, 5}).transpose(1, 2);
    Tensor k = randn({2, 6, 4 * 5}, DType::f64).reshape({2, 6, 4, 5}).transpose(1, 2);
    Tensor y;
    {
      Profiler prof;
      y = matmul(q, k.transpose(-1, -2));  // [2, 4, 3, 6]
      for (const auto& e : prof.entries()) CHECK(e.name != "kernel copy");
    }
    CHECK(all_close(y, reference(q.contiguous(), k.transpose(-1, -2).contiguous()), 1e-12));
  }
  SECTION("f32") {
    Tensor a = randn({3, 2, 4}), b = randn({3, 4, 6});
    CHECK(all_close(matmul(a, b), reference(a, b), 1e-4, 1e-4));
  }
}

TEST_CASE("matmul with 1-D operands") {
  Tensor m = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor v3 = from_vector(std::vector<double>{1, 0, -1}, {3});
  Tensor v2 = from_vector(std::vector<double>{1, 2}, {2});
  Tensor mv = matmul(m, v3);
  CHECK(mv.shape() == Shape{2});
  CHECK(mv.to_vector<double>() == std::vector<double>{-2, -2});
  Tensor vm = matmul(v2, m);
  CHECK(vm.shape() == Shape{3});
  CHECK(vm.to_vector<double>() == std::vector<double>{9, 12, 15});
  Tensor dot = matmul(v3, v3);
  CHECK(dot.shape() == Shape{});
  CHECK(dot.item() == 2.0);
  Tensor batched = matmul(v2, m.unsqueeze(0).expand({4, 2, 3}));
  CHECK(batched.shape() == Shape{4, 3});
}

TEST_CASE("matmul with empty dims") {
  Tensor a = zeros({2, 0}), b = zeros({0, 3});
  Tensor c = matmul(a, b);
  CHECK(c.shape() == Shape{2, 3});
  CHECK(c.to_vector<float>() == std::vector<float>(6, 0.f));
  CHECK(matmul(zeros({0, 4}), zeros({4, 3})).shape() == Shape{0, 3});
}

TEST_CASE("matmul gradients") {
  manual_seed(5);
  auto mm = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); };
  SECTION("plain 2-D") { CHECK_GRAD(mm, {leaf64({3, 4}), leaf64({4, 2})}); }
  SECTION("transposed operand") {
    CHECK_GRAD([](const std::vector<Tensor>& in) { return matmul(in[0], in[1].transpose(0, 1)); },
               {leaf64({3, 4}), leaf64({2, 4})});
    Tensor at = randn({4, 3}, DType::f64).transpose(0, 1).detach().requires_grad_();  // a non-contiguous leaf
    CHECK_GRAD(mm, {at, leaf64({4, 2})});
  }
  SECTION("batched with broadcast batch dims") {
    CHECK_GRAD(mm, {leaf64({2, 3, 4}), leaf64({4, 2})});
    CHECK_GRAD(mm, {leaf64({2, 1, 2, 3}), leaf64({3, 3, 2})});
    CHECK_GRAD(mm, {leaf64({2, 3, 2, 3}), leaf64({3, 3, 2})});
  }
  SECTION("transposed operands shared over a batch (linear's W^T, Linformer's E^T)") {
    // Their gradients are computed transposed and summed over the batch before turning back.
    CHECK_GRAD([](const std::vector<Tensor>& in) { return matmul(in[0], in[1].transpose(0, 1)); },
               {leaf64({2, 3, 4}), leaf64({5, 4})});
    CHECK_GRAD([](const std::vector<Tensor>& in) { return matmul(in[0].transpose(0, 1), in[1]); },
               {leaf64({4, 3}), leaf64({2, 4, 5})});
  }
  SECTION("head split views") {
    auto heads = [](const Tensor& t) { return t.reshape({2, 3, 2, 2}).transpose(1, 2); };  // [2, 2, 3, 2]
    CHECK_GRAD([&](const std::vector<Tensor>& in) { return matmul(heads(in[0]), heads(in[1]).transpose(-1, -2)); },
               {leaf64({2, 3, 4}), leaf64({2, 3, 4})});
  }
  SECTION("1-D operands") {
    CHECK_GRAD(mm, {leaf64({3}), leaf64({3, 2})});
    CHECK_GRAD(mm, {leaf64({2, 3}), leaf64({3})});
    CHECK_GRAD(mm, {leaf64({3}), leaf64({3})});
    CHECK_GRAD(mm, {leaf64({3}), leaf64({2, 3, 2})});
  }
  SECTION("only one operand requires grad") {
    Tensor w = randn({4, 2}, DType::f64);
    CHECK_GRAD(mm, {leaf64({3, 4}), w});
  }
}

TEST_CASE("matmul errors") {
  CHECK_ERROR(matmul(zeros({2, 3, 4}), zeros({5, 4})),
              "matmul: cannot multiply [2,3,4] by [5,4]: inner dimensions 4 and 5 differ");
  CHECK_ERROR(matmul(zeros({3}), zeros({4})), "[3]", "[4]", "inner dimensions");
  CHECK_ERROR(matmul(zeros({2, 3}), zeros({3, 2}, DType::f64)), "matmul", "mixed dtypes", "f32", "f64");
  CHECK_ERROR(matmul(zeros({}), zeros({3})), "matmul", "at least 1 dim");
  CHECK_ERROR(matmul(zeros({2, 2}, DType::i64), zeros({2, 2}, DType::i64)), "matmul", "i64");
  CHECK_ERROR(matmul(zeros({2, 2, 3}), zeros({3, 3, 2})), "matmul", "broadcast");
}

TEST_CASE("linear: the fused x W^T + b, its gradients and its errors") {
  manual_seed(6);
  Tensor x = randn({2, 3, 4}, DType::f64), w = randn({5, 4}, DType::f64), b = randn({5}, DType::f64);
  CHECK(all_close(linear(x, w, b), add(matmul(x, w.transpose(0, 1)), b), 1e-12));
  CHECK(all_close(linear(x, w, Tensor()), matmul(x, w.transpose(0, 1)), 1e-12));
  // a strided input and a strided bias are read as they lie
  Tensor xt = randn({4, 6}, DType::f64).transpose(0, 1), bs = randn({10}, DType::f64).slice(0, 0, 10, 2);
  CHECK(all_close(linear(xt, w, bs), add(matmul(xt, w.transpose(0, 1)), bs), 1e-12));
  auto lin = [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); };
  CHECK_GRAD(lin, {leaf64({2, 3, 4}), leaf64({5, 4}), leaf64({5})});
  CHECK_GRAD([](const std::vector<Tensor>& in) { return linear(in[0].transpose(0, 1), in[1], Tensor()); },
             {leaf64({4, 3}), leaf64({5, 4})});
  CHECK(linear(zeros({3, 0}), zeros({2, 0}), ones({2})).to_vector<float>() == std::vector<float>(6, 1.f));
  CHECK_ERROR(linear(ones({2, 3}), ones({4, 2}), Tensor()), "linear", "[2,3]", "in_features 2");
  CHECK_ERROR(linear(ones({2, 3}), ones({4, 3}), ones({3})), "linear: bias must be [4]", "[3]");
  // a bias that broadcasts to the output (Linformer's (E^T 1) b^T): added inside the GEMM, summed back
  Tensor bb = randn({3, 5}, DType::f64);
  CHECK(all_close(linear(x, w, bb), add(matmul(x, w.transpose(0, 1)), bb), 1e-12));
  CHECK_GRAD(lin, {leaf64({2, 3, 4}), leaf64({5, 4}), leaf64({3, 5})});
  CHECK_GRAD(lin, {leaf64({2, 3, 4}), leaf64({5, 4}), leaf64({2, 1, 5})});
  CHECK_ERROR(linear(ones({2, 3, 4}), ones({5, 4}), ones({2, 5})), "linear");
  CHECK_ERROR(linear(ones({2, 3}), ones({4, 3}, DType::f64), Tensor()), "linear", "mixed dtypes");
}
