#include "data/text.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ops/creation.h"

namespace lf {

namespace fs = std::filesystem;

// ---- Rng: xoshiro256** (Blackman & Vigna), state filled by splitmix64 so any seed (even 0) is fine ----

static uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) {
  for (auto& w : s_) w = splitmix64(seed);
}

uint64_t Rng::next_u64() {
  const uint64_t result = std::rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = std::rotl(s_[3], 45);
  return result;
}

uint64_t Rng::below(uint64_t n) {
  LF_CHECK(n > 0, "Rng::below: n must be positive");
  // Reject the top partial copy of [0, n) so every value is equally likely.
  const uint64_t threshold = (0 - n) % n;  // = 2^64 mod n
  for (;;) {
    uint64_t r = next_u64();
    if (r >= threshold) return r % n;
  }
}

double Rng::uniform() { return double(next_u64() >> 11) * 0x1.0p-53; }

void Rng::set_state(const State& s) {
  LF_CHECK(s[0] | s[1] | s[2] | s[3], "Rng::set_state: the all-zero state is invalid for xoshiro256**");
  s_ = s;
}

Tensor rng_state_to_tensor(const Rng::State& s) {
  Tensor t = Tensor::empty({4}, DType::i64);
  for (int i = 0; i < 4; ++i) t.data<int64_t>()[i] = std::bit_cast<int64_t>(s[i]);
  return t;
}

Rng::State rng_state_from_tensor(const Tensor& t) {
  LF_CHECK(t.defined() && t.dtype() == DType::i64 && t.shape() == Shape{4} && t.device().is_cpu() &&
               t.is_contiguous(),
           "rng_state_from_tensor: expected a contiguous CPU i64 tensor of shape [4], got {} {}",
           t.defined() ? shape_str(t.shape()) : "undefined", t.defined() ? dtype_name(t.dtype()) : "");
  Rng::State s;
  for (int i = 0; i < 4; ++i) s[i] = std::bit_cast<uint64_t>(t.data<int64_t>()[i]);
  return s;
}

// ---- TextCorpus ----

static std::string read_file(const std::string& path, const char* who) {
  std::ifstream in(path, std::ios::binary);
  LF_CHECK(in, "{}: cannot open {}: {}", who, path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  LF_CHECK(!in.bad(), "{}: reading {} failed", who, path);
  return ss.str();
}

static bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

TextCorpus TextCorpus::from_documents(std::vector<std::string> documents, std::string source) {
  TextCorpus c;
  c.docs_ = std::move(documents);
  c.source_ = std::move(source);
  c.origins_ = {{c.source_, 0, int64_t(c.docs_.size())}};
  return c;
}

TextCorpus TextCorpus::from_file(const std::string& path) {
  LF_CHECK(fs::is_regular_file(path), "TextCorpus: {} is not a readable file", path);
  std::string text = read_file(path, "TextCorpus");
  LF_CHECK(!text.empty(), "TextCorpus: {} is empty", path);
  return from_documents({std::move(text)}, path);
}

TextCorpus TextCorpus::from_fortunes(const std::string& dir) {
  const std::string hint = "(install the fortune collection with `apt-get install fortunes`, or pass a text file)";
  LF_CHECK(fs::is_directory(dir), "TextCorpus: fortunes directory {} not found {}", dir, hint);
  // The plain-text fortune files: regular files, not the strfile indexes (*.dat) and not the *.u8 links.
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || e.is_symlink()) continue;
    std::string ext = e.path().extension().string();
    if (ext == ".dat" || ext == ".u8") continue;
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());  // directory order is arbitrary; the corpus must not be

  std::vector<std::string> docs;
  std::vector<Origin> origins;
  for (const auto& p : files) {
    std::string text = read_file(p.string(), "TextCorpus");
    if (text.find('\0') != std::string::npos) continue;  // binary, not a fortune file
    const int64_t first = int64_t(docs.size());
    // Entries end at a line holding only "%". Each entry keeps its final '\n'.
    std::string entry;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t eol = text.find('\n', pos);
      size_t end = eol == std::string::npos ? text.size() : eol + 1;
      std::string_view line(text.data() + pos, (eol == std::string::npos ? text.size() : eol) - pos);
      if (line == "%" || line == "%\r") {
        if (!blank(entry)) docs.push_back(std::move(entry));
        entry.clear();
      } else {
        entry.append(text, pos, end - pos);
      }
      pos = end;
    }
    if (!blank(entry)) docs.push_back(std::move(entry));
    if (int64_t(docs.size()) > first) origins.push_back({p.filename().string(), first, int64_t(docs.size())});
  }
  LF_CHECK(!docs.empty(), "TextCorpus: no fortune entries found in {} {}", dir, hint);
  TextCorpus c = from_documents(std::move(docs), dir);
  c.origins_ = std::move(origins);
  return c;
}

TextCorpus TextCorpus::load(const std::string& source) {
  if (fs::is_directory(source)) return from_fortunes(source);
  LF_CHECK(fs::exists(source), "TextCorpus: {} does not exist{}", source,
           source == kFortunesDir ? " (install the fortune collection with `apt-get install fortunes`)" : "");
  return from_file(source);
}

std::string TextCorpus::text() const {
  std::string out;
  out.reserve(size_t(size_bytes()));
  for (size_t i = 0; i < docs_.size(); ++i) {
    if (i) out += '\n';
    out += docs_[i];
  }
  return out;
}

int64_t TextCorpus::size_bytes() const {
  int64_t n = docs_.empty() ? 0 : int64_t(docs_.size()) - 1;
  for (const auto& d : docs_) n += int64_t(d.size());
  return n;
}

int64_t TextCorpus::Split::bytes(const std::vector<std::string>& docs) {
  int64_t n = docs.empty() ? 0 : int64_t(docs.size()) - 1;
  for (const auto& d : docs) n += int64_t(d.size());
  return n;
}

bool TextCorpus::in_validation(int64_t i, double valid_fraction) {
  // Document i goes to validation when the running count floor(i * f) steps up: evenly spaced picks.
  return std::floor(double(i + 1) * valid_fraction) > std::floor(double(i) * valid_fraction);
}

TextCorpus::Split TextCorpus::split(double valid_fraction) const {
  LF_CHECK(valid_fraction >= 0 && valid_fraction < 1, "TextCorpus::split: valid_fraction must be in [0, 1), got {}",
           valid_fraction);
  Split s;
  if (double(docs_.size()) * valid_fraction >= 1) {
    for (size_t i = 0; i < docs_.size(); ++i) (in_validation(int64_t(i), valid_fraction) ? s.valid : s.train).push_back(docs_[i]);
  } else {
    // Too few documents to pick whole ones: cut the text, the tail is validation.
    std::string all = text();
    size_t cut = size_t(std::llround(double(all.size()) * (1 - valid_fraction)));
    s.train = {all.substr(0, cut)};
    s.valid = {all.substr(cut)};
  }
  return s;
}

double unigram_cross_entropy(const std::vector<int64_t>& train, const std::vector<int64_t>& eval, int64_t vocab) {
  LF_CHECK(vocab > 0 && !eval.empty(), "unigram_cross_entropy: needs a vocabulary and tokens to score");
  std::vector<double> count(size_t(vocab), 1.0);  // add-one smoothing: unseen ids keep a finite cost
  for (int64_t t : train) {
    LF_CHECK(t >= 0 && t < vocab, "unigram_cross_entropy: token {} is outside [0, {})", t, vocab);
    count[size_t(t)] += 1;
  }
  const double total = double(train.size()) + double(vocab);
  double nats = 0;
  for (int64_t t : eval) {
    LF_CHECK(t >= 0 && t < vocab, "unigram_cross_entropy: token {} is outside [0, {})", t, vocab);
    nats -= std::log(count[size_t(t)] / total);
  }
  return nats / double(eval.size());
}

// ---- MlmBatcher ----

MaskingRule masking_rule(const Tokenizer& tok, bool whole_words, double prob) {
  MaskingRule r;
  r.prob = prob;
  r.vocab = tok.vocab_size();
  r.mask_id = tok.mask_id();
  r.random_begin = tok.first_ordinary_id(), r.random_end = tok.end_ordinary_id();
  if (whole_words && tok.kind() == TokenizerKind::subword) r.word_start = tok.word_starts();
  return r;
}

MlmBatcher::MlmBatcher(std::vector<int64_t> ids, int64_t seq_len, int64_t batch_size, uint64_t seed,
                       MaskingRule rule)
    : ids_(std::move(ids)), seq_len_(seq_len), batch_size_(batch_size), rule_(std::move(rule)), rng_(seed) {
  LF_CHECK(seq_len > 0 && batch_size > 0, "MlmBatcher: seq_len and batch_size must be positive, got {} and {}",
           seq_len, batch_size);
  LF_CHECK(rule_.prob > 0 && rule_.prob < 1, "MlmBatcher: mask_prob must be in (0, 1), got {}", rule_.prob);
  LF_CHECK(rule_.vocab > 0 && rule_.mask_id >= 0 && rule_.mask_id < rule_.vocab && rule_.random_begin >= 0 &&
               rule_.random_begin < rule_.random_end && rule_.random_end <= rule_.vocab,
           "MlmBatcher: masking rule out of range (vocab {}, mask id {}, random ids [{}, {}))", rule_.vocab,
           rule_.mask_id, rule_.random_begin, rule_.random_end);
  LF_CHECK(rule_.word_start.empty() || int64_t(rule_.word_start.size()) == rule_.vocab,
           "MlmBatcher: word_start has {} entries for a vocabulary of {}", rule_.word_start.size(), rule_.vocab);
  LF_CHECK(int64_t(ids_.size()) >= seq_len + (rule_.next_token ? 1 : 0),
           "MlmBatcher: the text has {} tokens, fewer than seq_len {}{}", ids_.size(), seq_len,
           rule_.next_token ? " + 1 (a next-token window also holds the last target)" : "");
  for (size_t i = 0; i < ids_.size(); ++i)
    LF_CHECK(ids_[i] >= 0 && ids_[i] < rule_.vocab && ids_[i] != rule_.mask_id,
             "MlmBatcher: token {} at position {} is {}", ids_[i], i,
             ids_[i] == rule_.mask_id ? "the [MASK] id, which the text must not contain"
                                      : fmt::format("outside the vocabulary [0, {})", rule_.vocab));
}

MlmBatch batch_rows(const MlmBatch& b, int64_t begin, int64_t end) {
  const int64_t B = b.input.size(0), n = b.input.size(1);
  LF_CHECK(0 <= begin && begin <= end && end <= B, "batch_rows: rows [{}, {}) of a batch of {}", begin, end,
           B);
  // positions are flat indices b * n + j: the shard's are those in [begin n, end n), less begin n
  const std::vector<int64_t> all = b.positions.to_vector<int64_t>();
  const std::vector<int64_t> all_labels = b.labels.to_vector<int64_t>();
  std::vector<int64_t> positions, labels;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i] < begin * n || all[i] >= end * n) continue;
    positions.push_back(all[i] - begin * n);
    labels.push_back(all_labels[i]);
  }
  const int64_t M = int64_t(positions.size()), rows = end - begin;
  return {b.input.narrow(0, begin, rows).contiguous(), b.target.narrow(0, begin, rows).contiguous(),
          from_vector(positions, {M}), from_vector(labels, {M})};
}

MlmBatch MlmBatcher::next() {
  const int64_t B = batch_size_, n = seq_len_;
  Tensor input = Tensor::empty({B, n}, DType::i64), target = Tensor::empty({B, n}, DType::i64);
  int64_t* in = input.data<int64_t>();
  int64_t* tg = target.data<int64_t>();
  std::vector<int64_t> positions, labels;
  if (rule_.next_token) {  // a causal LM: window [start, start + n] -> input its first n, targets its last n
    const uint64_t starts = uint64_t(ids_.size()) - uint64_t(n);
    for (int64_t b = 0; b < B; ++b) {
      const int64_t* src = ids_.data() + rng_.below(starts);
      std::copy(src, src + n, in + b * n);
      std::copy(src + 1, src + n + 1, tg + b * n);
      for (int64_t j = 0; j < n; ++j) positions.push_back(b * n + j), labels.push_back(src[j + 1]);
    }
    const int64_t M = B * n;
    return {input, target, from_vector(positions, {M}), from_vector(labels, {M})};
  }
  const uint64_t starts = uint64_t(ids_.size()) - uint64_t(n) + 1;
  const uint64_t random_span = uint64_t(rule_.random_end - rule_.random_begin);
  // Word boundaries: a word is [begin, next begin).
  auto begins_word = [&](const int64_t* src, int64_t j) {
    return j == 0 || rule_.word_start.empty() || rule_.word_start[size_t(src[j])];
  };
  std::vector<int64_t> word_begins;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t* src = ids_.data() + rng_.below(starts);  // a random window [start, start + n)
    int64_t* row_in = in + b * n;
    int64_t* row_tg = tg + b * n;
    std::copy(src, src + n, row_in);
    std::fill(row_tg, row_tg + n, kIgnoreIndex);
    word_begins.clear();
    for (int64_t j = 0; j < n; ++j)
      if (begins_word(src, j)) word_begins.push_back(j);
    word_begins.push_back(n);
    // 80% MASK, 10% random tokens, 10% the tokens themselves; the target is always the original token.
    auto corrupt = [&](size_t w) {
      double r = rng_.uniform();
      for (int64_t j = word_begins[w]; j < word_begins[w + 1]; ++j) {
        row_tg[j] = src[j];
        row_in[j] = r < 0.8 ? rule_.mask_id
                    : r < 0.9 ? rule_.random_begin + int64_t(rng_.below(random_span))
                              : src[j];
      }
    };
    bool any = false;
    for (size_t w = 0; w + 1 < word_begins.size(); ++w)
      if (rng_.uniform() < rule_.prob) corrupt(w), any = true;
    if (!any) corrupt(size_t(rng_.below(uint64_t(word_begins.size() - 1))));  // every row has a loss term
    for (int64_t j = 0; j < n; ++j)
      if (row_tg[j] != kIgnoreIndex) positions.push_back(b * n + j), labels.push_back(row_tg[j]);
  }
  const int64_t M = int64_t(positions.size());
  return {input, target, from_vector(positions, {M}), from_vector(labels, {M})};
}

}  // namespace lf
