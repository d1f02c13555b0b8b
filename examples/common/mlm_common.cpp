#include "examples/common/mlm_common.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "data/text.h"
#include "io/safetensors.h"
#include "core/untrusted_input.h"
#include "ops/ops.h"

namespace lf {

std::map<std::string, std::string> mlm_meta(const EncoderConfig& c, const Tokenizer& tok) {
  nlohmann::json j = {{"vocab", c.vocab},     {"dim", c.dim},
                      {"depth", c.depth},     {"heads", c.heads},
                      {"max_len", c.max_len}, {"k", c.k},
                      {"attention", std::string(attention_kind_name(c.kind))},
                      {"sharing", std::string(sharing_name(c.sharing))},
                      {"proj_init", std::string(projection_init_name(c.proj_init))},
                      {"projection", std::string(projection_kind_name(c.projection))},
                      {"dropout", c.dropout}, {"tie_embeddings", c.tie_embeddings},
                      {"token_init_std", c.token_init_std}, {"sinusoidal_init", c.sinusoidal_init},
                      {"causal", c.causal},
                      {"layer_k", c.layer_k},
                      {"tokenizer", std::string(tokenizer_kind_name(tok.kind()))}};
  std::map<std::string, std::string> meta = {{"config", j.dump()}};
  if (tok.kind() == TokenizerKind::subword) meta["tokenizer.model"] = base64_encode(tok.serialized());
  return meta;
}

namespace {

using OJson = nlohmann::ordered_json;

// The keys a config may have (docs/checkpoints.md). Anything else is refused rather than ignored: a key
// this program does not know changes a model it would then build wrongly, and a misspelt optional key
// ("tie_embedding") would silently take its default.
const char* const kConfigKeys[] = {"vocab",           "dim",      "depth",          "heads",
                                   "max_len",         "k",        "attention",      "sharing",
                                   "proj_init",       "dropout",  "tie_embeddings", "token_init_std",
                                   "sinusoidal_init", "causal",   "projection",     "layer_k",
                                   "tokenizer"};

OJson config_json(const std::map<std::string, std::string>& meta, const std::string& path) {
  auto it = meta.find("config");
  LF_CHECK(it != meta.end(), "{}: no 'config' in the file's metadata (was it written by train_mlm?)", path);
  OJson j = parse_untrusted_json(it->second, fmt::format("{}: the 'config' metadata", path));
  LF_CHECK(j.is_object(), "{}: the 'config' metadata is not a JSON object: {}", path, json_excerpt(j));
  for (auto item = j.begin(); item != j.end(); ++item) {
    const std::string& key = item.key();
    LF_CHECK(std::find_if(std::begin(kConfigKeys), std::end(kConfigKeys),
                          [&](const char* k) { return key == k; }) != std::end(kConfigKeys),
             "{}: the checkpoint's config is malformed: unknown key {} (known: {})", path,
             quote_untrusted(key), fmt::join(kConfigKeys, ", "));
  }
  return j;
}

// Typed access to the config's keys; every error names the file, the key and (an excerpt of) the value.
class ConfigReader {
 public:
  ConfigReader(const OJson& j, const std::string& path) : j_(j), path_(path) {}

  int64_t integer(const char* key) const {
    const OJson& v = required(key);
    std::optional<int64_t> i = json_int64(v);
    LF_CHECK(i, "{} must be an integer that fits int64, not {}", where(key), json_excerpt(v));
    return *i;
  }
  // A list of integers, empty when absent; at most `most` of them (checked before reading them all).
  std::vector<int64_t> integers(const char* key, int64_t most) const {
    if (!j_.contains(key)) return {};
    const OJson& v = j_.at(key);
    LF_CHECK(v.is_array() && int64_t(v.size()) <= std::max<int64_t>(most, 0),
             "{} must be a list of at most {} integers, not {}", where(key), most, json_excerpt(v));
    std::vector<int64_t> out;
    for (const OJson& e : v) {
      std::optional<int64_t> i = json_int64(e);
      LF_CHECK(i, "{} must hold integers that fit int64, not {}", where(key), json_excerpt(e));
      out.push_back(*i);
    }
    return out;
  }
  double number(const char* key, double fallback) const {
    if (!j_.contains(key)) return fallback;
    const OJson& v = j_.at(key);
    LF_CHECK(v.is_number(), "{} must be a number, not {}", where(key), json_excerpt(v));
    return v.get<double>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!j_.contains(key)) return fallback;
    const OJson& v = j_.at(key);
    LF_CHECK(v.is_boolean(), "{} must be true or false, not {}", where(key), json_excerpt(v));
    return v.get<bool>();
  }
  // A short name (the parse_* functions that take it quote it in their own errors, so it must be printable).
  std::string name(const char* key, const char* fallback) const {
    if (!fallback) required(key);
    if (!j_.contains(key)) return fallback;
    const OJson& v = j_.at(key);
    LF_CHECK(v.is_string(), "{} must be a string, not {}", where(key), json_excerpt(v));
    const std::string& s = v.get_ref<const std::string&>();
    LF_CHECK(s.size() <= 32 &&
                 std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7F; }),
             "{} = {} is not one of the known names", where(key), quote_untrusted(s));
    return s;
  }
  // parse(name) with its lf::Error prefixed by the file and key.
  template <typename F>
  auto choice(const char* key, const char* fallback, F parse) const {
    const std::string s = name(key, fallback);
    try {
      return parse(s);
    } catch (const Error& e) {
      throw Error(fmt::format("{}: {}", where(key), e.what()));
    }
  }

 private:
  std::string where(const char* key) const {
    return fmt::format("{}: the checkpoint's config is malformed: '{}'", path_, key);
  }
  const OJson& required(const char* key) const {
    LF_CHECK(j_.contains(key), "{}: the checkpoint's config is malformed: the required key '{}' is missing",
             path_, key);
    return j_.at(key);
  }
  const OJson& j_;
  const std::string& path_;
};

}  // namespace

EncoderConfig config_from_meta(const std::map<std::string, std::string>& meta, const std::string& path) {
  const OJson j = config_json(meta, path);
  const ConfigReader r(j, path);
  EncoderConfig c;
  c.vocab = r.integer("vocab");
  c.dim = r.integer("dim");
  c.depth = r.integer("depth");
  c.heads = r.integer("heads");
  c.max_len = r.integer("max_len");
  c.k = r.integer("k");
  c.kind = r.choice("attention", nullptr, [](const std::string& s) { return parse_attention_kind(s); });
  c.sharing = r.choice("sharing", "headwise", [](const std::string& s) { return parse_sharing(s); });
  c.proj_init =
      r.choice("proj_init", "uniform", [](const std::string& s) { return parse_projection_init(s); });
  c.dropout = r.number("dropout", 0.0);
  c.tie_embeddings = r.boolean("tie_embeddings", false);
  c.token_init_std = r.number("token_init_std", 1.0);
  c.sinusoidal_init = r.boolean("sinusoidal_init", false);
  c.causal = r.boolean("causal", false);
  c.layer_k = r.integers("layer_k", c.depth);
  c.projection =
      r.choice("projection", "learned", [](const std::string& s) { return parse_projection_kind(s); });
  r.choice("tokenizer", "bytes",
           [](const std::string& s) { return parse_tokenizer_kind(s); });  // checked here too
  try {
    c.validate();  // ranges and the parameter count, before anything is allocated
  } catch (const Error& e) {
    throw Error(fmt::format("{}: the checkpoint's config: {}", path, e.what()));
  }
  return c;
}

Tokenizer tokenizer_from_meta(const std::map<std::string, std::string>& meta, const std::string& path) {
  const OJson j = config_json(meta, path);
  const TokenizerKind kind = ConfigReader(j, path).choice(
      "tokenizer", "bytes", [](const std::string& s) { return parse_tokenizer_kind(s); });
  auto it = meta.find("tokenizer.model");
  if (kind == TokenizerKind::bytes) {
    LF_CHECK(it == meta.end(),
             "{}: the config says tokenizer 'bytes' but the file has a 'tokenizer.model' (a "
             "subword model); the metadata contradicts itself",
             path);
    return Tokenizer::bytes();
  }
  LF_CHECK(it != meta.end(), "{}: the config says 'subword' but there is no 'tokenizer.model' metadata",
           path);
  try {
    return Tokenizer::from_serialized(kind, base64_decode(it->second));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: 'tokenizer.model': {}", path, escape_untrusted(e.what())));
  }
}

std::vector<std::pair<std::string, Shape>> encoder_weight_shapes(const EncoderConfig& c) {
  const int64_t D = c.dim, n = c.max_len, k = c.k, V = c.vocab;  // V: the token front's rows
  const bool lin = c.kind == AttentionKind::linformer;
  std::vector<std::pair<std::string, Shape>> w = {{"pos", {n, D}}};
  if (lin && c.sharing == Sharing::layerwise)
    w.push_back({"E", projection_shape(c.projection, false, D, c.heads, n, k)});
  w.push_back({"tok.weight", {V, D}});
  for (int64_t i = 0; i < c.depth; ++i) {
    const std::string b = fmt::format("blocks.{}.", i);
    for (const char* ln : {"ln1", "ln2"}) {
      w.push_back({b + ln + ".weight", {D}});
      w.push_back({b + ln + ".bias", {D}});
    }
    if (lin)
      for (const std::string& name : layer_projection_names(c.sharing))
        w.push_back({b + "att." + name,
                     projection_shape(c.projection, c.sharing == Sharing::none, D, c.heads, n, c.k_at(i))});
    w.push_back({b + "att.qkv.weight", {3 * D, D}});
    w.push_back({b + "att.qkv.bias", {3 * D}});
    w.push_back({b + "att.out.weight", {D, D}});
    w.push_back({b + "att.out.bias", {D}});
    w.push_back({b + "ff.0.weight", {4 * D, D}});
    w.push_back({b + "ff.0.bias", {4 * D}});
    w.push_back({b + "ff.2.weight", {D, 4 * D}});
    w.push_back({b + "ff.2.bias", {D}});
  }
  w.push_back({"ln.weight", {D}});
  w.push_back({"ln.bias", {D}});
  return w;
}

std::vector<std::pair<std::string, Shape>> mlm_weight_shapes(const EncoderConfig& c) {
  std::vector<std::pair<std::string, Shape>> w = encoder_weight_shapes(c);
  if (!c.tie_embeddings) w.push_back({"head.weight", {c.vocab, c.dim}});
  w.push_back({"head.bias", {c.vocab}});
  return w;
}

void check_mlm_weights(const EncoderConfig& cfg, const std::map<std::string, Tensor>& weights,
                       const std::string& path) {
  check_weights(mlm_weight_shapes(cfg), weights, path);
}

void check_weights(const std::vector<std::pair<std::string, Shape>>& shapes,
                   const std::map<std::string, Tensor>& weights, const std::string& path) {
  std::vector<std::string> problems;
  std::set<std::string> expected;
  for (const auto& [name, shape] : shapes) {
    expected.insert(name);
    auto it = weights.find(name);
    if (it == weights.end())
      problems.push_back(fmt::format("'{}' is missing", name));
    else if (it->second.shape() != shape)
      problems.push_back(fmt::format("'{}' is {}, the config needs {}", name, shape_str(it->second.shape()),
                                     shape_str(shape)));
    else if (!is_floating(it->second.dtype()))
      problems.push_back(
          fmt::format("'{}' is {}, not a floating dtype", name, dtype_name(it->second.dtype())));
  }
  for (const auto& [name, t] : weights)
    if (!expected.count(name))
      problems.push_back(fmt::format("{} is not a weight of this model", quote_untrusted(name)));
  if (problems.empty()) return;
  const size_t shown = std::min<size_t>(problems.size(), 8);
  throw Error(fmt::format("{}: the weights do not match the config ({} problem(s)): {}{}", path,
                          problems.size(), fmt::join(problems.begin(), problems.begin() + long(shown), "; "),
                          shown < problems.size() ? "; ..." : ""));
}

MlmFile model_file_from(const NamedTensors& tensors, const std::map<std::string, std::string>& meta,
                        const std::string& path) {
  MlmFile f{config_from_meta(meta, path), tokenizer_from_meta(meta, path), {}};
  LF_CHECK(f.tok.vocab_size() == f.cfg.vocab, "{}: the tokenizer has {} ids but the model's vocab is {}", path,
           f.tok.vocab_size(), f.cfg.vocab);
  // A training checkpoint names its weights "model.<name>"; a model file uses the names themselves.
  const bool checkpoint =
      std::any_of(tensors.begin(), tensors.end(), [](auto& e) { return e.first.rfind("model.", 0) == 0; });
  for (auto& [name, t] : tensors) {
    if (!checkpoint) f.weights[name] = t;
    else if (name.rfind("model.", 0) == 0) f.weights[name.substr(6)] = t;
  }
  return f;
}

MlmFile mlm_file_from(const NamedTensors& tensors, const std::map<std::string, std::string>& meta,
                      const std::string& path) {
  MlmFile f = model_file_from(tensors, meta, path);
  check_mlm_weights(f.cfg, f.weights, path);
  return f;
}

MlmFile load_mlm_file(const std::string& path) {
  std::map<std::string, std::string> meta;
  NamedTensors all = load_safetensors(path, &meta);
  return mlm_file_from(all, meta, path);
}

namespace {

// The text split at its blanks: pieces[0] blank pieces[1] blank ... pieces[b].
std::vector<std::string> split_at_blanks(const std::string& text, bool subword) {
  std::vector<std::string> pieces(1);
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '_') {
      pieces.emplace_back();
      size_t j = i + 1;
      while (subword && j < text.size() && text[j] == '_') ++j;  // a run of '_' is one subword blank
      i = j;
    } else if (subword && text.compare(i, 6, "[MASK]") == 0) {
      pieces.emplace_back();
      i += 6;
    } else {
      pieces.back() += text[i++];
    }
  }
  return pieces;
}

bool only_spaces(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

}  // namespace

BlankedText encode_blanks(const Tokenizer& tok, const std::string& text) {
  const bool subword = tok.kind() == TokenizerKind::subword;
  BlankedText t;
  t.pieces = split_at_blanks(text, subword);
  const size_t blanks = t.pieces.size() - 1;
  LF_CHECK(blanks > 0, "fill_blanks: '{}' has no blank to fill in ({})", text,
           subword ? "write ___ or [MASK] where a word is missing" : "write _ where a character is missing");
  // ids: the text's tokens with one [MASK] per blank. A word blank after a space takes the space into the
  // predicted piece ("is a ___ indeed" -> "is a" [MASK] " indeed"), as the pieces "▁friend" are trained.
  for (size_t p = 0; p < t.pieces.size(); ++p) {
    std::string s = t.pieces[p];
    bool space_before = false;
    if (subword && p < blanks && (s.empty() || s.back() == ' ')) {
      space_before = !s.empty();
      if (space_before) s.pop_back();
    }
    std::vector<int64_t> part = tok.encode(s);
    t.ids.insert(t.ids.end(), part.begin(), part.end());
    if (p < blanks) {
      t.at.push_back(int64_t(t.ids.size()));
      t.word_blank.push_back(space_before);
      t.ids.push_back(tok.mask_id());
    }
  }
  return t;
}

BlankedText check_blanks_fit(const Tokenizer& tok, const std::string& text, int64_t max_len) {
  BlankedText t = encode_blanks(tok, text);
  LF_CHECK(int64_t(t.ids.size()) <= max_len,
           "fill_blanks: the text is {} tokens; this model takes at most {}", t.ids.size(), max_len);
  return t;
}

FilledBlanks fill_blanks(const MaskedLM& model, const Tokenizer& tok, const std::string& text, int top) {
  const bool subword = tok.kind() == TokenizerKind::subword;
  const BlankedText t = check_blanks_fit(tok, text, model.cfg.max_len);
  const std::vector<std::string>& pieces = t.pieces;
  const std::vector<int64_t>& ids = t.ids;
  const std::vector<int64_t>& at = t.at;
  const std::vector<bool>& word_blank = t.word_blank;
  const size_t blanks = pieces.size() - 1;
  const int64_t n = int64_t(ids.size());
  NoGradGuard no_grad;
  Device dev = model.pos.device();
  Tensor positions = from_vector(at, {int64_t(at.size())});
  Tensor probs = softmax(model.forward_at(from_vector(ids, {1, n}).to(dev), positions.to(dev)), 1);  // [b, V]
  std::vector<float> pr = probs.to(Device::cpu()).contiguous().to_vector<float>();
  const int64_t V = tok.vocab_size();

  FilledBlanks out;
  for (size_t b = 0; b < blanks; ++b) {
    // Candidates: ordinary ids that can stand in the blank (printable for bytes; a word start after a space).
    std::vector<int64_t> cand;
    for (int64_t v = tok.first_ordinary_id(); v < tok.end_ordinary_id(); ++v) {
      if (!subword && (v < 32 || v > 126)) continue;
      if (subword) {
        const std::string p = tok.piece(v);
        if (p.empty() || (p[0] == ' ') != word_blank[b] || only_spaces(p)) continue;
      }
      cand.push_back(v);
    }
    size_t keep = std::min(cand.size(), size_t(std::max(top, 1)));
    std::partial_sort(cand.begin(), cand.begin() + long(keep), cand.end(), [&](int64_t x, int64_t y) {
      return pr[size_t(int64_t(b) * V + x)] > pr[size_t(int64_t(b) * V + y)];
    });
    std::vector<std::pair<std::string, double>> best;
    for (size_t i = 0; i < keep; ++i) {
      std::string w = tok.piece(cand[i]);
      if (word_blank[b]) w.erase(0, 1);  // the blank's own space stays in the text
      best.emplace_back(w, pr[size_t(int64_t(b) * V + cand[i])]);
    }
    out.candidates.push_back(std::move(best));
  }
  for (size_t p = 0; p < pieces.size(); ++p) {
    out.text += pieces[p];
    if (p < blanks) out.text += out.candidates[p].empty() ? "?" : out.candidates[p][0].first;
  }
  return out;
}

std::string candidates_line(const std::vector<std::pair<std::string, double>>& candidates, int decimals) {
  std::string line;
  for (const auto& [w, p] : candidates) line += fmt::format("  '{}' {:.{}f}", w, p, decimals);
  return line;
}

std::string continue_text(const MaskedLM& model, const Tokenizer& tok, const std::string& prefix, int tokens) {
  LF_CHECK(model.cfg.causal, "continue_text: the model is not causal (a masked LM fills blanks: fill_blanks)");
  NoGradGuard no_grad;
  std::vector<int64_t> ids = tok.encode(prefix);
  const size_t given = ids.size();
  for (int t = 0; t < tokens; ++t) {
    const int64_t ctx = std::min<int64_t>(int64_t(ids.size()), model.cfg.max_len);
    if (ctx == 0) break;  // an empty prefix has nothing to continue from
    std::vector<int64_t> window(ids.end() - ctx, ids.end());
    Tensor logits = model.forward_at(from_vector(window, {1, ctx}), from_vector(std::vector<int64_t>{ctx - 1}, {1}));
    const std::vector<float> l = logits.to(DType::f32).to_vector<float>();
    ids.push_back(int64_t(std::max_element(l.begin(), l.end()) - l.begin()));
  }
  return tok.decode(std::vector<int64_t>(ids.begin() + int64_t(given), ids.end()));
}

}  // namespace lf
