#include "nn/encoder_config.h"

namespace lf {

std::string_view attention_kind_name(AttentionKind k) {
  return k == AttentionKind::standard ? "standard" : "linformer";
}

AttentionKind parse_attention_kind(std::string_view name) {
  if (name == "standard") return AttentionKind::standard;
  if (name == "linformer") return AttentionKind::linformer;
  throw Error(fmt::format("attention: unknown kind '{}' (choose standard or linformer)", name));
}

void EncoderConfig::validate() const {
  LF_CHECK(in_features > 0 || vocab > 0, "EncoderConfig: vocab {} must be positive for a token front", vocab);
  LF_CHECK(in_features >= 0, "EncoderConfig: in_features {} must be >= 0", in_features);
  LF_CHECK(dim > 0 && depth >= 0 && heads > 0, "EncoderConfig: dim {}, depth {}, heads {} must be positive", dim,
           depth, heads);
  LF_CHECK(dim % heads == 0, "EncoderConfig: dim {} is not divisible by heads {}", dim, heads);
  LF_CHECK(max_len > 0, "EncoderConfig: max_len {} must be positive", max_len);
  LF_CHECK(kind == AttentionKind::standard || k > 0, "EncoderConfig: k {} must be positive", k);
  LF_CHECK(dropout >= 0 && dropout < 1, "EncoderConfig: dropout {} must be in [0, 1)", dropout);
}

}  // namespace lf
