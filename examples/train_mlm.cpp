// train_mlm: a masked language model on real English text, with Linformer or standard attention.
//
//   build/train_mlm                                   # defaults: a few minutes on 2 cores, fortunes corpus
//   build/train_mlm --attention standard              # the same model with O(n^2) attention
//   build/train_mlm --seq-len 512 --k 128 --sharing layerwise --steps 2000
//   build/train_mlm --resume runs/mlm/checkpoint.safetensors    # continue a run, with its own settings
//   build/train_mlm --tokenizer bytes                   # byte-level, as before subwords
//
// First run: a SentencePiece BPE tokenizer is trained on the training documents (data/tokenizer.h) and
// stored in every file the run writes. Each step: a batch of random token windows with 15% of the words
// masked (data/text.h) -> MaskedLM::forward_at, logits only at the masked positions -> cross_entropy ->
// backward -> clip -> AdamW with warmup + cosine. Writes <out>/metrics.csv, <out>/loss.png,
// <out>/checkpoint.safetensors (to resume) and <out>/model.safetensors (weights, config and tokenizer, for
// fill_mask and other programs); ends with validation loss, bits per byte and a filled-in sentence.
//
// `mpirun -np N build/train_mlm ...` trains one model on N processes (data parallel, docs/distributed.md):
// --batch is per rank, every rank trains on its rows of the same global batch, gradients are summed.
//
// Every flag is checked before any work (examples/common/mlm_options.cpp), a resumed run takes its settings
// from the checkpoint and refuses flags that contradict it, and a loss that becomes NaN or infinite stops the
// run with the last good checkpoint kept (docs/errors.md).
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "examples/common/cli_checks.h"
#include "examples/common/csv.h"
#include "examples/common/distributed.h"
#include "examples/common/divergence_guard.h"
#include "examples/common/entry.h"
#include "examples/common/mlm_common.h"
#include "examples/common/mlm_options.h"
#include "examples/common/plot.h"
#include "examples/common/progress.h"
#include "examples/common/resume.h"
#include "io/checkpoint.h"
#include "data/text.h"
#include "nn/optim.h"
#include "io/safetensors.h"
#include "nn/schedule.h"
#include "ops/ops.h"

using namespace lf;

namespace {

using Options = MlmOptions;

// The sample sentence when --sample is not given: word blanks for subwords, letter blanks for bytes.
const char* kWordSample = "I think, therefore I ___. She said that ___ would come back tomorrow.";
const char* kByteSample = "The quick brown fox jumps over the l_zy dog. A f__end in need is a fr__nd indeed.";

// The batches' rule: BERT-style masking, or with --causal next-token prediction (every position a target).
MaskingRule batch_rule(const Tokenizer& tok, const Options& o) {
  MaskingRule rule = masking_rule(tok, o.whole_words);
  rule.next_token = o.causal;
  return rule;
}

// What a target token is, for messages: masked ones, or (--causal) every next token.
const char* target_kind(const Options& o) { return o.causal ? "next token" : "masked token"; }

// Masked-token loss over fixed batches: nats per masked token, and bits per byte of the text those tokens
// cover (total loss / ln 2 / their bytes), which compares tokenizers: a subword covers ~4 bytes.
struct Eval {
  double nats_per_token = NAN, bits_per_byte = NAN;
};

// This rank's rows of a global batch; on one process the batch itself (no copy of its targets per step).
MlmBatch my_rows(const MlmBatch& global, int64_t per_rank, const Distributed& dist) {
  if (dist.size() == 1) return global;
  return batch_rows(global, dist.first_row(per_rank), dist.first_row(per_rank) + per_rank);
}

// In a data-parallel job every rank scores its rows of the same global batches and the sums are added up.
Eval evaluate(MaskedLM& model, const Tokenizer& tok, const std::vector<int64_t>& ids, const Options& o,
              int64_t batches, const Distributed& dist) {
  NoGradGuard no_grad;
  model.eval();
  MlmBatcher batcher(ids, o.seq_len, o.batch * dist.size(), /*seed=*/o.seed + 7919, batch_rule(tok, o));
  double sums[3] = {0, 0, 0};  // nats, tokens, bytes
  for (int64_t i = 0; i < batches; ++i) {
    MlmBatch b = my_rows(batcher.next(), o.batch, dist);
    const int64_t M = b.labels.numel();
    if (M == 0) continue;
    sums[0] += cross_entropy(model.forward_at(b.input, b.positions), b.labels).item() * double(M);
    sums[1] += double(M);
    for (int64_t id : b.labels.to_vector<int64_t>()) sums[2] += double(tok.bytes_of(id));
  }
  dist.comm().all_reduce_sum(sums, 3);
  model.train();
  return {sums[0] / sums[1], sums[0] / std::log(2.0) / sums[2]};
}

void plot_curves(const std::string& csv_path, const std::string& png, const Options& o) {
  // Re-read the CSV so a resumed run plots its whole history.
  std::FILE* f = std::fopen(csv_path.c_str(), "r");
  if (!f) return;
  PlotSeries train{"train loss", {}, {}}, valid{"validation loss", {}, {}};
  char line[512];
  bool header = true;
  while (std::fgets(line, sizeof line, f)) {
    if (header) { header = false; continue; }
    double step, lr, tl, vl;
    int got = std::sscanf(line, "%lf,%lf,%lf,%lf", &step, &lr, &tl, &vl);
    if (got >= 3) train.x.push_back(step), train.y.push_back(tl);
    if (got == 4 && !std::isnan(vl)) valid.x.push_back(step), valid.y.push_back(vl);
  }
  std::fclose(f);
  write_line_plot(png, {train, valid},
                  {.title = fmt::format("{} loss (nats per {})", o.causal ? "causal LM" : "masked LM", target_kind(o)),
                   .x_label = "step",
                   .y_label = "loss",
                   .markers = false});
}

// The tokens of one side of the split, checked against n: too few is an error now, not at the first
// validation after training has started.
void check_enough(const std::vector<int64_t>& ids, const char* part, const Options& o) {
  LF_CHECK(
      int64_t(ids.size()) >= o.seq_len,
      "--corpus {}: its {} part has {} tokens, fewer than --seq-len {} (use a larger corpus or a smaller "
      "--seq-len)",
      o.corpus, part, ids.size(), o.seq_len);
}

int train(const CLI::App& app, Options& o, int argc, char** argv) {
  Distributed dist(argc, argv);
  check_resume_flags(app, o.steps, o.stop_at);
  // Resuming: the model config, the tokenizer and the run's settings come from the checkpoint, and the
  // flags are checked against them before anything else happens.
  EncoderConfig cfg;
  Tokenizer tok = Tokenizer::bytes();
  LoadedCheckpoint loaded;
  nlohmann::json stored;
  int64_t start = 0;
  if (!o.resume.empty()) {
    loaded = with_flag("--resume", o.resume, [&] { return load_checkpoint(o.resume); });
    cfg = with_flag("--resume", o.resume, [&] { return config_from_meta(loaded.ck.meta, o.resume); });
    tok = with_flag("--resume", o.resume, [&] { return tokenizer_from_meta(loaded.ck.meta, o.resume); });
    stored = train_metadata(loaded.ck.meta, o.resume);
    start = loaded.ck.step;
    adopt_checkpoint_settings(app, o, cfg, tok.kind(), stored, start);
  }
  check_mlm_flags(app, o, start);
  o.whole_words = o.masking == "whole-word";
  const RunFiles files = prepare_run_files(o.out, !o.resume.empty(), dist.writer());
  const std::string &ckpt_path = files.checkpoint, &csv_path = files.metrics;
  if (!o.resume.empty() && stored.empty())
    fmt::print(
        "note: {} has no 'train' metadata (an older checkpoint): the schedule and the training settings "
        "come from the flags\n",
        o.resume);

  TextCorpus corpus = with_flag("--corpus", o.corpus, [&] { return TextCorpus::load(o.corpus); });
  if (!o.resume.empty()) check_same_corpus(stored, corpus, o.resume);
  TextCorpus::Split split = corpus.split(0.05);
  fmt::print("corpus: {} ({:.2f} MB, {} documents; {} train / {} validation bytes)\n", corpus.source(),
             double(corpus.size_bytes()) / 1e6, corpus.documents().size(),
             TextCorpus::Split::bytes(split.train), TextCorpus::Split::bytes(split.valid));
  // A fresh run: the tokenizer (trained on the training documents only) and the model.
  if (o.resume.empty()) {
    if (o.tokenizer == "subword") {
      auto t0 = std::chrono::steady_clock::now();
      tok = Tokenizer::train_subword(split.train, o.vocab);
      fmt::print("tokenizer: SentencePiece BPE, {} ids, trained in {:.1f} s\n", tok.vocab_size(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    cfg = mlm_config_from_flags(o, tok.vocab_size());
  }
  const std::vector<int64_t> train_ids = tok.encode_documents(split.train),
                             valid_ids = tok.encode_documents(split.valid);
  check_enough(train_ids, "training", o);
  check_enough(valid_ids, "validation", o);
  const double unigram = unigram_cross_entropy(train_ids, valid_ids, tok.vocab_size());
  fmt::print(
      "tokens: {} train / {} validation ({:.2f} bytes per token); targets: {}; unigram baseline {:.4f} "
      "nats\n",
      train_ids.size(), valid_ids.size(),
      double(TextCorpus::Split::bytes(split.train)) / double(train_ids.size()),
      o.causal ? "every next token (causal LM)" : o.masking + " masking", unigram);

  // The held-out text and the sample are checked now, so that a bad one fails before training, not after.
  std::vector<int64_t> held_ids;
  if (!o.heldout.empty()) {
    held_ids = with_flag("--heldout", o.heldout,
                         [&] { return tok.encode_documents(TextCorpus::load(o.heldout).documents()); });
    LF_CHECK(int64_t(held_ids.size()) >= o.seq_len, "--heldout {} has {} tokens, fewer than --seq-len {}",
             o.heldout, held_ids.size(), o.seq_len);
  }
  const bool own_sample = app.count("--sample") > 0;
  const std::string sample = own_sample                             ? o.sample
                             : tok.kind() == TokenizerKind::subword ? kWordSample
                                                                    : kByteSample;
  if (own_sample && !o.causal)
    with_flag("--sample", "'" + sample + "'", [&] { check_blanks_fit(tok, sample, cfg.max_len); });

  manual_seed(o.seed);
  MaskedLM model(cfg);
  AdamW opt(model.named_parameters(), o.lr, 0.9, 0.999, 1e-8, o.weight_decay);
  // Adam moves every entry of E by about lr per step whatever its gradient, which buries the pooling
  // blocks of E's init under noise at large n; --proj-lr-scale slows (or, at 0, stops) that.
  for (auto& [name, p] : model.named_parameters())
    if (is_linformer_projection(name)) opt.set_lr_scale(name, o.proj_lr_scale);
  LRSchedule schedule(o.lr, o.warmup, o.steps, parse_decay(o.decay), o.min_lr());
  // Every rank draws the same global batch of size x --batch windows and trains on its own rows.
  MlmBatcher batcher(train_ids, o.seq_len, o.batch * dist.size(), o.seed, batch_rule(tok, o));
  if (!o.resume.empty()) {
    with_flag("--resume", o.resume, [&] { restore_checkpoint(loaded, model, opt); });
    bool rng = false;
    for (auto& [name, t] : loaded.ck.extra)
      if (name == "data_rng") batcher.set_rng_state(rng_state_from_tensor(t)), rng = true;
    LF_CHECK(rng, "--resume {}: no extra.data_rng (the batcher's state), so the run cannot continue exactly",
             o.resume);
    fmt::print("resumed from {} at step {} of {}\n", o.resume, start, o.steps);
    // Rows a crashed run wrote after its last checkpoint are written again below: drop them first.
    auto keep = [&](double s) { return s <= double(start); };
    if (int64_t dropped = dist.writer() ? keep_csv_rows(csv_path, "step", keep) : 0)
      fmt::print("{}: dropped {} rows after step {} (written after the checkpoint)\n", csv_path, dropped,
                 start);
  }
  fmt::print("model: {} attention{}, dim {}, depth {}, heads {}, n {}, vocab {}: {} parameters\n",
             attention_kind_name(cfg.kind),
             cfg.kind == AttentionKind::linformer
                 ? fmt::format(" (k {}, {} projection, {} sharing, {} init, E/F lr x{})",
                               cfg.layer_k.empty() ? std::to_string(cfg.k) : fmt::format("{}", fmt::join(cfg.layer_k, ",")),
                               projection_kind_name(cfg.projection), sharing_name(cfg.sharing),
                               projection_init_name(cfg.proj_init), o.proj_lr_scale)
                 : "",
             cfg.dim, cfg.depth, cfg.heads, o.seq_len, cfg.vocab, model.num_parameters());

  if (dist.size() > 1) fmt::print("{}\n", dist.banner(o.batch, "sequences"));
  // Rank 0 holds every rank's weights from here on; the reducer sums the gradients of each step.
  const std::unique_ptr<GradientReducer> reducer = dist.start_model(model);
  std::optional<CsvWriter> csv;
  if (dist.writer())
    csv.emplace(csv_path,
                std::vector<std::string>{"step", "lr", "train_loss", "val_loss", "val_bits_per_byte",
                                         "tokens_per_s", "seconds"},
                /*append=*/start > 0);
  const std::map<std::string, std::string> meta = mlm_meta(cfg, tok);
  std::map<std::string, std::string> ck_meta = meta;
  ck_meta["train"] = mlm_train_settings(o, corpus).dump();
  DivergenceGuard guard(ckpt_path, model.parameters(), start,
                        "start again with a lower --lr, or a smaller --clip");
  if (dist.size() > 1) guard.set_data_parallel(reducer.get());
  auto save = [&](int64_t step) {
    guard.save(model, opt, {step, {}, ck_meta, {{"data_rng", rng_state_to_tensor(batcher.rng_state())}}});
  };

  const int64_t end = app.count("--stop-at") ? std::min(o.stop_at, o.steps) : o.steps;
  Progress progress(o.steps, "train", "tok", dist.progress_stream());
  progress.resume_from(start);
  auto t0 = std::chrono::steady_clock::now();
  Eval val;
  for (int64_t step = start + 1; step <= end; ++step) {
    opt.set_lr(schedule.at(opt.step_count()));
    const MlmBatch global = batcher.next();
    const MlmBatch b = my_rows(global, o.batch, dist);
    auto ts = std::chrono::steady_clock::now();
    // This rank's share of the global batch's mean loss: its targets' mean, weighted by its share of the
    // targets, so that the sum over the ranks is the mean over all of them (one rank: the mean itself).
    const double share = double(b.labels.numel()) / double(global.labels.numel());
    // logits [M, V] at this rank's targets; a rank without any (a tiny batch) adds a zero loss and gradient
    Tensor loss = b.labels.numel() > 0
                      ? cross_entropy(model.forward_at(b.input, b.positions), b.labels) * share
                      : sum(model.forward(b.input)) * 0.0;
    const double l = guard.step(step, loss, opt, o.clip);
    double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    const double tokens = double(o.batch * dist.size() * o.seq_len);
    double tok_s = tokens / dt;
    progress.update(step, l, tokens, fmt::format("lr {:.1e}", opt.lr()));

    bool last = step == o.steps;
    Eval v;
    if (step % o.eval_every == 0 || last) {
      v = val = evaluate(model, tok, valid_ids, o, o.eval_batches, dist);
      guard.check(step, "validation loss", v.nats_per_token);
      progress.message(
          fmt::format("step {:>6}: validation loss {:.4f} nats per {}, {:.3f} bits per byte", step,
                      v.nats_per_token, target_kind(o), v.bits_per_byte));
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (csv) csv->row({step, opt.lr(), l, v.nats_per_token, v.bits_per_byte, tok_s, secs});
    if (step % o.checkpoint_every == 0 || step == end) save(step);
  }
  progress.finish();
  if (dist.writer()) plot_curves(csv_path, o.out + "/loss.png", o);
  if (end < o.steps) {
    fmt::print("stopped at step {} of {} (--stop-at); continue with: train_mlm --resume {}\n", end, o.steps,
               ckpt_path);
    return 0;
  }
  const std::string model_path = o.out + "/model.safetensors";
  if (dist.writer()) save_safetensors(model_path, model.state_dict(), meta);

  model.eval();
  fmt::print("\n== summary\n");
  fmt::print("validation loss     {:.4f} nats per {} ({}, {} tokenizer)\n", val.nats_per_token, target_kind(o),
             o.causal ? "causal LM" : o.masking + " masking", tokenizer_kind_name(tok.kind()));
  fmt::print("unigram baseline    {:.4f} nats (token frequencies alone): the model is {:.1f}% below it\n",
             unigram, 100 * (1 - val.nats_per_token / unigram));
  fmt::print("bits per byte       {:.3f} of the predicted text (8.000 would be knowing nothing about bytes)\n",
             val.bits_per_byte);
  if (!held_ids.empty()) {
    Eval h = evaluate(model, tok, held_ids, o, std::max<int64_t>(o.eval_batches, 16), dist);
    fmt::print("held-out loss       {:.4f} nats per {}, {:.3f} bits per byte ({})\n", h.nats_per_token,
               target_kind(o), h.bits_per_byte, o.heldout);
  }
  if (o.causal) {  // a causal LM continues text: the sample up to its first blank, and what the model adds
    const std::string prefix = sample.substr(0, std::min(sample.find('_'), sample.find("[MASK]")));
    fmt::print("continuation        {} -> {}\n", prefix, continue_text(model, tok, prefix, 12));
  } else try {  // the default sample may not fit a small --seq-len; a given --sample was checked before training
    FilledBlanks filled = fill_blanks(model, tok, sample);
    fmt::print("fill-mask           {}\n                 -> {}\n", sample, filled.text);
    for (size_t b = 0; b < filled.candidates.size() && b < 4; ++b)
      fmt::print("  blank {}:{}\n", b + 1, candidates_line(filled.candidates[b], 2));
  } catch (const Error& e) {
    fmt::print("fill-mask           skipped: {}\n", e.what());
  }
  if (dist.size() > 1) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("communication       {:.1f} s of {:.1f} s in the gradient all-reduce on rank 0 ({:.1f}%, "
               "waiting for the slowest rank included)\n",
               reducer->seconds_communicating(), secs, 100 * reducer->seconds_communicating() / secs);
  }
  fmt::print("files               {}, {}/loss.png, {}, {}\n", csv_path, o.out, ckpt_path, model_path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Train a masked language model (Linformer or standard attention) on a text corpus."};
  add_mlm_options(app, o);
  return run_data_parallel_program(
      "train_mlm", app, argc, argv, [&] { return train(app, o, argc, argv); },
      "use smaller sizes (--batch, --seq-len, --dim, --depth, --vocab)");
}
