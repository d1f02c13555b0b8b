#include "examples/common/mlm_common.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "nn/data_text.h"
#include "nn/safetensors.h"
#include "ops/ops.h"

namespace lf {

std::map<std::string, std::string> mlm_meta(const EncoderConfig& c, const Tokenizer& tok) {
  nlohmann::json j = {{"vocab", c.vocab},     {"dim", c.dim},
                      {"depth", c.depth},     {"heads", c.heads},
                      {"max_len", c.max_len}, {"k", c.k},
                      {"attention", std::string(attention_kind_name(c.kind))},
                      {"sharing", std::string(sharing_name(c.sharing))},
                      {"proj_init", std::string(projection_init_name(c.proj_init))},
                      {"dropout", c.dropout}, {"tie_embeddings", c.tie_embeddings},
                      {"token_init_std", c.token_init_std}, {"sinusoidal_init", c.sinusoidal_init},
                      {"tokenizer", std::string(tokenizer_kind_name(tok.kind()))}};
  std::map<std::string, std::string> meta = {{"config", j.dump()}};
  if (tok.kind() == TokenizerKind::subword) meta["tokenizer.model"] = base64_encode(tok.serialized());
  return meta;
}

static nlohmann::json config_json(const std::map<std::string, std::string>& meta, const std::string& path) {
  auto it = meta.find("config");
  LF_CHECK(it != meta.end(), "{}: no 'config' in the file's metadata (was it written by train_mlm?)", path);
  try {
    nlohmann::json j = nlohmann::json::parse(it->second);
    LF_CHECK(j.is_object(), "{}: the 'config' metadata is not a JSON object", path);
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: the 'config' metadata is not JSON: {}", path, e.what()));
  }
}

EncoderConfig config_from_meta(const std::map<std::string, std::string>& meta, const std::string& path) {
  nlohmann::json j = config_json(meta, path);
  try {
    EncoderConfig c;
    c.vocab = j.at("vocab");
    c.dim = j.at("dim");
    c.depth = j.at("depth");
    c.heads = j.at("heads");
    c.max_len = j.at("max_len");
    c.k = j.at("k");
    c.kind = parse_attention_kind(j.at("attention").get<std::string>());
    c.sharing = parse_sharing(j.value("sharing", std::string("headwise")));
    c.proj_init = parse_projection_init(j.value("proj_init", std::string("uniform")));
    c.dropout = j.value("dropout", 0.0);
    c.tie_embeddings = j.value("tie_embeddings", false);
    c.token_init_std = j.value("token_init_std", 1.0);
    c.sinusoidal_init = j.value("sinusoidal_init", false);
    c.validate();
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: the checkpoint's config is malformed: {}", path, e.what()));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: the checkpoint's config: {}", path, e.what()));
  }
}

Tokenizer tokenizer_from_meta(const std::map<std::string, std::string>& meta, const std::string& path) {
  nlohmann::json j = config_json(meta, path);
  try {
    TokenizerKind kind = parse_tokenizer_kind(j.value("tokenizer", std::string("bytes")));
    if (kind == TokenizerKind::bytes) return Tokenizer::bytes();
    auto it = meta.find("tokenizer.model");
    LF_CHECK(it != meta.end(), "the config says 'subword' but there is no 'tokenizer.model' metadata");
    return Tokenizer::from_serialized(kind, base64_decode(it->second));
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: the config's tokenizer is malformed: {}", path, e.what()));
  } catch (const Error& e) {
    throw Error(fmt::format("{}: {}", path, e.what()));
  }
}

MlmFile load_mlm_file(const std::string& path) {
  std::map<std::string, std::string> meta;
  NamedTensors all = load_safetensors(path, &meta);
  MlmFile f{config_from_meta(meta, path), tokenizer_from_meta(meta, path), {}};
  LF_CHECK(f.tok.vocab_size() == f.cfg.vocab, "{}: the tokenizer has {} ids but the model's vocab is {}", path,
           f.tok.vocab_size(), f.cfg.vocab);
  // A training checkpoint names its weights "model.<name>"; a model file uses the names themselves.
  const bool checkpoint = std::any_of(all.begin(), all.end(), [](auto& e) { return e.first.rfind("model.", 0) == 0; });
  for (auto& [name, t] : all) {
    if (!checkpoint) f.weights[name] = t;
    else if (name.rfind("model.", 0) == 0) f.weights[name.substr(6)] = t;
  }
  return f;
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

}  // namespace lf
