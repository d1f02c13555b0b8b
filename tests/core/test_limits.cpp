// The library at its limits: sizes that overflow int64, views that reach outside their storage, undefined
// tensors, i64 arithmetic that wraps, and float -> i64 conversions of NaN and infinities. Each must give a
// defined result or an lf::Error naming the op, never a crash, a hang or undefined behaviour (the
// sanitizer build runs this file with -fsanitize=undefined,float-cast-overflow).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "ops/ops.h"

using namespace lf;
using Catch::Contains;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();

TEST_CASE("limits: sizes whose element or byte count overflows are refused before allocating") {
  CHECK_THROWS_WITH(zeros({int64_t(1) << 62}), Contains("empty") && Contains("overflows int64"));
  CHECK_THROWS_WITH(zeros({(int64_t(1) << 61) + 1}), Contains("overflows int64"));  // x4 bytes wraps
  CHECK_THROWS_WITH(zeros({int64_t(1) << 32, int64_t(1) << 32}), Contains("numel") || Contains("strides"));
  // zero elements, but row-major strides that do not fit (what a hostile checkpoint header can declare)
  CHECK_THROWS_WITH(zeros({0, 65536, 65536, 65536, 65536}), Contains("strides") && Contains("[0,65536"));
  CHECK_THROWS_AS(zeros({kMax}), Error);
  CHECK_THROWS_WITH(zeros({-1}), Contains("negative"));
  CHECK_THROWS_WITH(cpu_allocator().allocate(size_t(1) << 63), Contains("allocate"));
  CHECK(checked_mul("t", 3, 4) == 12);
  CHECK_THROWS_WITH(checked_mul("myop", kMax, 2), Contains("myop"));
  CHECK_THROWS_WITH(checked_add("myop", kMax, 1), Contains("myop"));
}

TEST_CASE("limits: views with extreme arguments give an error or a valid view") {
  Tensor x = arange(12).reshape({3, 4});
  CHECK_THROWS_WITH(x.narrow(1, 2, kMax), Contains("narrow"));
  CHECK_THROWS_WITH(x.narrow(1, kMax, 1), Contains("narrow"));
  CHECK_THROWS_WITH(x.narrow(1, -5, 1), Contains("narrow"));
  // slice clamps like Python; a huge step gives one element, not an overflow
  Tensor s = x.slice(1, 1, kMax, kMax);
  CHECK(s.shape() == Shape{3, 1});
  CHECK(s.at({2, 0}) == 9);
  CHECK(x.slice(0, kMin, kMax).shape() == Shape{3, 4});
  CHECK(x.slice(0, kMax, kMin).shape() == Shape{0, 4});
  CHECK_THROWS_WITH(x.reshape({kMax, -1}), Contains("reshape"));
  CHECK_THROWS_WITH(x.reshape({int64_t(1) << 32, int64_t(1) << 32, 0}), Contains("reshape"));
  CHECK_THROWS_WITH(x.reshape({-1, -1}), Contains("only one dimension"));
  CHECK_THROWS_WITH(x.unsqueeze(0).expand({kMax, 3, 4}), Contains("expand"));
  CHECK_THROWS_WITH(x.unsqueeze(0).expand({int64_t(1) << 40, int64_t(1) << 40, 3, 4}), Contains("expand"));
}

TEST_CASE("limits: as_strided refuses views that reach outside the storage") {
  Tensor x = zeros({4, 4});
  CHECK(x.as_strided({2, 2}, {4, 1}, 10).numel() == 4);  // elements 10, 11, 14, 15: inside
  CHECK_THROWS_WITH(x.as_strided({2, 2}, {4, 1}, 11), Contains("as_strided") && Contains("16"));
  CHECK_THROWS_WITH(x.as_strided({2}, {1}, -1), Contains("as_strided"));
  CHECK_THROWS_WITH(x.as_strided({3}, {-8}, 4), Contains("as_strided"));  // 4, -4, -12
  CHECK(x.as_strided({3}, {-4}, 8).numel() == 3);                         // 8, 4, 0
  CHECK_THROWS_WITH(x.as_strided({2}, {kMax}, 0), Contains("as_strided"));
  CHECK_THROWS_WITH(x.as_strided({2, 2}, {1}, 0), Contains("differ in length"));
  CHECK(x.as_strided({0, 5}, {100, 100}, 1000).numel() == 0);  // an empty view reaches nothing
}

TEST_CASE("limits: an undefined tensor throws instead of dereferencing null") {
  Tensor t;
  CHECK_FALSE(t.defined());
  CHECK_THROWS_WITH(t.numel(), Contains("numel") && Contains("undefined"));
  CHECK_THROWS_WITH(t.shape(), Contains("shape"));
  CHECK_THROWS_WITH(t.dim(), Contains("dim"));
  CHECK_THROWS_WITH(t.dtype(), Contains("dtype"));
  CHECK_THROWS_WITH(t.device(), Contains("device"));
  CHECK_THROWS_WITH(t.requires_grad(), Contains("requires_grad"));
  CHECK_THROWS_WITH(t.grad(), Contains("grad"));
  CHECK_THROWS_WITH(t.is_leaf(), Contains("is_leaf"));
  CHECK_THROWS_AS(t.raw_data(), Error);
  CHECK_THROWS_AS(t.item(), Error);
  CHECK_THROWS_AS(t.reshape({1}), Error);
  Tensor a = ones({2});
  Tensor b = std::move(a);
  CHECK_THROWS_AS(a.numel(), Error);  // NOLINT(bugprone-use-after-move): that is the point
  CHECK(b.numel() == 2);
}

TEST_CASE("limits: i64 arithmetic wraps around modulo 2^64, as in PyTorch") {
  Tensor big = from_vector(std::vector<int64_t>{kMax, kMin, 5}, {3});
  auto v = [](const Tensor& t) { return t.to_vector<int64_t>(); };
  CHECK(v(add(big, from_vector(std::vector<int64_t>{1, -1, 1}, {3}))) == std::vector<int64_t>{kMin, kMax, 6});
  CHECK(v(sub(big, from_vector(std::vector<int64_t>{-1, 1, 1}, {3}))) == std::vector<int64_t>{kMin, kMax, 4});
  CHECK(v(mul(big, from_vector(std::vector<int64_t>{2, 2, 2}, {3}))) == std::vector<int64_t>{-2, 0, 10});
  CHECK(v(neg(big)) == std::vector<int64_t>{kMin + 1, kMin, -5});
  CHECK(v(abs(big)) == std::vector<int64_t>{kMax, kMin, 5});
  CHECK(v(add(big, 1.0)) == std::vector<int64_t>{kMin, kMin + 1, 6});
  CHECK(v(mul(big, 3.0)) == std::vector<int64_t>{kMax - 2, kMin, 15});
  CHECK(sum(full({4}, double(int64_t(1) << 62), DType::i64)).item() == 0.0);  // 4 * 2^62 = 2^64 wraps to 0
}

TEST_CASE("limits: float -> i64 conversion is defined for NaN and infinities; integer constants must fit") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::nan("");
  Tensor f = from_vector(std::vector<double>{nan, inf, -inf, 1e30, -1e30, 2.9, -2.9}, {7});
  CHECK(f.to(DType::i64).to_vector<int64_t>() == std::vector<int64_t>{0, kMax, kMin, kMax, kMin, 2, -2});
  Tensor g = from_vector(std::vector<float>{std::nanf(""), 1e30f, -1e30f, 7.5f}, {4});
  CHECK(g.to(DType::i64).to_vector<int64_t>() == std::vector<int64_t>{0, kMax, kMin, 7});
  CHECK(g.transpose(0, 0).slice(0, 0, 4, 2).to(DType::i64).to_vector<int64_t>() == std::vector<int64_t>{0, kMin});
  CHECK_THROWS_WITH(full({2}, 1e30, DType::i64), Contains("full") && Contains("i64"));
  CHECK_THROWS_WITH(full({2}, nan, DType::i64), Contains("full"));
  CHECK(std::isnan(full({1}, nan, DType::f32).item()));  // floats hold NaN
  CHECK_THROWS_WITH(arange(0.0, 1e300, 1.0), Contains("arange"));
  CHECK_THROWS_WITH(arange(0.0, 1.0, inf), Contains("arange"));
  CHECK_THROWS_WITH(arange(1e30, 1e30 + 1e16, 1e15, DType::i64), Contains("arange") && Contains("i64"));
  CHECK(arange(5, DType::i64).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
}
