#pragma once
// Text classification data for train_classifier: labelled documents (the fortunes, labelled by the file
// each comes from) and padded batches of token ids for a sequence classifier.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/text.h"

namespace lf {

struct LabelledText {
  std::string text;
  int64_t label = 0;  // index into TopicSplit::classes
};

struct TopicSplit {
  std::vector<std::string> classes;     // class names, label 0 first
  std::vector<int64_t> corpus_count;    // per class: its documents in the whole corpus
  std::vector<LabelledText> train, test;
};

// The fortunes as a topic task: an entry's label is the file it comes from ("computers", "politics", ...).
// The `classes` files with the most entries are the classes (ties by name), in that order. The split is
// TextCorpus::split's rule over the *whole* corpus (every 20th document for 0.05), so with the same corpus
// and fraction a test entry is exactly one that train_mlm held out for validation: a pretrained encoder
// has never trained on it. lf::Error when the corpus has fewer than `classes` origins with documents on
// both sides of the split.
TopicSplit fortune_topics(const TextCorpus& corpus, int64_t classes, double valid_fraction = 0.05);

// A batch for a sequence classifier: ids i64 [B, L], mask f32 [B, L] (1 = token, 0 = padding), labels
// i64 [B]. L is the longest row, at most max_len.
struct PaddedBatch {
  Tensor ids, mask, labels;
};
// Rows `rows` of `seqs` (each cut to its first max_len ids; none may be empty) with their labels, padded
// with pad_id.
PaddedBatch pad_batch(const std::vector<std::vector<int64_t>>& seqs, const std::vector<int64_t>& labels,
                      const std::vector<int64_t>& rows, int64_t max_len, int64_t pad_id);

}  // namespace lf
