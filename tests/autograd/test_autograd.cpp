// The backward engine: graph shapes, accumulation, grad mode, retain_graph, deep chains, gradcheck itself.
#include "autograd/node.h"
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::leaf64;

TEST_CASE("diamond graph: both paths add up") {
  // y = a*b + a*c with b = c = x  ->  dy/dx = 2a, dy/da = 2x
  Tensor x = from_vector(std::vector<double>{3.0}, {1}).requires_grad_();
  Tensor a = from_vector(std::vector<double>{5.0}, {1}).requires_grad_();
  Tensor b = x * 1.0, c = x * 1.0;
  Tensor y = sum(a * b + a * c);
  y.backward();
  CHECK(x.grad().item() == Approx(10.0));
  CHECK(a.grad().item() == Approx(6.0));
}

TEST_CASE("a tensor used twice gets both gradients") {
  Tensor x = from_vector(std::vector<double>{2.0, -1.0}, {2}).requires_grad_();
  sum(x * x).backward();  // d/dx x^2 = 2x
  CHECK(x.grad().to_vector<double>() == std::vector<double>{4.0, -2.0});
}

TEST_CASE("leaf gradients accumulate across backward calls until zeroed") {
  Tensor x = from_vector(std::vector<double>{1.0}, {1}).requires_grad_();
  sum(x * 3.0).backward();
  sum(x * 3.0).backward();
  CHECK(x.grad().item() == Approx(6.0));
  x.zero_grad();
  sum(x * 3.0).backward();
  CHECK(x.grad().item() == Approx(3.0));
}

TEST_CASE("NoGradGuard records nothing; detach cuts the graph") {
  Tensor x = leaf64({2, 2});
  {
    NoGradGuard g;
    Tensor y = x * 2.0;
    CHECK_FALSE(y.requires_grad());
    CHECK(y.grad_fn() == nullptr);
  }
  Tensor d = (x * 2.0).detach();
  CHECK_FALSE(d.requires_grad());
  Tensor y = x * 2.0;
  CHECK(y.requires_grad());
}

TEST_CASE("retain_graph allows a second backward; without it the error says why") {
  Tensor x = from_vector(std::vector<double>{2.0}, {1}).requires_grad_();
  Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  CHECK(x.grad().item() == Approx(2 * std::exp(2.0)));
  CHECK_ERROR(y.backward(), "already freed", "retain_graph");
}

TEST_CASE("a non-scalar root needs an explicit gradient") {
  Tensor x = leaf64({3});
  Tensor y = x * 2.0;
  CHECK_ERROR(y.backward(), "not a scalar", "[3]");
  y.backward(from_vector(std::vector<double>{1, 10, 100}, {3}));
  CHECK(x.grad().to_vector<double>() == std::vector<double>{2, 20, 200});
}

TEST_CASE("backward on a tensor that does not require grad throws") {
  Tensor x = ones({2, 3});
  CHECK_ERROR(sum(x).backward(), "does not require grad");
  CHECK_ERROR(ones({2}, DType::i64).requires_grad_(), "floating");
}

TEST_CASE("a chain of 10 000 ops backpropagates without recursion") {
  Tensor x = from_vector(std::vector<double>{1.0}, {1}).requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 10000; ++i) y = y * 1.0001;
  sum(y).backward();
  CHECK(x.grad().item() == Approx(std::pow(1.0001, 10000)).epsilon(1e-9));
  // Dropping the graph must not recurse either: y owns the whole chain and dies here.
  y = Tensor();
  SUCCEED();
}

TEST_CASE("to_dot shows op names and shapes") {
  Tensor x = leaf64({2, 3});
  Tensor y = sum(exp(x) * 2.0);
  std::string dot = to_dot(y);
  CHECK(dot.find("digraph") != std::string::npos);
  CHECK(dot.find("exp") != std::string::npos);
  CHECK(dot.find("[2,3]") != std::string::npos);
  CHECK(dot.find("leaf") != std::string::npos);
}

TEST_CASE("gradcheck catches a wrong backward and names the element") {
  // A deliberately wrong op: forward x^2, backward claims 3x.
  auto wrong_square = [](const std::vector<Tensor>& in) {
    Tensor x = in[0];
    Tensor out;
    {
      NoGradGuard g;
      out = x * x;
    }
    return record("wrong_square", out, {x}, [xs = x.detach()](const Tensor& g, const std::vector<bool>&) {
      return std::vector<Tensor>{g * xs * 3.0};
    });
  };
  Tensor x = from_vector(std::vector<double>{1.0, 2.0}, {2}).requires_grad_();
  auto r = gradcheck(wrong_square, {x});
  CHECK_FALSE(r.ok);
  CHECK(r.report.find("analytic") != std::string::npos);
  CHECK(r.report.find("numeric") != std::string::npos);
  auto right = gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {x});
  INFO(right.report);
  CHECK(right.ok);
}
