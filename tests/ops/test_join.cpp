// cat, stack, index_select: values, gradients, errors.
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::leaf64;

namespace {
Tensor f32(std::vector<float> v, const Shape& shape) { return from_vector(v, shape); }
Tensor i64(std::vector<int64_t> v) {
  int64_t n = int64_t(v.size());
  return from_vector(v, {n});
}
}  // namespace

TEST_CASE("cat joins along any dim") {
  Tensor a = f32({1, 2, 3, 4}, {2, 2}), b = f32({5, 6}, {2, 1});
  Tensor c = cat({a, b}, 1);
  CHECK(c.shape() == Shape{2, 3});
  CHECK(c.to_vector<float>() == std::vector<float>{1, 2, 5, 3, 4, 6});
  Tensor r = cat({a, b.transpose(0, 1), a}, 0);  // a transposed (non-contiguous) input
  CHECK(r.shape() == Shape{5, 2});
  CHECK(r.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6, 1, 2, 3, 4});
  CHECK(cat({a}, -1).to_vector<float>() == a.to_vector<float>());
  CHECK(cat({a, zeros({2, 0})}, 1).shape() == Shape{2, 2});
}

TEST_CASE("cat errors name the offending tensor") {
  Tensor a = zeros({2, 3}), b = zeros({2, 4});
  CHECK_ERROR(cat({a, a, b}, 0), "cat: tensor 2 has shape [2,4] but tensor 0 has shape [2,3]", "dim 0");
  CHECK_ERROR(cat({a, zeros({2, 3, 1})}, 0), "cat", "tensor 1", "[2,3,1]");
  CHECK_ERROR(cat({a, zeros({2, 3}, DType::f64)}, 0), "cat", "mixed dtypes");
  CHECK_ERROR(cat({}, 0), "cat", "empty");
  CHECK_ERROR(cat({a}, 2), "cat", "dim 2");
}

TEST_CASE("stack adds a new dim") {
  Tensor a = f32({1, 2}, {2}), b = f32({3, 4}, {2});
  Tensor s0 = stack({a, b}, 0);
  CHECK(s0.shape() == Shape{2, 2});
  CHECK(s0.to_vector<float>() == std::vector<float>{1, 2, 3, 4});
  Tensor s1 = stack({a, b}, 1);
  CHECK(s1.shape() == Shape{2, 2});
  CHECK(s1.to_vector<float>() == std::vector<float>{1, 3, 2, 4});
  CHECK(stack({a, b, a}, -1).shape() == Shape{2, 3});
  CHECK_ERROR(stack({a, zeros({3})}, 0), "stack", "tensor 1", "[3]", "[2]");
}

TEST_CASE("index_select picks rows, repeats allowed") {
  Tensor x = f32({0, 1, 2, 10, 11, 12, 20, 21, 22}, {3, 3});
  Tensor rows = index_select(x, 0, i64({2, 0, 2}));
  CHECK(rows.shape() == Shape{3, 3});
  CHECK(rows.to_vector<float>() == std::vector<float>{20, 21, 22, 0, 1, 2, 20, 21, 22});
  Tensor cols = index_select(x, 1, i64({1, 1}));
  CHECK(cols.shape() == Shape{3, 2});
  CHECK(cols.to_vector<float>() == std::vector<float>{1, 1, 11, 11, 21, 21});
  Tensor t = index_select(x.transpose(0, 1), -1, i64({0}));  // non-contiguous input: column 0 of x^T = row 0 of x
  CHECK(t.to_vector<float>() == std::vector<float>{0, 1, 2});
  CHECK(index_select(x, 0, i64({})).shape() == Shape{0, 3});
}

TEST_CASE("index_select errors") {
  Tensor x = zeros({5, 2});
  CHECK_ERROR(index_select(x, 0, i64({1, 7})), "index_select: index 7 is out of range for dim 0 of size 5");
  CHECK_ERROR(index_select(x, 0, i64({-1})), "index -1 is out of range");
  CHECK_ERROR(index_select(x, 0, zeros({2})), "index_select", "i64", "f32");
  CHECK_ERROR(index_select(x, 0, from_vector(std::vector<int64_t>{0, 1}, {1, 2})), "index_select", "1-D", "[1,2]");
}

TEST_CASE("join gradients") {
  manual_seed(11);
  SECTION("cat along dim 1, with a transposed input") {
    Tensor t = randn({3, 2}, DType::f64).transpose(0, 1).detach().requires_grad_();  // [2, 3], non-contiguous
    CHECK_GRAD([](const std::vector<Tensor>& in) { return cat({in[0], in[1], in[2]}, 1); },
               {leaf64({2, 2}), t, leaf64({2, 1})});
  }
  SECTION("cat of a tensor with itself") {
    CHECK_GRAD([](const std::vector<Tensor>& in) { return cat({in[0], in[0] * 2.0}, 0); }, {leaf64({2, 3})});
  }
  SECTION("stack") {
    CHECK_GRAD([](const std::vector<Tensor>& in) { return stack({in[0], in[1]}, 1); }, {leaf64({2, 3}), leaf64({2, 3})});
  }
  SECTION("index_select with repeated indices sums their gradients") {
    Tensor idx = i64({1, 3, 1, 1});
    CHECK_GRAD([idx](const std::vector<Tensor>& in) { return index_select(in[0], 0, idx); }, {leaf64({4, 2})});
    CHECK_GRAD([idx](const std::vector<Tensor>& in) { return index_select(in[0], 1, idx); }, {leaf64({2, 4, 3})});
  }
}

TEST_CASE("index_select backward counts repeats") {
  Tensor x = from_vector(std::vector<double>{1, 2, 3}, {3}).requires_grad_();
  sum(index_select(x, 0, i64({2, 2, 0, 2}))).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{1, 0, 3});
}
