#include "nn/encoder.h"

#include <cmath>

#include "ops/creation.h"
#include "ops/elementwise.h"

namespace lf {

// pos[i, 2j] = sin(i / 10000^(2j/D)), pos[i, 2j+1] = cos(i / 10000^(2j/D)): [n, D]
static Tensor sinusoids(int64_t n, int64_t dim) {
  std::vector<float> v(size_t(n * dim));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < dim; ++j) {
      double angle = double(i) / std::pow(10000.0, double(j - j % 2) / double(dim));
      v[size_t(i * dim + j)] = float(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  return from_vector(v, {n, dim});
}

Encoder::Encoder(const EncoderConfig& c) : cfg(c) {
  cfg.validate();
  pos = register_parameter("pos", cfg.sinusoidal_init ? sinusoids(cfg.max_len, cfg.dim)
                                                       : mul(randn({cfg.max_len, cfg.dim}), 0.02));
  if (cfg.kind == AttentionKind::linformer && cfg.sharing == Sharing::layerwise) {
    Tensor p = make_projection(cfg.projection,
                               projection_shape(cfg.projection, false, cfg.dim, cfg.heads, cfg.max_len, cfg.k),
                               cfg.proj_init, cfg.max_len, cfg.k);
    E = projection_trained(cfg.projection) ? register_parameter("E", p) : register_buffer("E", p);
  }
  if (cfg.in_features > 0)
    proj = register_module("proj", std::make_shared<Linear>(cfg.in_features, cfg.dim));
  else
    tok = register_module("tok", std::make_shared<Embedding>(cfg.vocab, cfg.dim, cfg.token_init_std));
  blocks = register_module("blocks", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < cfg.depth; ++i) blocks->push_back(std::make_shared<EncoderBlock>(cfg, i));
  ln = register_module("ln", std::make_shared<LayerNorm>(cfg.dim));
}

Tensor Encoder::encode(const Tensor& input, const Tensor& mask) const {
  LF_CHECK(input.defined(), "Encoder: input is an undefined tensor");
  Tensor x;  // [B, n, D]
  if (tok) {
    LF_CHECK(input.dim() == 2 && input.dtype() == DType::i64, "Encoder: expected token ids i64 [B, n], got {} {}",
             shape_str(input.shape()), input.dtype());
    x = tok->forward(input);
  } else {
    LF_CHECK(input.dim() == 3 && input.size(2) == cfg.in_features && is_floating(input.dtype()),
             "Encoder: expected features [B, n, {}] (f32/f64), got {} {}", cfg.in_features,
             shape_str(input.shape()), input.dtype());
    x = proj->forward(input);
  }
  int64_t n = input.size(1);
  LF_CHECK(n >= 1 && n <= cfg.max_len, "Encoder: sequence length {} must be in [1, max_len = {}]", n, cfg.max_len);
  x = add(x, pos.slice(0, 0, n));  // [B, n, D] + [n, D]: the first n learned positions
  for (size_t i = 0; i < blocks->size(); ++i) x = blocks->at<EncoderBlock>(i).forward(x, mask, E);
  return ln->forward(x);
}

}  // namespace lf
