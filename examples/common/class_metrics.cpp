#include "examples/common/class_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/grad_mode.h"
#include "data/text.h"
#include "nn/linear.h"
#include "nn/optim.h"
#include "ops/ops.h"

namespace lf {

ClassScores score_predictions(const std::vector<int64_t>& truth, const std::vector<int64_t>& predicted,
                              int64_t classes) {
  LF_CHECK(truth.size() == predicted.size() && !truth.empty() && classes > 0,
           "score_predictions: needs as many predictions as labels ({} vs {}) and at least one", predicted.size(),
           truth.size());
  const size_t C = size_t(classes);
  std::vector<int64_t> tp(C, 0), fp(C, 0), fn(C, 0);
  int64_t correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    const int64_t t = truth[i], p = predicted[i];
    LF_CHECK(t >= 0 && t < classes && p >= 0 && p < classes, "score_predictions: label {} or {} outside [0, {})",
             t, p, classes);
    if (t == p) ++correct, ++tp[size_t(t)];
    else ++fp[size_t(p)], ++fn[size_t(t)];
  }
  ClassScores s;
  s.accuracy = double(correct) / double(truth.size());
  for (int64_t c = 0; c < classes; ++c) {
    // F1 = 2 TP / (2 TP + FP + FN): the harmonic mean of precision and recall, 0 when TP = 0.
    const double denom = double(2 * tp[size_t(c)] + fp[size_t(c)] + fn[size_t(c)]);
    s.f1.push_back(denom > 0 ? 2.0 * double(tp[size_t(c)]) / denom : 0.0);
  }
  s.macro_f1 = std::accumulate(s.f1.begin(), s.f1.end(), 0.0) / double(classes);
  return s;
}

std::vector<int64_t> argmax_rows(const Tensor& logits) {
  LF_CHECK(logits.dim() == 2 && logits.size(1) > 0, "argmax_rows: expected logits [N, C], got {}",
           shape_str(logits.shape()));
  const int64_t N = logits.size(0), C = logits.size(1);
  const std::vector<double> v = logits.to(DType::f64).contiguous().to_vector<double>();
  std::vector<int64_t> best(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i)
    best[size_t(i)] = int64_t(std::max_element(v.begin() + i * C, v.begin() + (i + 1) * C) - (v.begin() + i * C));
  return best;
}

int64_t majority_class(const std::vector<int64_t>& labels, int64_t classes) {
  std::vector<int64_t> count(size_t(classes), 0);
  for (int64_t l : labels) {
    LF_CHECK(l >= 0 && l < classes, "majority_class: label {} outside [0, {})", l, classes);
    ++count[size_t(l)];
  }
  return int64_t(std::max_element(count.begin(), count.end()) - count.begin());
}

namespace {

// Rows `rows` of `texts` as L2-normalised token-count vectors [rows, vocab].
Tensor count_features(const std::vector<std::vector<int64_t>>& texts, const std::vector<int64_t>& rows,
                      int64_t vocab) {
  std::vector<float> x(rows.size() * size_t(vocab), 0.0f);
  for (size_t r = 0; r < rows.size(); ++r) {
    float* row = x.data() + r * size_t(vocab);
    for (int64_t id : texts[size_t(rows[r])]) {
      LF_CHECK(id >= 0 && id < vocab, "bag_of_pieces_baseline: token {} outside [0, {})", id, vocab);
      row[id] += 1;
    }
    double norm = 0;
    for (int64_t v = 0; v < vocab; ++v) norm += double(row[v]) * row[v];
    if (norm > 0)
      for (int64_t v = 0; v < vocab; ++v) row[v] = float(row[v] / std::sqrt(norm));
  }
  return from_vector(x, {int64_t(rows.size()), vocab});
}

}  // namespace

std::vector<int64_t> bag_of_pieces_baseline(const std::vector<std::vector<int64_t>>& train,
                                            const std::vector<int64_t>& train_labels,
                                            const std::vector<std::vector<int64_t>>& test, int64_t vocab,
                                            int64_t classes, const BagOfPiecesSettings& s) {
  LF_CHECK(train.size() == train_labels.size() && !train.empty(),
           "bag_of_pieces_baseline: needs one label per training text");
  const int64_t batch = 64;
  Linear lin(vocab, classes);
  AdamW opt(lin.named_parameters(), s.lr, 0.9, 0.999, 1e-8, s.weight_decay);
  Rng rng(s.seed);
  std::vector<int64_t> order(train.size());
  for (int64_t e = 0; e < s.epochs; ++e) {
    std::iota(order.begin(), order.end(), 0);
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    for (size_t b = 0; b < order.size(); b += size_t(batch)) {
      std::vector<int64_t> rows(order.begin() + long(b), order.begin() + long(std::min(order.size(), b + batch)));
      std::vector<int64_t> y;
      for (int64_t r : rows) y.push_back(train_labels[size_t(r)]);
      Tensor loss = cross_entropy(lin.forward(count_features(train, rows, vocab)), from_vector(y, {int64_t(y.size())}));
      opt.zero_grad();
      loss.backward();
      opt.step();
    }
  }
  NoGradGuard no_grad;
  std::vector<int64_t> predicted;
  for (size_t b = 0; b < test.size(); b += size_t(batch)) {
    std::vector<int64_t> rows(size_t(std::min<size_t>(test.size() - b, size_t(batch))));
    std::iota(rows.begin(), rows.end(), int64_t(b));
    const Tensor logits = lin.forward(count_features(test, rows, vocab));
    const std::vector<int64_t> best = argmax_rows(logits);
    predicted.insert(predicted.end(), best.begin(), best.end());
  }
  return predicted;
}

}  // namespace lf
