// Label smoothing. With q = (1 - s) one_hot(t) + s / C the smoothed target of a row, its loss is
//
//   -sum_c q_c log p_c = (1 - s) * (-log p_t) + s * (-mean_c log p_c)
//
// so the op is the fused cross_entropy (the first term, already averaged over the rows that count) plus
// s times the mean over the same rows of -mean_c log_softmax. Both terms are recorded ops, so autograd
// gives the gradient (p - q per row, over the number of rows) without a kernel of its own.
#include "ops/check.h"
#include "ops/convert.h"
#include "ops/creation.h"
#include "ops/elementwise.h"
#include "ops/functional.h"
#include "ops/reduce.h"

namespace lf {

Tensor label_smoothed_cross_entropy(const Tensor& logits, const Tensor& target, double smoothing,
                                    int64_t ignore_index) {
  LF_CHECK(smoothing >= 0 && smoothing <= 1, "label_smoothed_cross_entropy: smoothing {} is not in [0, 1]",
           smoothing);
  Tensor nll = cross_entropy(logits, target, ignore_index);  // checks shapes, dtypes and the targets
  if (smoothing == 0) return nll;
  const int64_t last = logits.dim() - 1;
  Tensor uniform = -mean(log_softmax(logits, last), {last});  // [...]: -mean_c log p_c of every row
  // keep [...]: 1 for the rows whose target counts, 0 for ignore_index
  Tensor ignored = eq(target, full({}, double(ignore_index), DType::i64, target.device()));
  Tensor keep = 1.0 - ignored.to(logits.dtype());
  // Every row ignored: 0, as cross_entropy gives, not 0 / 0.
  Tensor rows = maximum(sum(keep), full({}, 1.0, logits.dtype(), logits.device()));
  return (1 - smoothing) * nll + smoothing * (sum(uniform * keep) / rows);
}

}  // namespace lf
