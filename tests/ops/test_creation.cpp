// Factories (ops/creation.cpp), conversions and element access (ops/convert.cpp), printing (ops/print.cpp).
#include <cmath>
#include <cstdint>
#include <set>

#include "backends/backend.h"
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::leaf64;

namespace {
std::vector<double> vals(const Tensor& t) { return t.to_vector<double>(); }
}  // namespace

TEST_CASE("zeros, ones, full and the _like versions") {
  Tensor z = zeros({2, 3});
  CHECK(z.shape() == Shape{2, 3});
  CHECK(z.dtype() == DType::f32);
  CHECK(z.device() == Device::cpu());
  CHECK(vals(z) == std::vector<double>(6, 0.0));
  CHECK(vals(ones({4}, DType::f64)) == std::vector<double>(4, 1.0));
  Tensor f = full({2, 2}, 7, DType::i64);
  CHECK(f.dtype() == DType::i64);
  CHECK(f.to_vector<int64_t>() == std::vector<int64_t>{7, 7, 7, 7});
  CHECK(full({}, 2.5).item() == 2.5);  // a 0-d tensor holds one value

  Tensor ol = ones_like(f);
  CHECK(ol.shape() == f.shape());
  CHECK(ol.dtype() == DType::i64);
  CHECK(ol.to_vector<int64_t>() == std::vector<int64_t>{1, 1, 1, 1});
  Tensor zl = zeros_like(ones({3}, DType::f64));
  CHECK(zl.dtype() == DType::f64);
  CHECK(vals(zl) == std::vector<double>{0, 0, 0});
  CHECK_ERROR(zeros({2, -1}), "[2,-1]");
}

TEST_CASE("arange counts like NumPy") {
  Tensor a = arange(5);
  CHECK(a.dtype() == DType::i64);
  CHECK(a.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK(vals(arange(0.0, 1.0, 0.25)) == std::vector<double>{0, 0.25, 0.5, 0.75});
  CHECK(vals(arange(5.0, 0.0, -2.0, DType::f64)) == std::vector<double>{5, 3, 1});
  CHECK(arange(3.0, 1.0, 1.0).numel() == 0);  // empty, not an error
  CHECK(arange(0).numel() == 0);
  CHECK_ERROR(arange(0.0, 1.0, 0.0), "arange", "step");
}

TEST_CASE("from_vector copies host values of every dtype") {
  std::vector<float> host{1, 2, 3, 4, 5, 6};
  Tensor t = from_vector(host, {2, 3});
  host[0] = 100;  // the tensor owns a copy
  CHECK(t.dtype() == DType::f32);
  CHECK(t.at({0, 0}) == 1);
  CHECK(t.at({1, 2}) == 6);
  CHECK(from_vector(std::vector<double>{0.1, 0.2}, {2}).to_vector<double>() == std::vector<double>{0.1, 0.2});
  CHECK(from_vector(std::vector<int64_t>{-3, 9}, {2, 1}).to_vector<int64_t>() == std::vector<int64_t>{-3, 9});
  CHECK(from_vector(std::vector<double>{4.0}, {}).item() == 4.0);
  CHECK_ERROR(from_vector(std::vector<float>{1, 2, 3}, {2, 2}), "from_vector", "3 values", "[2,2]");
}

TEST_CASE("rand, uniform and randn draw reproducibly from the seeded stream") {
  manual_seed(42);
  Tensor a = rand({1000});
  manual_seed(42);
  Tensor b = rand({1000});
  CHECK(vals(a) == vals(b));
  Tensor c = rand({1000});  // the stream moved on
  CHECK(vals(a) != vals(c));
  for (double v : vals(a)) CHECK((v >= 0 && v < 1));

  auto u = vals(uniform({1000}, -3, -1, DType::f64));
  for (double v : u) CHECK((v >= -3 && v <= -1));

  auto n = vals(randn({4096}, DType::f64));
  double mean = 0, sq = 0;
  for (double v : n) mean += v;
  mean /= double(n.size());
  for (double v : n) sq += (v - mean) * (v - mean);
  double std = std::sqrt(sq / double(n.size()));
  CHECK(std::abs(mean) < 0.1);  // standard error 1/64
  CHECK(std::abs(std - 1.0) < 0.1);

  CHECK_ERROR(rand({2}, DType::i64), "uniform", "i64");
  CHECK_ERROR(uniform({2}, 1.0, 0.0), "uniform", "low");
}

TEST_CASE("randint stays in [low, high) and covers it") {
  manual_seed(7);
  Tensor r = randint(-2, 3, {2000});
  CHECK(r.dtype() == DType::i64);
  std::set<int64_t> seen;
  for (int64_t v : r.to_vector<int64_t>()) {
    CHECK((v >= -2 && v < 3));
    seen.insert(v);
  }
  CHECK(seen.size() == 5);
  manual_seed(7);
  CHECK(randint(-2, 3, {2000}).to_vector<int64_t>() == r.to_vector<int64_t>());
  CHECK(randint(5, 6, {3}).to_vector<int64_t>() == std::vector<int64_t>{5, 5, 5});
  // A huge range must not overflow.
  for (int64_t v : randint(INT64_MIN / 2, INT64_MAX / 2, {100}).to_vector<int64_t>())
    CHECK((v >= INT64_MIN / 2 && v < INT64_MAX / 2));
  CHECK_ERROR(randint(3, 3, {2}), "randint", "[3, 3)");
}

TEST_CASE("contiguous and clone") {
  Tensor x = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(x.contiguous().same(x));  // already row-major: no copy
  Tensor t = x.transpose(0, 1);   // [3, 2] view
  CHECK_FALSE(t.is_contiguous());
  Tensor c = t.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.shape() == Shape{3, 2});
  CHECK(vals(c) == std::vector<double>{1, 4, 2, 5, 3, 6});

  Tensor k = x.clone();
  CHECK_FALSE(k.same(x));
  k.data<double>()[0] = 100;  // a real copy
  CHECK(x.at({0, 0}) == 1);

  Tensor l = leaf64({3, 4});
  CHECK_GRAD([](const std::vector<Tensor>& in) { return in[0].transpose(0, 1).contiguous() * 3.0; }, {l});
  CHECK_GRAD([](const std::vector<Tensor>& in) { return in[0].clone() * in[0]; }, {l});
}

TEST_CASE("to(dtype) converts, and float conversions pass gradients back") {
  Tensor x = from_vector(std::vector<float>{1.5f, -2.0f, 3.0f}, {3});
  CHECK(x.to(DType::f32).same(x));
  Tensor d = x.to(DType::f64);
  CHECK(d.dtype() == DType::f64);
  CHECK(d.to_vector<double>() == std::vector<double>{1.5, -2.0, 3.0});
  CHECK(from_vector(std::vector<int64_t>{3, -4}, {2}).to(DType::f32).to_vector<float>() ==
        std::vector<float>{3, -4});
  CHECK(from_vector(std::vector<double>{2.0, -7.0}, {2}).to(DType::i64).to_vector<int64_t>() ==
        std::vector<int64_t>{2, -7});

  x.requires_grad_();
  sum(x.to(DType::f64) * 2.0).backward();
  REQUIRE(x.grad().defined());
  CHECK(x.grad().dtype() == DType::f32);
  CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 2, 2});
  CHECK_FALSE(x.to(DType::i64).requires_grad());  // integers carry no gradient
}

TEST_CASE("to(device)") {
  Tensor x = ones({2});
  CHECK(x.to(Device::cpu()).same(x));
  if (!cuda_available()) CHECK_ERROR(x.to(Device::cuda(0)), "to", "cuda:0", "not available");
}

TEST_CASE("item, at and to_vector read values back") {
  CHECK(from_vector(std::vector<float>{2.5f}, {1, 1}).item() == 2.5);
  CHECK(full({}, 3, DType::i64).item() == 3);
  CHECK_ERROR(ones({2, 3}).item(), "item", "[2,3]", "6 elements");

  Tensor x = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(x.at({1, 0}) == 4);
  CHECK(x.at({-1, -1}) == 6);  // negative indices count from the end
  CHECK(x.transpose(0, 1).at({2, 1}) == 6);
  CHECK(x.slice(1, 1, 3).at({1, 0}) == 5);
  CHECK_ERROR(x.at({0, 3}), "at", "(0,3)", "[2,3]");
  CHECK_ERROR(x.at({2, 0}), "at", "(2,0)", "[2,3]");
  CHECK_ERROR(x.at({1}), "at", "[2,3]");

  CHECK(x.transpose(0, 1).to_vector<int64_t>() == std::vector<int64_t>{1, 4, 2, 5, 3, 6});
  CHECK(x.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(zeros({0, 3}).to_vector<float>().empty());
}

TEST_CASE("to_string shows shape, dtype, device and values") {
  Tensor x = from_vector(std::vector<float>{1, 2.5f, 3.14159f, 4, 5, 6}, {2, 3});
  std::string s = to_string(x);
  INFO(s);
  CHECK(s.find("shape=[2,3]") != std::string::npos);
  CHECK(s.find("dtype=f32") != std::string::npos);
  CHECK(s.find("device=cpu") != std::string::npos);
  CHECK(s.find("[[1, 2.5, 3.142],\n [4, 5, 6]]") != std::string::npos);  // 4 significant digits

  std::string big = to_string(arange(100));
  INFO(big);
  CHECK(big.find("[0, 1, 2, ..., 97, 98, 99]") != std::string::npos);
  CHECK(big.find("50") == std::string::npos);

  std::string cube = to_string(arange(8).reshape({2, 2, 2}));
  INFO(cube);
  CHECK(cube.find("[[[0, 1],\n  [2, 3]],\n\n [[4, 5],\n  [6, 7]]]") != std::string::npos);

  CHECK(to_string(full({}, 0.5)).find(")\n0.5") != std::string::npos);
  CHECK(fmt::format("{}", Tensor()) == "Tensor(undefined)");
  Tensor g = leaf64({2}) * 2.0;
  CHECK(to_string(g).find("grad_fn=mul_scalar") != std::string::npos);
}
