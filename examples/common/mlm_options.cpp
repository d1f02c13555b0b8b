#include "examples/common/mlm_options.h"

#include <algorithm>

#include "examples/common/cli_checks.h"
#include "examples/common/resume.h"

namespace lf {

namespace {

// Bounds for sizes: far above anything that fits in memory, far below where products of them overflow.
constexpr int64_t kMaxSize = int64_t(1) << 24, kMaxSteps = int64_t(1) << 40;

}  // namespace

void add_mlm_options(CLI::App& app, MlmOptions& o) {
  app.add_option("--corpus", o.corpus, "text file, or a directory of fortune files")
      ->capture_default_str()
      ->check(readable_path());
  app.add_option("--out", o.out, "directory for metrics.csv, loss.png and checkpoint.safetensors")
      ->capture_default_str()
      ->check(output_dir());
  app.add_option(
         "--resume", o.resume,
         "continue from this checkpoint: the model and training settings come from it, and a flag that "
         "contradicts it is refused; the schedule is the checkpoint's (see --steps, --extend)")
      ->check(readable_file());
  app.add_flag(
      "--extend", o.extend,
      "with --resume: let --steps go beyond the checkpoint's schedule, which is stretched to --steps "
      "(the learning rate rises again: not the same as a straight run of --steps)");
  app.add_option(
         "--stop-at", o.stop_at,
         "end this invocation after this step (a checkpoint is written), to continue with --resume; the "
         "schedule still runs to --steps")
      ->check(int_range(1, kMaxSteps));
  app.add_option("--tokenizer", o.tokenizer, "subword (SentencePiece BPE, trained on the corpus) | bytes")
      ->capture_default_str()
      ->check(one_of({"subword", "bytes"}));
  app.add_option("--vocab", o.vocab, "subword vocabulary size (specials and 256 byte pieces included)")
      ->capture_default_str()
      ->check(int_range(300, 1'000'000));
  app.add_option("--masking", o.masking, "whole-word (a word's pieces together) | token")
      ->capture_default_str()
      ->check(one_of({"whole-word", "token"}));
  app.add_flag("--causal", o.causal,
               "train a causal LM instead: attention to earlier positions only, every token predicting the next "
               "(needs --attention standard: Linformer cannot be causal)");
  app.add_option("--attention", o.attention, "linformer | standard")
      ->capture_default_str()
      ->check(one_of({"linformer", "standard"}));
  app.add_option("--k", o.k, "Linformer's projected length (at most --seq-len)")
      ->capture_default_str()
      ->check(int_range(1, kMaxSize));
  app.add_option("--sharing", o.sharing, "none | headwise | kv | layerwise")
      ->capture_default_str()
      ->check(one_of({"none", "headwise", "kv", "layerwise"}));
  app.add_option("--layer-k", o.layer_k,
                 "Linformer's k per block, first block first, e.g. 128,64,32,32 (one per --depth; needs --sharing "
                 "none, headwise or kv)")
      ->delimiter(',')
      ->check(int_range(1, kMaxSize));
  app.add_option("--projection", o.projection,
                 "how Linformer maps n positions to k: learned E, F | random (fixed N(0, 1/k)) | pool (fixed mean "
                 "pooling) | conv (strided convolution, kernel = stride = n / k)")
      ->capture_default_str()
      ->check(one_of({"learned", "random", "pool", "conv"}));
  app.add_option("--proj-init", o.proj_init, "how E and F start: pooling | uniform | xavier | gaussian")
      ->capture_default_str()
      ->check(one_of({"pooling", "uniform", "xavier", "gaussian"}));
  app.add_option("--proj-lr-scale", o.proj_lr_scale,
                 "learning rate of E and F as a multiple of --lr; 0 freezes them at their init (with "
                 "--proj-init pooling: fixed mean pooling, the recipe at n = 512, docs/results.md)")
      ->capture_default_str()
      ->check(non_negative_finite());
  app.add_option("--seq-len", o.seq_len, "sequence length n")
      ->capture_default_str()
      ->check(int_range(1, kMaxSize));
  app.add_option("--dim", o.dim, "model width (divisible by --heads)")
      ->capture_default_str()
      ->check(int_range(1, kMaxSize));
  app.add_option("--depth", o.depth, "encoder blocks")->capture_default_str()->check(int_range(1, 4096));
  app.add_option("--heads", o.heads, "attention heads")->capture_default_str()->check(int_range(1, 4096));
  app.add_option("--dropout", o.dropout, "dropout on residual branches")
      ->capture_default_str()
      ->check(fraction_below_one());
  app.add_flag("--tie-embeddings,!--no-tie-embeddings", o.tie, "the output head reuses the token embedding")
      ->capture_default_str();
  app.add_option("--token-init-std", o.token_init_std, "std of the token embedding's normal init")
      ->capture_default_str()
      ->check(positive_finite());
  app.add_option("--steps", o.steps,
                 "total optimizer steps: the length of the learning-rate schedule (with --resume: the "
                 "checkpoint's unless --extend)")
      ->capture_default_str()
      ->check(int_range(1, kMaxSteps));
  app.add_option("--batch", o.batch,
                 "sequences per step, on each rank: under mpirun -np N the global batch is N x --batch")
      ->capture_default_str()
      ->check(int_range(1, kMaxSize));
  app.add_option("--lr", o.lr, "peak learning rate")->capture_default_str()->check(positive_finite());
  app.add_option("--warmup", o.warmup, "linear warmup steps (at most --steps)")
      ->capture_default_str()
      ->check(int_range(0, kMaxSteps));
  app.add_option("--decay", o.decay, "constant | linear | cosine")
      ->capture_default_str()
      ->check(one_of({"constant", "linear", "cosine"}));
  app.add_option("--weight-decay", o.weight_decay, "AdamW's decoupled weight decay")
      ->capture_default_str()
      ->check(non_negative_finite());
  app.add_option("--clip", o.clip, "gradient norm clip")->capture_default_str()->check(positive_finite());
  app.add_option("--seed", o.seed, "seed for init, data and dropout")
      ->capture_default_str()
      ->check(seed_value());
  app.add_option("--eval-every", o.eval_every, "steps between validations")
      ->capture_default_str()
      ->check(int_range(1, kMaxSteps));
  app.add_option("--eval-batches", o.eval_batches, "validation batches")
      ->capture_default_str()
      ->check(int_range(1, kMaxSize));
  app.add_option("--checkpoint-every", o.checkpoint_every, "steps between checkpoints")
      ->capture_default_str()
      ->check(int_range(1, kMaxSteps));
  app.add_option("--heldout", o.heldout, "a text file nothing trains on: its loss is reported at the end")
      ->check(readable_file());
  app.add_option("--sample", o.sample,
                 "sentence whose blanks the model fills in at the end (default: one with ___ word blanks for "
                 "subword, _ letter blanks for bytes); checked before training. With --causal, its text before "
                 "the first blank is continued instead")
      ->check(non_empty());
}

EncoderConfig mlm_config_from_flags(const MlmOptions& o, int64_t vocab) {
  EncoderConfig cfg;
  cfg.vocab = vocab;
  cfg.dim = o.dim, cfg.depth = o.depth, cfg.heads = o.heads, cfg.max_len = o.seq_len, cfg.k = o.k;
  cfg.kind = parse_attention_kind(o.attention);
  cfg.sharing = parse_sharing(o.sharing);
  cfg.proj_init = parse_projection_init(o.proj_init);
  cfg.projection = parse_projection_kind(o.projection);
  cfg.layer_k = o.layer_k;
  if (!o.layer_k.empty()) cfg.k = *std::max_element(o.layer_k.begin(), o.layer_k.end());  // k: the largest
  cfg.dropout = o.dropout;
  cfg.tie_embeddings = o.tie;
  cfg.token_init_std = o.token_init_std;
  cfg.causal = o.causal;
  cfg.validate();
  return cfg;
}

void adopt_checkpoint_settings(const CLI::App& app, MlmOptions& o, const EncoderConfig& cfg,
                               TokenizerKind tok, const nlohmann::json& train, int64_t done) {
  ResumeSettings r(app, o.resume);
  // The model: its config and tokenizer are in the checkpoint.
  r.keep("--tokenizer", o.tokenizer, std::string(tokenizer_kind_name(tok)));
  r.keep("--vocab", o.vocab, cfg.vocab);
  r.keep("--attention", o.attention, std::string(attention_kind_name(cfg.kind)));
  if (cfg.kind == AttentionKind::linformer) {  // standard attention has no k, sharing or E/F init
    r.keep("--k", o.k, cfg.k);
    r.keep("--sharing", o.sharing, std::string(sharing_name(cfg.sharing)));
    r.keep("--proj-init", o.proj_init, std::string(projection_init_name(cfg.proj_init)));
    r.keep("--projection", o.projection, std::string(projection_kind_name(cfg.projection)));
    r.keep("--layer-k", o.layer_k, cfg.layer_k);
  }
  r.keep("--dim", o.dim, cfg.dim);
  r.keep("--depth", o.depth, cfg.depth);
  r.keep("--heads", o.heads, cfg.heads);
  r.keep("--dropout", o.dropout, cfg.dropout);
  r.keep("--tie-embeddings", o.tie, cfg.tie_embeddings);
  r.keep("--token-init-std", o.token_init_std, cfg.token_init_std);
  r.keep("--causal", o.causal, cfg.causal);
  // n: the run's --seq-len (an older checkpoint without "train" trained at its max_len, train_mlm's n).
  r.keep("--seq-len", o.seq_len,
         train.contains("seq_len") ? r.stored<int64_t>(train, "seq_len") : cfg.max_len);
  // The training: what the batches, the updates and the schedule were.
  r.keep("--batch", o.batch, train, "batch");
  r.keep("--masking", o.masking, train, "masking");
  r.keep("--lr", o.lr, train, "lr");
  r.keep("--warmup", o.warmup, train, "warmup");
  r.keep("--decay", o.decay, train, "decay");
  r.keep("--weight-decay", o.weight_decay, train, "weight_decay");
  r.keep("--clip", o.clip, train, "clip");
  r.keep("--proj-lr-scale", o.proj_lr_scale, train, "proj_lr_scale");
  r.keep("--seed", o.seed, train, "seed");
  // The corpus: a different path to the same text is fine (check_same_corpus compares the text itself).
  if (!r.given("--corpus") && train.contains("corpus")) o.corpus = r.stored<std::string>(train, "corpus");
  if (train.contains("steps"))
    o.steps =
        r.schedule_length("--steps", "step", o.steps, r.stored<int64_t>(train, "steps"), done, o.extend);
  else  // an older checkpoint: its schedule was not stored; --steps (or its default) is the schedule
    LF_USAGE_CHECK(o.steps > done, "--steps {} is not beyond the checkpoint's step {} ({})", o.steps, done,
                   o.resume);
  // What is only reported may change; left out, it stays as the run had it.
  r.default_to("--eval-every", o.eval_every, train, "eval_every");
  r.default_to("--eval-batches", o.eval_batches, train, "eval_batches");
  r.default_to("--checkpoint-every", o.checkpoint_every, train, "checkpoint_every");
}

void check_mlm_flags(const CLI::App& app, MlmOptions& o, int64_t done) {
  // The default warmup is shortened to fit a short run; a --warmup given explicitly must fit.
  if (app.count("--warmup") == 0 && o.resume.empty()) o.warmup = std::min(o.warmup, o.steps);
  LF_USAGE_CHECK(o.dim % o.heads == 0, "--dim {} is not divisible by --heads {}", o.dim, o.heads);
  LF_USAGE_CHECK(
      o.attention != "linformer" || !o.layer_k.empty() || o.k <= o.seq_len,
      "--k {} exceeds --seq-len {}: Linformer projects the n positions onto k <= n (pass a smaller --k)", o.k,
      o.seq_len);
  if (!o.layer_k.empty()) {
    LF_USAGE_CHECK(o.attention == "linformer", "--layer-k applies to --attention linformer");
    LF_USAGE_CHECK(int64_t(o.layer_k.size()) == o.depth, "--layer-k has {} values for --depth {} blocks",
                   o.layer_k.size(), o.depth);
    LF_USAGE_CHECK(o.sharing != "layerwise",
                   "--layer-k needs a projection per block: --sharing layerwise (the default) has one E for every "
                   "block; pass --sharing none, headwise or kv");
    for (int64_t kl : o.layer_k) {
      LF_USAGE_CHECK(kl <= o.seq_len, "--layer-k value {} exceeds --seq-len {}", kl, o.seq_len);
      LF_USAGE_CHECK(o.projection != "conv" || o.seq_len % kl == 0,
                     "--projection conv needs each --layer-k value to divide --seq-len {}: {} does not", o.seq_len,
                     kl);
    }
  }
  LF_USAGE_CHECK(o.attention != "linformer" || o.projection != "conv" || !o.layer_k.empty() || o.seq_len % o.k == 0,
                 "--projection conv needs --k {} to divide --seq-len {} (kernel = stride = n / k positions)", o.k,
                 o.seq_len);
  LF_USAGE_CHECK(!o.causal || o.attention == "standard",
                 "--causal needs --attention standard: Linformer projects the keys and values along the sequence "
                 "(E^T K), so each of its k rows mixes every position, later ones included, and no mask can keep "
                 "a token from seeing the ones after it");
  LF_USAGE_CHECK(o.warmup <= o.steps || app.count("--warmup") == 0, "--warmup {} exceeds --steps {}",
                 o.warmup, o.steps);
  LF_USAGE_CHECK(o.tokenizer == "subword" || !o.resume.empty() || app.count("--vocab") == 0,
                 "--vocab {} applies to --tokenizer subword; the bytes tokenizer has 258 ids", o.vocab);
  if (app.count("--stop-at")) {
    LF_USAGE_CHECK(o.stop_at <= o.steps, "--stop-at {} is beyond --steps {}", o.stop_at, o.steps);
    LF_USAGE_CHECK(o.stop_at > done, "--stop-at {} is not beyond the checkpoint's step {}", o.stop_at, done);
  }
}

namespace {

uint64_t fnv1a(const std::vector<std::string>& docs) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](unsigned char c) { h = (h ^ c) * 1099511628211ull; };
  for (size_t i = 0; i < docs.size(); ++i) {
    if (i) mix('\n');  // the documents joined as TextCorpus::text() joins them
    for (unsigned char c : docs[i]) mix(c);
  }
  return h;
}

}  // namespace

nlohmann::json corpus_fingerprint(const TextCorpus& corpus) {
  return {{"corpus_bytes", corpus.size_bytes()},
          {"corpus_documents", corpus.documents().size()},
          {"corpus_fnv1a", fmt::format("{:016x}", fnv1a(corpus.documents()))}};
}

void check_same_corpus(const nlohmann::json& train, const TextCorpus& corpus, const std::string& checkpoint) {
  if (!train.contains("corpus_fnv1a")) return;  // an older checkpoint: nothing to compare with
  const nlohmann::json now = corpus_fingerprint(corpus);
  auto text = [](const nlohmann::json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); };
  auto stored = [&](const char* key) { return train.contains(key) ? text(train.at(key)) : std::string("?"); };
  LF_USAGE_CHECK(
      stored("corpus_bytes") == text(now["corpus_bytes"]) &&
          stored("corpus_documents") == text(now["corpus_documents"]) &&
          stored("corpus_fnv1a") == text(now["corpus_fnv1a"]),
      "--corpus {}: not the text the checkpoint was trained on ({}: {} bytes in {} documents, hash {}; "
      "this corpus: {} bytes in {} documents, hash {})",
      corpus.source(), checkpoint, stored("corpus_bytes"), stored("corpus_documents"), stored("corpus_fnv1a"),
      text(now["corpus_bytes"]), text(now["corpus_documents"]), text(now["corpus_fnv1a"]));
}

nlohmann::json mlm_train_settings(const MlmOptions& o, const TextCorpus& corpus) {
  nlohmann::json j = {{"steps", o.steps},
                      {"warmup", o.warmup},
                      {"lr", o.lr},
                      {"min_lr", o.min_lr()},
                      {"decay", o.decay},
                      {"weight_decay", o.weight_decay},
                      {"clip", o.clip},
                      {"proj_lr_scale", o.proj_lr_scale},
                      {"batch", o.batch},
                      {"seq_len", o.seq_len},
                      {"seed", o.seed},
                      {"masking", o.masking},
                      {"corpus", o.corpus},
                      {"eval_every", o.eval_every},
                      {"eval_batches", o.eval_batches},
                      {"checkpoint_every", o.checkpoint_every}};
  j.update(corpus_fingerprint(corpus));
  return j;
}

}  // namespace lf
