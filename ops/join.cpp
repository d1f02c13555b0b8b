// Joining and gathering: cat, stack, index_select.
#include "autograd/node.h"
#include "ops/check.h"
#include "ops/creation.h"
#include "ops/join.h"

namespace lf {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  LF_CHECK(!tensors.empty(), "cat: got an empty list of tensors");
  const Tensor& first = tensors[0];
  check_defined("cat", first);
  LF_CHECK(first.dim() > 0, "cat: tensor 0 is 0-d (shape []); only tensors with at least one dim can be joined");
  int64_t d = normalize_dim("cat", dim, first.dim());
  // Every tensor must match tensor 0 except along d.
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    check_same("cat", first, t);
    bool ok = t.dim() == first.dim();
    for (int64_t j = 0; ok && j < t.dim(); ++j) ok = j == d || t.shape()[j] == first.shape()[j];
    LF_CHECK(ok, "cat: tensor {} has shape {} but tensor 0 has shape {}; shapes must match except in dim {}", i,
             shape_str(t.shape()), shape_str(first.shape()), d);
    out_shape[d] += t.shape()[d];
  }

  // out [..., sum of sizes, ...]: copy each input into its slab along d.
  Tensor out = Tensor::empty(out_shape, first.dtype(), first.device());
  Backend& be = backend_of(first);
  std::vector<int64_t> starts;
  int64_t at = 0;
  for (const Tensor& t : tensors) {
    starts.push_back(at);
    if (t.numel() > 0) be.copy(t.detach(), out.detach().slice(d, at, at + t.shape()[d]));
    at += t.shape()[d];
  }
  if (!any_requires_grad(tensors)) return out;
  std::vector<int64_t> sizes;
  for (const Tensor& t : tensors) sizes.push_back(t.shape()[d]);
  return record("cat", out, tensors,
                [d, starts, sizes](const Tensor& g, const std::vector<bool>& needs) -> std::vector<Tensor> {
                  // each input's gradient is its slab of g
                  std::vector<Tensor> grads(needs.size());
                  for (size_t i = 0; i < needs.size(); ++i)
                    if (needs[i]) grads[i] = g.slice(d, starts[i], starts[i] + sizes[i]);
                  return grads;
                });
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  LF_CHECK(!tensors.empty(), "stack: got an empty list of tensors");
  check_defined("stack", tensors[0]);
  for (size_t i = 0; i < tensors.size(); ++i) {
    check_defined("stack", tensors[i]);
    LF_CHECK(tensors[i].shape() == tensors[0].shape(),
             "stack: tensor {} has shape {} but tensor 0 has shape {}; all shapes must be equal", i,
             shape_str(tensors[i].shape()), shape_str(tensors[0].shape()));
  }
  // A new size-1 dim on each, then join along it; both steps are differentiable views/ops.
  int64_t d = normalize_dim("stack", dim, tensors[0].dim() + 1);
  std::vector<Tensor> parts;
  for (const Tensor& t : tensors) parts.push_back(t.unsqueeze(d));
  return cat(parts, d);
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_defined("index_select", x);
  check_defined("index_select", index);
  LF_CHECK(x.dim() > 0, "index_select: cannot index a 0-d tensor");
  LF_CHECK(index.dtype() == DType::i64 && index.dim() == 1, "index_select: index must be a 1-D i64 tensor, got {} {}",
           shape_str(index.shape()), index.dtype());
  LF_CHECK(index.device() == x.device(), "index_select: x is on {} but index is on {}", x.device(), index.device());
  int64_t d = normalize_dim("index_select", dim, x.dim());
  int64_t n = x.shape()[d];
  // Range check where the indices are: at once on the CPU; on a GPU on the device, raised at its next
  // synchronisation (backends/index_check.h), so that the host does not wait here.
  backend_of(x).check_indices(
      index, {"index_select", "index", n, std::nullopt, fmt::format("for dim {} of size {}", d, n)});

  // x viewed as [outer, n, inner]: the rows picked along d are contiguous runs of `inner` elements.
  int64_t outer = 1, inner = 1;
  for (int64_t j = 0; j < d; ++j) outer *= x.shape()[j];
  for (int64_t j = d + 1; j < x.dim(); ++j) inner *= x.shape()[j];
  Shape out_shape = x.shape();
  out_shape[d] = index.shape()[0];
  Tensor out = Tensor::empty(out_shape, x.dtype(), x.device());
  Tensor idx = index.detach().contiguous();
  Backend& be = backend_of(x);
  if (out.numel() > 0) be.index_select(x.detach().contiguous(), idx, out, outer, n, inner);
  Shape x_shape = x.shape();
  return record("index_select", out, {x, index},
                [idx, x_shape, outer, n, inner](const Tensor& g, const std::vector<bool>&) -> std::vector<Tensor> {
                  // scatter-add: a row picked twice gets both gradients
                  Tensor dx = zeros(x_shape, g.dtype(), g.device());
                  if (g.numel() > 0) backend_of(dx).index_add(g.contiguous(), idx, dx, outer, n, inner);
                  return {dx, Tensor()};
                });
}

}  // namespace lf
