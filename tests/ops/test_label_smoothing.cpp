// label_smoothed_cross_entropy (ops/label_smoothing.cpp): values against the smoothed target written out,
// the ignored rows, f64 gradients, and the checks.
#include <cmath>

#include "tests/support/helpers.h"

using namespace lf;
using namespace lf::test;

namespace {

Tensor f64(std::vector<double> v, const Shape& shape) { return from_vector(v, shape); }
Tensor i64(std::vector<int64_t> v, const Shape& shape) { return from_vector(v, shape); }

// -sum_c q_c log p_c for one row, with q = (1 - s) one_hot(t) + s / C.
double smoothed_row(const std::vector<double>& z, int64_t t, double s) {
  double lse = 0;
  for (double v : z) lse += std::exp(v);
  lse = std::log(lse);
  double loss = 0;
  const double C = double(z.size());
  for (size_t c = 0; c < z.size(); ++c) loss -= ((int64_t(c) == t ? 1 - s : 0) + s / C) * (z[c] - lse);
  return loss;
}

}  // namespace

TEST_CASE("label_smoothed_cross_entropy equals the loss against the smoothed distribution") {
  Tensor logits = f64({1, 2, 3, 0.5, -1, 4}, {2, 3});
  const double s = 0.1;
  const double want = (smoothed_row({1, 2, 3}, 0, s) + smoothed_row({0.5, -1, 4}, 2, s)) / 2;
  CHECK(label_smoothed_cross_entropy(logits, i64({0, 2}, {2}), s).item() == Approx(want).epsilon(1e-12));
  // smoothing 0 is cross_entropy; smoothing 1 ignores the targets (the uniform distribution)
  CHECK(label_smoothed_cross_entropy(logits, i64({0, 2}, {2}), 0).item() ==
        cross_entropy(logits, i64({0, 2}, {2})).item());
  CHECK(label_smoothed_cross_entropy(logits, i64({0, 2}, {2}), 1).item() ==
        Approx(label_smoothed_cross_entropy(logits, i64({1, 0}, {2}), 1).item()).epsilon(1e-12));
}

TEST_CASE("label_smoothed_cross_entropy leaves ignored rows out of both terms") {
  Tensor logits = f64({1, 2, 3, 0.5, -1, 4}, {2, 3});
  const double s = 0.2;
  CHECK(label_smoothed_cross_entropy(logits, i64({-100, 2}, {2}), s).item() ==
        Approx(smoothed_row({0.5, -1, 4}, 2, s)).epsilon(1e-12));
  CHECK(label_smoothed_cross_entropy(logits, i64({1, 9}, {2}), s, 9).item() ==
        Approx(smoothed_row({1, 2, 3}, 1, s)).epsilon(1e-12));
  Tensor leaf = leaf64({2, 3});
  Tensor none = label_smoothed_cross_entropy(leaf, i64({-100, -100}, {2}), s);
  CHECK(none.item() == 0.0);
  none.backward();
  CHECK(leaf.grad().to_vector<double>() == std::vector<double>(6, 0.0));
}

TEST_CASE("label_smoothed_cross_entropy gradients") {
  manual_seed(31);
  Tensor target = i64({0, 2, -100, 1, 2, 0}, {2, 3});
  CHECK_GRAD(
      [target](const std::vector<Tensor>& in) { return label_smoothed_cross_entropy(in[0], target, 0.1); },
      {leaf64({2, 3, 4})});
  // the gradient of a row is (p - q) / rows: at smoothing 1 and uniform logits it is 0
  Tensor flat = zeros({2, 4}, DType::f64).requires_grad_();
  label_smoothed_cross_entropy(flat, i64({1, 3}, {2}), 1).backward();
  CHECK(max_abs_diff(flat.grad(), zeros({2, 4}, DType::f64)) < 1e-15);
}

TEST_CASE("label_smoothed_cross_entropy checks") {
  Tensor logits = f64({1, 2, 3, 0.5, -1, 4}, {2, 3});
  CHECK_ERROR(label_smoothed_cross_entropy(logits, i64({0, 2}, {2}), 1.5), "label_smoothed_cross_entropy",
              "1.5");
  CHECK_ERROR(label_smoothed_cross_entropy(logits, i64({0, 2}, {2}), -0.1), "smoothing -0.1");
  CHECK_ERROR(label_smoothed_cross_entropy(logits, i64({0, 5}, {2}), 0.1), "cross_entropy");
}
