#pragma once
// How well a classifier does, and the two baselines train_classifier measures it against.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace lf {

// Accuracy and macro-F1 (the mean over classes of 2 P R / (P + R), a class never predicted and never true
// counting 0) of `predicted` against `truth`, labels in [0, classes).
struct ClassScores {
  double accuracy = 0, macro_f1 = 0;
  std::vector<double> f1;  // per class
};
ClassScores score_predictions(const std::vector<int64_t>& truth, const std::vector<int64_t>& predicted,
                              int64_t classes);

// Per row of logits [N, C], the index of its largest entry (the first on a tie): the predicted labels.
std::vector<int64_t> argmax_rows(const Tensor& logits);

// The most frequent label of `labels` (the smallest on a tie): what a classifier that ignores its input
// predicts.
int64_t majority_class(const std::vector<int64_t>& labels, int64_t classes);

// Bag-of-pieces logistic regression: each text is the L2-normalised vector of its token counts over the
// vocabulary; a linear layer [classes, vocab] is trained on cross-entropy with AdamW (lr, weight decay)
// for `epochs` passes in shuffled batches of 64. Returns the predicted labels of `test`.
struct BagOfPiecesSettings {
  int64_t epochs = 30;
  double lr = 0.02, weight_decay = 0.0;
  uint64_t seed = 1;
};
std::vector<int64_t> bag_of_pieces_baseline(const std::vector<std::vector<int64_t>>& train,
                                            const std::vector<int64_t>& train_labels,
                                            const std::vector<std::vector<int64_t>>& test, int64_t vocab,
                                            int64_t classes, const BagOfPiecesSettings& s = {});

}  // namespace lf
