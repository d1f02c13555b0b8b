#pragma once
// train_classifier's command line: the flags with their checks, the settings its checkpoints store ("train"
// metadata), and how a resumed run takes them over (examples/common/resume.h has the rule).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "data/text.h"
#include "nn/encoder_config.h"

namespace lf {

struct ClassifierOptions {
  std::string corpus = kFortunesDir, out = "runs/classifier", init, resume, predict, model, sample;
  std::string attention = "linformer", sharing = "layerwise";
  int64_t classes = 10, seq_len = 128, k = 64, dim = 128, depth = 2, heads = 4, vocab = 4096;
  int64_t batch = 32, epochs = 8, warmup = 100, checkpoint_every = 500, stop_at = 0, baseline_epochs = 30;
  double lr = 5e-4, weight_decay = 0.01, dropout = 0.1, clip = 1.0;
  bool from_scratch = false, extend = false;
  uint64_t seed = 1;
};

void add_classifier_options(CLI::App& app, ClassifierOptions& o);

// The flags that describe a model (--attention, --k, ...): only for a run without --init or --resume,
// whose model comes from the flags.
const std::vector<std::string>& classifier_model_flags();

// Checks between flags that need no file: --predict against training flags, model flags against --init
// and --resume, --from-scratch without --init, dim divisible by heads, k <= n.
void check_classifier_flags(const CLI::App& app, const ClassifierOptions& o);

// The model config the flags describe (a run without --init), for a tokenizer with `vocab` ids.
EncoderConfig classifier_config_from_flags(const ClassifierOptions& o, int64_t vocab);

// The "train" metadata of a checkpoint: every setting that shapes the run, with the corpus's fingerprint.
nlohmann::json classifier_train_settings(const ClassifierOptions& o, const TextCorpus& corpus);
// A resumed run: the training flags must agree with the checkpoint's `train`; flags left out take its
// values (--epochs by the schedule rule, `done_epochs` being the epochs the checkpoint finished).
void adopt_classifier_settings(const CLI::App& app, ClassifierOptions& o, const nlohmann::json& train,
                               int64_t done_epochs);

}  // namespace lf
