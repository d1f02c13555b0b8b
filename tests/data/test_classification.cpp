// Text classification data (data/classification.h): the fortunes labelled by their file, split exactly as
// train_mlm splits the corpus, and padded batches with their mask.
#include "data/classification.h"
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::TempDir;
using lf::test::write_text;

namespace {
// `n` entries "<name> entry i" separated by "%" lines.
std::string fortune_file(const std::string& name, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += fmt::format("{} entry {}\n%\n", name, i);
  return s;
}
}  // namespace

TEST_CASE("fortune_topics: the largest files are the classes, and the test split is train_mlm's validation") {
  TempDir tmp("topics");
  write_text(tmp.file("alpha"), fortune_file("alpha", 30));
  write_text(tmp.file("beta"), fortune_file("beta", 50));
  write_text(tmp.file("gamma"), fortune_file("gamma", 40));
  write_text(tmp.file("delta"), fortune_file("delta", 5));
  write_text(tmp.file("beta.dat"), "index");
  const TextCorpus corpus = TextCorpus::from_fortunes(tmp.dir.string());
  REQUIRE(corpus.origins().size() == 4);
  CHECK(corpus.origins()[0].name == "alpha");  // file-name order
  CHECK(corpus.origins()[1].begin == 30);

  const TopicSplit s = fortune_topics(corpus, 3, 0.05);
  CHECK(s.classes == std::vector<std::string>{"beta", "gamma", "alpha"});
  CHECK(s.corpus_count == std::vector<int64_t>{50, 40, 30});
  CHECK(s.train.size() + s.test.size() == 120);
  // Every test text is one of the corpus split's validation documents, and no training text is.
  const TextCorpus::Split mlm = corpus.split(0.05);
  auto in = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  for (const LabelledText& t : s.test) CHECK(in(mlm.valid, t.text));
  for (const LabelledText& t : s.train) CHECK(in(mlm.train, t.text));
  // Labels follow the file a text came from.
  for (const LabelledText& t : s.test) CHECK(t.text.rfind(s.classes[size_t(t.label)], 0) == 0);
  // delta (documents 80..84 in file-name order) holds no validation document (those are 19, 39, ...).
  CHECK_ERROR(fortune_topics(corpus, 4, 0.05), "class 'delta' has 5 training and 0 test documents");
  CHECK_ERROR(fortune_topics(corpus, 5, 0.05), "has 4 files with entries, fewer than the 5 classes");
  CHECK_ERROR(fortune_topics(corpus, 1, 0.05), "at least 2 classes");
}

TEST_CASE("pad_batch: rows padded to the longest (at most max_len), the mask marks the tokens") {
  const std::vector<std::vector<int64_t>> seqs = {{1, 2, 3}, {4}, {5, 6, 7, 8, 9, 10}};
  const std::vector<int64_t> labels = {0, 1, 2};
  PaddedBatch b = pad_batch(seqs, labels, {1, 0}, 8, 99);
  CHECK(b.ids.shape() == Shape{2, 3});
  CHECK(b.ids.to_vector<int64_t>() == std::vector<int64_t>{4, 99, 99, 1, 2, 3});
  CHECK(b.mask.to_vector<float>() == std::vector<float>{1, 0, 0, 1, 1, 1});
  CHECK(b.labels.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  // A row longer than max_len is cut.
  b = pad_batch(seqs, labels, {2, 1}, 4, 0);
  CHECK(b.ids.to_vector<int64_t>() == std::vector<int64_t>{5, 6, 7, 8, 4, 0, 0, 0});
  CHECK(b.mask.to_vector<float>() == std::vector<float>{1, 1, 1, 1, 1, 0, 0, 0});
  CHECK_ERROR(pad_batch(seqs, labels, {3}, 4, 0), "row 3 outside [0, 3)");
  CHECK_ERROR(pad_batch({{}}, {0}, {0}, 4, 0), "row 0 has no tokens");
}
