// Optimizers against hand computations, their state for checkpoints, clip_grad_norm and the LR schedule.
#include <cmath>

#include "backends/backend.h"
#include "nn/linformer_attention.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::max_abs_diff;

namespace {

Tensor param(const std::vector<double>& v) { return from_vector(v, {int64_t(v.size())}).requires_grad_(); }
void set_grad(Tensor& p, const std::vector<double>& g) { p.set_grad(from_vector(g, {int64_t(g.size())})); }

// PyTorch's AdamW / Adam written out for one scalar, for `grads.size()` steps.
double adam_reference(double p, const std::vector<double>& grads, double lr, double b1, double b2, double eps,
                      double wd, bool decoupled) {
  double m = 0, v = 0;
  for (size_t t = 1; t <= grads.size(); ++t) {
    double g = grads[t - 1];
    if (decoupled) p *= 1 - lr * wd;
    else g += wd * p;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    double mhat = m / (1 - std::pow(b1, double(t))), vhat = v / (1 - std::pow(b2, double(t)));
    p -= lr * mhat / (std::sqrt(vhat) + eps);
  }
  return p;
}

}  // namespace

TEST_CASE("SGD with momentum: two steps by hand") {
  Tensor p = param({1.0, -2.0});
  SGD opt(NamedTensors{{"p", p}}, /*lr=*/0.1, /*momentum=*/0.9);
  set_grad(p, {0.5, 1.0});
  opt.step();  // buf = g = [0.5, 1];  p = [1 - 0.05, -2 - 0.1]
  auto v1 = p.to_vector<double>();
  CHECK(v1[0] == Approx(0.95).epsilon(1e-14));
  CHECK(v1[1] == Approx(-2.1).epsilon(1e-14));
  opt.step();  // buf = 0.9 * [0.5, 1] + [0.5, 1] = [0.95, 1.9];  p -= 0.1 * buf
  auto v2 = p.to_vector<double>();
  CHECK(v2[0] == Approx(0.855).epsilon(1e-14));
  CHECK(v2[1] == Approx(-2.29).epsilon(1e-14));
  CHECK(opt.step_count() == 2);
  CHECK(opt.state().size() == 1);
  CHECK(opt.state()[0].first == "momentum.p");
  CHECK(opt.state()[0].second.to_vector<double>() == std::vector<double>{0.95, 1.9});
}

TEST_CASE("SGD weight decay and Nesterov") {
  Tensor p = param({2.0});
  SGD opt(NamedTensors{{"p", p}}, 0.1, 0.5, /*weight_decay=*/0.25, /*nesterov=*/true);
  set_grad(p, {1.0});
  opt.step();  // g = 1 + 0.25*2 = 1.5; buf = 1.5; p -= 0.1 * (1.5 + 0.5*1.5) = 2 - 0.225
  CHECK(p.item() == Approx(1.775).epsilon(1e-14));
  opt.step();  // g = 1 + 0.25*1.775 = 1.44375; buf = 0.75 + 1.44375 = 2.19375; p -= 0.1 * (1.44375 + 1.096875)
  CHECK(p.item() == Approx(1.775 - 0.2540625).epsilon(1e-14));
  Tensor q = param({1.0});
  SGD plain(NamedTensors{{"q", q}}, 0.5);
  set_grad(q, {0.2});
  plain.step();
  CHECK(q.item() == Approx(0.9).epsilon(1e-14));
  CHECK(plain.state().empty());
  CHECK_ERROR(SGD(NamedTensors{{"q", q}}, 0.1, 0.0, 0.0, true), "nesterov needs momentum");
}

TEST_CASE("AdamW: one and two steps against the formulas") {
  std::vector<double> p0{0.5, -1.5, 2.0}, g1{0.1, -0.2, 0.3}, g2{-0.3, 0.1, 0.05};
  double lr = 0.01, wd = 0.1;
  for (DType dtype : {DType::f64, DType::f32}) {
    INFO("dtype " << dtype_name(dtype));
    double tol = dtype == DType::f64 ? 1e-13 : 1e-6;
    Tensor p = from_vector(p0, {3}).to(dtype).requires_grad_();
    AdamW opt(NamedTensors{{"w", p}}, lr, 0.9, 0.999, 1e-8, wd);
    p.set_grad(from_vector(g1, {3}).to(dtype));
    opt.step();
    auto v1 = p.to_vector<double>();
    // After one step m_hat = g and v_hat = g^2, so the step is lr * g / (|g| + eps), about lr * sign(g).
    CHECK(v1[0] == Approx(0.5 * (1 - lr * wd) - lr * 0.1 / (0.1 + 1e-8)).margin(tol));
    for (int i = 0; i < 3; ++i) CHECK(v1[i] == Approx(adam_reference(p0[i], {g1[i]}, lr, 0.9, 0.999, 1e-8, wd, true)).margin(tol));
    p.set_grad(from_vector(g2, {3}).to(dtype));
    opt.step();
    auto v2 = p.to_vector<double>();
    for (int i = 0; i < 3; ++i)
      CHECK(v2[i] == Approx(adam_reference(p0[i], {g1[i], g2[i]}, lr, 0.9, 0.999, 1e-8, wd, true)).margin(tol));
    // The moments are the state: m = 0.9*0.1*g1 + 0.1*g2, v = 0.999*0.001*g1^2 + 0.001*g2^2.
    auto m = opt.state()[0].second.to_vector<double>(), v = opt.state()[1].second.to_vector<double>();
    CHECK(opt.state()[0].first == "m.w");
    CHECK(opt.state()[1].first == "v.w");
    for (int i = 0; i < 3; ++i) {
      CHECK(m[i] == Approx(0.09 * g1[i] + 0.1 * g2[i]).margin(tol));
      CHECK(v[i] == Approx(0.000999 * g1[i] * g1[i] + 0.001 * g2[i] * g2[i]).margin(tol));
    }
  }
}

TEST_CASE("Adam adds the L2 term to the gradient instead of decoupled decay") {
  std::vector<double> p0{0.5, -1.5}, g1{0.1, -0.2}, g2{0.3, 0.3};
  Tensor p = param(p0);
  Adam opt(NamedTensors{{"w", p}}, 0.01, 0.9, 0.999, 1e-8, /*weight_decay=*/0.5);
  set_grad(p, g1);
  opt.step();
  set_grad(p, g2);
  opt.step();
  auto v = p.to_vector<double>();
  for (int i = 0; i < 2; ++i)
    CHECK(v[i] == Approx(adam_reference(p0[i], {g1[i], g2[i]}, 0.01, 0.9, 0.999, 1e-8, 0.5, false)).margin(1e-13));
}

TEST_CASE("optimizers skip parameters without a gradient; zero_grad clears") {
  Tensor a = param({1.0}), b = param({2.0});
  AdamW opt(std::vector<Tensor>{a, b}, 0.1);
  set_grad(a, {1.0});
  opt.step();
  CHECK(a.item() != 1.0);
  CHECK(b.item() == 2.0);
  CHECK(opt.state()[1].first == "m.1");
  CHECK(opt.state()[1].second.item() == 0.0);
  opt.zero_grad();
  CHECK_FALSE(a.grad().defined());
  CHECK_ERROR(AdamW(std::vector<Tensor>{a, a}, 0.1), "'1' is listed twice");
  CHECK_ERROR(AdamW(std::vector<Tensor>{ones({2})}, 0.1), "requires_grad");
  CHECK_ERROR(AdamW(std::vector<Tensor>{a}, 0.1, 1.0), "betas (1, 0.999)");
}

TEST_CASE("per-parameter lr scale: 0 freezes, s scales the step like lr * s") {
  // AdamW: parameter a at scale 0.25 follows the reference with lr 0.1 * 0.25; b at scale 0 never moves.
  Tensor a = param({1.0}), b = param({2.0}), c = param({3.0});
  AdamW opt(std::vector<Tensor>{a, b, c}, 0.1, 0.9, 0.999, 1e-8, 0.01);
  opt.set_lr_scale("0", 0.25);
  opt.set_lr_scale("1", 0.0);
  for (int t = 0; t < 2; ++t) {
    set_grad(a, {0.5}), set_grad(b, {0.5}), set_grad(c, {0.5});
    opt.step();
  }
  CHECK(a.item() == Approx(adam_reference(1.0, {0.5, 0.5}, 0.025, 0.9, 0.999, 1e-8, 0.01, true)).epsilon(1e-12));
  CHECK(b.item() == 2.0);
  CHECK(c.item() == Approx(adam_reference(3.0, {0.5, 0.5}, 0.1, 0.9, 0.999, 1e-8, 0.01, true)).epsilon(1e-12));
  // SGD: p -= lr * scale * g
  Tensor d = param({1.0});
  SGD sgd(std::vector<Tensor>{d}, 0.1);
  sgd.set_lr_scale("0", 0.5);
  set_grad(d, {2.0});
  sgd.step();
  CHECK(d.item() == Approx(0.9));
  CHECK_ERROR(sgd.set_lr_scale("nope", 0.5), "no parameter named 'nope'");
  CHECK_ERROR(sgd.set_lr_scale("0", -1.0), "lr scale -1");
  CHECK(is_linformer_projection("encoder.E"));
  CHECK(is_linformer_projection("encoder.blocks.1.attn.F"));
  CHECK_FALSE(is_linformer_projection("encoder.blocks.1.attn.qkv.weight"));
}

TEST_CASE("optimizer state round trip and load errors") {
  std::vector<double> g{0.3, -0.1};
  Tensor a = param({1.0, 2.0}), b = param({1.0, 2.0});
  AdamW first(NamedTensors{{"w", a}}, 0.05), second(NamedTensors{{"w", b}}, 0.05);
  set_grad(a, g);
  first.step();
  set_grad(a, g);
  first.step();
  // Bring `second` to the same point: same parameters, moments and step count; then one more step each.
  {
    NoGradGuard ng;
    backend_for(Device::cpu()).copy(a, b);
  }
  second.load_state(first.state(), first.step_count());
  CHECK(second.step_count() == 2);
  set_grad(a, g);
  set_grad(b, g);
  first.step();
  second.step();
  CHECK(max_abs_diff(a, b) == 0.0);

  NamedTensors bad{{"m.w", zeros({3}, DType::f64)}, {"m.x", zeros({2}, DType::f64)}};
  CHECK_ERROR(second.load_state(bad, 3), "optimizer load_state", "missing keys: v.w", "unexpected keys: m.x",
              "m.w (given [3], expected [2])");
  CHECK(second.step_count() == 3);  // unchanged by the failed load
}

TEST_CASE("clip_grad_norm scales all gradients by one global factor") {
  Tensor a = param({0.0, 0.0}), b = param({0.0}), c = param({0.0});
  set_grad(a, {3.0, 4.0});
  set_grad(b, {12.0});
  double norm = clip_grad_norm({a, b, c}, 6.5);  // sqrt(9 + 16 + 144) = 13
  CHECK(norm == Approx(13.0).epsilon(1e-14));
  auto ga = a.grad().to_vector<double>();
  CHECK(ga[0] == Approx(1.5).epsilon(1e-6));
  CHECK(ga[1] == Approx(2.0).epsilon(1e-6));
  CHECK(b.grad().item() == Approx(6.0).epsilon(1e-6));
  CHECK_FALSE(c.grad().defined());
  // Below the threshold nothing changes.
  Tensor before = a.grad();
  CHECK(clip_grad_norm({a, b}, 100.0) == Approx(6.5).epsilon(1e-6));
  CHECK(a.grad().same(before));
  CHECK_ERROR(clip_grad_norm({a}, 0.0), "max_norm 0");
}

TEST_CASE("LR schedule: linear warmup, then linear or cosine decay to the floor") {
  LRSchedule lin(1.0, 4, 14, Decay::linear, 0.1);
  CHECK(lin.at(0) == Approx(0.25));
  CHECK(lin.at(1) == Approx(0.5));
  CHECK(lin.at(3) == Approx(1.0));
  CHECK(lin.at(4) == Approx(1.0));
  CHECK(lin.at(9) == Approx(0.55));  // halfway: 0.1 + 0.9 * 0.5
  CHECK(lin.at(14) == Approx(0.1));
  CHECK(lin.at(1000) == Approx(0.1));
  LRSchedule cos(1.0, 4, 12, Decay::cosine, 0.1);
  CHECK(cos.at(4) == Approx(1.0));
  CHECK(cos.at(6) == Approx(0.1 + 0.45 * (1 + std::cos(M_PI / 4))));
  CHECK(cos.at(8) == Approx(0.55));
  CHECK(cos.at(12) == Approx(0.1));
  LRSchedule flat(3e-4, 0, 10, Decay::constant);
  CHECK(flat.at(0) == Approx(3e-4));
  CHECK(flat.at(50) == Approx(3e-4));
  CHECK(parse_decay("cosine") == Decay::cosine);
  CHECK_ERROR(parse_decay("step"), "unknown decay 'step'");
  CHECK_ERROR(LRSchedule(1.0, 20, 10), "warmup_steps 20", "total_steps 10");
  CHECK_ERROR(lin.at(-1), "step -1");
}
