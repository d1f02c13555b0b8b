#pragma once
// Text data for the masked-language-model example: a corpus loader (one text file or the Debian `fortunes`
// collection), its train/validation split, and a batcher that cuts random windows of token ids and masks
// them BERT-style. Ids come from a Tokenizer (data/tokenizer.h): bytes (ids 0..255 plus [PAD] and [MASK],
// the constants below) or SentencePiece subwords.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/tokenizer.h"

namespace lf {

inline constexpr int64_t kPadToken = 256;      // padding (unused by the window batcher, kept for models)
inline constexpr int64_t kMaskToken = 257;     // [MASK]: "predict the byte that was here"
inline constexpr int64_t kTextVocabSize = 258;
inline constexpr int64_t kIgnoreIndex = -100;  // target value that cross_entropy skips

inline constexpr const char* kFortunesDir = "/usr/share/games/fortunes";

// A small, fast, deterministic random generator (xoshiro256**, seeded through splitmix64), independent of
// the global Philox stream so data order does not change when a model draws more or fewer numbers. Its
// state is four words: save them in a checkpoint, restore with set_state, and the stream continues exactly.
class Rng {
 public:
  using State = std::array<uint64_t, 4>;
  explicit Rng(uint64_t seed = 0);
  uint64_t next_u64();
  uint64_t below(uint64_t n);  // uniform in [0, n), n > 0 (unbiased: rejection sampling)
  double uniform();            // uniform in [0, 1), 53 random bits
  State state() const { return s_; }
  void set_state(const State& s);

 private:
  State s_;
};

// A corpus: a list of documents (fortune entries, or one document for a plain text file) and the text
// made of them, documents joined with '\n'.
class TextCorpus {
 public:
  // One plain text file, read as bytes.
  static TextCorpus from_file(const std::string& path);
  // Every plain-text fortune file under `dir` (skipping *.dat indexes, *.u8 symlinks and other links), in
  // file-name order; entries are separated by lines holding only "%".
  static TextCorpus from_fortunes(const std::string& dir = kFortunesDir);
  // `source` may be a directory (read as fortunes) or a file.
  static TextCorpus load(const std::string& source);
  static TextCorpus from_documents(std::vector<std::string> documents, std::string source);

  const std::vector<std::string>& documents() const { return docs_; }
  const std::string& source() const { return source_; }
  // Where the documents come from: for the fortunes, one entry per file (its name, e.g. "computers", and
  // the range [begin, end) of its documents, which are contiguous); for a plain file, that file.
  struct Origin {
    std::string name;
    int64_t begin = 0, end = 0;
  };
  const std::vector<Origin>& origins() const { return origins_; }
  std::string text() const;  // documents joined with '\n'
  int64_t size_bytes() const;

  // Deterministic train/validation split, as documents (a Tokenizer turns them into ids). With several
  // documents, an evenly spaced
  // `valid_fraction` of them (every 20th for 0.05) goes to validation, so both halves sample the whole
  // collection rather than validation being only the last file. A single document is cut at
  // (1 - valid_fraction) of its length, giving one document on each side.
  struct Split {
    std::vector<std::string> train, valid;
    static int64_t bytes(const std::vector<std::string>& docs);  // joined with '\n', as text() joins them
  };
  Split split(double valid_fraction = 0.05) const;
  // split()'s rule for whole documents: whether document i of a corpus of several goes to validation.
  static bool in_validation(int64_t i, double valid_fraction);

 private:
  std::vector<std::string> docs_;
  std::string source_;
  std::vector<Origin> origins_;
};

// The state as an i64 tensor [4] (the words' bits reinterpreted), to store in a safetensors checkpoint.
Tensor rng_state_to_tensor(const Rng::State& s);
Rng::State rng_state_from_tensor(const Tensor& t);

// The unigram baseline: mean -log p(t) over the tokens of `eval`, with p the add-one-smoothed token
// frequencies of `train` over a vocabulary of `vocab` ids. A masked LM that ignores context sits here (the
// "unigram plateau"); how far below it a model gets is how much context it uses.
double unigram_cross_entropy(const std::vector<int64_t>& train, const std::vector<int64_t>& eval, int64_t vocab);

// How a batch is masked. BERT's recipe: each word (a unit of one or more tokens, see word_start) is chosen
// with probability `prob` (at least one per row, so a row always has a loss term); a chosen word's tokens
// all become MASK 80% of the time, all become random ordinary tokens 10%, and stay unchanged 10%. The model
// must predict the original token at every chosen position, which forces it to use context.
struct MaskingRule {
  double prob = 0.15;
  int64_t vocab = kTextVocabSize;       // every input id must be in [0, vocab)
  int64_t mask_id = kMaskToken;
  int64_t random_begin = 0, random_end = 256;  // random replacements are drawn from [begin, end)
  // word_start[id] = 1 where `id` begins a word; a word runs to the next such id (and a window's first
  // token always begins one). Empty: every token is its own word (per-token masking, as for bytes).
  std::vector<uint8_t> word_start;
  // A causal LM's batches instead: nothing is masked, and every position's target is the token after it
  // (input = window[0, n), labels = window[1, n]); prob and the random ids are then unused.
  bool next_token = false;
};

// The rule for a tokenizer's ids. whole_words: a subword word's pieces are masked together (bytes are
// always masked one by one).
MaskingRule masking_rule(const Tokenizer& tok, bool whole_words, double prob = 0.15);

// One masked-LM batch. input: i64 [B, n] token ids with some replaced; target: i64 [B, n], the original
// token at the chosen positions and kIgnoreIndex everywhere else. positions: i64 [M], the chosen positions
// as flat indices b * n + j in row-major order, and labels: i64 [M], their original tokens (target's
// non-ignored entries, in the same order), for a head that computes logits only where they are needed.
struct MlmBatch {
  Tensor input, target, positions, labels;
};

// Rows [begin, end) of a batch, with the positions that fall in them (renumbered from row `begin`) and
// their labels: one rank's share of a global batch in data-parallel training (examples/common/distributed.h).
MlmBatch batch_rows(const MlmBatch& b, int64_t begin, int64_t end);

// Random windows of `seq_len` tokens from `ids`, masked by `rule` (or, with rule.next_token, windows of
// seq_len + 1 tokens whose last seq_len are the targets).
class MlmBatcher {
 public:
  MlmBatcher(std::vector<int64_t> ids, int64_t seq_len, int64_t batch_size, uint64_t seed,
             MaskingRule rule = MaskingRule());
  MlmBatch next();  // CPU tensors; move them with .to(device)

  int64_t seq_len() const { return seq_len_; }
  int64_t batch_size() const { return batch_size_; }
  int64_t num_tokens() const { return int64_t(ids_.size()); }
  // The random state: a checkpoint saves it and a resumed run restores it to get the same batches.
  Rng::State rng_state() const { return rng_.state(); }
  void set_rng_state(const Rng::State& s) { rng_.set_state(s); }

 private:
  std::vector<int64_t> ids_;
  int64_t seq_len_, batch_size_;
  MaskingRule rule_;
  Rng rng_;
};

}  // namespace lf
