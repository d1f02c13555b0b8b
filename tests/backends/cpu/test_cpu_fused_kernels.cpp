// The CPU backend's fused primitives (softmax, layer_norm, cross-entropy, index_select/index_add, random,
// AdamW), called directly through lf::cpu_backend() on small hand-checkable inputs, like
// test_cpu_kernels.cpp (which covers copy, fill, elementwise, reduce and gemm).
#include <cmath>
#include <numeric>

#include "backends/backend.h"
#include "core/philox.h"
#include "tests/support/helpers.h"
#include "tests/support/raw_tensors.h"

using namespace lf;
using namespace lf::test;

namespace {

Backend& be() { return cpu_backend(); }

Tensor like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype()); }

}  // namespace
TEST_CASE("cpu softmax and log_softmax, forward and backward") {
  Tensor x = f64({2, 3}, {1, 2, 3, 1000, 1000, 1000}), y = like(x), ly = like(x);
  be().softmax(x, y, false);
  be().softmax(x, ly, true);
  double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  check_close(vals(y), {std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z, 1.0 / 3, 1.0 / 3, 1.0 / 3},
              1e-14);
  check_close(
      vals(ly),
      {1 - std::log(z), 2 - std::log(z), 3 - std::log(z), -std::log(3.0), -std::log(3.0), -std::log(3.0)},
      1e-12);
  // f32 rows of a wider tensor sum to 1
  Tensor w = f32({64, 100}, iota(6400, -30, 0.013)), wy = like(w);
  be().softmax(w, wy, false);
  auto wv = vals(wy);
  for (int r = 0; r < 64; ++r)
    CHECK(std::accumulate(wv.begin() + r * 100, wv.begin() + (r + 1) * 100, 0.0) == Approx(1).epsilon(1e-6));
  // backward: dx = y (dy - <dy, y>) and, for log-softmax, dx = dy - softmax * sum(dy)
  Tensor dy = f64({2, 3}, {0.5, -1, 2, 1, 0, 0}), dx = like(x);
  be().softmax_backward(y, dy, dx, false);
  auto yv = vals(y), gv = vals(dy), dxv = vals(dx);
  for (int r = 0; r < 2; ++r) {
    double dot = 0;
    for (int j = 0; j < 3; ++j) dot += gv[r * 3 + j] * yv[r * 3 + j];
    for (int j = 0; j < 3; ++j) CHECK(dxv[r * 3 + j] == Approx(yv[r * 3 + j] * (gv[r * 3 + j] - dot)));
  }
  be().softmax_backward(ly, dy, dx, true);
  dxv = vals(dx);
  for (int r = 0; r < 2; ++r) {
    double s = gv[r * 3] + gv[r * 3 + 1] + gv[r * 3 + 2];
    for (int j = 0; j < 3; ++j) CHECK(dxv[r * 3 + j] == Approx(gv[r * 3 + j] - yv[r * 3 + j] * s));
  }
}

TEST_CASE("cpu layer_norm: normalised rows, affine, backward against finite differences") {
  const int64_t M = 3, C = 5;
  std::vector<double> xs = {1, 2, 3, 4, 10, -1, 0.5, 2, 7, -3, 0.1, 0.2, 0.3, 0.4, 0.5};
  Tensor x = f64({M, C}, xs), y = like(x), mean = Tensor::empty({M}, DType::f64), rstd = like(mean);
  be().layer_norm(x, Tensor(), Tensor(), 1e-5, y, mean, rstd);
  auto yv = vals(y);
  for (int r = 0; r < M; ++r) {
    double mu = 0, var = 0;
    for (int j = 0; j < C; ++j) mu += yv[r * C + j] / C;
    for (int j = 0; j < C; ++j) var += (yv[r * C + j] - mu) * (yv[r * C + j] - mu) / C;
    CHECK(mu == Approx(0).margin(1e-12));
    CHECK(var == Approx(1).epsilon(1e-3));  // var / (var + eps)
  }
  CHECK(vals(mean)[0] == Approx(4));
  CHECK(vals(rstd)[0] == Approx(1 / std::sqrt(10.0 + 1e-5)));  // var of 1,2,3,4,10 is 10

  Tensor w = f64({C}, {1, 2, 0.5, -1, 3}), b = f64({C}, {0, 1, 2, 3, 4}), yw = like(x);
  be().layer_norm(x, w, b, 1e-5, yw, mean, rstd);
  auto ywv = vals(yw), wv = vals(w), bv = vals(b);
  for (int i = 0; i < M * C; ++i) CHECK(ywv[i] == Approx(yv[i] * wv[i % C] + bv[i % C]));

  // L = sum(y * g) for a fixed g: compare dx, dw, db with central differences.
  std::vector<double> g = iota(M * C, -1, 0.17);
  auto loss = [&](const std::vector<double>& xv, const std::vector<double>& wv2,
                  const std::vector<double>& bv2) {
    Tensor yy = Tensor::empty({M, C}, DType::f64), mm = like(mean), rr = like(mean);
    be().layer_norm(f64({M, C}, xv), f64({C}, wv2), f64({C}, bv2), 1e-5, yy, mm, rr);
    auto v = vals(yy);
    double l = 0;
    for (int i = 0; i < M * C; ++i) l += v[i] * g[i];
    return l;
  };
  Tensor dx = like(x), dw = like(w), db = like(b);
  be().fill(dw, 99);  // overwritten, not accumulated into
  be().layer_norm_backward(x, w, mean, rstd, f64({M, C}, g), dx, dw, db);
  const double h = 1e-6;
  auto num = [&](std::vector<double> v, int i, auto f) {
    v[i] += h;
    double lp = f(v);
    v[i] -= 2 * h;
    return (lp - f(v)) / (2 * h);
  };
  auto dxv = vals(dx), dwv = vals(dw), dbv = vals(db);
  for (int i = 0; i < M * C; ++i)
    CHECK(dxv[i] == Approx(num(xs, i, [&](auto& v) { return loss(v, wv, bv); })).margin(1e-6));
  for (int j = 0; j < C; ++j) {
    CHECK(dwv[j] == Approx(num(wv, j, [&](auto& v) { return loss(xs, v, bv); })).margin(1e-6));
    CHECK(dbv[j] == Approx(num(bv, j, [&](auto& v) { return loss(xs, wv, v); })).margin(1e-6));
  }
  // many rows in f32 (per-thread partial sums of dw/db): db = column sums of dy
  std::vector<double> xbv(16000);
  for (int i = 0; i < 16000; ++i) xbv[i] = std::sin(0.7 * i);
  Tensor xb = f32({2000, 8}, xbv), yb = like(xb), mb = Tensor::empty({2000}), rb = like(mb);
  be().layer_norm(xb, Tensor(), Tensor(), 1e-5, yb, mb, rb);
  Tensor dyb = f32({2000, 8}, std::vector<double>(16000, 0.5)), dxb = like(xb), dwb = Tensor::empty({8}),
         dbb = Tensor::empty({8});
  be().layer_norm_backward(xb, Tensor(), mb, rb, dyb, dxb, dwb, dbb);
  for (double v : vals(dbb)) CHECK(v == Approx(1000));
  for (double v : vals(dxb)) CHECK(v == Approx(0).margin(1e-4));  // a constant dy has no effect on xhat
}

TEST_CASE("cpu cross_entropy: hand values, ignore_index, bad targets read as 0, backward") {
  Tensor logits = f64({3, 3}, {1, 2, 3, 0, 0, 0, 5, 1, -1}), target = i64({3}, {2, -100, 0});
  Tensor loss = Tensor::empty({3}, DType::f64), lse = like(loss);
  be().cross_entropy(logits, target, -100, loss, lse);
  double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  double lse2 = std::log(std::exp(5.0) + std::exp(1.0) + std::exp(-1.0));
  check_close(vals(lse), {lse0, std::log(3.0), lse2}, 1e-14);
  check_close(vals(loss), {lse0 - 3, 0, lse2 - 5}, 1e-14);  // 0.40760596, ignored, 0.02058...
  Tensor dl = like(logits);
  be().cross_entropy_backward(logits, target, lse, -100, f64({}, {0.5}), dl);
  auto d = vals(dl);
  check_close({d[0], d[1], d[2]},
              {0.5 * std::exp(1 - lse0), 0.5 * std::exp(2 - lse0), 0.5 * (std::exp(3 - lse0) - 1)}, 1e-14);
  check_close({d[3], d[4], d[5]}, {0, 0, 0}, 0);
  CHECK(d[6] == Approx(0.5 * (std::exp(5 - lse2) - 1)));
  // targets outside [0, C) (the op refuses them first, with check_indices) are never read: loss and
  // gradient 0
  Tensor bad = i64({3}, {3, -1, 1});
  be().cross_entropy(logits, bad, -100, loss, lse);
  check_close(vals(loss), {0, 0, lse2 - 1}, 1e-14);
  be().cross_entropy_backward(logits, bad, lse, -100, f64({}, {0.5}), dl);
  auto dbad = vals(dl);
  check_close({dbad.begin(), dbad.begin() + 6}, std::vector<double>(6, 0.0), 0);  // rows 0 and 1: bad targets
  CHECK_ERROR(be().cross_entropy_backward(logits, target, lse, -100, f32({}, {0.5}), dl),
              "scale must be one f64");
  // f32, large logits: no overflow
  Tensor big = f32({1, 2}, {1000, 0}), l32 = Tensor::empty({1}), s32 = Tensor::empty({1});
  be().cross_entropy(big, i64({1}, {1}), -100, l32, s32);
  CHECK(vals(l32)[0] == Approx(1000));
}

TEST_CASE("cpu index_select and index_add with repeated indices") {
  // x [outer=2, n=3, inner=2]
  Tensor x = f32({2, 3, 2}, iota(12)), idx = i64({4}, {2, 0, 2, 1}), out = Tensor::empty({2, 4, 2});
  be().index_select(x, idx, out, 2, 3, 2);
  CHECK(vals(out) == std::vector<double>{4, 5, 0, 1, 4, 5, 2, 3, 10, 11, 6, 7, 10, 11, 8, 9});
  Tensor acc = Tensor::empty({2, 3, 2});
  be().fill(acc, 0);
  be().index_add(f32({2, 4, 2}, std::vector<double>(16, 1.0)), idx, acc, 2, 3, 2);
  CHECK(vals(acc) == std::vector<double>{1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 2, 2});  // row 2 was picked twice
  CHECK_ERROR(be().index_select(x, i64({2}, {0, 3}), Tensor::empty({2, 2, 2}), 2, 3, 2), "index_select", "3",
              "size 3");
  // embedding-like: outer = 1, many repeated ids; every parallel strategy against the serial sum
  for (int64_t inner : {int64_t(1), int64_t(8), int64_t(300)}) {
    const int64_t n = 50, count = 4000;
    std::vector<double> ids(count);
    for (int64_t i = 0; i < count; ++i) ids[i] = double((i * 7) % n);
    std::vector<double> src = iota(count * inner, 0, 0.001), expect(n * inner, 0.0);
    for (int64_t i = 0; i < count; ++i)
      for (int64_t c = 0; c < inner; ++c) expect[int64_t(ids[i]) * inner + c] += src[i * inner + c];
    Tensor o = f64({n, inner}, std::vector<double>(n * inner, 0.0));
    be().index_add(f64({count, inner}, src), i64({count}, ids), o, 1, n, inner);
    check_close(vals(o), expect, 1e-12);
  }
  // outer > threads
  Tensor o2 = f64({64, 2, 300}, std::vector<double>(64 * 600, 0.0));
  be().index_add(f64({64, 3, 300}, std::vector<double>(64 * 900, 1.0)), i64({3}, {1, 1, 0}), o2, 64, 2, 300);
  auto v2 = vals(o2);
  CHECK(v2[0] == 1);
  CHECK(v2[300] == 2);
  CHECK(v2[64 * 600 - 1] == 2);
}

TEST_CASE("cpu random: reproducible, Philox-exact, roughly distributed") {
  const int64_t n = 100000;
  GeneratorState at{1234, 8};
  Tensor u = Tensor::empty({n}), u2 = Tensor::empty({n});
  be().random(u, RandomKind::uniform, 0, 1, at);
  be().random(u2, RandomKind::uniform, 0, 1, at);
  auto uv = vals(u);
  CHECK(uv == vals(u2));
  bool exact = true;
  for (int64_t i = 0; i < n; i += 997) exact = exact && uv[i] == double(uniform01(philox_at(1234, 8, i)));
  CHECK(exact);
  // element i at offset o is element 0 at offset o + i (also for offsets that are not multiples of 4)
  Tensor one = Tensor::empty({3});
  be().random(one, RandomKind::uniform, 0, 1, GeneratorState{1234, 8 + 4321});
  CHECK(vals(one) == std::vector<double>{uv[4321], uv[4322], uv[4323]});
  double mean = std::accumulate(uv.begin(), uv.end(), 0.0) / n;
  CHECK(mean == Approx(0.5).margin(0.01));
  CHECK(*std::min_element(uv.begin(), uv.end()) >= 0);
  CHECK(*std::max_element(uv.begin(), uv.end()) < 1);
  Tensor other = Tensor::empty({n});
  be().random(other, RandomKind::uniform, 0, 1, GeneratorState{1235, 8});
  CHECK(vals(other) != uv);

  Tensor z = Tensor::empty({n}, DType::f64);
  be().random(z, RandomKind::normal, 1, 2, at);  // N(1, 2^2)
  auto zv = vals(z);
  double m = std::accumulate(zv.begin(), zv.end(), 0.0) / n, var = 0;
  for (double v : zv) var += (v - m) * (v - m) / n;
  CHECK(m == Approx(1).margin(0.03));
  CHECK(std::sqrt(var) == Approx(2).margin(0.03));
  CHECK(zv[5] == 1 + 2 * double(normal_at(1234, 8, 5)));

  Tensor keep = Tensor::empty({n});
  be().random(keep, RandomKind::bernoulli, 0.75, 1 / 0.75, at);
  int64_t kept = 0;
  bool values_ok = true;
  auto kv = vals(keep);
  for (int64_t i = 0; i < n; ++i) {
    kept += kv[i] != 0;
    values_ok = values_ok && (kv[i] == 0 || kv[i] == double(float(1 / 0.75)));
    values_ok = values_ok && ((kv[i] != 0) == (uv[i] < 0.75));  // same stream as the uniforms
  }
  CHECK(values_ok);
  CHECK(double(kept) / n == Approx(0.75).margin(0.01));
  // keep probability exactly at a float step and beyond [0, 1]
  be().random(keep, RandomKind::bernoulli, 0.5, 2, at);
  kv = vals(keep);
  values_ok = true;
  for (int64_t i = 0; i < n; ++i) values_ok = values_ok && (kv[i] == 2) == (uv[i] < 0.5);
  CHECK(values_ok);
  be().random(keep, RandomKind::bernoulli, 1.5, 1, at);
  kv = vals(keep);
  CHECK(std::accumulate(kv.begin(), kv.end(), 0.0) == n);
  // Philox counters that cross 2^32 blocks (the vectorised generator carries into the high word)
  const uint64_t far = ((uint64_t(1) << 32) - 5) * 4 + 2;
  Tensor fu = Tensor::empty({100});
  be().random(fu, RandomKind::uniform, 0, 1, GeneratorState{99, far});
  auto fv = vals(fu);
  bool far_ok = true;
  for (int64_t i = 0; i < 100; ++i) far_ok = far_ok && fv[i] == double(uniform01(philox_at(99, far, i)));
  CHECK(far_ok);
}

TEST_CASE("cpu adamw: one step against a hand computation") {
  Tensor p = f64({3}, {1, -2, 0.5}), g = f64({3}, {0.1, 0.2, -0.3}), m = f64({3}, {0, 0.01, 0.02}),
         v = f64({3}, {0, 0.001, 0.002});
  AdamWHyper h{0.01, 0.9, 0.999, 1e-8, 0.1, 2};
  Tensor p32 = f32({3}, vals(p)), g32 = f32({3}, vals(g)), m32 = f32({3}, vals(m)), v32 = f32({3}, vals(v));
  auto pv = vals(p), gv = vals(g), mv = vals(m), vv = vals(v);
  be().adamw({AdamWSlot{p, g, m, v}, AdamWSlot{p32, g32, m32, v32}}, h);
  for (int i = 0; i < 3; ++i) {
    double mi = 0.9 * mv[i] + 0.1 * gv[i], vi = 0.999 * vv[i] + 0.001 * gv[i] * gv[i];
    double pi = pv[i] * (1 - 0.01 * 0.1);
    pi -= 0.01 * (mi / (1 - 0.81)) / (std::sqrt(vi / (1 - 0.998001)) + 1e-8);
    CHECK(vals(m)[i] == Approx(mi).epsilon(1e-12));
    CHECK(vals(v)[i] == Approx(vi).epsilon(1e-12));
    CHECK(vals(p)[i] == Approx(pi).epsilon(1e-12));
    CHECK(vals(p32)[i] == Approx(pi).epsilon(1e-6));
  }
  CHECK_ERROR(be().adamw({AdamWSlot{p, g32, m, v}}, h), "adamw", "f32");
}
