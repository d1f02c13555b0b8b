#pragma once
// The encoder trunk: front (token embedding or feature projection) + learned positions, `depth` blocks, a
// final LayerNorm. MaskedLM and SequenceClassifier (nn/models.h) add a head on top.
//
//   ids [B, n] -> tok [B, n, D]  or  features [B, n, F] -> proj [B, n, D]
//   + pos[:n] [n, D] -> blocks.0 ... blocks.{depth-1} -> ln -> hidden [B, n, D]
//
// Parameter names (own entries first, then children, like PyTorch's named_parameters):
//   pos [max_len, D]                      N(0, 0.02)
//   E [max_len, k]                        layerwise Linformer sharing only
//   tok.weight [vocab, D]                 token front, N(0, 1)
//   proj.weight [D, F], proj.bias [D]     feature front
//   blocks.{i}.*                          see nn/encoder_block.h
//   ln.weight [D], ln.bias [D]
#include <memory>

#include "nn/embedding.h"
#include "nn/encoder_block.h"

namespace lf {

class Encoder : public Module {
 public:
  explicit Encoder(const EncoderConfig& cfg);
  // input: i64 ids [B, n] (token front) or floating features [B, n, in_features] (feature front), n <= max_len;
  // mask [B, n]: 1 = token, 0 = padding, or undefined. -> hidden states [B, n, D]
  Tensor encode(const Tensor& input, const Tensor& mask = Tensor()) const;

  EncoderConfig cfg;
  std::shared_ptr<Embedding> tok;  // token front, else null
  std::shared_ptr<Linear> proj;    // feature front, else null
  Tensor pos;                      // [max_len, D]
  Tensor E;                        // [max_len, k], layerwise sharing only
  std::shared_ptr<ModuleList> blocks;
  std::shared_ptr<LayerNorm> ln;
};

}  // namespace lf
