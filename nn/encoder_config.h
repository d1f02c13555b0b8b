#pragma once
// The hyper-parameters of an encoder (and of the MaskedLM and SequenceClassifier built on it).
#include <cstdint>
#include <string_view>
#include <vector>

#include "nn/linformer_attention.h"

namespace lf {

enum class AttentionKind { standard, linformer };
std::string_view attention_kind_name(AttentionKind k);    // "standard", "linformer"
AttentionKind parse_attention_kind(std::string_view name);  // the reverse; throws lf::Error naming the choices

// The largest sizes validate() accepts. They are far above anything this library trains (the paper's largest
// models are D 768, depth 12, n 4096) and low enough that a config read from a file cannot make a
// constructor allocate terabytes or run for hours: a hostile max_len 1e8 or dim 1e12 is refused up front.
inline constexpr int64_t kMaxVocab = int64_t(1) << 24;
inline constexpr int64_t kMaxInFeatures = int64_t(1) << 20;
inline constexpr int64_t kMaxDim = 16384;
inline constexpr int64_t kMaxDepth = 256;
inline constexpr int64_t kMaxLen = int64_t(1) << 20;
// 2^32 parameters are 16 GiB in f32 (48 GiB with AdamW's moments), over ten times RoBERTa-large.
inline constexpr int64_t kMaxParameters = int64_t(1) << 32;

struct EncoderConfig {
  int64_t vocab = 256;      // token ids in [0, vocab); unused by a feature front
  int64_t in_features = 0;  // > 0: inputs are features [B, n, in_features] projected by "proj" (no "tok")
  int64_t dim = 128;        // model width D
  int64_t depth = 4;        // number of EncoderBlocks
  int64_t heads = 4;        // D must be divisible by heads
  int64_t max_len = 512;    // n: rows of the positional embedding and of Linformer's E and F
  int64_t k = 128;          // Linformer's projected length (unused by standard attention)
  // Non-uniform k: block i projects to layer_k[i] rows (e.g. {128, 64, 32, 32}: higher layers need less rank,
  // the paper's Figure 1; linformer-pytorch's k_reduce_by_layer). Empty: k for every block. Not with
  // layerwise sharing, whose one E serves every block.
  std::vector<int64_t> layer_k;
  int64_t k_at(int64_t block) const { return layer_k.empty() ? k : layer_k[size_t(block)]; }
  AttentionKind kind = AttentionKind::linformer;
  Sharing sharing = Sharing::headwise;  // the torch twin's layout
  ProjectionInit proj_init = ProjectionInit::uniform;  // how learned E and F start (nn/linformer_projection.h)
  ProjectionKind projection = ProjectionKind::learned;  // learned, fixed random, fixed pooling or conv
  double dropout = 0.0;                 // on the residual branches; active in train() mode only
  bool tie_embeddings = false;          // MaskedLM: the output layer reuses tok.weight (no "head.weight")
  // Std of the token embedding's N(0, std) init (1, as PyTorch's nn.Embedding; BERT uses 0.02).
  double token_init_std = 1.0;
  // Initialise the learned positions with the sinusoids of Vaswani et al. (2017) instead of N(0, 0.02).
  // They stay trainable; the sinusoids make "attend to the position k steps away" a linear function of
  // the embeddings, which a byte-level masked LM needs: with N(0, 0.02) positions under N(0, 1) tokens,
  // ours and the PyTorch twin both sit on the unigram plateau (~2.99 nats) for over 1500 steps.
  bool sinusoidal_init = true;
  // Causal self-attention: position i attends to positions <= i only (a language model's decoder).
  // Standard attention only: Linformer's E^T K mixes every position, later ones included, into each of its
  // k projected keys, so no mask on the k columns can hide the future (validate() refuses the pair).
  bool causal = false;

  // Throws lf::Error naming the first bad field and its value: every size must be in its range above
  // (vocab, in_features, dim, depth, max_len; heads in [1, dim] dividing dim; linformer's k in [1, max_len]),
  // layer_k empty or one k in [1, max_len] per block (linformer, not layerwise), dropout in [0, 1),
  // token_init_std finite and > 0, causal only with standard attention, and
  // parameter_count() at most kMaxParameters. It does
  // arithmetic only, so the constructors call it before allocating anything.
  void validate() const;
  // The parameters of the model this config builds: the Encoder plus, for a token front, a MaskedLM's head
  // (with a feature front, a classifier's head comes on top). Computed without overflow for any field values
  // and capped at INT64_MAX.
  int64_t parameter_count() const;
};

}  // namespace lf
