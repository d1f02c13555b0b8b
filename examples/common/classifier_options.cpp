#include "examples/common/classifier_options.h"

#include "examples/common/cli_checks.h"
#include "examples/common/mlm_options.h"
#include "examples/common/resume.h"

namespace lf {

namespace {
constexpr int64_t kMaxSize = int64_t(1) << 24, kMaxSteps = int64_t(1) << 40;
}  // namespace

void add_classifier_options(CLI::App& app, ClassifierOptions& o) {
  app.add_option("--corpus", o.corpus, "directory of fortune files: each file is a class")
      ->capture_default_str()
      ->check(readable_dir());
  app.add_option("--classes", o.classes, "the largest this many fortune files are the classes")
      ->capture_default_str()
      ->check(int_range(2, 1000));
  app.add_option("--out", o.out, "directory for metrics.csv, curves.png, checkpoint.safetensors, model.safetensors")
      ->capture_default_str()
      ->check(output_dir());
  app.add_option("--init", o.init,
                 "fine-tune this train_mlm checkpoint or model file: its encoder and tokenizer, with a fresh "
                 "classification head (the model flags then come from it)")
      ->check(readable_file());
  app.add_flag("--from-scratch", o.from_scratch,
               "with --init: take only its config and tokenizer, not its weights (the baseline of fine-tuning)");
  app.add_option("--resume", o.resume,
                 "continue from this checkpoint: the model and training settings come from it, and a flag that "
                 "contradicts it is refused; the schedule is the checkpoint's (see --epochs, --extend)")
      ->check(readable_file());
  app.add_flag("--extend", o.extend,
               "with --resume: let --epochs go beyond the checkpoint's schedule, which is stretched to --epochs "
               "(the learning rate rises again: not the same as a straight run)");
  app.add_option("--stop-at", o.stop_at,
                 "end this invocation after this step (a checkpoint is written), to continue with --resume")
      ->check(int_range(1, kMaxSteps));
  app.add_option("--checkpoint-every", o.checkpoint_every, "steps between checkpoints (also after every epoch)")
      ->capture_default_str()
      ->check(int_range(1, kMaxSteps));
  app.add_option("--predict", o.predict,
                 "classify this text with a trained classifier (--model) and print the top 3 labels; no training")
      ->check(non_empty());
  app.add_option("--model", o.model, "with --predict: the classifier file (default: <--out>/model.safetensors)")
      ->check(readable_file());
  app.add_option("--sample", o.sample, "text the trained classifier labels at the end")->check(non_empty());
  // The model, for a run from the flags alone (no --init): train_mlm's defaults.
  app.add_option("--attention", o.attention, "linformer | standard (without --init)")
      ->capture_default_str()
      ->check(one_of({"linformer", "standard"}));
  app.add_option("--k", o.k, "Linformer's projected length, at most --seq-len (without --init)")
      ->capture_default_str()
      ->check(int_range(1, kMaxSize));
  app.add_option("--sharing", o.sharing, "none | headwise | kv | layerwise (without --init)")
      ->capture_default_str()
      ->check(one_of({"none", "headwise", "kv", "layerwise"}));
  app.add_option("--seq-len", o.seq_len, "tokens per text; longer ones are cut (without --init)")
      ->capture_default_str()
      ->check(int_range(1, kMaxSize));
  app.add_option("--dim", o.dim, "model width, divisible by --heads (without --init)")
      ->capture_default_str()
      ->check(int_range(1, kMaxSize));
  app.add_option("--depth", o.depth, "encoder blocks (without --init)")->capture_default_str()->check(int_range(1, 4096));
  app.add_option("--heads", o.heads, "attention heads (without --init)")->capture_default_str()->check(int_range(1, 4096));
  app.add_option("--vocab", o.vocab, "subword vocabulary size (without --init)")
      ->capture_default_str()
      ->check(int_range(300, 1'000'000));
  // Training.
  app.add_option("--epochs", o.epochs,
                 "passes over the training texts: the length of the schedule (with --resume: the checkpoint's "
                 "unless --extend)")
      ->capture_default_str()
      ->check(int_range(1, 1'000'000));
  app.add_option("--batch", o.batch, "texts per step")->capture_default_str()->check(int_range(1, kMaxSize));
  app.add_option("--lr", o.lr, "peak learning rate")->capture_default_str()->check(positive_finite());
  app.add_option("--warmup", o.warmup, "linear warmup steps, then cosine decay")
      ->capture_default_str()
      ->check(int_range(0, kMaxSteps));
  app.add_option("--weight-decay", o.weight_decay, "AdamW's decoupled weight decay")
      ->capture_default_str()
      ->check(non_negative_finite());
  app.add_option("--dropout", o.dropout, "dropout on residual branches")
      ->capture_default_str()
      ->check(fraction_below_one());
  app.add_option("--clip", o.clip, "gradient norm clip")->capture_default_str()->check(positive_finite());
  app.add_option("--baseline-epochs", o.baseline_epochs, "epochs of the bag-of-pieces logistic regression")
      ->capture_default_str()
      ->check(int_range(1, 100000));
  app.add_option("--seed", o.seed, "seed for the head's init, data order and dropout")
      ->capture_default_str()
      ->check(seed_value());
}

const std::vector<std::string>& classifier_model_flags() {
  static const std::vector<std::string> flags = {"--attention", "--k",     "--sharing", "--seq-len",
                                                 "--dim",       "--depth", "--heads",   "--vocab"};
  return flags;
}

void check_classifier_flags(const CLI::App& app, const ClassifierOptions& o) {
  auto given = [&](const std::string& f) { return app.count(f) > 0; };
  if (given("--predict")) {
    for (const CLI::Option* opt : app.get_options())
      LF_USAGE_CHECK(opt->count() == 0 || opt->get_name() == "--predict" || opt->get_name() == "--model" ||
                         opt->get_name() == "--out",
                     "{} has no effect with --predict, which only classifies a text (with --model or --out)",
                     opt->get_name());
    return;
  }
  LF_USAGE_CHECK(!given("--model"), "--model only applies with --predict");
  LF_USAGE_CHECK(!given("--from-scratch") || given("--init"), "--from-scratch only applies with --init");
  LF_USAGE_CHECK(!(given("--init") && given("--resume")),
                 "--init and --resume exclude each other: a resumed run continues its own checkpoint");
  for (const std::string& f : classifier_model_flags())
    LF_USAGE_CHECK(!given(f) || (!given("--init") && !given("--resume")),
                   "{} describes the model, which comes from {} here: leave the flag out", f,
                   given("--init") ? "the --init file" : "the --resume checkpoint");
  check_resume_flags(app, 1, 1);  // --extend only with --resume
  LF_USAGE_CHECK(o.dim % o.heads == 0, "--dim {} is not divisible by --heads {}", o.dim, o.heads);
  LF_USAGE_CHECK(o.attention == "standard" || o.k <= o.seq_len, "--k {} exceeds --seq-len {}", o.k, o.seq_len);
}

EncoderConfig classifier_config_from_flags(const ClassifierOptions& o, int64_t vocab) {
  MlmOptions m;  // train_mlm's model defaults for everything the classifier has no flag for
  m.attention = o.attention, m.sharing = o.sharing, m.seq_len = o.seq_len, m.k = std::min(o.k, o.seq_len);
  m.dim = o.dim, m.depth = o.depth, m.heads = o.heads, m.dropout = o.dropout;
  return mlm_config_from_flags(m, vocab);
}

nlohmann::json classifier_train_settings(const ClassifierOptions& o, const TextCorpus& corpus) {
  nlohmann::json j = {{"corpus", o.corpus},       {"classes", o.classes},     {"init", o.init},   {"from_scratch", o.from_scratch},
                      {"epochs", o.epochs},       {"batch", o.batch}, {"lr", o.lr},
                      {"warmup", o.warmup},       {"weight_decay", o.weight_decay},
                      {"dropout", o.dropout},     {"clip", o.clip},   {"seed", o.seed},
                      {"checkpoint_every", o.checkpoint_every},       {"baseline_epochs", o.baseline_epochs}};
  j.update(corpus_fingerprint(corpus));
  return j;
}

void adopt_classifier_settings(const CLI::App& app, ClassifierOptions& o, const nlohmann::json& train,
                               int64_t done_epochs) {
  ResumeSettings r(app, o.resume);
  r.default_to("--corpus", o.corpus, train, "corpus");  // a moved corpus may be named again; its hash decides
  r.keep("--classes", o.classes, train, "classes");
  r.keep("--batch", o.batch, train, "batch");
  r.keep("--lr", o.lr, train, "lr");
  r.keep("--warmup", o.warmup, train, "warmup");
  r.keep("--weight-decay", o.weight_decay, train, "weight_decay");
  r.keep("--dropout", o.dropout, train, "dropout");
  r.keep("--clip", o.clip, train, "clip");
  r.keep("--seed", o.seed, train, "seed");
  r.keep("--baseline-epochs", o.baseline_epochs, train, "baseline_epochs");
  r.default_to("--checkpoint-every", o.checkpoint_every, train, "checkpoint_every");
  o.init = r.stored<std::string>(train, "init");
  o.from_scratch = r.stored<bool>(train, "from_scratch");
  o.epochs = r.schedule_length("--epochs", "epoch", o.epochs, r.stored<int64_t>(train, "epochs"), done_epochs,
                               o.extend);
}

}  // namespace lf
