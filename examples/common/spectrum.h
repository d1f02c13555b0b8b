#pragma once
// The spectrum of attention matrices, as the Linformer paper's Figure 1 studies it: the singular values of
// each P (n x m, one per layer, head and sequence), turned into normalised cumulative sums
//   c[i] = (s_0 + ... + s_i) / (s_0 + ... + s_{r-1}),   s sorted largest first, r = min(n, m),
// averaged over sequences. A P of low rank has c close to 1 after few singular values.
// The SVD is LAPACK's (dgesdd through LAPACKE, values only), on the CPU in f64.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace lf {

// Singular values of the row-major matrix a [rows, cols], largest first (min(rows, cols) of them).
// Throws lf::Error naming the sizes when a does not hold rows * cols values or LAPACK does not converge.
std::vector<double> singular_values(const std::vector<double>& a, int64_t rows, int64_t cols);

// c[i] as above; all zeros (a zero matrix) gives all ones.
std::vector<double> normalized_cumulative(const std::vector<double>& s);

// How many singular values reach `fraction` of the total: the smallest i + 1 with c[i] >= fraction.
int64_t count_to_reach(const std::vector<double>& c, double fraction);

// The running mean over sequences of c, for each layer and head of a model.
class SpectrumAccumulator {
 public:
  // Adds one forward pass: probs[l] is layer l's P [B, h, n, m] (AttentionProbe's record); every batch
  // row is one sequence. All passes must have the same layers, heads and each layer's rank min(n, m)
  // (which may differ between layers: a Linformer with a k per layer).
  void add(const std::vector<Tensor>& probs);
  int64_t layers() const { return int64_t(sum_.size()); }
  int64_t heads() const { return sum_.empty() ? 0 : int64_t(sum_[0].size()); }
  int64_t length(int64_t layer) const;  // layer's min(n, m): how many singular values each P has
  int64_t sequences() const { return count_; }
  // The mean c of layer l, head h; and of layer l over its heads.
  std::vector<double> mean(int64_t layer, int64_t head) const;
  std::vector<double> layer_mean(int64_t layer) const;

 private:
  std::vector<std::vector<std::vector<double>>> sum_;  // [layer][head][i]
  int64_t count_ = 0;
};

}  // namespace lf
