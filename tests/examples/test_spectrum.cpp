// examples/common/spectrum: LAPACK's singular values against matrices checkable by hand, the normalised
// cumulative sums of Figure 1, their average over sequences, and AttentionProbe (nn/attention.h) recording
// a model's P; and the heatmap writer the spectrum program draws with.
#include <cmath>

#include "examples/common/heatmap.h"
#include "examples/common/spectrum.h"
#include "nn/attention.h"
#include "nn/models.h"
#include "tests/support/helpers.h"

using namespace lf;

namespace {
void check_all(const std::vector<double>& got, const std::vector<double>& expect, double tol = 1e-12) {
  REQUIRE(got.size() == expect.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(expect[i]).margin(tol));
}
}  // namespace

TEST_CASE("singular_values: hand-checkable matrices, largest first") {
  check_all(singular_values({3, 0, 0, 4}, 2, 2), {4, 3});  // diagonal: |entries|, sorted
  check_all(singular_values({1, 1, 1, 1}, 2, 2), {2, 0});  // rank 1: ||u|| ||v|| = sqrt2 * sqrt2
  // [[3, 2, 2], [2, 3, -2]]: A A^T = [[17, 8], [8, 17]], eigenvalues 25 and 9 -> 5 and 3
  check_all(singular_values({3, 2, 2, 2, 3, -2}, 2, 3), {5, 3});
  check_all(singular_values({3, 2, 2, 3, 2, -2}, 3, 2), {5, 3});  // its transpose: the same values
  check_all(singular_values({-7}, 1, 1), {7});
  CHECK_ERROR(singular_values({1, 2, 3}, 2, 2), "singular_values", "3 values", "[2, 2]");
  CHECK_ERROR(singular_values({}, 0, 2), "singular_values");
}

TEST_CASE("normalized_cumulative and count_to_reach") {
  const std::vector<double> c = normalized_cumulative({4, 3, 1});
  check_all(c, {0.5, 7.0 / 8, 1});
  CHECK(count_to_reach(c, 0.5) == 1);
  CHECK(count_to_reach(c, 0.8) == 2);
  CHECK(count_to_reach(c, 1.0) == 3);
  check_all(normalized_cumulative({0, 0}), {1, 1});  // a zero matrix: nothing left to explain
}

TEST_CASE("SpectrumAccumulator: identity and rank-one attention, averaged over sequences") {
  // P [B = 2, h = 2, n = 4, m = 4]: head 0 attends to itself (identity: all singular values 1), head 1
  // uniformly (every row 1/4: rank one, c = 1 at once).
  std::vector<double> p;
  for (int b = 0; b < 2; ++b) {
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) p.push_back(i == j ? 1.0 : 0.0);
    for (int i = 0; i < 16; ++i) p.push_back(0.25);
  }
  Tensor P = from_vector(p, {2, 2, 4, 4});
  SpectrumAccumulator acc;
  acc.add({P, P});  // two layers
  acc.add({P, P});
  CHECK(acc.layers() == 2);
  CHECK(acc.heads() == 2);
  CHECK(acc.length(0) == 4);
  CHECK(acc.sequences() == 4);
  check_all(acc.mean(1, 0), {0.25, 0.5, 0.75, 1});
  check_all(acc.mean(1, 1), {1, 1, 1, 1});
  check_all(acc.layer_mean(0), {0.625, 0.75, 0.875, 1});
  CHECK_ERROR(acc.add({P}), "spectrum", "1 layers", "2 before");
  CHECK_ERROR(acc.mean(2, 0), "spectrum", "layer 2");
  // layers of different rank (a Linformer with a k per layer): [n 4, m 4] then [n 4, m 2]
  SpectrumAccumulator mixed;
  Tensor P2 =
      from_vector(std::vector<double>{1, 0, 0, 1, 1, 0, 0, 1}, {1, 1, 4, 2});  // two orthogonal columns
  mixed.add({P.slice(0, 0, 1).slice(1, 0, 1), P2});
  CHECK(mixed.length(0) == 4);
  CHECK(mixed.length(1) == 2);
  check_all(mixed.mean(1, 0), {0.5, 1});
}

TEST_CASE("AttentionProbe records each block's P: [B, h, n, n] standard, [B, h, n, k] Linformer") {
  for (AttentionKind kind : {AttentionKind::standard, AttentionKind::linformer}) {
    EncoderConfig cfg;
    cfg.vocab = 32, cfg.dim = 16, cfg.depth = 3, cfg.heads = 2, cfg.max_len = 8, cfg.k = 4, cfg.kind = kind;
    manual_seed(5);
    MaskedLM model(cfg);
    Tensor ids =
        from_vector(std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, {2, 8});
    AttentionProbe probe;
    CHECK_ERROR(AttentionProbe(), "AttentionProbe", "already recording");
    model.forward(ids);
    REQUIRE(probe.probs.size() == 3);
    const int64_t m = kind == AttentionKind::standard ? 8 : 4;
    for (const Tensor& p : probe.probs) {
      CHECK(p.shape() == Shape{2, 2, 8, m});
      CHECK_FALSE(p.requires_grad());
      // each row of P is a probability distribution over the m keys
      for (double s : sum(p, {-1}).to_vector<double>()) CHECK(s == Approx(1.0).margin(1e-5));
    }
  }
  // a k per layer: each block's P has its own m
  EncoderConfig cfg;
  cfg.vocab = 32, cfg.dim = 16, cfg.depth = 2, cfg.heads = 2, cfg.max_len = 8, cfg.k = 4,
  cfg.layer_k = {4, 2};
  cfg.sharing = Sharing::headwise;
  MaskedLM model(cfg);
  {
    AttentionProbe probe;
    model.forward(from_vector(std::vector<int64_t>(8, 3), {1, 8}));
    REQUIRE(probe.probs.size() == 2);
    CHECK(probe.probs[0].shape() == Shape{1, 2, 8, 4});
    CHECK(probe.probs[1].shape() == Shape{1, 2, 8, 2});
  }
  // without a probe nothing is recorded, and a new probe starts empty
  AttentionProbe later;
  CHECK(later.probs.empty());
}

TEST_CASE("heatmap: cells shaded by value, ragged tables refused") {
  Canvas c =
      render_heatmap({{0.0, 1.0}, {0.5, 0.25}}, {.title = "t", .row_label = "layer", .col_label = "head"});
  CHECK(c.width() > 100);
  CHECK(c.height() > 80);
  CHECK_ERROR(render_heatmap({{1.0, 2.0}, {3.0}}, {}), "heatmap", "same length");
  CHECK_ERROR(render_heatmap({}, {}), "heatmap", "no values");
}
