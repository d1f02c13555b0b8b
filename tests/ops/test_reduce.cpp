// Reductions (ops/reduce.cpp): sum/mean/max/var over dims with keepdim, their gradients, sum_to.
#include <cmath>

#include "tests/support/helpers.h"

using namespace lf;
using lf::test::leaf64;
using In = std::vector<Tensor>;

namespace {

std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
// [2, 3, 4] with values 0..23: x[i,j,k] = 12i + 4j + k
Tensor cube() { return arange(0.0, 24.0, 1.0, DType::f64).reshape({2, 3, 4}); }

}  // namespace

TEST_CASE("sum over all dims, some dims, negative dims, keepdim") {
  Tensor x = cube();
  Tensor all = sum(x);
  CHECK(all.shape() == Shape{});  // 0-d
  CHECK(all.item() == 276);       // 0 + ... + 23
  CHECK(sum(x, {0, 1, 2}).item() == 276);

  Tensor s1 = sum(x, {1});  // [2, 4]: x[i,0,k] + x[i,1,k] + x[i,2,k] = 36i + 12 + 3k
  CHECK(s1.shape() == Shape{2, 4});
  CHECK(vals(s1) == std::vector<double>{12, 15, 18, 21, 48, 51, 54, 57});
  CHECK(sum(x, {1}, true).shape() == Shape{2, 1, 4});
  CHECK(vals(sum(x, {-1})) == std::vector<double>{6, 22, 38, 54, 70, 86});
  Tensor s02 = sum(x, {0, 2}, true);  // [1, 3, 1]: sum over i, k of 12i + 4j + k = 48 + 32j + 12
  CHECK(s02.shape() == Shape{1, 3, 1});
  CHECK(vals(s02) == std::vector<double>{60, 92, 124});
  // reducing a non-contiguous view
  // x.transpose(0, 2)[k, j, i] = 12i + 4j + k; summed over i: 12 + 8j + 2k, shape [4, 3]
  CHECK(vals(sum(x.transpose(0, 2), {2})) ==
        std::vector<double>{12, 20, 28, 14, 22, 30, 16, 24, 32, 18, 26, 34});
  // a 0-d input, an empty input, f32 and i64
  CHECK(sum(full({}, 3.0)).item() == 3);
  CHECK(sum(zeros({0, 3})).item() == 0);
  CHECK(vals(sum(zeros({0, 3}), {0})) == std::vector<double>{0, 0, 0});
  CHECK(sum(ones({5, 7})).item() == 35);
  CHECK(sum(arange(5)).to_vector<int64_t>() == std::vector<int64_t>{10});
}

TEST_CASE("mean, max and var values") {
  Tensor x = cube();
  CHECK(mean(x).item() == Approx(11.5));
  CHECK(vals(mean(x, {2})) == std::vector<double>{1.5, 5.5, 9.5, 13.5, 17.5, 21.5});
  CHECK(mean(x, {0, 1}, true).shape() == Shape{1, 1, 4});

  Tensor m = from_vector(std::vector<double>{3, -1, 7, 2, 9, 0}, {2, 3});
  CHECK(max(m).item() == 9);
  CHECK(vals(max(m, {1})) == std::vector<double>{7, 9});
  CHECK(vals(max(m, {0}, true)) == std::vector<double>{3, 9, 7});
  CHECK(max(m, {0}, true).shape() == Shape{1, 3});
  CHECK(vals(max(m.transpose(0, 1), {1})) == std::vector<double>{3, 9, 7});  // per column of m

  Tensor v = from_vector(std::vector<double>{1, 2, 3, 4}, {4});
  CHECK(var(v).item() == Approx(5.0 / 3));  // sum of squares 5 over N - 1 = 3
  CHECK(var(v, {}, false, 0).item() == Approx(1.25));
  // rows [3,-1,7]: mean 3, (0 + 16 + 16) / 2 = 16;  [2,9,0]: mean 11/3, (25 + 256 + 121) / 9 / 2 = 67/3
  Tensor vm = var(m, {1});
  CHECK(vm.shape() == Shape{2});
  CHECK(vm.at({0}) == Approx(16));
  CHECK(vm.at({1}) == Approx(67.0 / 3));
}

TEST_CASE("gradcheck: reductions over dims, keepdim and views") {
  manual_seed(11);
  Tensor x = leaf64({2, 3, 4});
  CHECK_GRAD([](const In& in) { return sum(in[0]); }, {x});
  CHECK_GRAD([](const In& in) { return sum(in[0], {1}); }, {x});
  CHECK_GRAD([](const In& in) { return sum(in[0], {0, 2}, true); }, {x});
  CHECK_GRAD([](const In& in) { return mean(in[0], {-1}); }, {x});
  CHECK_GRAD([](const In& in) { return mean(in[0]); }, {x});
  CHECK_GRAD([](const In& in) { return max(in[0], {1}); }, {x});
  CHECK_GRAD([](const In& in) { return max(in[0], {0, 2}, true); }, {x});
  CHECK_GRAD([](const In& in) { return max(in[0]); }, {x});
  CHECK_GRAD([](const In& in) { return var(in[0], {2}); }, {x});
  CHECK_GRAD([](const In& in) { return var(in[0], {0, 1}, true, 0); }, {x});
  // non-contiguous inputs
  CHECK_GRAD([](const In& in) { return sum(in[0].transpose(0, 2), {1}); }, {x});
  CHECK_GRAD([](const In& in) { return max(in[0].transpose(1, 2), {2}); }, {x});
  CHECK_GRAD([](const In& in) { return mean(in[0].slice(2, 1, 4), {0, 2}); }, {x});
}

TEST_CASE("max shares the gradient among ties") {
  Tensor x = from_vector(std::vector<double>{1, 3, 3, 2, 5, 0}, {2, 3}).requires_grad_();
  sum(max(x, {1})).backward();
  CHECK(vals(x.grad()) == std::vector<double>{0, 0.5, 0.5, 0, 1, 0});
}

TEST_CASE("sum_to undoes broadcasting") {
  Tensor g = cube();
  CHECK(sum_to(g, {2, 3, 4}).same(g));
  Tensor a = sum_to(g, {3, 1});  // summed over dim 0 (added) and dim 2 (stretched)
  CHECK(a.shape() == Shape{3, 1});
  CHECK(vals(a) == std::vector<double>{60, 92, 124});
  Tensor b = sum_to(g, {4});
  CHECK(vals(b) == std::vector<double>{60, 66, 72, 78});
  Tensor c = sum_to(g, {2, 1, 1});
  CHECK(vals(c) == std::vector<double>{66, 210});
  CHECK(sum_to(g, {}).item() == 276);
  CHECK_ERROR(sum_to(g, {3, 3}), "sum_to", "[3,3]", "[2,3,4]");
  CHECK_ERROR(sum_to(ones({3}), {2, 3}), "sum_to", "[3]", "[2,3]");
  // differentiable when used in a forward pass
  Tensor x = leaf64({2, 3});
  CHECK_GRAD([](const In& in) { return sum_to(in[0], {3}) * 2.0; }, {x});
}

TEST_CASE("reduction input errors") {
  Tensor x = ones({2, 3});
  CHECK_ERROR(sum(x, {2}), "sum", "dim 2", "2 dims");
  CHECK_ERROR(mean(x, {-3}), "mean", "dim -3");
  CHECK_ERROR(sum(x, {1, -1}), "sum", "twice");
  CHECK_ERROR(max(zeros({2, 0}), {1}), "max", "empty", "[2,0]");
  CHECK_ERROR(mean(arange(4)), "mean", "i64");
  CHECK_ERROR(var(arange(4)), "var", "i64");
}
