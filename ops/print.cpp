// Printing a tensor NumPy-style:
//
//   Tensor(shape=[2,3], dtype=f32, device=cpu)
//   [[1, 2, 3],
//    [4, 5, 6]]
//
// A dim longer than 2*edge_items shows only its first and last edge_items entries, with "..." between,
// so printing a [512, 512] activation stays a few lines long.
#include "ops/print.h"

#include <fmt/format.h>

#include <iterator>
#include <type_traits>

#include "autograd/node.h"
#include "ops/check.h"

namespace lf {

namespace {

struct Printer {
  const Tensor& t;  // contiguous, on the CPU
  int64_t edge;
  std::string out;

  void value(int64_t flat) {
    dispatch(t.dtype(), [&](auto tag) {
      using T = decltype(tag);
      T v = t.data<T>()[flat];
      if constexpr (std::is_floating_point_v<T>)
        fmt::format_to(std::back_inserter(out), "{:.4g}", v);
      else
        fmt::format_to(std::back_inserter(out), "{}", v);
    });
  }

  // Prints the sub-tensor at dim `d` starting at flat element `base`; `indent` is the column of its '['.
  void block(int64_t d, int64_t base, int64_t indent) {
    const Shape& shape = t.shape();
    int64_t n = shape[d], stride = t.strides()[d];
    bool last_dim = d + 1 == int64_t(shape.size());
    // Between rows: one newline per remaining dim (a blank line separates matrices of a 3-d tensor).
    std::string sep = ",";
    if (last_dim)
      sep += ' ';
    else
      sep.append(size_t(int64_t(shape.size()) - d - 1), '\n').append(size_t(indent + 1), ' ');
    out += '[';
    bool truncate = n > 2 * edge;
    for (int64_t i = 0; i < n; ++i) {
      if (truncate && i == edge) {
        out += "...";
        out += sep;
        i = n - edge;
      }
      if (last_dim)
        value(base + i * stride);
      else
        block(d + 1, base + i * stride, indent + 1);
      if (i + 1 < n) out += sep;
    }
    out += ']';
  }
};

}  // namespace

std::string to_string(const Tensor& t, int64_t edge_items) {
  if (!t.defined()) return "Tensor(undefined)";
  std::string header =
      fmt::format("Tensor(shape={}, dtype={}, device={}", shape_str(t.shape()), t.dtype(), t.device());
  if (t.grad_fn())
    header += fmt::format(", grad_fn={}", t.grad_fn()->name);
  else if (t.requires_grad())
    header += ", requires_grad=true";
  header += ")\n";

  // Values are read from a contiguous CPU copy; the copy is not part of any graph.
  Tensor c = t.detach();
  if (!c.device().is_cpu()) c = c.to(Device::cpu());
  c = c.contiguous();
  Printer p{c, std::max<int64_t>(edge_items, 1), {}};
  if (c.dim() == 0)
    p.value(0);
  else
    p.block(0, 0, 0);
  return header + p.out;
}

}  // namespace lf
