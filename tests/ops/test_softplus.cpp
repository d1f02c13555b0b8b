// softplus: the worked example of docs/adding-an-op.md — forward values, gradcheck, stability, errors.
#include <cmath>

#include "tests/support/helpers.h"

using namespace lf;

TEST_CASE("softplus: forward values, including where a naive log(1 + exp(x)) overflows") {
  Tensor x = from_vector(std::vector<float>{-2.f, 0.f, 3.f, 100.f, -100.f}, {5});
  std::vector<float> y = softplus(x).to_vector<float>();
  CHECK(y[0] == Approx(std::log1p(std::exp(-2.0))));
  CHECK(y[1] == Approx(std::log(2.0)));
  CHECK(y[2] == Approx(std::log1p(std::exp(3.0))));
  CHECK(y[3] == Approx(100.0));  // exp(100) overflows f32; the stable form does not
  CHECK(y[4] == Approx(0.0).margin(1e-30));
}

TEST_CASE("softplus: f64 gradcheck, also on a transposed view") {
  manual_seed(3);
  Tensor x = test::leaf64({3, 4}, 2.0);
  CHECK_GRAD([](const std::vector<Tensor>& in) { return softplus(in[0]); }, {x});
  CHECK_GRAD([](const std::vector<Tensor>& in) { return softplus(in[0].transpose(0, 1)); }, {x});
}

TEST_CASE("softplus: refuses integer tensors") {
  CHECK_ERROR(softplus(ones({2}, DType::i64)), "softplus", "i64");
}
