// softmax, log_softmax, layer_norm, cross_entropy, dropout, embedding, masked_fill, adamw_update.
#include <cmath>

#include "ops/optim_step.h"
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::all_close;
using lf::test::leaf64;

namespace {
Tensor f64(std::vector<double> v, const Shape& shape) { return from_vector(v, shape); }
Tensor i64(std::vector<int64_t> v, const Shape& shape) { return from_vector(v, shape); }
}  // namespace

TEST_CASE("softmax and log_softmax values") {
  Tensor x = f64({1, 2, 3, 0, 0, 0}, {2, 3});
  double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  Tensor s = softmax(x, -1);
  CHECK(all_close(s, f64({std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z, 1 / 3., 1 / 3., 1 / 3.}, {2, 3}),
                  1e-12));
  CHECK(all_close(log_softmax(x, 1), log(s), 1e-12));
  // over dim 0: each column normalised
  Tensor s0 = softmax(x, 0);
  CHECK(s0.shape() == Shape{2, 3});
  CHECK(s0.at({0, 2}) == Approx(std::exp(3.0) / (std::exp(3.0) + 1)));
  CHECK(all_close(sum(s0, {0}), ones({3}, DType::f64), 1e-12));
  // large logits do not overflow
  Tensor big = softmax(f64({1000, 1000}, {2}), 0);
  CHECK(big.to_vector<double>() == std::vector<double>{0.5, 0.5});
  CHECK_ERROR(softmax(x, 2), "softmax", "dim 2");
  CHECK_ERROR(softmax(zeros({2}, DType::i64), 0), "softmax", "i64");
}

TEST_CASE("softmax over a middle dim of a non-contiguous tensor") {
  manual_seed(21);
  Tensor x = randn({4, 3, 2}, DType::f64).permute({2, 1, 0});  // [2, 3, 4], non-contiguous
  Tensor s = softmax(x, 1);
  Tensor ref = exp(x) / sum(exp(x), {1}, true);
  CHECK(all_close(s, ref, 1e-12));
  CHECK(all_close(log_softmax(x, 1), log(ref), 1e-12));
}

TEST_CASE("softmax gradients") {
  manual_seed(22);
  Tensor t = randn({4, 3, 2}, DType::f64).permute({2, 1, 0}).detach().requires_grad_();
  CHECK_GRAD([](const std::vector<Tensor>& in) { return softmax(in[0], 1); }, {leaf64({2, 3, 4})});
  CHECK_GRAD([](const std::vector<Tensor>& in) { return log_softmax(in[0], 1); }, {leaf64({2, 3, 4})});
  CHECK_GRAD([](const std::vector<Tensor>& in) { return softmax(in[0], -1); }, {t});
  CHECK_GRAD([](const std::vector<Tensor>& in) { return log_softmax(in[0], 0); }, {t});
}

TEST_CASE("layer_norm values") {
  Tensor x = f64({1, 2, 3, 4, 2, 2, 2, 2}, {2, 4});
  Tensor y = layer_norm(x, Tensor(), Tensor(), 1e-5);
  double r = 1 / std::sqrt(1.25 + 1e-5);  // mean 2.5, biased variance 1.25
  CHECK(all_close(y, f64({-1.5 * r, -0.5 * r, 0.5 * r, 1.5 * r, 0, 0, 0, 0}, {2, 4}), 1e-10));
  Tensor w = f64({1, 2, 3, 4}, {4}), b = f64({0, 0, 0, 1}, {4});
  Tensor yw = layer_norm(x, w, b, 1e-5);
  CHECK(yw.at({0, 3}) == Approx(1.5 * r * 4 + 1));
  CHECK(yw.at({1, 3}) == Approx(1.0));
  CHECK_ERROR(layer_norm(x, f64({1, 2, 3}, {3}), Tensor()), "layer_norm", "weight", "[3]", "[2,4]");
  CHECK_ERROR(layer_norm(x, Tensor(), zeros({4})), "layer_norm", "mixed dtypes");
}

TEST_CASE("layer_norm gradients") {
  manual_seed(23);
  auto ln = [](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], in[2]); };
  CHECK_GRAD(ln, {leaf64({2, 3, 5}), leaf64({5}), leaf64({5})});
  CHECK_GRAD([](const std::vector<Tensor>& in) { return layer_norm(in[0], Tensor(), Tensor()); }, {leaf64({3, 4})});
  CHECK_GRAD([](const std::vector<Tensor>& in) { return layer_norm(in[0], in[1], Tensor()); },
             {leaf64({3, 4}), leaf64({4})});
  Tensor t = randn({4, 3}, DType::f64).transpose(0, 1).detach().requires_grad_();  // non-contiguous x
  CHECK_GRAD(ln, {t, leaf64({4}), leaf64({4})});
}

TEST_CASE("cross_entropy values") {
  Tensor logits = f64({1, 2, 3, 0, 0, 0}, {2, 3});
  double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)), lse1 = std::log(3.0);
  Tensor loss = cross_entropy(logits, i64({0, 2}, {2}));
  CHECK(loss.shape() == Shape{});
  CHECK(loss.item() == Approx(((lse0 - 1) + lse1) / 2));
  // the ignored row counts neither in the sum nor in the mean
  CHECK(cross_entropy(logits, i64({-100, 2}, {2})).item() == Approx(lse1));
  CHECK(cross_entropy(logits, i64({2, 7}, {2}), 7).item() == Approx(lse0 - 3));
}

TEST_CASE("cross_entropy with every row ignored is 0 with a zero gradient") {
  Tensor logits = leaf64({2, 3});
  Tensor loss = cross_entropy(logits, i64({-100, -100}, {2}));
  CHECK(loss.item() == 0.0);
  loss.backward();
  CHECK(logits.grad().to_vector<double>() == std::vector<double>(6, 0.0));
}

TEST_CASE("cross_entropy gradients") {
  manual_seed(24);
  Tensor target = i64({0, 2, -100, 1, 2, 0}, {2, 3});
  CHECK_GRAD([target](const std::vector<Tensor>& in) { return cross_entropy(in[0], target); }, {leaf64({2, 3, 4})});
  Tensor t2 = i64({3, 0, 1}, {3});
  Tensor nc = randn({4, 3}, DType::f64).transpose(0, 1).detach().requires_grad_();
  CHECK_GRAD([t2](const std::vector<Tensor>& in) { return cross_entropy(in[0], t2) * 3.0; }, {nc});
}

TEST_CASE("cross_entropy errors") {
  Tensor logits = zeros({3, 256});
  CHECK_ERROR(cross_entropy(logits, i64({1, 300, 2}, {3})), "cross_entropy: target 300 is out of range for 256 classes");
  CHECK_ERROR(cross_entropy(logits, i64({-1, 0, 0}, {3})), "target -1 is out of range");
  CHECK_ERROR(cross_entropy(logits, i64({1, 2}, {2})), "cross_entropy", "[2]", "[3,256]");
  CHECK_ERROR(cross_entropy(logits, zeros({3})), "cross_entropy", "i64", "f32");
}

TEST_CASE("dropout") {
  const double p = 0.25;
  Tensor x = ones({4000});
  manual_seed(5);
  Tensor y = dropout(x, p, true);
  std::vector<float> v = y.to_vector<float>();
  int64_t zeroed = 0, wrong_scale = 0;
  for (float e : v) {
    if (e == 0.f) ++zeroed;
    else if (std::abs(e - 1 / (1 - p)) > 1e-6) ++wrong_scale;
  }
  CHECK(wrong_scale == 0);  // survivors are scaled by 1/(1-p)
  CHECK(double(zeroed) / 4000 == Approx(p).margin(0.03));
  // same seed, same mask
  manual_seed(5);
  CHECK(dropout(x, p, true).to_vector<float>() == v);
  // eval mode and p = 0: the input itself
  CHECK(dropout(x, p, false).same(x));
  CHECK(dropout(x, 0.0, true).same(x));
  CHECK_ERROR(dropout(x, 1.0, true), "dropout", "[0, 1)", "1");
  CHECK_ERROR(dropout(x, -0.1, true), "dropout");

  // gradcheck: re-seed inside fn so every evaluation draws the same mask
  manual_seed(6);
  CHECK_GRAD([](const std::vector<Tensor>& in) {
    manual_seed(42);
    return dropout(in[0], 0.5, true);
  }, {leaf64({3, 4})});
}

TEST_CASE("embedding") {
  Tensor w = f64({0, 1, 10, 11, 20, 21}, {3, 2});
  Tensor ids = i64({2, 0, 2, 1}, {2, 2});
  Tensor e = embedding(w, ids);
  CHECK(e.shape() == Shape{2, 2, 2});
  CHECK(e.to_vector<double>() == std::vector<double>{20, 21, 0, 1, 20, 21, 10, 11});
  CHECK_ERROR(embedding(zeros({256, 4}), i64({1, 300}, {2})), "embedding: index 300 is out of range for 256 rows");
  CHECK_ERROR(embedding(zeros({256, 4}), zeros({2})), "embedding", "i64");
  CHECK_ERROR(embedding(zeros({4}), i64({1}, {1})), "embedding", "[V, D]", "[4]");

  // repeated ids add their gradients into the same row
  Tensor wl = leaf64({3, 2});
  sum(embedding(wl, ids)).backward();
  CHECK(wl.grad().to_vector<double>() == std::vector<double>{1, 1, 1, 1, 2, 2});
  manual_seed(25);
  CHECK_GRAD([ids](const std::vector<Tensor>& in) { return embedding(in[0], ids); }, {leaf64({3, 2})});
}

TEST_CASE("masked_fill") {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor mask = f64({1, 0, 1}, {1, 3});  // broadcast over rows
  Tensor y = masked_fill(x, mask, -9);
  CHECK(y.to_vector<double>() == std::vector<double>{-9, 2, -9, -9, 5, -9});
  CHECK_ERROR(masked_fill(x, zeros({4}), 0), "masked_fill", "[4]", "[2,3]");
  CHECK_ERROR(masked_fill(x, zeros({2, 2, 3}), 0), "masked_fill", "[2,2,3]");
  manual_seed(26);
  Tensor m2 = i64({0, 1}, {2, 1});
  CHECK_GRAD([mask](const std::vector<Tensor>& in) { return masked_fill(in[0], mask, 0.5); }, {leaf64({2, 3})});
  CHECK_GRAD([m2](const std::vector<Tensor>& in) { return masked_fill(in[0].transpose(0, 1), m2, -3.0); },
             {leaf64({3, 2})});
}

TEST_CASE("adamw_update: one step by hand, and slot checks") {
  Tensor p = f64({1, -1}, {2}), g = f64({0.5, -0.5}, {2}), m = zeros({2}, DType::f64), v = zeros({2}, DType::f64);
  AdamWHyper h{0.1, 0.9, 0.999, 1e-8, 0.1, 1};
  adamw_update({{p, g, m, v}}, h);
  // decay: p * (1 - lr * wd); step 1 after bias correction: lr * g / (|g| + eps) = +-0.1
  CHECK(p.at({0}) == Approx(0.99 - 0.1).epsilon(1e-6));
  CHECK(p.at({1}) == Approx(-0.99 + 0.1).epsilon(1e-6));
  CHECK(m.at({0}) == Approx(0.05));
  CHECK(v.at({0}) == Approx(0.001 * 0.25));
  CHECK_ERROR(adamw_update({{p, zeros({3}, DType::f64), m, v}}, h), "adamw_update", "slot 0", "grad", "[3]");
  CHECK_ERROR(adamw_update({{p, g, m, zeros({2})}}, h), "adamw_update", "v", "f32");
  adamw_update({}, h);  // nothing to do
}
