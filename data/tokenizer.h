#pragma once
// Tokenizers for the masked language model: text <-> token ids, and what each id stands for.
//
//   bytes    id = byte value 0..255, then [PAD] = 256 and [MASK] = 257. No training, any text, vocab 258.
//   subword  a SentencePiece BPE model (Kudo & Richardson 2018) trained on the training documents, as the
//            Linformer paper's RoBERTa setup uses BPE. Ids: [PAD] = 0, <unk> = 1, [MASK] = 2, then the
//            pieces. The normalizer is the identity, whitespace is kept as is ('▁' marks a space) and no
//            space is added before the text (no "dummy prefix"): encoding two texts and concatenating the ids
//            spells the concatenated text, which fill_mask relies on around a blank. Byte fallback
//            spells any character the vocabulary lacks as <0xNN> byte pieces, so decode(encode(s))
//            gives s back and every piece knows how many bytes of text it covers.
//
// A subword tokenizer is its SentencePiece model: serialized() gives those bytes, and from_serialized()
// rebuilds an identical tokenizer, so a checkpoint stores them (base64, in its metadata) and every later
// program (fill_mask, --resume) tokenizes exactly as training did.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <cstdint>

namespace lf {

enum class TokenizerKind { bytes, subword };
std::string_view tokenizer_kind_name(TokenizerKind k);    // "bytes", "subword"
TokenizerKind parse_tokenizer_kind(std::string_view name);  // the reverse; lf::Error names the choices

class Tokenizer {
 public:
  // The byte-level tokenizer.
  static Tokenizer bytes();
  // Trains a SentencePiece BPE model with `vocab` ids in all (specials and byte pieces included) on
  // `documents` (each one a training sentence). Deterministic for the same documents, vocab and threads;
  // the merges SentencePiece picks depend on its thread count, so keep that fixed (train_mlm uses 2 on
  // any machine) where runs must be reproducible.
  static Tokenizer train_subword(const std::vector<std::string>& documents, int64_t vocab, int threads = 2);
  // A tokenizer of `kind` from serialized() bytes (empty for bytes); lf::Error when they are not a model.
  static Tokenizer from_serialized(TokenizerKind kind, std::string_view model);

  TokenizerKind kind() const { return kind_; }
  int64_t vocab_size() const { return int64_t(bytes_.size()); }
  int64_t pad_id() const { return pad_; }
  int64_t mask_id() const { return mask_; }
  // Random replacement tokens of BERT-style masking are drawn from the ordinary ids [first, end).
  int64_t first_ordinary_id() const { return first_ordinary_; }
  int64_t end_ordinary_id() const { return end_ordinary_; }

  std::vector<int64_t> encode(std::string_view text) const;
  // Documents joined by a newline, as one id stream (the batcher cuts windows across documents).
  std::vector<int64_t> encode_documents(const std::vector<std::string>& documents) const;
  // Ids back to text. [MASK] shows as "_" (bytes) or " [MASK]" (subword), [PAD] as nothing.
  std::string decode(const std::vector<int64_t>& ids) const;
  // The text a single id stands for, with spaces shown as they are ("▁" becomes ' ').
  std::string piece(int64_t id) const;

  // Bytes of text the id covers: 1 for a byte or a byte piece, the UTF-8 length of a piece (its '▁' counted
  // as the one space it stands for), 0 for [PAD], [MASK] and <unk>. Bits per byte divide by their sum.
  int64_t bytes_of(int64_t id) const { return bytes_[size_t(id)]; }
  // True where the id begins a word: a subword piece starting with '▁' or with punctuation (a piece that
  // starts with a letter or digit, or a byte piece, continues the word before it). Whole-word masking masks
  // a word's pieces together; for bytes every id counts as its own word, so masking stays per byte.
  bool starts_word(int64_t id) const { return starts_word_[size_t(id)] != 0; }
  const std::vector<uint8_t>& word_starts() const { return starts_word_; }

  // The SentencePiece model's bytes (empty for bytes).
  std::string serialized() const;

 private:
  struct Impl;
  TokenizerKind kind_ = TokenizerKind::bytes;
  std::shared_ptr<const Impl> impl_;  // the SentencePiece processor; null for bytes
  std::vector<int32_t> bytes_;
  std::vector<uint8_t> starts_word_;
  int64_t pad_ = 0, mask_ = 0, first_ordinary_ = 0, end_ordinary_ = 0;
};

// Base64 (RFC 4648, with padding): binary data in a safetensors metadata string. decode throws lf::Error
// on anything that is not base64.
std::string base64_encode(std::string_view bytes);
std::string base64_decode(std::string_view text);

}  // namespace lf
