#pragma once
// What train_mlm and fill_mask share: the model config and tokenizer as file metadata, loading a model from
// a training checkpoint or a plain model file, and filling in blanks.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "nn/models.h"
#include "data/tokenizer.h"

namespace lf {

// EncoderConfig and Tokenizer <-> the strings stored in a file's metadata (docs/checkpoints.md lists every
// key): "config" is a JSON object with the config's fields and "tokenizer" (bytes | subword);
// "tokenizer.model" holds a subword tokenizer's SentencePiece model in base64.
std::map<std::string, std::string> mlm_meta(const EncoderConfig& cfg, const Tokenizer& tok);
// The metadata comes from a file nobody vouches for: config_from_meta checks every key's type (an integer
// where one is needed, not 128.0 or "128"), refuses unknown keys and names, and calls cfg.validate() (ranges
// and the parameter count), so the config is safe to build a model from; errors name the file, the key and
// the value (truncated).
EncoderConfig config_from_meta(const std::map<std::string, std::string>& meta, const std::string& path);
// A file without "tokenizer" in its config predates subwords: bytes. A 'bytes' config with a
// "tokenizer.model" is refused as contradictory.
Tokenizer tokenizer_from_meta(const std::map<std::string, std::string>& meta, const std::string& path);

// A trained masked LM read from `path`: a train_mlm checkpoint (weights under "model.", plus optimizer
// state, which is ignored) or a model file (weights under their own names, e.g. train_mlm's
// model.safetensors or one written by another program), each with the metadata above.
struct MlmFile {
  EncoderConfig cfg;
  Tokenizer tok;
  std::map<std::string, Tensor> weights;
};
// The weights are checked against the config (names, shapes, a floating dtype) before this returns, so
// MaskedLM(file.cfg).load_state_dict(file.weights) cannot fail or allocate more than the file held.
MlmFile load_mlm_file(const std::string& path);
// The same from tensors and metadata already read (e.g. by parse_safetensors).
MlmFile mlm_file_from(const NamedTensors& tensors, const std::map<std::string, std::string>& meta,
                      const std::string& path);
// The config, tokenizer and weights of any encoder model file (a MaskedLM's or a SequenceClassifier's),
// the weights not yet checked: the caller checks them against its model's shapes (check_weights).
MlmFile model_file_from(const NamedTensors& tensors, const std::map<std::string, std::string>& meta,
                        const std::string& path);

// The names and shapes of a MaskedLM's state_dict for `cfg` (docs/checkpoints.md's table), computed without
// building the model; and a check of `weights` against them: one lf::Error naming the file and listing
// missing, unexpected and mis-shaped names. train_mlm --resume can call it before building a model from a
// checkpoint's config.
std::vector<std::pair<std::string, Shape>> mlm_weight_shapes(const EncoderConfig& cfg);
void check_mlm_weights(const EncoderConfig& cfg, const std::map<std::string, Tensor>& weights,
                       const std::string& path);
// The Encoder trunk's part of that list (no head), which every model of nn/models.h shares.
std::vector<std::pair<std::string, Shape>> encoder_weight_shapes(const EncoderConfig& cfg);
// `weights` against `shapes`: the same one lf::Error for any model.
void check_weights(const std::vector<std::pair<std::string, Shape>>& shapes,
                   const std::map<std::string, Tensor>& weights, const std::string& path);

// A sentence with blanks, filled in. Blanks: for subword models a run of '_' or "[MASK]" is one masked
// token (a blank after a space predicts a whole word: pieces that begin with a space); for byte models
// every '_' is one masked byte. All blanks are predicted at once, from one forward pass.
// The sentence as model input: its pieces between blanks, the token ids with one mask id per blank, each
// blank's position, and whether it follows a space (then it predicts a piece that starts with one). Throws
// lf::Error when the text has no blank.
struct BlankedText {
  std::vector<std::string> pieces;
  std::vector<int64_t> ids, at;
  std::vector<bool> word_blank;
};
BlankedText encode_blanks(const Tokenizer& tok, const std::string& text);
// encode_blanks, and lf::Error when the ids are more than a model of `max_len` positions takes: what
// fill_blanks will refuse, checked without a model (train_mlm checks its --sample before training).
BlankedText check_blanks_fit(const Tokenizer& tok, const std::string& text, int64_t max_len);

struct FilledBlanks {
  std::string text;  // the sentence with every blank replaced by its most likely token
  // Per blank, the `top` most likely tokens (as text) with their probabilities, best first.
  std::vector<std::vector<std::pair<std::string, double>>> candidates;
};
FilledBlanks fill_blanks(const MaskedLM& model, const Tokenizer& tok, const std::string& text, int top = 5);
// A causal LM (cfg.causal) continuing `prefix`: `tokens` more tokens, each the most likely next one given
// the text so far (greedy; the last max_len tokens are the context), decoded. Throws lf::Error for a model
// that is not causal, whose predictions at a position are not about the next token.
std::string continue_text(const MaskedLM& model, const Tokenizer& tok, const std::string& prefix, int tokens);

// One blank's candidates as a line: "  'am' 0.15  'think' 0.07 ..." with `decimals` digits.
std::string candidates_line(const std::vector<std::pair<std::string, double>>& candidates, int decimals);

}  // namespace lf
