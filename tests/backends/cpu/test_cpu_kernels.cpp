// The CPU backend's primitives (backends/cpu/), called directly through lf::cpu_backend() on small
// hand-checkable inputs; tensors are built with Tensor::empty and filled through data<T>(), so these tests
// do not depend on ops/.
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

Tensor like(const Tensor& t, DType dt) { return Tensor::empty(t.shape(), dt); }
Tensor like(const Tensor& t) { return Tensor::empty(t.shape(), t.dtype()); }
// A transposed view of a 2-d tensor (strides swapped).
Tensor tr(const Tensor& t) {
  return t.as_strided({t.shape()[1], t.shape()[0]}, {t.strides()[1], t.strides()[0]}, t.offset());
}
// t expanded to `shape` (stride 0 on broadcast dims).
Tensor bcast(const Tensor& t, const Shape& shape) {
  return t.as_strided(shape, broadcast_strides(t.shape(), t.strides(), shape), t.offset());
}

}  // namespace

TEST_CASE("cpu copy: strided views, broadcasts and dtype conversion") {
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor t = Tensor::empty({3, 2});
  be().copy(tr(a), t);  // transposed source
  CHECK(vals(t) == std::vector<double>{1, 4, 2, 5, 3, 6});
  Tensor dt = Tensor::empty({3, 2}, DType::f64);
  be().copy(a, tr(dt));  // strided destination, f32 -> f64
  CHECK(vals(dt) == std::vector<double>{1, 4, 2, 5, 3, 6});
  // f64 -> i64 truncates toward zero, i64 -> f32
  Tensor r = f64({4}, {1.7, -1.7, 2.0, -0.2}), ri = Tensor::empty({4}, DType::i64);
  be().copy(r, ri);
  CHECK(vals(ri) == std::vector<double>{1, -1, 2, 0});
  Tensor rf = Tensor::empty({4});
  be().copy(ri, rf);
  CHECK(vals(rf) == std::vector<double>{1, -1, 2, 0});
  // broadcast source (a row repeated) and a slice with an offset
  Tensor row = f32({3}, {7, 8, 9}), rep = Tensor::empty({2, 3});
  be().copy(bcast(row, {2, 3}), rep);
  CHECK(vals(rep) == std::vector<double>{7, 8, 9, 7, 8, 9});
  Tensor col = Tensor::empty({2});
  be().copy(a.as_strided({2}, {3}, 1), col);  // a[:, 1]
  CHECK(vals(col) == std::vector<double>{2, 5});
  // a large 3-d permuted copy runs in parallel and matches the naive loop
  Tensor big = f32({40, 50, 30}, iota(60000)), perm = Tensor::empty({30, 40, 50});
  be().copy(big.as_strided({30, 40, 50}, {1, 1500, 30}, 0), perm);
  auto pv = vals(perm);
  bool ok = true;
  for (int64_t k = 0; k < 30; ++k)
    for (int64_t i = 0; i < 40; ++i)
      for (int64_t j = 0; j < 50; ++j) ok = ok && pv[(k * 40 + i) * 50 + j] == double(i * 1500 + j * 30 + k);
  CHECK(ok);
  // batched transposes (the tiled path), with partial tiles and a dtype change: [3, 50, 70] -> [3, 70, 50]
  Tensor bt = f32({3, 50, 70}, iota(10500)), btt = Tensor::empty({3, 70, 50}, DType::f64);
  be().copy(bt.as_strided({3, 70, 50}, {3500, 1, 70}, 0), btt);
  auto tv = vals(btt);
  ok = true;
  for (int64_t z = 0; z < 3; ++z)
    for (int64_t i = 0; i < 70; ++i)
      for (int64_t j = 0; j < 50; ++j) ok = ok && tv[(z * 70 + i) * 50 + j] == double(z * 3500 + j * 70 + i);
  CHECK(ok);
  CHECK_ERROR(be().copy(a, Tensor::empty({3, 2})), "copy", "[2,3]", "[3,2]");
}

TEST_CASE("cpu fill") {
  Tensor a = Tensor::empty({5}), b = Tensor::empty({3}, DType::i64), c = Tensor::empty({2}, DType::f64);
  be().fill(a, 2.5);
  be().fill(b, -3);
  be().fill(c, 0.125);
  CHECK(vals(a) == std::vector<double>(5, 2.5));
  CHECK(vals(b) == std::vector<double>(3, -3));
  CHECK(vals(c) == std::vector<double>(2, 0.125));
}

TEST_CASE("cpu binary: broadcasts, comparisons, gradients") {
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor out = like(a);
  be().binary(BinaryOp::add, a, bcast(f32({3}, {10, 20, 30}), {2, 3}), out);  // row broadcast
  CHECK(vals(out) == std::vector<double>{11, 22, 33, 14, 25, 36});
  be().binary(BinaryOp::mul, a, bcast(f32({2, 1}, {2, 3}), {2, 3}), out);  // column broadcast
  CHECK(vals(out) == std::vector<double>{2, 4, 6, 12, 15, 18});
  be().binary(BinaryOp::sub, bcast(f32({}, {10}), {2, 3}), a, out);  // scalar on the left
  CHECK(vals(out) == std::vector<double>{9, 8, 7, 6, 5, 4});
  be().binary(BinaryOp::div, a, bcast(f32({}, {2}), {2, 3}), out);
  CHECK(vals(out) == std::vector<double>{0.5, 1, 1.5, 2, 2.5, 3});
  Tensor at = f32({3, 2}, {1, 4, 2, 5, 3, 6});  // tr(at) == a, a strided input
  be().binary(BinaryOp::sub, tr(at), a, out);
  CHECK(vals(out) == std::vector<double>(6, 0));
  Tensor b = f32({2, 3}, {1, 0, 4, 4, 7, -1});
  be().binary(BinaryOp::eq, a, b, out);
  CHECK(vals(out) == std::vector<double>{1, 0, 0, 1, 0, 0});
  be().binary(BinaryOp::gt, a, b, out);
  CHECK(vals(out) == std::vector<double>{0, 1, 0, 0, 0, 1});
  Tensor mask = like(a, DType::i64);  // comparisons may write another dtype
  be().binary(BinaryOp::lt, a, b, mask);
  CHECK(vals(mask) == std::vector<double>{0, 0, 1, 0, 1, 0});
  be().binary(BinaryOp::maximum, a, b, out);
  CHECK(vals(out) == std::vector<double>{1, 2, 4, 4, 7, 6});
  be().binary(BinaryOp::minimum, a, b, out);
  CHECK(vals(out) == std::vector<double>{1, 0, 3, 4, 5, -1});
  be().binary(BinaryOp::pow, a, bcast(f32({}, {2}), {2, 3}), out);
  CHECK(vals(out) == std::vector<double>{1, 4, 9, 16, 25, 36});
  be().binary(BinaryOp::relu_grad, a, b, out);  // a where b > 0
  CHECK(vals(out) == std::vector<double>{1, 0, 3, 4, 5, 0});
  Tensor n = f32({2}, {NAN, 1}), m = Tensor::empty({2});
  be().binary(BinaryOp::maximum, n, f32({2}, {0, NAN}), m);
  CHECK(std::isnan(vals(m)[0]));
  CHECK(std::isnan(vals(m)[1]));
  // i64
  Tensor ia = i64({3}, {1, -2, 3}), io = like(ia);
  be().binary(BinaryOp::add, ia, i64({3}, {10, 20, 30}), io);
  CHECK(vals(io) == std::vector<double>{11, 18, 33});
  CHECK_ERROR(be().binary(BinaryOp::div, ia, ia, io), "div", "i64");
  CHECK_ERROR(be().binary(BinaryOp::add, a, f64({2, 3}, iota(6)), out), "add", "f32", "f64");
  // a large broadcast add (parallel path) equals the scalar loop
  Tensor big = f32({300, 257}, iota(300 * 257, -5, 0.01)), bias = f32({257}, iota(257, 1, 0.5));
  Tensor bo = like(big);
  be().binary(BinaryOp::add, big, bcast(bias, {300, 257}), bo);
  auto bv = vals(bo);
  bool ok = true;
  for (int64_t i = 0; i < 300; ++i)
    for (int64_t j = 0; j < 257; ++j)
      ok = ok &&
           bv[i * 257 + j] == double(float(-5 + 0.01 * double(i * 257 + j)) + float(1 + 0.5 * double(j)));
  CHECK(ok);
}

TEST_CASE("cpu GELU gradients match finite differences of GELU (f64 and f32)") {
  for (auto [fwd, grad] : {std::pair{UnaryOp::gelu_erf, BinaryOp::gelu_erf_grad},
                           std::pair{UnaryOp::gelu_tanh, BinaryOp::gelu_tanh_grad}}) {
    std::vector<double> xs = iota(41, -5, 0.25);
    const double h = 1e-6;
    std::vector<double> xp(xs), xm(xs);
    for (auto& v : xp) v += h;
    for (auto& v : xm) v -= h;
    Tensor yp = Tensor::empty({41}, DType::f64), ym = like(yp), g = like(yp);
    be().unary(fwd, f64({41}, xp), yp, 0);
    be().unary(fwd, f64({41}, xm), ym, 0);
    be().binary(grad, f64({41}, std::vector<double>(41, 2.0)), f64({41}, xs), g);  // 2 * gelu'(x)
    auto vp = vals(yp), vm = vals(ym), vg = vals(g);
    for (int i = 0; i < 41; ++i) CHECK(vg[i] == Approx(2 * (vp[i] - vm[i]) / (2 * h)).margin(1e-7));
    // f32 agrees with f64 to float precision
    Tensor g32 = Tensor::empty({41}), y32 = Tensor::empty({41}), y64 = like(yp);
    be().binary(grad, f32({41}, std::vector<double>(41, 2.0)), f32({41}, xs), g32);
    check_close(vals(g32), vg, 2e-6);
    be().unary(fwd, f32({41}, xs), y32, 0);
    be().unary(fwd, f64({41}, xs), y64, 0);
    check_close(vals(y32), vals(y64), 2e-6);
  }
  // the reference values: gelu_erf(1) = 0.5 (1 + erf(1/sqrt2)) = 0.841344746, gelu_tanh(1) = 0.841191990
  Tensor y = Tensor::empty({2}, DType::f64);
  be().unary(UnaryOp::gelu_erf, f64({2}, {1, -1}), y, 0);
  check_close(vals(y), {0.8413447460685429, -0.15865525393145707}, 1e-12);
  be().unary(UnaryOp::gelu_tanh, f64({2}, {1, -1}), y, 0);
  check_close(vals(y), {0.8411919906082768, -0.15880800939172324}, 1e-12);
}

TEST_CASE("cpu unary ops, f32 against libm, scalars, i64") {
  std::vector<double> xs = iota(2001, -20, 0.02);
  Tensor x = f32({2001}, xs), y = like(x);
  auto run = [&](UnaryOp op, double alpha = 0) {
    be().unary(op, x, y, alpha);
    return vals(y);
  };
  auto ref = [&](auto f) {
    std::vector<double> r;
    for (double v : xs) r.push_back(f(double(float(v))));
    return r;
  };
  check_close(run(UnaryOp::exp), ref([](double v) { return std::exp(v); }), 1e-6);
  check_close(run(UnaryOp::sigmoid), ref([](double v) { return 1 / (1 + std::exp(-v)); }), 1e-6);
  check_close(run(UnaryOp::tanh), ref([](double v) { return std::tanh(v); }), 1e-6);
  check_close(run(UnaryOp::gelu_erf),
              ref([](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }), 1e-6);
  check_close(run(UnaryOp::relu), ref([](double v) { return v > 0 ? v : 0; }), 0);
  check_close(run(UnaryOp::abs), ref([](double v) { return std::abs(v); }), 0);
  check_close(run(UnaryOp::neg), ref([](double v) { return -v; }), 0);
  check_close(run(UnaryOp::add_scalar, 1.5), ref([](double v) { return v + 1.5; }), 1e-7);
  check_close(run(UnaryOp::mul_scalar, -2), ref([](double v) { return v * -2; }), 0);
  check_close(run(UnaryOp::rsub_scalar, 1), ref([](double v) { return 1 - v; }), 1e-7);
  check_close(run(UnaryOp::pow_scalar, 2), ref([](double v) { return v * v; }), 1e-7);
  Tensor p = f32({3}, {1, 4, 9}), q = like(p);
  be().unary(UnaryOp::sqrt, p, q, 0);
  CHECK(vals(q) == std::vector<double>{1, 2, 3});
  be().unary(UnaryOp::rsqrt, p, q, 0);
  check_close(vals(q), {1, 0.5, 1.0 / 3}, 1e-7);
  be().unary(UnaryOp::log, p, q, 0);
  check_close(vals(q), {0, std::log(4.0), std::log(9.0)}, 1e-7);
  be().unary(UnaryOp::pow_scalar, p, q, 1.5);
  check_close(vals(q), {1, 8, 27}, 1e-6);
  be().unary(UnaryOp::rdiv_scalar, p, q, 2);
  check_close(vals(q), {2, 0.5, 2.0 / 9}, 1e-7);
  // exp at the edges of the float range
  Tensor e = f32({5}, {-INFINITY, INFINITY, NAN, -200, 100}), eo = like(e);
  be().unary(UnaryOp::exp, e, eo, 0);
  auto ev = vals(eo);
  CHECK(ev[0] == 0);
  CHECK(std::isinf(ev[1]));
  CHECK(std::isnan(ev[2]));
  CHECK(ev[3] == 0);
  CHECK(std::isinf(ev[4]));
  // a strided input
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6}), o = Tensor::empty({3, 2});
  be().unary(UnaryOp::mul_scalar, tr(a), o, 10);
  CHECK(vals(o) == std::vector<double>{10, 40, 20, 50, 30, 60});
  Tensor n = i64({3}, {-1, 2, -3}), no = like(n);
  be().unary(UnaryOp::abs, n, no, 0);
  CHECK(vals(no) == std::vector<double>{1, 2, 3});
  CHECK_ERROR(be().unary(UnaryOp::exp, n, no, 0), "exp", "i64");
}

TEST_CASE("cpu masked_fill with a broadcast mask of another dtype") {
  Tensor x = f32({2, 3}, {1, 2, 3, 4, 5, 6}), out = like(x);
  be().masked_fill(x, bcast(i64({3}, {0, 1, 0}), {2, 3}), -1e9, out);
  CHECK(vals(out) == std::vector<double>{1, -1e9f, 3, 4, -1e9f, 6});
  be().masked_fill(x, f64({2, 3}, {1, 0, 0, 0, 0, 1}), 0, out);
  CHECK(vals(out) == std::vector<double>{0, 2, 3, 4, 5, 0});
}

TEST_CASE("cpu reduce: sum and max of rows") {
  Tensor x = f32({2, 3}, {1, 5, 3, -4, -2, -8}), s = Tensor::empty({2});
  be().reduce(ReduceOp::sum, x, s, 1);
  CHECK(vals(s) == std::vector<double>{9, -14});
  be().reduce(ReduceOp::max, x, s, 1);
  CHECK(vals(s) == std::vector<double>{5, -2});
  Tensor xi = i64({2, 2}, {3, 4, 5, -6}), si = Tensor::empty({2}, DType::i64);
  be().reduce(ReduceOp::sum, xi, si, 1);
  CHECK(vals(si) == std::vector<double>{7, -1});
  // one long row: split between threads; exact for a million ones, ~exact for 0.1s
  Tensor ones = f32({1, 1000000}, std::vector<double>(1000000, 1.0)), one = Tensor::empty({1});
  be().reduce(ReduceOp::sum, ones, one, 1);
  CHECK(vals(one)[0] == 1000000);
  Tensor tenths = f32({1000000}, std::vector<double>(1000000, 0.1));
  be().reduce(ReduceOp::sum, tenths, one, 1);
  CHECK(vals(one)[0] == Approx(100000).epsilon(1e-7));
  be().reduce(ReduceOp::max, f32({4}, {1, NAN, 3, 2}), one, 1);
  CHECK(std::isnan(vals(one)[0]));
  // many rows in parallel
  Tensor rows = f32({5000, 20}, iota(100000)), rs = Tensor::empty({5000});
  be().reduce(ReduceOp::max, rows, rs, 1);
  CHECK(vals(rs)[4321] == 4321 * 20 + 19);
}

TEST_CASE("cpu reduce: the middle dim of [outer, R, inner]") {
  // [2, 3, 2]: out[o, j] = op over r of x[o, r, j]
  Tensor x = f32({2, 3, 2}, {1, 2, 3, 4, 5, -6, 7, 8, 9, 10, -11, NAN}), out = Tensor::empty({2, 2});
  be().reduce(ReduceOp::sum, x, out, 2);
  CHECK(vals(out)[0] == 9);
  CHECK(vals(out)[1] == 0);
  CHECK(vals(out)[2] == 5);
  CHECK(std::isnan(vals(out)[3]));
  be().reduce(ReduceOp::max, x, out, 2);
  CHECK(vals(out)[0] == 5);
  CHECK(vals(out)[1] == 4);
  CHECK(vals(out)[2] == 9);
  CHECK(std::isnan(vals(out)[3]));
  Tensor xi = i64({1, 2, 3}, {1, 2, 3, 10, 20, -30}), oi = Tensor::empty({3}, DType::i64);
  be().reduce(ReduceOp::sum, xi, oi, 3);
  CHECK(vals(oi) == std::vector<double>{11, 22, -27});
  // one big block (a bias gradient): rows split between the threads, partial columns combined
  const int64_t R = 20000, C = 7;
  std::vector<double> v(size_t(R * C));
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) v[size_t(r * C + c)] = double(c + 1) * (r == 12345 ? 1000 : 1);
  Tensor big = f32({R, C}, v), cs = Tensor::empty({C});
  be().reduce(ReduceOp::sum, big, cs, C);
  for (int64_t c = 0; c < C; ++c) CHECK(vals(cs)[size_t(c)] == double(c + 1) * (R - 1 + 1000));
  be().reduce(ReduceOp::max, big, cs, C);
  for (int64_t c = 0; c < C; ++c) CHECK(vals(cs)[size_t(c)] == double(c + 1) * 1000);
  CHECK_ERROR(be().reduce(ReduceOp::sum, x, out, 3), "sum: 4 outputs do not split into blocks of inner = 3");
}

namespace {

// C[b] = A[b] @ B[b] naively, from row-major [batch, m, k] and [batch, k, n] values.
std::vector<double> naive_mm(const std::vector<double>& a, const std::vector<double>& b, int64_t batch,
                             int64_t m, int64_t n, int64_t k, bool a_shared = false, bool b_shared = false) {
  std::vector<double> c(batch * m * n, 0);
  for (int64_t z = 0; z < batch; ++z)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t p = 0; p < k; ++p)
          c[(z * m + i) * n + j] +=
              a[(a_shared ? 0 : z * m * k) + i * k + p] * b[(b_shared ? 0 : z * k * n) + p * n + j];
  return c;
}

// A one-level batched GEMM with positional arguments (sa/sb/sc: batch strides), through GemmArgs.
void gemm_1level(DType dt, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
                 int64_t lda, int64_t sa, const void* b, int64_t ldb, int64_t sb, double beta, void* c,
                 int64_t ldc, int64_t sc, int64_t batch) {
  GemmArgs g{.dtype = dt,
             .ta = ta,
             .tb = tb,
             .m = m,
             .n = n,
             .k = k,
             .alpha = alpha,
             .beta = beta,
             .a = a,
             .lda = lda,
             .b = b,
             .ldb = ldb,
             .c = c,
             .ldc = ldc};
  g.batch[1] = batch, g.stride_a[1] = sa, g.stride_b[1] = sb, g.stride_c[1] = sc;
  be().gemm(g);
}

}  // namespace

TEST_CASE("cpu gemm: transposes, alpha/beta, batches with stride 0") {
  Tensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6}), b = f32({3, 2}, {7, 8, 9, 10, 11, 12}),
         c = Tensor::empty({2, 2});
  gemm_1level(DType::f32, false, false, 2, 2, 3, 1, a.raw_data(), 3, 0, b.raw_data(), 2, 0, 0, c.raw_data(),
              2, 0, 1);
  CHECK(vals(c) == std::vector<double>{58, 64, 139, 154});
  // the same product from stored transposes: A^T stored [3, 2], B^T stored [2, 3]
  Tensor at = f32({3, 2}, {1, 4, 2, 5, 3, 6}), bt = f32({2, 3}, {7, 9, 11, 8, 10, 12});
  gemm_1level(DType::f32, true, true, 2, 2, 3, 1, at.raw_data(), 2, 0, bt.raw_data(), 3, 0, 0, c.raw_data(),
              2, 0, 1);
  CHECK(vals(c) == std::vector<double>{58, 64, 139, 154});
  // alpha and beta: C = 2 A B + 1 C
  gemm_1level(DType::f32, false, true, 2, 2, 3, 2, a.raw_data(), 3, 0, bt.raw_data(), 3, 0, 1, c.raw_data(),
              2, 0, 1);
  CHECK(vals(c) == std::vector<double>{174, 192, 417, 462});
  // k = 0: C = beta * C
  gemm_1level(DType::f32, false, false, 2, 2, 0, 1, a.raw_data(), 0, 0, b.raw_data(), 2, 0, 0.5, c.raw_data(),
              2, 0, 1);
  CHECK(vals(c) == std::vector<double>{87, 96, 208.5, 231});
  // ld bigger than the row: the left 2 columns of a [2, 4] buffer
  Tensor wide = f64({2, 4}, {1, 2, -1, -1, 3, 4, -1, -1}), eye = f64({2, 2}, {1, 0, 0, 1}),
         c64 = Tensor::empty({2, 2}, DType::f64);
  gemm_1level(DType::f64, false, false, 2, 2, 2, 1, wide.raw_data(), 4, 0, eye.raw_data(), 2, 0, 0,
              c64.raw_data(), 2, 0, 1);
  CHECK(vals(c64) == std::vector<double>{1, 2, 3, 4});

  // small batched products (parallel over the batch) with B shared (stride 0), and large ones (loop)
  for (auto [batch, m, n, k] : {std::array<int64_t, 4>{16, 5, 7, 3}, std::array<int64_t, 4>{3, 70, 80, 90}}) {
    auto av = iota(batch * m * k, -1, 0.01), bv = iota(k * n, 0.5, -0.003);
    Tensor A = f64({batch, m, k}, av), B = f64({k, n}, bv), C = Tensor::empty({batch, m, n}, DType::f64);
    gemm_1level(DType::f64, false, false, m, n, k, 1, A.raw_data(), k, m * k, B.raw_data(), n, 0, 0,
                C.raw_data(), n, m * n, batch);
    check_close(vals(C), naive_mm(av, bv, batch, m, n, k, false, true), 1e-12);
    Tensor A32 = f32({batch, m, k}, av), B32 = f32({k, n}, bv), C32 = Tensor::empty({batch, m, n});
    gemm_1level(DType::f32, false, false, m, n, k, 1, A32.raw_data(), k, m * k, B32.raw_data(), n, 0, 0,
                C32.raw_data(), n, m * n, batch);
    check_close(vals(C32), naive_mm(av, bv, batch, m, n, k, false, true), 1e-4);
  }
  // one big product, split between threads by rows (m >= n) or columns, with every transpose combination
  for (auto [m, n] : {std::pair<int64_t, int64_t>{90, 70}, std::pair<int64_t, int64_t>{70, 90}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        const int64_t k = 60;
        auto av = iota(m * k, -1, 0.001), bv = iota(k * n, 2, -0.0007);  // op(A) [m, k], op(B) [k, n]
        std::vector<double> as(av), bs(bv);                              // stored layouts
        if (ta)
          for (int64_t i = 0; i < m; ++i)
            for (int64_t p = 0; p < k; ++p) as[p * m + i] = av[i * k + p];
        if (tb)
          for (int64_t p = 0; p < k; ++p)
            for (int64_t j = 0; j < n; ++j) bs[j * k + p] = bv[p * n + j];
        Tensor A = f64({m * k}, as), B = f64({k * n}, bs), C = Tensor::empty({m, n}, DType::f64);
        gemm_1level(DType::f64, ta, tb, m, n, k, 1, A.raw_data(), ta ? m : k, 0, B.raw_data(), tb ? k : n, 0,
                    0, C.raw_data(), n, 0, 1);
        INFO("ta " << ta << " tb " << tb << " m " << m << " n " << n);
        check_close(vals(C), naive_mm(av, bv, 1, m, n, k), 1e-12);
      }
  CHECK_ERROR(gemm_1level(DType::f32, false, false, 2, 2, 3, 1, a.raw_data(), 3, 0, b.raw_data(), 2, 0, 0,
                          c.raw_data(), 2, 0, 2),
              "gemm: a batch of [1,2] products cannot write one C");
  CHECK_ERROR(gemm_1level(DType::f32, false, false, 2, 2, 3, 1, a.raw_data(), 2, 0, b.raw_data(), 2, 0, 0,
                          c.raw_data(), 2, 0, 1),
              "gemm", "row stride 2");
  CHECK_ERROR(gemm_1level(DType::i64, false, false, 1, 1, 1, 1, a.raw_data(), 1, 0, b.raw_data(), 1, 0, 0,
                          c.raw_data(), 1, 0, 1),
              "gemm", "i64");
}

TEST_CASE("cpu gemm: a two-level batch (heads of a [B, n, h*dh] tensor, read in place)") {
  // A: [B=2, n=3, h=2, dh=2] stored as [B, n, h*dh]; product (b, h) multiplies A[b, :, h, :] [3, 2] by a
  // shared B [2, 4] (stride 0 on both levels); C [2, 2, 3, 4] contiguous.
  const int64_t Bn = 2, n = 3, h = 2, dh = 2, cols = 4;
  auto av = iota(Bn * n * h * dh, -1, 0.25), bv = iota(dh * cols, 0.5, -0.1);
  Tensor A = f64({Bn, n, h * dh}, av), Bm = f64({dh, cols}, bv),
         C = Tensor::empty({Bn, h, n, cols}, DType::f64);
  GemmArgs g{.dtype = DType::f64,
             .m = n,
             .n = cols,
             .k = dh,
             .a = A.raw_data(),
             .lda = h * dh,
             .b = Bm.raw_data(),
             .ldb = cols,
             .c = C.raw_data(),
             .ldc = cols};
  g.batch[0] = Bn, g.batch[1] = h;
  g.stride_a[0] = n * h * dh, g.stride_a[1] = dh;
  g.stride_c[0] = h * n * cols, g.stride_c[1] = n * cols;
  be().gemm(g);
  std::vector<double> want;
  for (int64_t b = 0; b < Bn; ++b)
    for (int64_t hh = 0; hh < h; ++hh)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          double acc = 0;
          for (int64_t p = 0; p < dh; ++p)
            acc += av[size_t(((b * n + i) * h + hh) * dh + p)] * bv[size_t(p * cols + j)];
          want.push_back(acc);
        }
  check_close(vals(C), want, 1e-12);
  g.stride_c[0] = 0;
  CHECK_ERROR(be().gemm(g), "gemm: a batch of [2,2] products cannot write one C");
}

TEST_CASE("pointwise table: generated names, i64 column, every unary row reaches a CPU kernel") {
  CHECK(std::string(unary_name(UnaryOp::gelu_erf)) == "gelu_erf");
  CHECK(std::string(unary_name(UnaryOp::rdiv_scalar)) == "rdiv_scalar");
  CHECK(std::string(binary_name(BinaryOp::silu_grad)) == "silu_grad");
  CHECK(std::string(binary_name(BinaryOp::lt)) == "lt");
  CHECK(defined_for_i64(UnaryOp::neg));
  CHECK_FALSE(defined_for_i64(UnaryOp::exp));
  CHECK(defined_for_i64(BinaryOp::eq));
  CHECK_FALSE(defined_for_i64(BinaryOp::div));
  CHECK(is_comparison(BinaryOp::gt));
  CHECK_FALSE(is_comparison(BinaryOp::maximum));
  // a floating input in every unary row gives a finite value
  Tensor x = f64({3}, {0.5, 1.0, 2.0}), y = f64({3}, {0.0, 0.0, 0.0});
#define LF_X(name, cost, i64)                      \
  be().unary(UnaryOp::name, x, y, 2.0);            \
  for (double v : y.to_vector<double>()) CHECK(std::isfinite(v));
  LF_UNARY_OPS(LF_X)
#undef LF_X
}
