// Elementwise ops (ops/elementwise.cpp): values, broadcasting, gradients (also through non-contiguous
// views), input errors.
#include <cmath>
#include <functional>
#include <memory>

#include "tests/support/helpers.h"

using namespace lf;
using lf::test::leaf64;
using In = std::vector<Tensor>;

namespace {

std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
Tensor f64(std::vector<double> v, const Shape& shape) { return from_vector(v, shape); }
// An f64 leaf with values in [0.5, 1.5): inside the domain of log, sqrt, rsqrt and pow.
Tensor positive_leaf(const Shape& shape) { return (rand(shape, DType::f64) + 0.5).detach().requires_grad_(); }

// Element-wise comparison with a tolerance (transcendental kernels need not be bit-exact).
void check_values(const Tensor& t, const std::vector<double>& expect, double tol = 1e-6) {
  auto v = vals(t);
  REQUIRE(v.size() == expect.size());
  for (size_t i = 0; i < v.size(); ++i) CHECK(v[i] == Approx(expect[i]).margin(tol));
}

}  // namespace

TEST_CASE("binary ops: values and broadcasting") {
  Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = f64({10, 20, 30}, {3});
  Tensor col = f64({100, 200}, {2, 1});
  CHECK((a + b).shape() == Shape{2, 3});
  CHECK(vals(a + b) == std::vector<double>{11, 22, 33, 14, 25, 36});
  CHECK(vals(a - b) == std::vector<double>{-9, -18, -27, -6, -15, -24});
  CHECK(vals(a * col) == std::vector<double>{100, 200, 300, 800, 1000, 1200});
  CHECK(vals(b / a) == std::vector<double>{10, 10, 10, 2.5, 4, 5});
  // [2,1] and [3] stretch each other to [2,3]
  CHECK(vals(col + b) == std::vector<double>{110, 120, 130, 210, 220, 230});
  check_values(pow(a, f64({2, 0.5, -1}, {3})), {1, std::sqrt(2.0), 1.0 / 3, 16, std::sqrt(5.0), 1.0 / 6});
  CHECK(vals(maximum(a, f64({3}, {}))) == std::vector<double>{3, 3, 3, 4, 5, 6});
  // non-contiguous operands
  CHECK(vals(a.transpose(0, 1) + f64({0, 1}, {2})) == std::vector<double>{1, 5, 2, 6, 3, 7});
  // integer tensors add too
  CHECK((arange(3) + arange(3)).to_vector<int64_t>() == std::vector<int64_t>{0, 2, 4});
}

TEST_CASE("scalar ops: values") {
  Tensor a = f64({1, 2, 4}, {3});
  CHECK(vals(a + 1.0) == std::vector<double>{2, 3, 5});
  CHECK(vals(a - 1.0) == std::vector<double>{0, 1, 3});
  CHECK(vals(10.0 - a) == std::vector<double>{9, 8, 6});
  CHECK(vals(a * 3.0) == std::vector<double>{3, 6, 12});
  CHECK(vals(3.0 * a) == std::vector<double>{3, 6, 12});
  CHECK(vals(a / 4.0) == std::vector<double>{0.25, 0.5, 1});
  CHECK(vals(f64({3}, {1}) / 3.0) == std::vector<double>{1});  // exact division
  CHECK(vals(8.0 / a) == std::vector<double>{8, 4, 2});
  check_values(pow(a, 2.0), {1, 4, 16});
  check_values(pow(a, -0.5), {1, 1 / std::sqrt(2.0), 0.5});
  CHECK(vals(-a) == std::vector<double>{-1, -2, -4});
}

TEST_CASE("unary ops: values") {
  Tensor x = f64({-1, 0, 2}, {3});
  check_values(exp(x), {std::exp(-1.0), 1, std::exp(2.0)});
  check_values(log(f64({1, std::exp(1.0)}, {2})), {0, 1});
  check_values(sqrt(f64({4, 9}, {2})), {2, 3});
  check_values(rsqrt(f64({4, 0.25}, {2})), {0.5, 2});
  CHECK(vals(abs(x)) == std::vector<double>{1, 0, 2});
  check_values(tanh(x), {std::tanh(-1.0), 0, std::tanh(2.0)});
  check_values(sigmoid(x), {1 / (1 + std::exp(1.0)), 0.5, 1 / (1 + std::exp(-2.0))});
  CHECK(vals(relu(x)) == std::vector<double>{0, 0, 2});
  // GELU(x) = x * Phi(x); the tanh form approximates it to ~1e-3
  auto phi = [](double v) { return 0.5 * (1 + std::erf(v / std::sqrt(2.0))); };
  check_values(gelu(x), {-phi(-1.0), 0, 2 * phi(2.0)});
  check_values(gelu(x, /*approximate_tanh=*/true), {-phi(-1.0), 0, 2 * phi(2.0)}, 2e-3);
  // f32 goes through the same kernels
  check_values(exp(from_vector(std::vector<float>{0, 1}, {2})), {1, std::exp(1.0)}, 1e-6);
}

TEST_CASE("comparisons give 1/0 in the input dtype and no gradient") {
  Tensor a = f64({1, 2, 3}, {3});
  Tensor b = f64({2}, {});
  CHECK(vals(eq(a, b)) == std::vector<double>{0, 1, 0});
  CHECK(vals(gt(a, b)) == std::vector<double>{0, 0, 1});
  CHECK(vals(lt(a, b)) == std::vector<double>{1, 0, 0});
  CHECK(eq(a, b).dtype() == DType::f64);
  Tensor x = leaf64({3});
  CHECK_FALSE(gt(x, b).requires_grad());
}

TEST_CASE("gradcheck: binary ops with broadcasting") {
  manual_seed(1);
  Tensor a = leaf64({2, 3, 4}), row = leaf64({4}), col = leaf64({3, 1});
  CHECK_GRAD([](const In& in) { return in[0] + in[1]; }, {a, row});
  CHECK_GRAD([](const In& in) { return in[0] - in[1]; }, {a, col});
  CHECK_GRAD([](const In& in) { return in[0] * in[1]; }, {a, col});
  CHECK_GRAD([](const In& in) { return in[1] * in[0]; }, {row, col});  // both inputs stretched
  Tensor p = positive_leaf({3, 1});
  CHECK_GRAD([](const In& in) { return in[0] / in[1]; }, {a, p});
  CHECK_GRAD([](const In& in) { return pow(in[0], in[1]); }, {p, row});
  CHECK_GRAD([](const In& in) { return maximum(in[0], in[1]); }, {a, row});
}

TEST_CASE("gradcheck: scalar and unary ops") {
  manual_seed(2);
  Tensor x = leaf64({3, 4});
  Tensor p = positive_leaf({3, 4});
  CHECK_GRAD([](const In& in) { return in[0] + 2.0; }, {x});
  CHECK_GRAD([](const In& in) { return in[0] - 2.0; }, {x});
  CHECK_GRAD([](const In& in) { return 2.0 - in[0]; }, {x});
  CHECK_GRAD([](const In& in) { return in[0] * -3.0; }, {x});
  CHECK_GRAD([](const In& in) { return in[0] / 3.0; }, {x});
  CHECK_GRAD([](const In& in) { return 3.0 / in[0]; }, {p});
  CHECK_GRAD([](const In& in) { return pow(in[0], 3.0); }, {x});
  CHECK_GRAD([](const In& in) { return pow(in[0], -1.5); }, {p});
  CHECK_GRAD([](const In& in) { return -in[0]; }, {x});
  CHECK_GRAD([](const In& in) { return exp(in[0]); }, {x});
  CHECK_GRAD([](const In& in) { return log(in[0]); }, {p});
  CHECK_GRAD([](const In& in) { return sqrt(in[0]); }, {p});
  CHECK_GRAD([](const In& in) { return rsqrt(in[0]); }, {p});
  CHECK_GRAD([](const In& in) { return abs(in[0]); }, {x});
  CHECK_GRAD([](const In& in) { return tanh(in[0]); }, {x});
  CHECK_GRAD([](const In& in) { return sigmoid(in[0]); }, {x});
  CHECK_GRAD([](const In& in) { return relu(in[0]); }, {x});
  CHECK_GRAD([](const In& in) { return gelu(in[0]); }, {x});
  CHECK_GRAD([](const In& in) { return gelu(in[0], true); }, {x});
}

TEST_CASE("gradcheck: non-contiguous inputs") {
  manual_seed(3);
  Tensor x = leaf64({3, 4}), y = leaf64({4, 3});
  Tensor p = positive_leaf({3, 4});
  CHECK_GRAD([](const In& in) { return exp(in[0].transpose(0, 1)); }, {x});
  CHECK_GRAD([](const In& in) { return in[0].transpose(0, 1) * in[1]; }, {x, y});
  CHECK_GRAD(
      [](const In& in) {  // [3, 2] strided slice + [3, 2] transposed slice
        return in[0].slice(1, 0, 4, 2) + in[1].slice(0, 1, 3).transpose(0, 1);
      },
      {x, y});
  CHECK_GRAD([](const In& in) { return log(in[0].transpose(0, 1)) / in[1]; }, {p, y});
  CHECK_GRAD([](const In& in) { return tanh(in[0].slice(0, 1, 3)) * 2.0; }, {x});
}

TEST_CASE("maximum splits the gradient of a tie") {
  Tensor x = f64({1, 2}, {2}).requires_grad_();
  sum(maximum(x, x)).backward();
  CHECK(vals(x.grad()) == std::vector<double>{1, 1});  // 1/2 through each argument
  Tensor a = f64({1, 5}, {2}).requires_grad_(), b = f64({3, 5}, {2}).requires_grad_();
  sum(maximum(a, b)).backward();
  CHECK(vals(a.grad()) == std::vector<double>{0, 0.5});
  CHECK(vals(b.grad()) == std::vector<double>{1, 0.5});
}

TEST_CASE("an op's saved output does not keep the output alive") {
  Tensor x = leaf64({4});
  // exp, tanh, sigmoid, sqrt and rdiv save their output for backward: a saved `out` (not out.detach())
  // would form the cycle out -> grad_fn -> backward lambda -> out, and leak.
  std::vector<std::function<Tensor()>> ops = {[&] { return exp(x); },
                                              [&] { return tanh(x); },
                                              [&] { return sigmoid(x); },
                                              [&] { return sqrt(x * x + 1.0); },
                                              [&] { return 2.0 / (x * x + 1.0); },
                                              [&] { return max(x); }};
  for (auto& op : ops) {
    Tensor y = op();
    REQUIRE(y.requires_grad());
    std::weak_ptr<TensorImpl> w = y.impl_ptr();
    y = Tensor();
    CHECK(w.expired());
  }
}

TEST_CASE("elementwise input errors") {
  CHECK_ERROR(ones({2, 3}) + ones({4}), "add", "[2,3]", "[4]");
  CHECK_ERROR(ones({2, 3}) * ones({3, 2}), "mul", "[2,3]", "[3,2]");
  CHECK_ERROR(ones({2}) + ones({2}, DType::f64), "add", "f32", "f64");
  CHECK_ERROR(maximum(ones({2}, DType::f64), ones({2})), "maximum", "f64", "f32");
  CHECK_ERROR(exp(arange(3)), "exp", "i64");
  CHECK_ERROR(add(Tensor(), ones({1})), "add", "undefined");
}

TEST_CASE("silu: values, f32 against f64, gradient, i64 refused") {
  auto silu_ref = [](double v) { return v / (1 + std::exp(-v)); };
  Tensor x = f64({-30, -1, 0, 0.5, 2, 30}, {6});
  check_values(silu(x), {silu_ref(-30), silu_ref(-1), 0, silu_ref(0.5), silu_ref(2), 30}, 1e-12);
  check_values(silu(x.to(DType::f32)), vals(silu(x)), 1e-6);
  manual_seed(4);
  Tensor y = leaf64({3, 5}, 3.0);
  CHECK_GRAD([](const In& in) { return silu(in[0]); }, {y});
  CHECK_GRAD([](const In& in) { return silu(in[0].transpose(0, 1)); }, {y});
  CHECK_ERROR(silu(arange(3)), "silu", "i64");
}

TEST_CASE("assign_ writes into existing storage, converting dtype, outside the graph") {
  Tensor dst = zeros({2, 3}, DType::f64);
  Tensor view = dst.transpose(0, 1);  // [3, 2], strided
  assign_(view, from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2}));
  CHECK(vals(dst) == std::vector<double>{1, 3, 5, 2, 4, 6});
  CHECK_ERROR(assign_(dst, ones({3, 2})), "assign_", "[2,3]", "[3,2]");
  CHECK_ERROR(assign_(Tensor(), ones({1})), "assign_", "undefined");
  Tensor w = ones({2}).requires_grad_();
  CHECK_ERROR(assign_(w, zeros({2})), "assign_", "requires grad", "NoGradGuard");
  {
    NoGradGuard no_grad;
    assign_(w, full({2}, 7.0));
  }
  CHECK(vals(w) == std::vector<double>{7, 7});
}
