#include "nn/encoder_config.h"

#include <algorithm>

#include <cmath>
#include <limits>

namespace lf {

std::string_view attention_kind_name(AttentionKind k) {
  return k == AttentionKind::standard ? "standard" : "linformer";
}

AttentionKind parse_attention_kind(std::string_view name) {
  if (name == "standard") return AttentionKind::standard;
  if (name == "linformer") return AttentionKind::linformer;
  throw Error(fmt::format("attention: unknown kind '{}' (choose standard or linformer)", name));
}

int64_t EncoderConfig::parameter_count() const {
  // 128-bit arithmetic: with every field within its limit the largest term (sharing none: depth * 2 h n k)
  // is below 2^64, and clamping negative fields to 0 keeps an invalid config from wrapping around.
  using Wide = unsigned __int128;  // unsigned: clang's UBSan checks signed products with __muloti4
  auto w = [](int64_t v) { return Wide(std::max<int64_t>(v, 0)); };
  const Wide D = w(dim), n = w(max_len), h = w(heads), V = w(vocab), F = w(in_features);
  const bool lin = kind == AttentionKind::linformer;
  Wide block =
      4 * D + (3 * D * D + 3 * D) + (D * D + D) + (4 * D * D + 4 * D) + (4 * D * D + D);  // ln, att, ff
  // The projections (nn/linformer_projection.h), per block: [n, k], or a conv kernel [dh, (n / k) dh];
  // random and pool are buffers, not parameters.
  const Wide dh = h > 0 ? D / h : 0;
  auto proj = [&](int64_t layer_k) -> Wide {
    const Wide kl = w(layer_k);
    if (!lin || kl == 0) return 0;
    if (projection == ProjectionKind::learned) return n * kl;
    if (projection == ProjectionKind::conv) return dh * (n / kl) * dh;
    return 0;
  };
  Wide total = n * D + w(depth) * block + 2 * D;  // pos, blocks without projections, ln
  const int64_t layers = std::clamp<int64_t>(depth, 0, kMaxDepth);
  for (int64_t i = 0; i < layers; ++i) {
    const Wide p = proj(layer_k.size() == size_t(depth) ? layer_k[size_t(i)] : k);
    if (sharing == Sharing::none) total += 2 * h * p;  // E, F per head
    if (sharing == Sharing::headwise) total += 2 * p;  // E, F
    if (sharing == Sharing::kv) total += p;            // E = F
  }
  if (sharing == Sharing::layerwise) total += proj(k);  // one E for all
  if (in_features > 0)
    total += F * D + D;  // proj
  else
    total += V * D + (tie_embeddings ? 0 : V * D) + V;  // tok, head
  const Wide cap = std::numeric_limits<int64_t>::max();
  return int64_t(total < cap ? total : cap);
}

void EncoderConfig::validate() const {
  auto in_range = [](const char* name, int64_t v, int64_t lo, int64_t hi) {
    LF_CHECK(v >= lo && v <= hi, "EncoderConfig: {} {} must be in [{}, {}]", name, v, lo, hi);
  };
  in_range("in_features", in_features, 0, kMaxInFeatures);
  if (in_features == 0) in_range("vocab", vocab, 1, kMaxVocab);
  in_range("dim", dim, 1, kMaxDim);
  in_range("depth", depth, 0, kMaxDepth);
  in_range("heads", heads, 1, dim);
  LF_CHECK(dim % heads == 0, "EncoderConfig: dim {} is not divisible by heads {}", dim, heads);
  in_range("max_len", max_len, 1, kMaxLen);
  if (kind == AttentionKind::linformer) in_range("k", k, 1, max_len);
  if (!layer_k.empty()) {
    LF_CHECK(kind == AttentionKind::linformer, "EncoderConfig: layer_k applies to Linformer attention only");
    LF_CHECK(int64_t(layer_k.size()) == depth, "EncoderConfig: layer_k has {} entries for {} blocks", layer_k.size(),
             depth);
    LF_CHECK(sharing != Sharing::layerwise,
             "EncoderConfig: layer_k needs a projection per block: layerwise sharing has one E for every block "
             "(use none, headwise or kv)");
    for (int64_t kl : layer_k) in_range("layer_k entry", kl, 1, max_len);
  }
  if (kind == AttentionKind::linformer && projection == ProjectionKind::conv)
    for (int64_t i = 0; i < (layer_k.empty() ? 1 : depth); ++i)
      LF_CHECK(max_len % k_at(i) == 0,
               "EncoderConfig: the conv projection needs k {} to divide max_len {} (its kernel and stride are "
               "max_len / k positions)", k_at(i), max_len);
  LF_CHECK(!(causal && kind == AttentionKind::linformer),
           "EncoderConfig: causal attention needs standard attention: Linformer projects the keys and values "
           "along the sequence (E^T K), so each of its k rows mixes every position, later ones included, and no "
           "mask can keep position i from seeing the tokens after it");
  LF_CHECK(dropout >= 0 && dropout < 1, "EncoderConfig: dropout {} must be in [0, 1)", dropout);
  LF_CHECK(std::isfinite(token_init_std) && token_init_std > 0,
           "EncoderConfig: token_init_std {} must be finite and > 0", token_init_std);
  const int64_t params = parameter_count();
  LF_CHECK(params <= kMaxParameters,
           "EncoderConfig: the model would have {} parameters ({:.1f} GiB in f32), more than the limit of {} "
           "(2^32)", params, double(params) * 4 / double(int64_t(1) << 30), kMaxParameters);
}

}  // namespace lf
