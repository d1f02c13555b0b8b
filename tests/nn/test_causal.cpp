// Causal attention (nn/attention.h, EncoderConfig::causal): the output at each position depends on no later
// position (its gradient with respect to every later input is exactly zero), it composes with a padding
// mask, it passes gradcheck, and a causal Linformer is refused with the reason.
#include "nn/models.h"
#include "tests/support/helpers.h"

using namespace lf;

namespace {
// Rows of x's gradient [B, n, D] that are exactly zero, for the loss sum(r * y[:, i, :]) of y = f(x), r
// random: a plain sum would be of a LayerNorm's output, which sums to 0 whatever the input, so its gradient
// is 0 up to rounding and some rows would come out exactly 0 by cancellation.
std::vector<bool> zero_rows_of_grad(const std::function<Tensor(const Tensor&)>& f, const Tensor& x0,
                                    int64_t i) {
  Tensor x = x0.detach().requires_grad_();
  Tensor y = f(x).slice(1, i, i + 1);
  sum(mul(y, randn(y.shape()))).backward();
  const int64_t B = x.size(0), n = x.size(1), D = x.size(2);
  const std::vector<double> g = x.grad().to_vector<double>();
  std::vector<bool> zero(size_t(n), true);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t d = 0; d < D; ++d)
        if (g[size_t((b * n + j) * D + d)] != 0.0) zero[size_t(j)] = false;
  return zero;
}
}  // namespace

TEST_CASE(
    "causal attention: position i's output has exactly zero gradient with respect to every later input") {
  manual_seed(21);
  MultiHeadSelfAttention att(8, 2, /*causal=*/true);
  Tensor x = randn({2, 6, 8});
  for (int64_t i = 0; i < 6; ++i) {
    const std::vector<bool> zero =
        zero_rows_of_grad([&](const Tensor& in) { return att.forward(in, Tensor()); }, x, i);
    for (int64_t j = 0; j < 6; ++j) {
      INFO("output " << i << ", input " << j);
      CHECK(zero[size_t(j)] == (j > i));
    }
  }
  // the same model without the mask: every input matters to every output
  MultiHeadSelfAttention full(8, 2);
  const std::vector<bool> zero =
      zero_rows_of_grad([&](const Tensor& in) { return full.forward(in, Tensor()); }, x, 0);
  for (bool z : zero) CHECK_FALSE(z);
}

TEST_CASE("causal attention through a whole encoder, and together with a padding mask") {
  EncoderConfig cfg;
  cfg.in_features = 3, cfg.dim = 8, cfg.depth = 2, cfg.heads = 2, cfg.max_len = 6;
  cfg.kind = AttentionKind::standard, cfg.causal = true;
  manual_seed(22);
  Encoder enc(cfg);
  Tensor x = randn({2, 6, 3});
  for (int64_t i = 0; i < 6; ++i) {
    const std::vector<bool> zero = zero_rows_of_grad([&](const Tensor& in) { return enc.encode(in); }, x, i);
    for (int64_t j = 0; j < 6; ++j) CHECK(zero[size_t(j)] == (j > i));
  }
  // padding: position 1 of every sequence is padding, so it reaches no output either
  Tensor mask = from_vector(std::vector<float>{1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1}, {2, 6});
  const std::vector<bool> zero =
      zero_rows_of_grad([&](const Tensor& in) { return enc.encode(in, mask); }, x, 4);
  CHECK(zero == std::vector<bool>{false, true, false, false, false, true});
}

TEST_CASE("causal attention: f64 gradcheck with and without padding") {
  manual_seed(23);
  MultiHeadSelfAttention att(4, 2, /*causal=*/true);
  att.to(DType::f64);
  Tensor x = lf::test::leaf64({2, 4, 4});
  Tensor mask = from_vector(std::vector<double>{1, 1, 0, 1, 1, 1, 1, 1}, {2, 4});
  std::vector<Tensor> inputs{x};
  for (const Tensor& p : att.parameters()) inputs.push_back(p);
  CHECK_GRAD([&](const std::vector<Tensor>& in) { return att.forward(in[0], Tensor(), Tensor()); }, inputs);
  CHECK_GRAD([&](const std::vector<Tensor>& in) { return att.forward(in[0], mask, Tensor()); }, inputs);
}

TEST_CASE("a causal Linformer is refused, saying why") {
  EncoderConfig cfg;
  cfg.vocab = 32, cfg.dim = 8, cfg.depth = 1, cfg.heads = 2, cfg.max_len = 8, cfg.k = 4, cfg.causal = true;
  CHECK_ERROR(cfg.validate(), "causal", "standard attention", "Linformer", "later ones");
  CHECK_ERROR(MaskedLM(cfg), "causal", "Linformer");
  cfg.kind = AttentionKind::standard;
  cfg.validate();
  CHECK(causal_mask(3, DType::f32, Device::cpu()).to_vector<float>() ==
        std::vector<float>{0, 1, 1, 0, 0, 1, 0, 0, 0});
}
