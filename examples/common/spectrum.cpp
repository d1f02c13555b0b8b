#include "examples/common/spectrum.h"

#include <lapacke.h>

#include <algorithm>

#include "core/shape.h"

namespace lf {

std::vector<double> singular_values(const std::vector<double>& a, int64_t rows, int64_t cols) {
  LF_CHECK(rows >= 1 && cols >= 1 && int64_t(a.size()) == checked_mul("singular_values", rows, cols),
           "singular_values: {} values for a [{}, {}] matrix", a.size(), rows, cols);
  LF_CHECK(rows <= (int64_t(1) << 30) && cols <= (int64_t(1) << 30),
           "singular_values: [{}, {}] is beyond LAPACK's 32-bit sizes", rows, cols);
  std::vector<double> work = a;  // dgesdd overwrites its input
  std::vector<double> s(size_t(std::min(rows, cols)));
  // jobz 'N': singular values only (no U, V^T), which is all the spectrum needs. LAPACKE still checks the
  // unused leading dimensions in row-major order (ldvt >= cols).
  const lapack_int info =
      LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', lapack_int(rows), lapack_int(cols), work.data(), lapack_int(cols),
                     s.data(), nullptr, 1, nullptr, lapack_int(cols));
  LF_CHECK(info == 0, "singular_values: LAPACK dgesdd failed on a [{}, {}] matrix (info {})", rows, cols,
           info);
  std::sort(s.begin(), s.end(), std::greater<>());  // dgesdd returns them sorted; keep it explicit
  return s;
}

std::vector<double> normalized_cumulative(const std::vector<double>& s) {
  double total = 0;
  for (double v : s) total += v;
  std::vector<double> c(s.size(), 1.0);
  if (!(total > 0)) return c;
  double run = 0;
  for (size_t i = 0; i < s.size(); ++i) c[i] = std::min(1.0, (run += s[i]) / total);
  return c;
}

int64_t count_to_reach(const std::vector<double>& c, double fraction) {
  for (size_t i = 0; i < c.size(); ++i)
    if (c[i] >= fraction) return int64_t(i) + 1;
  return int64_t(c.size());
}

void SpectrumAccumulator::add(const std::vector<Tensor>& probs) {
  LF_CHECK(!probs.empty(), "spectrum: no attention matrices were recorded");
  if (sum_.empty()) {
    for (const Tensor& p : probs) {
      LF_CHECK(p.dim() == 4, "spectrum: P {} is not [B, h, n, m]", shape_str(p.shape()));
      const int64_t r = std::min(p.size(2), p.size(3));
      sum_.emplace_back(size_t(probs[0].size(1)), std::vector<double>(size_t(r), 0.0));
    }
  }
  LF_CHECK(probs.size() == sum_.size(), "spectrum: {} layers recorded, {} before", probs.size(), sum_.size());
  for (size_t l = 0; l < probs.size(); ++l) {
    const Tensor& p = probs[l];
    LF_CHECK(p.dim() == 4 && p.size(1) == heads() && std::min(p.size(2), p.size(3)) == length(int64_t(l)),
             "spectrum: layer {}'s P {} does not match the first pass's {} heads and rank {}", l,
             shape_str(p.shape()), heads(), length(int64_t(l)));
    const int64_t B = p.size(0), h = p.size(1), n = p.size(2), m = p.size(3);
    const std::vector<double> all = p.to_vector<double>();  // [B, h, n, m] on the host, in f64
    for (int64_t b = 0; b < B; ++b)
      for (int64_t j = 0; j < h; ++j) {
        const auto first = all.begin() + (b * h + j) * n * m;
        const std::vector<double> c = normalized_cumulative(singular_values({first, first + n * m}, n, m));
        for (size_t i = 0; i < c.size(); ++i) sum_[l][size_t(j)][i] += c[i];
      }
    if (l == 0) count_ += B;
  }
}

int64_t SpectrumAccumulator::length(int64_t layer) const {
  LF_CHECK(layer >= 0 && layer < layers(), "spectrum: no layer {} ({} layers)", layer, layers());
  return int64_t(sum_[size_t(layer)][0].size());
}

std::vector<double> SpectrumAccumulator::mean(int64_t layer, int64_t head) const {
  LF_CHECK(layer >= 0 && layer < layers() && head >= 0 && head < heads() && count_ > 0,
           "spectrum: no mean for layer {}, head {} ({} layers, {} heads, {} sequences)", layer, head,
           layers(), heads(), count_);
  std::vector<double> m = sum_[size_t(layer)][size_t(head)];
  for (double& v : m) v /= double(count_);
  return m;
}

std::vector<double> SpectrumAccumulator::layer_mean(int64_t layer) const {
  std::vector<double> m(size_t(length(layer)), 0.0);
  for (int64_t h = 0; h < heads(); ++h) {
    const std::vector<double> c = mean(layer, h);
    for (size_t i = 0; i < m.size(); ++i) m[i] += c[i] / double(heads());
  }
  return m;
}

}  // namespace lf
