#include "examples/common/mlm_common.h"

#include <nlohmann/json.hpp>

#include "nn/data_text.h"
#include "ops/ops.h"

namespace lf {

std::map<std::string, std::string> config_to_meta(const EncoderConfig& c) {
  nlohmann::json j = {{"vocab", c.vocab},     {"dim", c.dim},
                      {"depth", c.depth},     {"heads", c.heads},
                      {"max_len", c.max_len}, {"k", c.k},
                      {"attention", std::string(attention_kind_name(c.kind))},
                      {"sharing", std::string(sharing_name(c.sharing))},
                      {"dropout", c.dropout}, {"tie_embeddings", c.tie_embeddings},
                      {"token_init_std", c.token_init_std}, {"sinusoidal_init", c.sinusoidal_init}};
  return {{"config", j.dump()}};
}

EncoderConfig config_from_meta(const std::map<std::string, std::string>& meta, const std::string& path) {
  auto it = meta.find("config");
  LF_CHECK(it != meta.end(), "{}: no 'config' in the checkpoint's metadata (was it written by train_mlm?)", path);
  try {
    nlohmann::json j = nlohmann::json::parse(it->second);
    EncoderConfig c;
    c.vocab = j.at("vocab");
    c.dim = j.at("dim");
    c.depth = j.at("depth");
    c.heads = j.at("heads");
    c.max_len = j.at("max_len");
    c.k = j.at("k");
    c.kind = parse_attention_kind(j.at("attention").get<std::string>());
    c.sharing = parse_sharing(j.at("sharing").get<std::string>());
    c.dropout = j.at("dropout");
    c.tie_embeddings = j.at("tie_embeddings");
    c.token_init_std = j.value("token_init_std", 1.0);
    c.sinusoidal_init = j.value("sinusoidal_init", false);
    c.validate();
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: the checkpoint's config is malformed: {}", path, e.what()));
  }
}

std::string fill_blanks(const MaskedLM& model, const std::string& text) {
  const int64_t n = int64_t(text.size());
  LF_CHECK(n > 0 && n <= model.cfg.max_len, "fill_mask: the text has {} bytes; this model takes 1 to {}", n,
           model.cfg.max_len);
  std::vector<int64_t> ids = encode_bytes(text);
  for (int64_t& id : ids)
    if (id == '_') id = kMaskToken;
  NoGradGuard no_grad;
  Device dev = model.pos.device();
  Tensor logits = model.forward(from_vector(ids, {1, n}).to(dev)).to(Device::cpu());  // [1, n, V]
  std::vector<float> l = logits.contiguous().to_vector<float>();
  const int64_t V = logits.size(-1);
  std::string out = text;
  for (int64_t i = 0; i < n; ++i) {
    if (text[size_t(i)] != '_') continue;
    int64_t best = ' ';
    for (int64_t v = 32; v < 127; ++v)  // printable ASCII: a blank should not become a control byte
      if (l[size_t(i * V + v)] > l[size_t(i * V + best)]) best = v;
    out[size_t(i)] = char(best);
  }
  return out;
}

}  // namespace lf
