#include "data/classification.h"

#include <algorithm>
#include <numeric>

#include "ops/creation.h"

namespace lf {

TopicSplit fortune_topics(const TextCorpus& corpus, int64_t classes, double valid_fraction) {
  LF_CHECK(classes >= 2, "fortune_topics: needs at least 2 classes, got {}", classes);
  const std::vector<TextCorpus::Origin>& origins = corpus.origins();
  // The largest files first; a file must give both sides of the split at least one document.
  std::vector<size_t> order(origins.size());
  std::iota(order.begin(), order.end(), 0);
  auto size = [&](size_t i) { return origins[i].end - origins[i].begin; };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return size(a) != size(b) ? size(a) > size(b) : origins[a].name < origins[b].name;
  });
  LF_CHECK(int64_t(order.size()) >= classes,
           "fortune_topics: {} has {} files with entries, fewer than the {} classes asked for", corpus.source(),
           order.size(), classes);
  TopicSplit s;
  for (int64_t c = 0; c < classes; ++c) {
    const TextCorpus::Origin& o = origins[order[size_t(c)]];
    int64_t train = 0, test = 0;
    for (int64_t i = o.begin; i < o.end; ++i) {
      const bool held_out = TextCorpus::in_validation(i, valid_fraction);
      (held_out ? s.test : s.train).push_back({corpus.documents()[size_t(i)], c});
      (held_out ? test : train)++;
    }
    LF_CHECK(train > 0 && test > 0,
             "fortune_topics: class '{}' has {} training and {} test documents: too few to learn and test",
             o.name, train, test);
    s.classes.push_back(o.name);
    s.corpus_count.push_back(o.end - o.begin);
  }
  return s;
}

PaddedBatch pad_batch(const std::vector<std::vector<int64_t>>& seqs, const std::vector<int64_t>& labels,
                      const std::vector<int64_t>& rows, int64_t max_len, int64_t pad_id) {
  LF_CHECK(!rows.empty() && max_len > 0 && seqs.size() == labels.size(),
           "pad_batch: needs rows, max_len > 0 and one label per sequence");
  int64_t L = 0;
  for (int64_t r : rows) {
    LF_CHECK(r >= 0 && r < int64_t(seqs.size()), "pad_batch: row {} outside [0, {})", r, seqs.size());
    LF_CHECK(!seqs[size_t(r)].empty(), "pad_batch: row {} has no tokens", r);
    L = std::max(L, std::min<int64_t>(int64_t(seqs[size_t(r)].size()), max_len));
  }
  const int64_t B = int64_t(rows.size());
  std::vector<int64_t> ids(size_t(B * L), pad_id), y(rows.size());
  std::vector<float> mask(size_t(B * L), 0.0f);
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<int64_t>& s = seqs[size_t(rows[size_t(b)])];
    const int64_t len = std::min<int64_t>(int64_t(s.size()), max_len);
    std::copy(s.begin(), s.begin() + len, ids.begin() + b * L);
    std::fill(mask.begin() + b * L, mask.begin() + b * L + len, 1.0f);
    y[size_t(b)] = labels[size_t(rows[size_t(b)])];
  }
  return {from_vector(ids, {B, L}), from_vector(mask, {B, L}), from_vector(y, {B})};
}

}  // namespace lf
