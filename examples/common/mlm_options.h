#pragma once
// train_mlm's command line: the flags with their checks, the settings a checkpoint stores ("train"
// metadata), and how a resumed run takes them over (examples/common/resume.h has the rule).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/text.h"
#include "nn/models.h"
#include "data/tokenizer.h"

namespace lf {

struct MlmOptions {
  std::string corpus = kFortunesDir, out = "runs/mlm", resume, attention = "linformer", sharing = "layerwise";
  std::string tokenizer = "subword", masking = "whole-word", proj_init = "pooling", projection = "learned", heldout;
  std::string decay = "cosine", sample;
  int64_t seq_len = 128, k = 64, dim = 128, depth = 2, heads = 4, batch = 16, steps = 8000, warmup = 100;
  int64_t vocab = 4096, eval_every = 500, eval_batches = 8, checkpoint_every = 500, stop_at = 0;
  double lr = 2e-3, weight_decay = 0.01, dropout = 0.0, clip = 1.0, token_init_std = 1.0;
  double proj_lr_scale = 1.0;  // Linformer's E and F learn at proj_lr_scale * lr (0: frozen at their init)
  bool tie = false, extend = false;
  bool causal = false;
  std::vector<int64_t> layer_k;  // --layer-k: Linformer's k per block (empty: --k for every block)      // a causal LM: next-token prediction under causal (standard) attention
  bool whole_words = true;  // derived from --masking
  uint64_t seed = 1;

  double min_lr() const { return lr * 0.05; }  // the schedule decays to 5% of the peak
};

void add_mlm_options(CLI::App& app, MlmOptions& o);

// The model config the flags describe (a fresh run), for a tokenizer with `vocab` ids.
EncoderConfig mlm_config_from_flags(const MlmOptions& o, int64_t vocab);

// A resumed run: the model flags must agree with the checkpoint's config and tokenizer, the training flags
// with its "train" metadata (`train`, empty for checkpoints written before it existed); flags left out take
// the checkpoint's values. `done` is the checkpoint's step. UsageError names the first conflict.
void adopt_checkpoint_settings(const CLI::App& app, MlmOptions& o, const EncoderConfig& cfg,
                               TokenizerKind tok, const nlohmann::json& train, int64_t done);

// Checks between flags (and against the checkpoint's step `done`, 0 for a fresh run) once every value is
// known: dim divisible by heads, k <= n, warmup <= steps, --stop-at inside the run. A fresh run's default
// --warmup is shortened to --steps.
void check_mlm_flags(const CLI::App& app, MlmOptions& o, int64_t done);

// The corpus as the checkpoint records it: size, documents and a 64-bit FNV-1a hash of the text, so a
// resumed run can tell that --corpus (or the file at the stored path) is no longer the same text.
nlohmann::json corpus_fingerprint(const TextCorpus& corpus);
void check_same_corpus(const nlohmann::json& train, const TextCorpus& corpus, const std::string& checkpoint);

// The "train" metadata train_mlm writes into every checkpoint: every setting above that shapes the run.
nlohmann::json mlm_train_settings(const MlmOptions& o, const TextCorpus& corpus);

}  // namespace lf
