// Views: shapes, strides, shared storage, Python-like slicing, errors, and gradients.
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::leaf64;

namespace {

// 0, 1, ..., n-1 as f32 in the given shape
Tensor iota(const Shape& shape) {
  std::vector<float> v(size_t(numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(i);
  return from_vector(v, shape);
}
std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }
bool shares_storage(const Tensor& a, const Tensor& b) { return a.impl()->storage == b.impl()->storage; }

// A non-contiguous f64 leaf: the transpose of a [cols, rows] tensor.
Tensor transposed_leaf(int64_t rows, int64_t cols) {
  return randn({cols, rows}, DType::f64).transpose(0, 1).detach().requires_grad_();
}

}  // namespace

TEST_CASE("reshape of a contiguous tensor is a view; writes to the base show through") {
  Tensor x = iota({2, 3});
  Tensor y = x.reshape({3, 2});
  CHECK(y.shape() == Shape{3, 2});
  CHECK(y.strides() == Shape{2, 1});
  CHECK(shares_storage(x, y));
  x.data<float>()[4] = 100.f;
  CHECK(y.at({2, 0}) == 100.0);
  CHECK(x.reshape({-1}).shape() == Shape{6});
  CHECK(x.reshape({3, -1}).shape() == Shape{3, 2});
  CHECK(x.reshape({1, 2, 1, 3}).strides() == Shape{6, 3, 3, 1});
  CHECK(x.flatten().shape() == Shape{6});
}

TEST_CASE("reshape copies only when the dims to merge are not contiguous") {
  Tensor x = iota({2, 3, 4});
  // splitting a dim of a transposed tensor still works as a view
  Tensor t = x.transpose(0, 1);  // [3, 2, 4], strides [4, 12, 1]
  Tensor split = t.reshape({3, 2, 2, 2});
  CHECK(shares_storage(split, x));
  CHECK(split.strides() == Shape{4, 12, 2, 1});
  // merging dims 0 and 1 of the sliced tensor [2, 2, 4] (strides [12, 4, 1]): dims 1, 2 merge, 0 stays
  Tensor s = x.slice(1, 0, 2);
  Tensor merged = s.view({2, 8});
  CHECK(merged.strides() == Shape{12, 1});
  CHECK(shares_storage(merged, x));
  // merging the transposed dims needs a copy: reshape makes it, view refuses
  Tensor flat = x.transpose(0, 1).reshape({3, 8});
  CHECK_FALSE(shares_storage(flat, x));
  CHECK(flat.is_contiguous());
  CHECK(values(flat.slice(0, 0, 1)) == std::vector<float>{0, 1, 2, 3, 12, 13, 14, 15});
  CHECK_ERROR(x.transpose(0, 1).view({3, 8}), "view", "[3,2,4]", "reshape");
}

TEST_CASE("reshape of a transposed matrix reads in row-major order") {
  Tensor x = iota({2, 3});
  CHECK(values(x.transpose(0, 1).reshape({6})) == std::vector<float>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("reshape errors name the shapes and element counts") {
  Tensor x = iota({2, 3});
  CHECK_ERROR(x.reshape({4, 2}), "reshape: cannot reshape [2,3] (6 elements) into [4,2] (8 elements)");
  CHECK_ERROR(x.reshape({4, -1}), "reshape", "[2,3]", "[4,-1]");
  CHECK_ERROR(x.reshape({-1, -1}), "only one dimension can be -1");
  CHECK_ERROR(x.view({7}), "view", "6 elements", "7 elements");
}

TEST_CASE("transpose and permute swap shape and strides") {
  Tensor x = iota({2, 3, 4});
  Tensor t = x.transpose(0, -1);
  CHECK(t.shape() == Shape{4, 3, 2});
  CHECK(t.strides() == Shape{1, 4, 12});
  CHECK(t.at({3, 2, 1}) == x.at({1, 2, 3}));
  CHECK(shares_storage(t, x));
  Tensor p = x.permute({1, 2, 0});
  CHECK(p.shape() == Shape{3, 4, 2});
  CHECK(p.at({2, 1, 1}) == x.at({1, 2, 1}));
  x.data<float>()[23] = -5.f;  // element (1, 2, 3)
  CHECK(p.at({2, 3, 1}) == -5.0);
  CHECK_ERROR(x.permute({0, 0, 1}), "permute", "not a permutation");
  CHECK_ERROR(x.permute({0, 1}), "permute", "[2,3,4]");
  CHECK_ERROR(x.transpose(0, 3), "transpose", "dim 3");
}

TEST_CASE("slice clamps like Python and supports steps") {
  Tensor x = iota({10});
  CHECK(values(x.slice(0, 2, 5)) == std::vector<float>{2, 3, 4});
  CHECK(values(x.slice(0, -3, 100)) == std::vector<float>{7, 8, 9});
  CHECK(values(x.slice(0, 1, 8, 3)) == std::vector<float>{1, 4, 7});
  CHECK(values(x.slice(0, -100, 2)) == std::vector<float>{0, 1});
  CHECK(values(x.slice(0, 0, -8)) == std::vector<float>{0, 1});
  CHECK(x.slice(0, 5, 2).shape() == Shape{0});
  CHECK_ERROR(x.slice(0, 0, 5, 0), "slice", "step");

  Tensor m = iota({3, 4});
  Tensor cols = m.slice(1, 1, 4, 2);  // columns 1 and 3
  CHECK(cols.shape() == Shape{3, 2});
  CHECK(cols.strides() == Shape{4, 2});
  CHECK(values(cols) == std::vector<float>{1, 3, 5, 7, 9, 11});
  m.data<float>()[7] = 70.f;
  CHECK(cols.at({1, 1}) == 70.0);
}

TEST_CASE("narrow checks its range") {
  Tensor m = iota({3, 4});
  CHECK(values(m.narrow(0, 1, 2)) == std::vector<float>{4, 5, 6, 7, 8, 9, 10, 11});
  CHECK(values(m.narrow(1, -2, 2).narrow(0, 0, 1)) == std::vector<float>{2, 3});
  CHECK_ERROR(m.narrow(1, 3, 2), "narrow", "size 4");
}

TEST_CASE("expand stretches size-1 dims with stride 0 and adds leading dims") {
  Tensor x = iota({3, 1});
  Tensor e = x.expand({2, 3, 4});
  CHECK(e.shape() == Shape{2, 3, 4});
  CHECK(e.strides() == Shape{0, 1, 0});
  CHECK(e.at({1, 2, 3}) == 2.0);
  CHECK(x.expand({-1, 5}).shape() == Shape{3, 5});
  CHECK(shares_storage(e, x));
  CHECK_ERROR(x.expand({4, 4}), "expand", "[3,1]", "[4,4]");
  CHECK_ERROR(x.expand({3}), "expand", "fewer dims");
}

TEST_CASE("squeeze and unsqueeze add and remove size-1 dims") {
  Tensor x = iota({2, 1, 3});
  CHECK(x.squeeze(1).shape() == Shape{2, 3});
  CHECK(x.squeeze(0).shape() == Shape{2, 1, 3});  // not size 1: unchanged, like PyTorch
  CHECK(x.unsqueeze(0).shape() == Shape{1, 2, 1, 3});
  CHECK(x.unsqueeze(-1).shape() == Shape{2, 1, 3, 1});
  CHECK(x.unsqueeze(3).is_contiguous());
  Tensor y = x.squeeze(1).unsqueeze(1);
  CHECK(values(y) == values(x));
  CHECK(shares_storage(y, x));
}

TEST_CASE("views of views compose offsets and strides") {
  Tensor x = iota({4, 6});
  Tensor v = x.slice(0, 1, 4).transpose(0, 1).slice(0, 2, 6, 2);  // [2, 3]: columns 2 and 4 of rows 1..3
  CHECK(v.shape() == Shape{2, 3});
  CHECK(values(v) == std::vector<float>{8, 14, 20, 10, 16, 22});
}

TEST_CASE("gradients of views") {
  manual_seed(1);
  auto fn = [](auto f) { return [f](const std::vector<Tensor>& in) { return f(in[0]); }; };
  SECTION("reshape and view") {
    CHECK_GRAD(fn([](const Tensor& x) { return x.reshape({3, 4}); }), {leaf64({2, 6})});
    CHECK_GRAD(fn([](const Tensor& x) { return x.reshape({-1}); }), {transposed_leaf(3, 4)});  // copies
    CHECK_GRAD(fn([](const Tensor& x) { return x.view({2, 2, 3}); }), {leaf64({4, 3})});
  }
  SECTION("transpose and permute") {
    CHECK_GRAD(fn([](const Tensor& x) { return x.transpose(0, 2); }), {leaf64({2, 3, 4})});
    CHECK_GRAD(fn([](const Tensor& x) { return x.permute({2, 0, 1}); }), {leaf64({2, 3, 4})});
  }
  SECTION("slice and narrow") {
    CHECK_GRAD(fn([](const Tensor& x) { return x.slice(1, 1, 5, 2); }), {leaf64({3, 5})});
    CHECK_GRAD(fn([](const Tensor& x) { return x.slice(0, -2, 10); }), {transposed_leaf(4, 3)});
    CHECK_GRAD(fn([](const Tensor& x) { return x.narrow(1, 1, 2); }), {leaf64({2, 4})});
  }
  SECTION("expand sums the stretched dims back") {
    CHECK_GRAD(fn([](const Tensor& x) { return x.expand({2, 3, 4}); }), {leaf64({3, 1})});
    CHECK_GRAD(fn([](const Tensor& x) { return x.expand({2, -1, 3}); }), {leaf64({1, 2, 1})});
  }
  SECTION("squeeze and unsqueeze") {
    CHECK_GRAD(fn([](const Tensor& x) { return x.squeeze(1); }), {leaf64({3, 1, 2})});
    CHECK_GRAD(fn([](const Tensor& x) { return x.unsqueeze(1) * 2.0; }), {transposed_leaf(2, 3)});
  }
  SECTION("a chain of views feeding an elementwise op") {
    CHECK_GRAD([](const std::vector<Tensor>& in) {
      return in[0].transpose(0, 1).slice(0, 0, 3, 2).reshape({4}) * in[1].expand({2, 2}).reshape({4});
    }, {leaf64({2, 4}), leaf64({2, 1})});
  }
}

TEST_CASE("a view of a leaf is differentiable and the leaf collects its gradient") {
  Tensor x = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  Tensor y = x.slice(1, 1, 3);  // [[2, 3], [5, 6]]
  CHECK(y.requires_grad());
  CHECK_FALSE(y.is_leaf());
  sum(y * 2.0).backward();
  CHECK(x.grad().to_vector<double>() == std::vector<double>{0, 2, 2, 0, 2, 2});
}
