// Tokenizers: bytes and SentencePiece subwords round-trip text, count bytes exactly, survive serialization,
// refuse damaged models; whole-word masking masks a word's pieces together.
#include <cctype>
#include <numeric>

#include "data/text.h"
#include "data/tokenizer.h"
#include "tests/support/helpers.h"

using namespace lf;

namespace {

// A few hundred distinct English sentences: enough for a 400-id BPE model (3 specials, 256 byte pieces,
// ~30 characters and ~110 merges).
std::vector<std::string> documents() {
  const char* words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "friend", "need",
                         "indeed", "penny", "saved", "earned", "time", "flies", "like", "an", "arrow"};
  std::vector<std::string> docs;
  for (int d = 0; d < 200; ++d) {
    std::string s;
    for (int w = 0; w < 12; ++w) s += std::string(w ? " " : "") + words[(d * 7 + w * 3 + w * w) % 19];
    docs.push_back(s + (d % 3 ? ".\n" : "!\n  -- someone\n"));
  }
  return docs;
}

const Tokenizer& trained() {
  static const Tokenizer tok = Tokenizer::train_subword(documents(), 400, 1);
  return tok;
}

int64_t bytes_of(const Tokenizer& tok, const std::vector<int64_t>& ids) {
  int64_t n = 0;
  for (int64_t id : ids) n += tok.bytes_of(id);
  return n;
}

}  // namespace

TEST_CASE("tokenizer: subword pieces round-trip any text and count its bytes exactly") {
  const Tokenizer& tok = trained();
  REQUIRE(tok.kind() == TokenizerKind::subword);
  CHECK(tok.vocab_size() == 400);
  CHECK((tok.pad_id() == 0 && tok.mask_id() == 2 && tok.first_ordinary_id() == 3 && tok.end_ordinary_id() == 400));
  // Seen words, unseen words, digits, newlines, runs of spaces, UTF-8 the training text never had.
  for (std::string s : {std::string("the quick brown fox"), std::string("  -- someone\nthe  lazy\tdog 1234"),
                        std::string("caf\xc3\xa9 \xe2\x82\xac 42, zebra!"), std::string("\n")}) {
    std::vector<int64_t> ids = tok.encode(s);
    INFO(s);
    CHECK(tok.decode(ids) == s);
    CHECK(bytes_of(tok, ids) == int64_t(s.size()));
    for (int64_t id : ids) CHECK((id >= tok.first_ordinary_id() && id < tok.vocab_size()));
  }
  // Common words are single pieces that begin a word; the first word of a text has no space to carry.
  std::vector<int64_t> ids = tok.encode("the fox jumps");
  CHECK(ids.size() <= 4);
  CHECK(tok.starts_word(ids.back()));
  CHECK(tok.piece(ids.back()).front() == ' ');
  CHECK(tok.decode({tok.encode("a")[0], tok.mask_id()}) == "a [MASK]");
  CHECK((tok.bytes_of(tok.mask_id()) == 0 && tok.bytes_of(tok.pad_id()) == 0));
  // Documents are joined by a newline.
  std::vector<int64_t> both = tok.encode_documents({"the dog", "the fox"});
  CHECK(tok.decode(both) == "the dog\nthe fox");
  CHECK_ERROR(tok.piece(400), "id 400", "[0, 400)");
}

TEST_CASE("tokenizer: a serialized model tokenizes identically; damaged ones are refused") {
  const Tokenizer& tok = trained();
  const std::string bytes = tok.serialized();
  REQUIRE(!bytes.empty());
  Tokenizer again = Tokenizer::from_serialized(TokenizerKind::subword, base64_decode(base64_encode(bytes)));
  const std::string text = documents()[5] + "unseen words too";
  CHECK(again.encode(text) == tok.encode(text));
  CHECK(again.vocab_size() == tok.vocab_size());
  for (int64_t id = 0; id < tok.vocab_size(); ++id) {
    CHECK(again.bytes_of(id) == tok.bytes_of(id));
    CHECK(again.starts_word(id) == tok.starts_word(id));
  }
  // Training is deterministic: the same documents give the same model.
  CHECK(Tokenizer::train_subword(documents(), 400, 1).serialized() == bytes);

  CHECK_ERROR(Tokenizer::from_serialized(TokenizerKind::subword, "not a model"), "not a SentencePiece model");
  CHECK_ERROR(Tokenizer::from_serialized(TokenizerKind::subword, bytes.substr(0, bytes.size() / 2)),
              "not a SentencePiece model");
  CHECK_ERROR(Tokenizer::from_serialized(TokenizerKind::bytes, "x"), "bytes tokenizer has no model");
  CHECK_ERROR(Tokenizer::train_subword(documents(), 100), "--vocab 100");
  CHECK_ERROR(parse_tokenizer_kind("bpe"), "'bpe'", "bytes or subword");
}

TEST_CASE("tokenizer: base64 round-trips every byte value and refuses non-base64") {
  std::string all(256, '\0');
  std::iota(all.begin(), all.end(), char(0));
  for (size_t len : {0, 1, 2, 3, 4, 5, 256}) CHECK(base64_decode(base64_encode(all.substr(0, len))) == all.substr(0, len));
  CHECK(base64_encode("Man") == "TWFu");
  CHECK(base64_encode("Ma") == "TWE=");
  CHECK_ERROR(base64_decode("TWF"), "multiple of 4");
  CHECK_ERROR(base64_decode("TW!u"), "not a base64 digit");
  CHECK_ERROR(base64_decode("TW==TWFu"), "padding before the end");
}

TEST_CASE("data: whole-word masking masks every piece of a chosen word and nothing else") {
  const Tokenizer& tok = trained();
  std::string text;
  for (const std::string& d : documents()) text += d;
  std::vector<int64_t> ids = tok.encode(text);
  const int64_t B = 16, n = 64;
  MlmBatcher batcher(ids, n, B, 3, masking_rule(tok, /*whole_words=*/true));
  int64_t chosen = 0, total = 0, multi_piece_words = 0;
  for (int step = 0; step < 20; ++step) {
    MlmBatch b = batcher.next();
    const int64_t* in = b.input.data<int64_t>();
    const int64_t* tg = b.target.data<int64_t>();
    std::vector<int64_t> positions = b.positions.to_vector<int64_t>(), labels = b.labels.to_vector<int64_t>();
    size_t next = 0;
    for (int64_t r = 0; r < B; ++r) {
      for (int64_t j = 0; j < n; ++j) {
        const int64_t t = tg[r * n + j];
        ++total;
        if (t == kIgnoreIndex) continue;
        ++chosen;
        // positions/labels list the chosen positions in order.
        REQUIRE(next < positions.size());
        CHECK(positions[next] == r * n + j);
        CHECK(labels[next] == t);
        ++next;
        // A continuation piece is chosen exactly when the piece that starts its word is.
        if (j > 0 && !tok.starts_word(t)) {
          CHECK(tg[r * n + j - 1] != kIgnoreIndex);
          ++multi_piece_words;
        }
        // The next piece, when it continues this word, is chosen too.
        if (j + 1 < n && tg[r * n + j + 1] == kIgnoreIndex) {
          CHECK(tok.starts_word(in[r * n + j + 1]));
        }
        const int64_t x = in[r * n + j];
        CHECK((x == tok.mask_id() || (x >= tok.first_ordinary_id() && x < tok.vocab_size())));
      }
    }
    CHECK(next == positions.size());
  }
  CHECK(multi_piece_words > 0);  // the test corpus has words of several pieces
  CHECK(std::abs(double(chosen) / double(total) - 0.15) < 0.05);
}

TEST_CASE("tokenizer: punctuation begins a word of its own; letters continue one") {
  const Tokenizer& tok = trained();
  std::vector<int64_t> ids = tok.encode("the dog.");
  REQUIRE(ids.size() >= 2);
  CHECK(tok.piece(ids.back()) == ".");
  CHECK(tok.starts_word(ids.back()));  // "." is not masked together with "▁dog"
  for (int64_t id = tok.first_ordinary_id(); id < tok.vocab_size(); ++id) {
    std::string p = tok.piece(id);
    if (p.size() == 1 && std::isalpha(static_cast<unsigned char>(p[0]))) CHECK_FALSE(tok.starts_word(id));
    if (p.size() > 1 && p[0] == ' ') CHECK(tok.starts_word(id));  // (a lone ' ' may be the byte piece <0x20>)
  }
}
