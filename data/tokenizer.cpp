#include "data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <array>
#include <cctype>
#include <iostream>
#include <sstream>

#include "core/error.h"

namespace lf {

std::string_view tokenizer_kind_name(TokenizerKind k) { return k == TokenizerKind::bytes ? "bytes" : "subword"; }

TokenizerKind parse_tokenizer_kind(std::string_view name) {
  for (TokenizerKind k : {TokenizerKind::bytes, TokenizerKind::subword})
    if (tokenizer_kind_name(k) == name) return k;
  throw Error(fmt::format("tokenizer: unknown kind '{}' (choose bytes or subword)", name));
}

struct Tokenizer::Impl {
  sentencepiece::SentencePieceProcessor sp;
};

namespace {

// Byte ids: 0..255, then these two (the values data/text.h has always used).
constexpr int64_t kBytePad = 256, kByteMask = 257;
constexpr const char* kSpace = "\xe2\x96\x81";  // U+2581 '▁', SentencePiece's visible space

// The SentencePiece ids this tokenizer fixes at training time.
constexpr int kSpPad = 0, kSpUnk = 1, kSpMask = 2;
constexpr const char* kMaskPiece = "[MASK]";

// Documents handed to the trainer one at a time (no temporary file).
class DocumentIterator : public sentencepiece::SentenceIterator {
 public:
  explicit DocumentIterator(const std::vector<std::string>& docs) : docs_(docs) {}
  bool done() const override { return i_ >= docs_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return docs_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& docs_;
  size_t i_ = 0;
};

// "<0x41>" -> true (a byte-fallback piece).
bool is_byte_piece(const std::string& p) { return p.size() == 6 && p.rfind("<0x", 0) == 0 && p.back() == '>'; }

}  // namespace

Tokenizer Tokenizer::bytes() {
  Tokenizer t;
  t.kind_ = TokenizerKind::bytes;
  t.bytes_.assign(258, 1);
  t.bytes_[kBytePad] = t.bytes_[kByteMask] = 0;
  t.starts_word_.assign(258, 1);
  t.pad_ = kBytePad, t.mask_ = kByteMask, t.first_ordinary_ = 0, t.end_ordinary_ = 256;
  return t;
}

Tokenizer Tokenizer::train_subword(const std::vector<std::string>& documents, int64_t vocab, int threads) {
  // 3 specials + 256 byte pieces + at least a few merges.
  LF_CHECK(vocab >= 300 && vocab <= 1'000'000, "tokenizer: --vocab {} must be in [300, 1000000] for subword", vocab);
  LF_CHECK(!documents.empty(), "tokenizer: no training documents");
  const std::string args = fmt::format(
      "--model_type=bpe --vocab_size={} --character_coverage=1.0 --byte_fallback=true "
      "--normalization_rule_name=identity --remove_extra_whitespaces=false --add_dummy_prefix=false --split_digits=true "
      "--pad_id={} --unk_id={} --bos_id=-1 --eos_id=-1 --control_symbols={} "
      "--max_sentence_length=1048576 --input_sentence_size=0 --num_threads={} --minloglevel=2",
      vocab, kSpPad, kSpUnk, kMaskPiece, std::max(1, threads));
  DocumentIterator it(documents);
  std::string model;
  // SentencePiece logs its progress to std::cerr: silence it (its status says what went wrong).
  std::ostringstream log;
  std::streambuf* cerr = std::cerr.rdbuf(log.rdbuf());
  sentencepiece::util::Status s = sentencepiece::SentencePieceTrainer::Train(args, &it, &model);
  std::cerr.rdbuf(cerr);
  LF_CHECK(s.ok(), "tokenizer: SentencePiece training failed (--vocab {}): {}", vocab, s.ToString());
  return from_serialized(TokenizerKind::subword, model);
}

Tokenizer Tokenizer::from_serialized(TokenizerKind kind, std::string_view model) {
  if (kind == TokenizerKind::bytes) {
    LF_CHECK(model.empty(), "tokenizer: a bytes tokenizer has no model, got {} bytes", model.size());
    return bytes();
  }
  auto impl = std::make_shared<Impl>();
  sentencepiece::util::Status s = impl->sp.LoadFromSerializedProto(model);
  LF_CHECK(s.ok(), "tokenizer: not a SentencePiece model ({} bytes): {}", model.size(), s.ToString());
  const auto& sp = impl->sp;
  const int V = sp.GetPieceSize();
  LF_CHECK(V > kSpMask && sp.PieceToId("<pad>") == kSpPad && sp.unk_id() == kSpUnk &&
               sp.PieceToId(kMaskPiece) == kSpMask,
           "tokenizer: the SentencePiece model does not have [PAD] = 0, <unk> = 1, [MASK] = 2 (was it written by "
           "train_mlm?)");
  Tokenizer t;
  t.kind_ = TokenizerKind::subword;
  t.bytes_.resize(size_t(V));
  t.starts_word_.resize(size_t(V));
  for (int id = 0; id < V; ++id) {
    const std::string& p = sp.IdToPiece(id);
    int32_t n = 0;
    if (sp.IsControl(id) || sp.IsUnknown(id)) n = 0;
    else if (is_byte_piece(p)) n = 1;
    else {
      n = int32_t(p.size());
      for (size_t at = p.find(kSpace); at != std::string::npos; at = p.find(kSpace, at + 3)) n -= 2;  // 3 bytes -> 1
    }
    t.bytes_[size_t(id)] = n;
    // A word begins at a piece with a leading space, or at one that starts with punctuation (or another
    // non-alphanumeric character): "worm." is "▁worm" + ".", two words, so masking the word masks "▁worm"
    // alone and fill_mask's "catches the ___." shows the model what it saw in training. A piece that starts
    // with a letter or digit continues the word before it ("▁frie" + "nd"), and so does a byte piece.
    const unsigned char c0 = p.empty() ? 0 : static_cast<unsigned char>(p[0]);
    t.starts_word_[size_t(id)] = p.rfind(kSpace, 0) == 0 || (n > 0 && !is_byte_piece(p) && c0 < 128 && !std::isalnum(c0));
  }
  t.pad_ = kSpPad, t.mask_ = kSpMask, t.first_ordinary_ = kSpMask + 1, t.end_ordinary_ = V;
  t.impl_ = std::move(impl);
  return t;
}

std::vector<int64_t> Tokenizer::encode(std::string_view text) const {
  if (!impl_) {
    std::vector<int64_t> ids(text.size());
    for (size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
    return ids;
  }
  std::vector<int> raw;
  sentencepiece::util::Status s = impl_->sp.Encode(text, &raw);
  LF_CHECK(s.ok(), "tokenizer: encoding {} bytes failed: {}", text.size(), s.ToString());
  return {raw.begin(), raw.end()};
}

std::vector<int64_t> Tokenizer::encode_documents(const std::vector<std::string>& documents) const {
  std::vector<int64_t> out, newline = encode("\n");
  for (size_t i = 0; i < documents.size(); ++i) {
    if (i) out.insert(out.end(), newline.begin(), newline.end());
    std::vector<int64_t> ids = encode(documents[i]);
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return out;
}

std::string Tokenizer::piece(int64_t id) const {
  LF_CHECK(id >= 0 && id < vocab_size(), "tokenizer: id {} is outside the vocabulary [0, {})", id, vocab_size());
  if (!impl_) {
    if (id == pad_) return "";
    if (id == mask_) return "_";
    return std::string(1, char(id));
  }
  if (id == pad_) return "";
  if (id == mask_) return " [MASK]";
  const std::string& p = impl_->sp.IdToPiece(int(id));
  if (is_byte_piece(p)) return std::string(1, char(std::stoi(p.substr(3, 2), nullptr, 16)));
  std::string out;
  for (size_t i = 0; i < p.size();) {
    if (p.compare(i, 3, kSpace) == 0) out += ' ', i += 3;
    else out += p[i++];
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) out += piece(id);
  return out;
}

std::string Tokenizer::serialized() const { return impl_ ? impl_->sp.serialized_model_proto() : std::string(); }

// ---- base64 ----

static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    if (i + 2 < in.size()) v |= uint32_t(uint8_t(in[i + 2]));
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kB64[v & 63] : '=';
  }
  return out;
}

std::string base64_decode(std::string_view in) {
  std::array<int, 256> val;
  val.fill(-1);
  for (int i = 0; i < 64; ++i) val[uint8_t(kB64[i])] = i;
  LF_CHECK(in.size() % 4 == 0, "base64: length {} is not a multiple of 4", in.size());
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    int pad = (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=');
    LF_CHECK(pad == 0 || i + 4 == in.size(), "base64: padding before the end, at byte {}", i);
    uint32_t v = 0;
    for (int j = 0; j < 4; ++j) {
      int d = j >= 4 - pad ? 0 : val[uint8_t(in[i + size_t(j)])];
      LF_CHECK(d >= 0, "base64: byte {} ('{}') is not a base64 digit", i + size_t(j), in[i + size_t(j)]);
      v = v << 6 | uint32_t(d);
    }
    out += char(v >> 16);
    if (pad < 2) out += char((v >> 8) & 255);
    if (pad < 1) out += char(v & 255);
  }
  return out;
}

}  // namespace lf
