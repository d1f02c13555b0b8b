// Linformer attention, the encoder block and the encoder: values against direct loops, f64 gradcheck in every
// sharing mode with a padding mask, padding invariance, and a short training run.
#include <chrono>
#include <cmath>
#include <functional>

#include "backends/backend.h"
#include "nn/models.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::max_abs_diff;

namespace {

const Sharing kAllSharing[] = {Sharing::none, Sharing::headwise, Sharing::kv, Sharing::layerwise};

// Self-attention written as plain loops over doubles, straight from the formulas, for x [B, n, D]:
//   q, K, V = x W_qkv^T + b; K, V rows zeroed where mask = 0 (Linformer) or masked keys skipped (standard);
//   Linformer: K'[r] = sum_j E[j, r] K[j] (per head slice), V' likewise with F; y = softmax(q K'^T / sqrt(dh)) V'.
// `E`/`F` give the projection entry for (head, row j, column r); null for standard attention.
std::vector<double> attention_loops(const Linear& qkv, const Linear& out, int64_t heads, const std::vector<double>& x,
                                    int64_t B, int64_t n, const std::vector<double>& mask, int64_t k,
                                    const std::function<double(int64_t, int64_t, int64_t)>& E,
                                    const std::function<double(int64_t, int64_t, int64_t)>& F) {
  int64_t D = out.out_features, dh = D / heads;
  auto W = qkv.weight.to_vector<double>(), bw = qkv.bias.to_vector<double>();
  auto Wo = out.weight.to_vector<double>(), bo = out.bias.to_vector<double>();
  auto m = [&](int64_t b, int64_t j) { return mask.empty() ? 1.0 : mask[b * n + j]; };
  std::vector<double> result(B * n * D);
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> t(n * 3 * D);  // [n, 3D] = q | K | V
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < 3 * D; ++o) {
        double s = bw[o];
        for (int64_t c = 0; c < D; ++c) s += W[o * D + c] * x[(b * n + i) * D + c];
        t[i * 3 * D + o] = s;
      }
    std::vector<double> y(n * D, 0.0);
    for (int64_t h = 0; h < heads; ++h) {
      bool linformer = bool(E);
      int64_t rows = linformer ? k : n;
      std::vector<double> kp(rows * dh, 0.0), vp(rows * dh, 0.0);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < dh; ++c) {
          if (!linformer) {
            kp[r * dh + c] = t[r * 3 * D + D + h * dh + c];
            vp[r * dh + c] = t[r * 3 * D + 2 * D + h * dh + c];
            continue;
          }
          for (int64_t j = 0; j < n; ++j) {
            kp[r * dh + c] += E(h, j, r) * m(b, j) * t[j * 3 * D + D + h * dh + c];
            vp[r * dh + c] += F(h, j, r) * m(b, j) * t[j * 3 * D + 2 * D + h * dh + c];
          }
        }
      for (int64_t i = 0; i < n; ++i) {
        std::vector<double> p(rows);
        double mx = -1e300, z = 0;
        for (int64_t r = 0; r < rows; ++r) {
          if (!linformer && m(b, r) == 0) continue;
          double s = 0;
          for (int64_t c = 0; c < dh; ++c) s += t[i * 3 * D + h * dh + c] * kp[r * dh + c];
          p[r] = s / std::sqrt(double(dh));
          mx = std::max(mx, p[r]);
        }
        for (int64_t r = 0; r < rows; ++r) {
          p[r] = (!linformer && m(b, r) == 0) ? 0.0 : std::exp(p[r] - mx);
          z += p[r];
        }
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < dh; ++c) y[i * D + h * dh + c] += p[r] / z * vp[r * dh + c];
      }
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t o = 0; o < D; ++o) {
        double s = bo[o];
        for (int64_t c = 0; c < D; ++c) s += Wo[o * D + c] * y[i * D + c];
        result[(b * n + i) * D + o] = s;
      }
  }
  return result;
}

EncoderConfig small_config(Sharing sharing, AttentionKind kind = AttentionKind::linformer) {
  EncoderConfig c;
  c.vocab = 13, c.dim = 4, c.depth = 1, c.heads = 2, c.max_len = 6, c.k = 3;
  c.kind = kind, c.sharing = sharing;
  return c;
}

}  // namespace

TEST_CASE("Linformer attention matches direct loops in every sharing mode, with padding and n < max_len") {
  for (Sharing sharing : kAllSharing) {
    INFO("sharing " << sharing_name(sharing));
    manual_seed(20);
    LinformerSelfAttention att(6, 2, /*max_len=*/7, /*k=*/3, sharing);
    att.to(DType::f64);
    Tensor shared = linformer_projection({7, 3}).to(DType::f64);
    int64_t B = 2, n = 5;
    Tensor x = randn({B, n, 6}, DType::f64);
    std::vector<double> mask{1, 1, 1, 0, 0, 1, 1, 1, 1, 1};
    Tensor y = att.forward(x, from_vector(mask, {B, n}), shared);
    REQUIRE(y.shape() == Shape{B, n, 6});

    std::vector<double> Ev = (sharing == Sharing::layerwise ? shared : att.E).to_vector<double>();
    std::vector<double> Fv = (sharing == Sharing::layerwise ? shared : att.F).to_vector<double>();
    auto entry = [&](const std::vector<double>& P) {
      return [p = &P, per_head = sharing == Sharing::none](int64_t h, int64_t j, int64_t r) {
        return (*p)[((per_head ? h * 7 : 0) + j) * 3 + r];  // [h, 7, 3] or [7, 3]
      };
    };
    auto expected = attention_loops(*att.qkv, *att.out, 2, x.to_vector<double>(), B, n, mask, 3, entry(Ev), entry(Fv));
    CHECK(max_abs_diff(y, from_vector(expected, {B, n, 6})) < 1e-12);
  }
}

TEST_CASE("standard attention matches direct loops with padding") {
  manual_seed(21);
  MultiHeadSelfAttention att(6, 3);
  att.to(DType::f64);
  Tensor x = randn({2, 4, 6}, DType::f64);
  std::vector<double> mask{1, 1, 0, 0, 1, 1, 1, 1};
  Tensor y = att.forward(x, from_vector(mask, {2, 4}), Tensor());
  auto expected = attention_loops(*att.qkv, *att.out, 3, x.to_vector<double>(), 2, 4, mask, 0, nullptr, nullptr);
  CHECK(max_abs_diff(y, from_vector(expected, {2, 4, 6})) < 1e-12);
}

TEST_CASE("Linformer: a padded sequence gives the truncated sequence's outputs") {
  // Zeroed rows of K and V add nothing to E^T K, and the first rows of E are used either way.
  for (Sharing sharing : kAllSharing) {
    INFO("sharing " << sharing_name(sharing));
    manual_seed(22);
    LinformerSelfAttention att(8, 2, 6, 4, sharing);
    Tensor shared = linformer_projection({6, 4});
    Tensor x = randn({2, 6, 8});
    Tensor mask = from_vector(std::vector<float>{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}, {2, 6});
    Tensor y = att.forward(x, mask, shared);
    Tensor y0 = att.forward(x.slice(0, 0, 1).slice(1, 0, 4), Tensor(), shared);
    CHECK(max_abs_diff(y.slice(0, 0, 1).slice(1, 0, 4), y0) < 1e-5);
    CHECK(max_abs_diff(y.slice(0, 1, 2), att.forward(x.slice(0, 1, 2), Tensor(), shared)) < 1e-5);
  }
}

TEST_CASE("EncoderBlock gradcheck (f64) in every sharing mode and for standard attention, with padding") {
  std::vector<std::pair<AttentionKind, Sharing>> cases{{AttentionKind::standard, Sharing::headwise}};
  for (Sharing s : kAllSharing) cases.emplace_back(AttentionKind::linformer, s);
  for (auto [kind, sharing] : cases) {
    INFO(attention_kind_name(kind) << " / " << sharing_name(sharing));
    manual_seed(23);
    EncoderBlock block(small_config(sharing, kind));
    block.to(DType::f64);
    Tensor shared = linformer_projection({6, 3}).to(DType::f64).requires_grad_();
    Tensor x = lf::test::leaf64({2, 5, 4});  // n = 5 < max_len = 6: the row slice of E and F is exercised
    Tensor mask = from_vector(std::vector<double>{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, {2, 5});
    // The block's own parameters are checked inputs too: gradcheck perturbs them in place and fn uses them.
    bool layerwise = kind == AttentionKind::linformer && sharing == Sharing::layerwise;
    std::vector<Tensor> inputs{x};
    if (layerwise) inputs.push_back(shared);
    for (const Tensor& p : block.parameters()) inputs.push_back(p);
    CHECK_GRAD([&](const std::vector<Tensor>& in) { return block.forward(in[0], mask, layerwise ? in[1] : Tensor()); },
               inputs);
  }
}

TEST_CASE("padded tokens do not influence real positions, through the whole model") {
  std::vector<std::pair<AttentionKind, Sharing>> cases{{AttentionKind::standard, Sharing::headwise}};
  for (Sharing s : kAllSharing) cases.emplace_back(AttentionKind::linformer, s);
  for (auto [kind, sharing] : cases) {
    INFO(attention_kind_name(kind) << " / " << sharing_name(sharing));
    manual_seed(24);
    EncoderConfig c = small_config(sharing, kind);
    c.dim = 8, c.depth = 2;
    MaskedLM m(c);
    m.eval();
    Tensor ids = from_vector(std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 6});
    Tensor ids2 = from_vector(std::vector<int64_t>{1, 2, 3, 0, 0, 0, 7, 8, 9, 10, 11, 3}, {2, 6});
    Tensor mask = from_vector(std::vector<int64_t>{1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0}, {2, 6});
    Tensor a = m.forward(ids, mask), b = m.forward(ids2, mask);
    CHECK(max_abs_diff(a.slice(0, 0, 1).slice(1, 0, 3), b.slice(0, 0, 1).slice(1, 0, 3)) < 1e-6);
    CHECK(max_abs_diff(a.slice(0, 1, 2).slice(1, 0, 5), b.slice(0, 1, 2).slice(1, 0, 5)) < 1e-6);
    CHECK(max_abs_diff(a, b) > 1e-3);  // the padded positions themselves did change

    // A classifier over features: pooled logits ignore padded rows entirely.
    EncoderConfig fc = c;
    fc.in_features = 3;
    SequenceClassifier cls(fc, 5);
    Tensor feats = randn({2, 6, 3});
    Tensor feats2 = feats.clone();
    {
      NoGradGuard g;
      backend_for(Device::cpu()).copy(randn({1, 3, 3}), feats2.slice(0, 0, 1).slice(1, 3, 6));
      backend_for(Device::cpu()).copy(randn({1, 1, 3}), feats2.slice(0, 1, 2).slice(1, 5, 6));
    }
    CHECK(max_abs_diff(cls.forward(feats, mask), cls.forward(feats2, mask)) < 1e-6);
  }
}

TEST_CASE("Linformer input errors name the sizes") {
  manual_seed(25);
  LinformerSelfAttention att(4, 2, 6, 3, Sharing::headwise);
  CHECK_ERROR(att.forward(randn({1, 7, 4}), Tensor()), "sequence length 7 exceeds max_len 6");
  CHECK_ERROR(att.forward(randn({1, 5, 3}), Tensor()), "[B, n, 4]", "[1,5,3]");
  LinformerSelfAttention lw(4, 2, 6, 3, Sharing::layerwise);
  CHECK(lw.named_parameters().size() == 4);  // qkv and out only
  CHECK_ERROR(lw.forward(randn({1, 5, 4}), Tensor()), "layerwise", "none");
  CHECK_ERROR(lw.forward(randn({1, 5, 4}), Tensor(), randn({6, 2})), "layerwise", "[6,2]");
  CHECK_ERROR(LinformerSelfAttention(4, 2, 6, 0, Sharing::kv), "k 0");
}

TEST_CASE("a 1-block Linformer learns to reverse a small batch of sequences") {
  manual_seed(26);
  EncoderConfig c;
  c.vocab = 12, c.dim = 32, c.depth = 1, c.heads = 2, c.max_len = 8, c.k = 8;
  MaskedLM m(c);
  int64_t B = 8, n = 8;
  Tensor ids = randint(0, 12, {B, n});
  // target[b, i] = ids[b, n-1-i]: each position must read another one, so attention has to learn.
  std::vector<int64_t> iv = ids.to_vector<int64_t>(), tv(iv.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < n; ++i) tv[b * n + i] = iv[b * n + (n - 1 - i)];
  Tensor targets = from_vector(tv, {B * n});

  AdamW opt(m.named_parameters(), 0.0, 0.9, 0.999, 1e-8, 0.0);
  LRSchedule schedule(1e-2, 10, 80, Decay::cosine, 1e-3);
  auto start = std::chrono::steady_clock::now();
  double first = 0, last = 0;
  for (int step = 0; step < 80; ++step) {
    opt.zero_grad();
    Tensor loss = cross_entropy(m.forward(ids).reshape({B * n, 12}), targets);
    loss.backward();
    clip_grad_norm(m.parameters(), 1.0);
    opt.set_lr(schedule.at(opt.step_count()));
    opt.step();
    (step == 0 ? first : last) = loss.item();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("loss " << first << " -> " << last << " in " << seconds << " s");
  CHECK(first == Approx(std::log(12.0)).margin(0.6));
  CHECK(last < 0.1 * first);
  CHECK(opt.step_count() == 80);
}

TEST_CASE("projection inits: pooling averages blocks of positions; the random ones have their scales") {
  manual_seed(27);
  // pooling, max_len 10, k 4: blocks floor(i * 4 / 10) = 0,0,0,1,1,2,2,2,3,3 -> weights 1/3, 1/2, 1/3, 1/2.
  Tensor P = linformer_projection({10, 4}, ProjectionInit::pooling);
  std::vector<float> p = P.to_vector<float>();
  const int block[10] = {0, 0, 0, 1, 1, 2, 2, 2, 3, 3};
  const float size[4] = {3, 2, 3, 2};
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 4; ++j) {
      float expect = block[i] == j ? 1.0f / size[j] : 0.0f;
      CHECK(std::abs(p[size_t(i * 4 + j)] - expect) <= 0.01f + 1e-6f);
    }
  // Per-head projections (sharing none) get the same blocks in every head.
  std::vector<float> heads = linformer_projection({2, 10, 4}, ProjectionInit::pooling).to_vector<float>();
  CHECK(std::abs(heads[0] - 1.0f / 3) <= 0.01f);
  CHECK(std::abs(heads[40 + 39] - 0.5f) <= 0.01f);

  auto std_of = [](const Tensor& t) {
    std::vector<float> v = t.to_vector<float>();
    double s = 0;
    for (float x : v) s += double(x) * x;
    return std::sqrt(s / double(v.size()));
  };
  const int64_t n = 512, k = 64;
  CHECK(std_of(linformer_projection({n, k}, ProjectionInit::uniform)) == Approx(1 / std::sqrt(3.0 * k)).epsilon(0.03));
  CHECK(std_of(linformer_projection({n, k}, ProjectionInit::gaussian)) == Approx(1 / std::sqrt(double(k))).epsilon(0.03));
  CHECK(std_of(linformer_projection({n, k}, ProjectionInit::xavier)) ==
        Approx(std::sqrt(0.5) * std::sqrt(2.0 / double(n + k))).epsilon(0.03));
  CHECK(parse_projection_init("xavier") == ProjectionInit::xavier);
  CHECK_ERROR(parse_projection_init("eye"), "'eye'", "pooling");
  CHECK_ERROR(linformer_projection({4}, ProjectionInit::pooling), "[..., max_len, k]");
}
