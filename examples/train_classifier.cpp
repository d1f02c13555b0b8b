// train_classifier: fine-tune a pretrained encoder (or train one from scratch) on a text classification
// task: which fortunes file a fortune comes from (the largest --classes files of /usr/share/games/fortunes).
//
//   build/train_mlm --out runs/mlm                                           # pretrain (the main command)
//   build/train_classifier --init runs/mlm/checkpoint.safetensors             # fine-tune it
//   build/train_classifier --init runs/mlm/checkpoint.safetensors --from-scratch   # same model, fresh weights
//   build/train_classifier --predict "My kernel panicked again."              # top 3 labels of a text
//   build/train_classifier --resume runs/classifier/checkpoint.safetensors    # continue a run
//
// The test split is the fortunes train_mlm held out for validation (every 20th entry of the corpus,
// data/classification.h), so a pretrained encoder never trained on a test fortune. Model: the encoder's
// hidden states [B, L, D], mean-pooled over the real (unpadded) tokens -> Linear(D, classes) (nn/heads.h).
// Texts are cut to the model's n tokens and padded to the longest of their batch with the padding mask; a
// Linformer projects the L <= n rows with the first L rows of E. Reports test accuracy and macro-F1 after
// every epoch, and at the end against a majority-class and a bag-of-pieces logistic-regression baseline.
// Writes <out>/metrics.csv, curves.png, checkpoint.safetensors (resumes bit-identically) and
// model.safetensors (for --predict).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>

#include "data/classification.h"
#include "examples/common/class_metrics.h"
#include "examples/common/classifier_model.h"
#include "examples/common/classifier_options.h"
#include "examples/common/cli_checks.h"
#include "examples/common/csv.h"
#include "examples/common/divergence_guard.h"
#include "examples/common/entry.h"
#include "examples/common/epoch_loop.h"
#include "examples/common/mlm_options.h"
#include "io/safetensors.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "ops/ops.h"

using namespace lf;

namespace {

using Options = ClassifierOptions;
constexpr const char* kSample = "My computer crashed and took the whole network down with it.";

std::string top_line(const std::vector<std::pair<std::string, double>>& top) {
  std::string s;
  for (const auto& [label, p] : top) s += fmt::format("  {} {:.3f}", label, p);
  return s;
}

int predict(const Options& o) {
  const std::string path = o.model.empty() ? o.out + "/model.safetensors" : o.model;
  ClassifierFile f = with_flag("--model", path, [&] { return load_classifier_file(path); });
  SequenceClassifier model(f.cfg, int64_t(f.classes.size()));
  model.load_state_dict(f.weights);
  model.eval();
  fmt::print("{}\n", top_line(classify_text(model, f.tok, f.classes, o.predict)));
  return 0;
}

// The predicted labels of `ids` in batches of 64, without recording a graph (dropout off).
std::vector<int64_t> predict_all(SequenceClassifier& model, const std::vector<std::vector<int64_t>>& ids,
                                 const std::vector<int64_t>& labels, int64_t pad) {
  NoGradGuard no_grad;
  model.eval();
  std::vector<int64_t> predicted;
  for (size_t b = 0; b < ids.size(); b += 64) {
    std::vector<int64_t> rows;
    for (size_t i = b; i < std::min(ids.size(), b + 64); ++i) rows.push_back(int64_t(i));
    PaddedBatch x = pad_batch(ids, labels, rows, model.cfg.max_len, pad);
    const std::vector<int64_t> best = argmax_rows(model.forward(x.ids, x.mask));
    predicted.insert(predicted.end(), best.begin(), best.end());
  }
  model.train();
  return predicted;
}

// What a pretrained file says about its corpus: whether the test split can have been pretrained on.
void report_pretraining_corpus(const std::map<std::string, std::string>& meta, const TextCorpus& corpus,
                               const std::string& path) {
  const nlohmann::json train = train_metadata(meta, path);
  if (!train.contains("corpus_fnv1a")) {
    fmt::print("note: {} does not record its pretraining corpus (a model file): make sure it never trained "
               "on the test fortunes (train_mlm's validation split)\n", path);
  } else if (train.at("corpus_fnv1a") != corpus_fingerprint(corpus).at("corpus_fnv1a")) {
    fmt::print("warning: {} was pretrained on another corpus than --corpus {}: the test fortunes may have "
               "been in its training text\n", path, corpus.source());
  } else {
    fmt::print("pretrained on this corpus: the test fortunes were its validation split, never trained on\n");
  }
}

int train(const CLI::App& app, Options& o) {
  check_classifier_flags(app, o);
  if (!o.predict.empty()) return predict(o);
  const bool resuming = !o.resume.empty();
  LoadedCheckpoint loaded;
  EpochProgress at;
  EncoderConfig cfg;
  Tokenizer tok = Tokenizer::bytes();
  std::vector<std::string> stored_classes;
  if (resuming) {
    loaded = with_flag("--resume", o.resume, [&] { return load_checkpoint(o.resume); });
    with_flag("--resume", o.resume, [&] {
      at = epoch_progress(loaded, ResumeSettings(app, o.resume));
      adopt_classifier_settings(app, o, train_metadata(loaded.ck.meta, o.resume), at.epoch - 1);
      cfg = config_from_meta(loaded.ck.meta, o.resume);
      tok = tokenizer_from_meta(loaded.ck.meta, o.resume);
      stored_classes = classes_from_meta(loaded.ck.meta, o.resume);
    });
  }
  LF_USAGE_CHECK(app.count("--stop-at") == 0 || o.stop_at > at.step,
                 "--stop-at {} is not beyond the checkpoint's step {}", o.stop_at, at.step);
  const RunFiles files = prepare_run_files(o.out, resuming);

  const TextCorpus corpus = with_flag("--corpus", o.corpus, [&] { return TextCorpus::from_fortunes(o.corpus); });
  if (resuming) check_same_corpus(train_metadata(loaded.ck.meta, o.resume), corpus, o.resume);
  const TopicSplit data = with_flag("--corpus", o.corpus, [&] { return fortune_topics(corpus, o.classes); });
  LF_CHECK(!resuming || stored_classes == data.classes, "{}: its classes are not the --corpus files' any more",
           o.resume);

  MlmFile pretrained;
  if (!o.init.empty() && !resuming) {
    pretrained = with_flag("--init", o.init, [&] {
      std::map<std::string, std::string> meta;
      NamedTensors all = load_safetensors(o.init, &meta);
      report_pretraining_corpus(meta, corpus, o.init);
      return mlm_file_from(all, meta, o.init);
    });
    cfg = pretrained.cfg, tok = pretrained.tok;
    cfg.dropout = o.dropout;  // a training setting: the fine-tuning run's, not the pretraining's
  } else if (!resuming) {
    auto t = std::chrono::steady_clock::now();
    tok = Tokenizer::train_subword(corpus.split(0.05).train, o.vocab);
    fmt::print("tokenizer: SentencePiece BPE, {} ids, trained on the training split in {:.1f} s\n",
               tok.vocab_size(), std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count());
    cfg = classifier_config_from_flags(o, tok.vocab_size());
  }
  const int64_t C = int64_t(data.classes.size());
  manual_seed(o.seed);
  SequenceClassifier model(cfg, C);
  if (!o.init.empty() && !o.from_scratch && !resuming)
    with_flag("--init", o.init, [&] { load_pretrained_encoder(model, pretrained, o.init); });

  // The texts as token ids, and their labels.
  std::vector<std::vector<int64_t>> train_ids, test_ids;
  std::vector<int64_t> train_y, test_y;
  for (const LabelledText& t : data.train) train_ids.push_back(tok.encode(t.text)), train_y.push_back(t.label);
  for (const LabelledText& t : data.test) test_ids.push_back(tok.encode(t.text)), test_y.push_back(t.label);
  fmt::print("task: {} classes ({}), {} training and {} test fortunes\n", C, fmt::join(data.classes, ", "),
             train_ids.size(), test_ids.size());
  fmt::print("model: {} attention{}, n {}, dim {}, depth {}, heads {}: {} parameters, {}\n",
             attention_kind_name(cfg.kind),
             cfg.kind == AttentionKind::linformer ? fmt::format(" k {}", cfg.k) : std::string(), cfg.max_len,
             cfg.dim, cfg.depth, cfg.heads, model.num_parameters(),
             resuming ? "resumed" : o.init.empty() ? "from scratch" : o.from_scratch ? "from scratch (--init's config and tokenizer)" : "encoder pretrained (" + o.init + ")");

  LF_USAGE_CHECK(o.batch <= int64_t(train_ids.size()), "--batch {} exceeds the {} training texts", o.batch,
                 train_ids.size());
  const int64_t total = int64_t(train_ids.size()) / o.batch * o.epochs;
  LF_USAGE_CHECK(app.count("--stop-at") == 0 || o.stop_at <= total, "--stop-at {} is beyond the run's {} steps",
                 o.stop_at, total);
  AdamW opt(model.named_parameters(), o.lr, 0.9, 0.999, 1e-8, o.weight_decay);
  LRSchedule schedule(o.lr, std::min(o.warmup, total), total, Decay::cosine, o.lr * 0.02);
  Rng rng(o.seed);
  if (resuming) {
    with_flag("--resume", o.resume, [&] { restore_checkpoint(loaded, model, opt); });
    rng.set_state(at.epoch_rng);
    fmt::print("resumed from {} at step {} of {} (epoch {})\n", o.resume, at.step, total, at.epoch);
    auto keep = [&](double s) { return s < double(at.step) || (s == double(at.step) && at.epoch_step == 0); };
    keep_csv_rows(files.metrics, "step", keep);
  }
  CsvWriter csv(files.metrics, {"epoch", "step", "train_loss", "test_accuracy", "test_macro_f1", "seconds"},
                /*append=*/at.step > 0);
  std::map<std::string, std::string> meta = classifier_meta(cfg, tok, data.classes);
  std::map<std::string, std::string> ck_meta = meta;
  ck_meta["train"] = classifier_train_settings(o, corpus).dump();
  DivergenceGuard guard(files.checkpoint, model.parameters(), at.step,
                        "start again with a lower --lr, or a smaller --clip");

  Progress progress(total, "train", "text");
  progress.resume_from(at.step);
  const auto t0 = std::chrono::steady_clock::now();
  ClassScores scores;
  EpochHooks hooks;
  hooks.step = [&](const std::vector<int64_t>& rows, int64_t step) {
    PaddedBatch b = pad_batch(train_ids, train_y, rows, cfg.max_len, tok.pad_id());
    opt.set_lr(schedule.at(opt.step_count()));
    return guard.step(step, cross_entropy(model.forward(b.ids, b.mask), b.labels), opt, o.clip);
  };
  hooks.end_epoch = [&](int64_t epoch, int64_t step, double mean_loss, bool) {
    scores = score_predictions(test_y, predict_all(model, test_ids, test_y, tok.pad_id()), C);
    progress.message(fmt::format("epoch {}: train loss {:.4f}, test accuracy {:.2f}%, macro-F1 {:.3f}", epoch,
                                 mean_loss, 100 * scores.accuracy, scores.macro_f1));
    csv.row({epoch, step, mean_loss, scores.accuracy, scores.macro_f1,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()});
  };
  hooks.save = [&](const EpochProgress& p) { guard.save(model, opt, epoch_checkpoint(ck_meta, p)); };
  const EpochPlan plan{int64_t(train_ids.size()), o.batch, o.epochs, o.checkpoint_every,
                       app.count("--stop-at") ? o.stop_at : 0};
  const EpochOutcome done = run_epochs(plan, at, rng, progress, hooks);
  progress.finish();
  plot_epoch_curves(files.metrics, o.out + "/curves.png", "fortune topics");
  if (done.stopped && done.step < total) {
    fmt::print("stopped at step {} of {} (--stop-at); continue with: train_classifier --resume {}\n", done.step,
               total, files.checkpoint);
    return 0;
  }
  save_safetensors(o.out + "/model.safetensors", model.state_dict(), meta);

  // The baselines, on the same split and tokens.
  const ClassScores majority =
      score_predictions(test_y, std::vector<int64_t>(test_y.size(), majority_class(train_y, C)), C);
  const ClassScores bag = score_predictions(
      test_y,
      bag_of_pieces_baseline(train_ids, train_y, test_ids, tok.vocab_size(), C,
                             {.epochs = o.baseline_epochs, .seed = o.seed}),
      C);
  model.eval();
  const std::string sample = o.sample.empty() ? kSample : o.sample;
  fmt::print("\n== summary ({} test fortunes, {} classes)\n", test_y.size(), C);
  fmt::print("majority class         accuracy {:6.2f}%  macro-F1 {:.3f}\n", 100 * majority.accuracy,
             majority.macro_f1);
  fmt::print("bag-of-pieces logistic accuracy {:6.2f}%  macro-F1 {:.3f}\n", 100 * bag.accuracy, bag.macro_f1);
  fmt::print("this model             accuracy {:6.2f}%  macro-F1 {:.3f}  ({} steps)\n", 100 * scores.accuracy,
             scores.macro_f1, done.step);
  for (int64_t c = 0; c < C; ++c)
    fmt::print("  F1 {:<16} {:.3f} (bag of pieces {:.3f})\n", data.classes[size_t(c)], scores.f1[size_t(c)],
               bag.f1[size_t(c)]);
  fmt::print("\"{}\"\n{}\n", sample, top_line(classify_text(model, tok, data.classes, sample)));
  fmt::print("files {0}/metrics.csv, {0}/curves.png, {0}/checkpoint.safetensors, {0}/model.safetensors\n", o.out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Fine-tune a pretrained encoder (train_mlm --out ...) on which fortunes file a fortune comes from, "
               "or train the same classifier from scratch; --predict labels a text."};
  add_classifier_options(app, o);
  return run_program("train_classifier", app, argc, argv, [&] { return train(app, o); },
                     "use smaller sizes (--batch, or a model with a smaller --seq-len or --dim)");
}
