// Elementwise ops: forward through the backend's unary/binary kernels, backward written with these same
// ops (backward runs under NoGradGuard, so nothing it computes is recorded).
//
// Broadcasting (NumPy rules): a [4, 1] + b [3] -> out [4, 3]. Each input is handed to the kernel as a view
// of out's shape with stride 0 along the stretched dims, so no input is ever copied to be broadcast. In
// backward, the gradient of a broadcast input is summed back to its shape with sum_to.
#include "ops/elementwise.h"

#include "autograd/node.h"
#include "ops/check.h"
#include "ops/creation.h"
#include "ops/reduce.h"

namespace lf {

namespace {

using Needs = std::vector<bool>;
using Grads = std::vector<Tensor>;

// t read as a tensor of shape `to` (stride 0 along the dims it is stretched over); shares storage.
Tensor broadcast_view(const Tensor& t, const Shape& to) {
  if (t.shape() == to) return t;
  return t.as_strided(to, broadcast_strides(t.shape(), t.strides(), to), t.offset());
}

// out = a (op) b with broadcasting; records nothing.
Tensor binary_raw(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  check_same(name, a, b);
  Shape shape = broadcast_shapes(name, a.shape(), b.shape());
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  backend_of(a).binary(op, broadcast_view(a, shape), broadcast_view(b, shape), out);
  return out;
}

// out = op(x, alpha); records nothing.
Tensor unary_raw(const char* name, UnaryOp op, const Tensor& x, double alpha = 0.0) {
  check_defined(name, x);
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  backend_of(x).unary(op, x, out, alpha);
  return out;
}

// A 0-d tensor holding s, in t's dtype and device: lets `x / s` run as an exact broadcast division.
Tensor scalar_like(const Tensor& t, double s) { return full({}, s, t.dtype(), t.device()); }

}  // namespace

// ---- tensor (op) tensor ----

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw("add", BinaryOp::add, a, b);
  return record("add", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g, const Needs& n) {
    return Grads{n[0] ? sum_to(g, sa) : Tensor(), n[1] ? sum_to(g, sb) : Tensor()};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw("sub", BinaryOp::sub, a, b);
  return record("sub", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g, const Needs& n) {
    return Grads{n[0] ? sum_to(g, sa) : Tensor(), n[1] ? sum_to(neg(g), sb) : Tensor()};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw("mul", BinaryOp::mul, a, b);
  if (!any_requires_grad({a, b})) return out;
  // d(ab)/da = b, d(ab)/db = a
  return record("mul", out, {a, b}, [a = a.detach(), b = b.detach()](const Tensor& g, const Needs& n) {
    return Grads{n[0] ? sum_to(mul(g, b), a.shape()) : Tensor(),
                 n[1] ? sum_to(mul(g, a), b.shape()) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  check_float("div", a);
  Tensor out = binary_raw("div", BinaryOp::div, a, b);
  if (!any_requires_grad({a, b})) return out;
  // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -out/b
  return record("div", out, {a, b},
                [sa = a.shape(), b = b.detach(), y = out.detach()](const Tensor& g, const Needs& n) {
                  return Grads{n[0] ? sum_to(div(g, b), sa) : Tensor(),
                               n[1] ? sum_to(neg(div(mul(g, y), b)), b.shape()) : Tensor()};
                });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  check_float("pow", a);
  Tensor out = binary_raw("pow", BinaryOp::pow, a, b);
  if (!any_requires_grad({a, b})) return out;
  // d(a^b)/da = b a^(b-1), d(a^b)/db = log(a) a^b
  return record("pow", out, {a, b},
                [a = a.detach(), b = b.detach(), y = out.detach()](const Tensor& g, const Needs& n) {
                  Tensor ga, gb;
                  if (n[0]) ga = sum_to(mul(g, mul(b, pow(a, sub(b, 1.0)))), a.shape());
                  if (n[1]) gb = sum_to(mul(g, mul(log(a), y)), b.shape());
                  return Grads{ga, gb};
                });
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw("maximum", BinaryOp::maximum, a, b);
  if (!any_requires_grad({a, b})) return out;
  // The gradient goes to the larger input; a tie splits it evenly.
  return record("maximum", out, {a, b}, [a = a.detach(), b = b.detach()](const Tensor& g, const Needs& n) {
    Tensor wa = add(gt(a, b), mul(eq(a, b), 0.5));  // a's share, in out's shape: 1, 0 or 1/2
    return Grads{n[0] ? sum_to(mul(g, wa), a.shape()) : Tensor(),
                 n[1] ? sum_to(mul(g, sub(1.0, wa)), b.shape()) : Tensor()};
  });
}

// ---- tensor (op) scalar ----

Tensor add(const Tensor& a, double s) {
  Tensor out = unary_raw("add", UnaryOp::add_scalar, a, s);
  return record("add_scalar", out, {a}, [](const Tensor& g, const Needs&) { return Grads{g}; });
}

Tensor sub(const Tensor& a, double s) {
  Tensor out = unary_raw("sub", UnaryOp::add_scalar, a, -s);
  return record("sub_scalar", out, {a}, [](const Tensor& g, const Needs&) { return Grads{g}; });
}

Tensor sub(double s, const Tensor& a) {
  Tensor out = unary_raw("sub", UnaryOp::rsub_scalar, a, s);
  return record("rsub_scalar", out, {a}, [](const Tensor& g, const Needs&) { return Grads{neg(g)}; });
}

Tensor mul(const Tensor& a, double s) {
  Tensor out = unary_raw("mul", UnaryOp::mul_scalar, a, s);
  return record("mul_scalar", out, {a}, [s](const Tensor& g, const Needs&) { return Grads{mul(g, s)}; });
}

// Divides exactly (not by multiplying with 1/s), so x / 3 gives the same bits as the element-wise division.
Tensor div(const Tensor& a, double s) {
  check_float("div", a);
  Tensor out = binary_raw("div", BinaryOp::div, a, scalar_like(a, s));
  return record("div_scalar", out, {a}, [s](const Tensor& g, const Needs&) { return Grads{div(g, s)}; });
}

Tensor div(double s, const Tensor& a) {
  check_float("div", a);
  Tensor out = unary_raw("div", UnaryOp::rdiv_scalar, a, s);
  if (!any_requires_grad({a})) return out;
  // d(s/a)/da = -s/a^2 = -out/a
  return record("rdiv_scalar", out, {a}, [a = a.detach(), y = out.detach()](const Tensor& g, const Needs&) {
    return Grads{neg(div(mul(g, y), a))};
  });
}

Tensor pow(const Tensor& a, double exponent) {
  check_float("pow", a);
  Tensor out = unary_raw("pow", UnaryOp::pow_scalar, a, exponent);
  if (!any_requires_grad({a})) return out;
  // d(a^e)/da = e a^(e-1); for e = 0 the gradient is 0 even where a^(-1) is infinite.
  return record("pow_scalar", out, {a}, [a = a.detach(), e = exponent](const Tensor& g, const Needs&) {
    if (e == 0.0) return Grads{zeros(a.shape(), a.dtype(), a.device())};
    return Grads{mul(g, mul(pow(a, e - 1.0), e))};
  });
}

// ---- unary ----

Tensor neg(const Tensor& x) {
  Tensor out = unary_raw("neg", UnaryOp::neg, x);
  return record("neg", out, {x}, [](const Tensor& g, const Needs&) { return Grads{neg(g)}; });
}

Tensor exp(const Tensor& x) {
  check_float("exp", x);
  Tensor out = unary_raw("exp", UnaryOp::exp, x);
  if (!any_requires_grad({x})) return out;
  return record("exp", out, {x},
                [y = out.detach()](const Tensor& g, const Needs&) { return Grads{mul(g, y)}; });
}

Tensor log(const Tensor& x) {
  check_float("log", x);
  Tensor out = unary_raw("log", UnaryOp::log, x);
  if (!any_requires_grad({x})) return out;
  return record("log", out, {x},
                [x = x.detach()](const Tensor& g, const Needs&) { return Grads{div(g, x)}; });
}

Tensor sqrt(const Tensor& x) {
  check_float("sqrt", x);
  Tensor out = unary_raw("sqrt", UnaryOp::sqrt, x);
  if (!any_requires_grad({x})) return out;
  // d sqrt(x)/dx = 1 / (2 sqrt(x))
  return record("sqrt", out, {x},
                [y = out.detach()](const Tensor& g, const Needs&) { return Grads{mul(div(g, y), 0.5)}; });
}

Tensor rsqrt(const Tensor& x) {
  check_float("rsqrt", x);
  Tensor out = unary_raw("rsqrt", UnaryOp::rsqrt, x);
  if (!any_requires_grad({x})) return out;
  // y = x^(-1/2): dy/dx = -x^(-3/2) / 2 = -y^3 / 2
  return record("rsqrt", out, {x}, [y = out.detach()](const Tensor& g, const Needs&) {
    return Grads{mul(mul(g, mul(y, mul(y, y))), -0.5)};
  });
}

Tensor abs(const Tensor& x) {
  Tensor out = unary_raw("abs", UnaryOp::abs, x);
  if (!any_requires_grad({x})) return out;
  // d|x|/dx = sign(x), taken as 0 at x = 0
  return record("abs", out, {x}, [x = x.detach()](const Tensor& g, const Needs&) {
    Tensor zero = scalar_like(x, 0.0);
    return Grads{mul(g, sub(gt(x, zero), lt(x, zero)))};
  });
}

Tensor tanh(const Tensor& x) {
  check_float("tanh", x);
  Tensor out = unary_raw("tanh", UnaryOp::tanh, x);
  if (!any_requires_grad({x})) return out;
  // d tanh(x)/dx = 1 - tanh(x)^2
  return record("tanh", out, {x}, [y = out.detach()](const Tensor& g, const Needs&) {
    return Grads{mul(g, sub(1.0, mul(y, y)))};
  });
}

Tensor sigmoid(const Tensor& x) {
  check_float("sigmoid", x);
  Tensor out = unary_raw("sigmoid", UnaryOp::sigmoid, x);
  if (!any_requires_grad({x})) return out;
  // d sigmoid(x)/dx = s (1 - s)
  return record("sigmoid", out, {x}, [y = out.detach()](const Tensor& g, const Needs&) {
    return Grads{mul(g, mul(y, sub(1.0, y)))};
  });
}

Tensor relu(const Tensor& x) {
  Tensor out = unary_raw("relu", UnaryOp::relu, x);
  if (!any_requires_grad({x})) return out;
  return record("relu", out, {x}, [x = x.detach()](const Tensor& g, const Needs&) {
    return Grads{binary_raw("relu", BinaryOp::relu_grad, g, x)};  // g where x > 0
  });
}

Tensor gelu(const Tensor& x, bool approximate_tanh) {
  check_float("gelu", x);
  Tensor out = unary_raw("gelu", approximate_tanh ? UnaryOp::gelu_tanh : UnaryOp::gelu_erf, x);
  if (!any_requires_grad({x})) return out;
  BinaryOp grad_op = approximate_tanh ? BinaryOp::gelu_tanh_grad : BinaryOp::gelu_erf_grad;
  return record("gelu", out, {x}, [x = x.detach(), grad_op](const Tensor& g, const Needs&) {
    return Grads{binary_raw("gelu", grad_op, g, x)};  // g * gelu'(x)
  });
}

Tensor silu(const Tensor& x) {
  check_float("silu", x);
  Tensor out = unary_raw("silu", UnaryOp::silu, x);
  if (!any_requires_grad({x})) return out;
  return record("silu", out, {x}, [x = x.detach()](const Tensor& g, const Needs&) {
    return Grads{binary_raw("silu", BinaryOp::silu_grad, g, x)};  // g * silu'(x), one fused pass
  });
}

// ---- comparisons: 1 or 0 in a's dtype, outside the graph ----

Tensor eq(const Tensor& a, const Tensor& b) { return binary_raw("eq", BinaryOp::eq, a, b); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_raw("gt", BinaryOp::gt, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_raw("lt", BinaryOp::lt, a, b); }

}  // namespace lf
