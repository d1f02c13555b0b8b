#pragma once
// Text data for the masked-language-model example: a byte-level vocabulary, a corpus loader (one text file
// or the Debian `fortunes` collection) and a batcher that cuts random windows and masks them BERT-style.
//
// Byte-level means no tokenizer: token id = byte value 0..255, plus two special ids. Any UTF-8 text is
// representable, and the vocabulary is tiny (258), so the embedding and output layers stay small.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

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
  std::string text() const;  // documents joined with '\n'
  int64_t size_bytes() const;

  // Deterministic train/validation split, as token ids. With several documents, an evenly spaced
  // `valid_fraction` of them (every 20th for 0.05) goes to validation, so both halves sample the whole
  // collection rather than validation being only the last file. A single document is cut at
  // (1 - valid_fraction) of its length.
  struct Split {
    std::vector<int64_t> train, valid;
  };
  Split split(double valid_fraction = 0.05) const;

 private:
  std::vector<std::string> docs_;
  std::string source_;
};

// The state as an i64 tensor [4] (the words' bits reinterpreted), to store in a safetensors checkpoint.
Tensor rng_state_to_tensor(const Rng::State& s);
Rng::State rng_state_from_tensor(const Tensor& t);

// Bytes -> token ids, and back (MASK shows as '_', PAD as nothing, other ids >= 256 as '?').
std::vector<int64_t> encode_bytes(const std::string& text);
std::string decode_tokens(const int64_t* ids, int64_t n);

// One masked-LM batch. input: i64 [B, n] token ids with some replaced; target: i64 [B, n], the original
// byte at the chosen positions and kIgnoreIndex everywhere else.
struct MlmBatch {
  Tensor input, target;
};

// Random windows of `seq_len` tokens from `ids`, masked as in BERT: each position is chosen with
// probability mask_prob (at least one per row, so a row always has a loss term); a chosen position becomes
// MASK 80% of the time, a random byte 10%, and stays unchanged 10%. The model must predict the original
// byte at every chosen position, which forces it to use context (it cannot just copy its input).
class MlmBatcher {
 public:
  MlmBatcher(std::vector<int64_t> ids, int64_t seq_len, int64_t batch_size, uint64_t seed,
             double mask_prob = 0.15);
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
  double mask_prob_;
  Rng rng_;
};

}  // namespace lf
