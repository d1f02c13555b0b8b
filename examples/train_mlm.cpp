// train_mlm: a masked language model on real English text, with Linformer or standard attention.
//
//   build/train_mlm                                   # defaults: a few minutes on 2 cores, fortunes corpus
//   build/train_mlm --attention standard              # the same model with O(n^2) attention
//   build/train_mlm --seq-len 512 --k 128 --sharing layerwise --steps 2000
//   build/train_mlm --resume runs/mlm/checkpoint.safetensors --steps 8000   # continue a run
//   build/train_mlm --tokenizer bytes                   # byte-level, as before subwords
//
// First run: a SentencePiece BPE tokenizer is trained on the training documents (nn/tokenizer.h) and
// stored in every file the run writes. Each step: a batch of random token windows with 15% of the words
// masked (nn/data_text.h) -> MaskedLM::forward_at, logits only at the masked positions -> cross_entropy ->
// backward -> clip -> AdamW with warmup + cosine. Writes <out>/metrics.csv, <out>/loss.png,
// <out>/checkpoint.safetensors (to resume) and <out>/model.safetensors (weights, config and tokenizer, for
// fill_mask and other programs); ends with validation loss, bits per byte and a filled-in sentence.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "examples/common/csv.h"
#include "examples/common/mlm_common.h"
#include "examples/common/plot.h"
#include "examples/common/progress.h"
#include "nn/checkpoint.h"
#include "nn/data_text.h"
#include "nn/optim.h"
#include "nn/safetensors.h"
#include "nn/schedule.h"
#include "ops/ops.h"

using namespace lf;

namespace {

struct Options {
  std::string corpus = kFortunesDir, out = "runs/mlm", resume, attention = "linformer", sharing = "layerwise";
  std::string tokenizer = "subword", masking = "whole-word", proj_init = "pooling", heldout;
  std::string decay = "cosine", sample;
  int64_t seq_len = 128, k = 64, dim = 128, depth = 2, heads = 4, batch = 16, steps = 8000, warmup = 100;
  int64_t vocab = 4096, eval_every = 500, eval_batches = 8, checkpoint_every = 500;
  double lr = 2e-3, weight_decay = 0.01, dropout = 0.0, clip = 1.0, token_init_std = 1.0;
  bool tie = false;
  bool whole_words = true;  // derived from --masking
  uint64_t seed = 1;
};

// The sample sentence when --sample is not given: word blanks for subwords, letter blanks for bytes.
const char* kWordSample = "I think, therefore I ___. She said that ___ would come back tomorrow.";
const char* kByteSample = "The quick brown fox jumps over the l_zy dog. A f__end in need is a fr__nd indeed.";

// Masked-token loss over fixed batches: nats per masked token, and bits per byte of the text those tokens
// cover (total loss / ln 2 / their bytes), which compares tokenizers: a subword covers ~4 bytes.
struct Eval {
  double nats_per_token = NAN, bits_per_byte = NAN;
};

Eval evaluate(MaskedLM& model, const Tokenizer& tok, const std::vector<int64_t>& ids, const Options& o,
              int64_t batches) {
  NoGradGuard no_grad;
  model.eval();
  MlmBatcher batcher(ids, o.seq_len, o.batch, /*seed=*/o.seed + 7919, masking_rule(tok, o.whole_words));
  double nats = 0, tokens = 0, bytes = 0;
  for (int64_t i = 0; i < batches; ++i) {
    MlmBatch b = batcher.next();
    const int64_t M = b.labels.numel();
    nats += cross_entropy(model.forward_at(b.input, b.positions), b.labels).item() * double(M);
    tokens += double(M);
    for (int64_t id : b.labels.to_vector<int64_t>()) bytes += double(tok.bytes_of(id));
  }
  model.train();
  return {nats / tokens, nats / std::log(2.0) / bytes};
}

void plot_curves(const std::string& csv_path, const std::string& png) {
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
  write_line_plot(png, {train, valid}, {.title = "masked LM loss (nats per masked token)", .x_label = "step",
                                        .y_label = "loss", .markers = false});
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Train a masked language model (Linformer or standard attention) on a text corpus."};
  app.add_option("--corpus", o.corpus, "text file, or a directory of fortune files")->capture_default_str();
  app.add_option("--out", o.out, "directory for metrics.csv, loss.png and checkpoint.safetensors")
      ->capture_default_str();
  app.add_option("--resume", o.resume, "continue from this checkpoint (model config comes from it)");
  app.add_option("--tokenizer", o.tokenizer, "subword (SentencePiece BPE, trained on the corpus) | bytes")
      ->capture_default_str();
  app.add_option("--vocab", o.vocab, "subword vocabulary size (specials and 256 byte pieces included)")
      ->capture_default_str();
  app.add_option("--masking", o.masking, "whole-word (a word's pieces together) | token")->capture_default_str();
  app.add_option("--attention", o.attention, "linformer | standard")->capture_default_str();
  app.add_option("--k", o.k, "Linformer's projected length")->capture_default_str();
  app.add_option("--sharing", o.sharing, "none | headwise | kv | layerwise")->capture_default_str();
  app.add_option("--proj-init", o.proj_init, "how E and F start: pooling | uniform | xavier | gaussian")
      ->capture_default_str();
  app.add_option("--seq-len", o.seq_len, "sequence length n")->capture_default_str();
  app.add_option("--dim", o.dim, "model width")->capture_default_str();
  app.add_option("--depth", o.depth, "encoder blocks")->capture_default_str();
  app.add_option("--heads", o.heads, "attention heads")->capture_default_str();
  app.add_option("--dropout", o.dropout, "dropout on residual branches")->capture_default_str();
  app.add_flag("--tie-embeddings,!--no-tie-embeddings", o.tie, "the output head reuses the token embedding")
      ->capture_default_str();
  app.add_option("--token-init-std", o.token_init_std, "std of the token embedding's normal init")
      ->capture_default_str();
  app.add_option("--steps", o.steps, "total optimizer steps")->capture_default_str();
  app.add_option("--batch", o.batch, "sequences per step")->capture_default_str();
  app.add_option("--lr", o.lr, "peak learning rate")->capture_default_str();
  app.add_option("--warmup", o.warmup, "linear warmup steps")->capture_default_str();
  app.add_option("--decay", o.decay, "constant | linear | cosine")->capture_default_str();
  app.add_option("--weight-decay", o.weight_decay, "AdamW's decoupled weight decay")->capture_default_str();
  app.add_option("--clip", o.clip, "gradient norm clip")->capture_default_str();
  app.add_option("--seed", o.seed, "seed for init, data and dropout")->capture_default_str();
  app.add_option("--eval-every", o.eval_every, "steps between validations")->capture_default_str();
  app.add_option("--eval-batches", o.eval_batches, "validation batches")->capture_default_str();
  app.add_option("--checkpoint-every", o.checkpoint_every, "steps between checkpoints")->capture_default_str();
  app.add_option("--heldout", o.heldout, "a text file nothing trains on: its loss is reported at the end");
  app.add_option("--sample", o.sample, "sentence whose blanks the model fills in at the end (default: one with "
                 "___ word blanks for subword, _ letter blanks for bytes)");
  CLI11_PARSE(app, argc, argv);

  try {
    LF_CHECK(o.masking == "whole-word" || o.masking == "token", "--masking '{}' (choose whole-word or token)",
             o.masking);
    o.whole_words = o.masking == "whole-word";
    std::filesystem::create_directories(o.out);
    const std::string ckpt_path = o.out + "/checkpoint.safetensors", csv_path = o.out + "/metrics.csv";
    TextCorpus corpus = TextCorpus::load(o.corpus);
    TextCorpus::Split split = corpus.split(0.05);
    fmt::print("corpus: {} ({:.2f} MB, {} documents; {} train / {} validation bytes)\n", corpus.source(),
               double(corpus.size_bytes()) / 1e6, corpus.documents().size(), TextCorpus::Split::bytes(split.train),
               TextCorpus::Split::bytes(split.valid));

    // The model config and tokenizer: from the checkpoint when resuming, else from the flags (a subword
    // tokenizer is trained here, on the training documents only).
    EncoderConfig cfg;
    Tokenizer tok = Tokenizer::bytes();
    LoadedCheckpoint loaded;
    if (!o.resume.empty()) {
      loaded = load_checkpoint(o.resume);
      cfg = config_from_meta(loaded.ck.meta, o.resume);
      tok = tokenizer_from_meta(loaded.ck.meta, o.resume);
    } else {
      if (parse_tokenizer_kind(o.tokenizer) == TokenizerKind::subword) {
        auto t0 = std::chrono::steady_clock::now();
        tok = Tokenizer::train_subword(split.train, o.vocab);
        fmt::print("tokenizer: SentencePiece BPE, {} ids, trained in {:.1f} s\n", tok.vocab_size(),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      cfg.vocab = tok.vocab_size();
      cfg.dim = o.dim, cfg.depth = o.depth, cfg.heads = o.heads, cfg.max_len = o.seq_len, cfg.k = o.k;
      cfg.kind = parse_attention_kind(o.attention);
      cfg.sharing = parse_sharing(o.sharing);
      cfg.proj_init = parse_projection_init(o.proj_init);
      cfg.dropout = o.dropout;
      cfg.tie_embeddings = o.tie;
      cfg.token_init_std = o.token_init_std;
      cfg.validate();
    }
    LF_CHECK(o.seq_len <= cfg.max_len, "--seq-len {} exceeds the checkpoint's max_len {}", o.seq_len,
             cfg.max_len);
    const std::vector<int64_t> train_ids = tok.encode_documents(split.train), valid_ids = tok.encode_documents(split.valid);
    const double unigram = unigram_cross_entropy(train_ids, valid_ids, tok.vocab_size());
    fmt::print("tokens: {} train / {} validation ({:.2f} bytes per token); masking: {}; unigram baseline {:.4f} nats\n",
               train_ids.size(), valid_ids.size(), double(TextCorpus::Split::bytes(split.train)) / double(train_ids.size()),
               o.masking, unigram);

    // The held-out text is read now, so that a missing or too short file fails before training, not after.
    std::vector<int64_t> held_ids;
    if (!o.heldout.empty()) {
      held_ids = tok.encode_documents(TextCorpus::load(o.heldout).documents());
      LF_CHECK(int64_t(held_ids.size()) >= o.seq_len, "--heldout {} has {} tokens, fewer than --seq-len {}",
               o.heldout, held_ids.size(), o.seq_len);
    }
    const std::string sample =
        o.sample.empty() ? (tok.kind() == TokenizerKind::subword ? kWordSample : kByteSample) : o.sample;

    manual_seed(o.seed);
    MaskedLM model(cfg);
    AdamW opt(model.named_parameters(), o.lr, 0.9, 0.999, 1e-8, o.weight_decay);
    LRSchedule schedule(o.lr, o.warmup, o.steps, parse_decay(o.decay), o.lr * 0.05);
    MlmBatcher batcher(train_ids, o.seq_len, o.batch, o.seed, masking_rule(tok, o.whole_words));
    int64_t start = 0;
    if (!o.resume.empty()) {
      restore_checkpoint(loaded, model, opt);
      bool rng = false;
      for (auto& [name, t] : loaded.ck.extra)
        if (name == "data_rng") batcher.set_rng_state(rng_state_from_tensor(t)), rng = true;
      LF_CHECK(rng, "{} has no extra.data_rng (the batcher's state), so the run cannot continue exactly",
               o.resume);
      start = loaded.ck.step;
      fmt::print("resumed from {} at step {}\n", o.resume, start);
    }
    fmt::print("model: {} attention{}, dim {}, depth {}, heads {}, n {}, vocab {}: {} parameters\n",
               attention_kind_name(cfg.kind),
               cfg.kind == AttentionKind::linformer
                   ? fmt::format(" (k {}, {} sharing, {} init)", cfg.k, sharing_name(cfg.sharing),
                                 projection_init_name(cfg.proj_init))
                   : "",
               cfg.dim, cfg.depth, cfg.heads, o.seq_len, cfg.vocab, model.num_parameters());

    CsvWriter csv(csv_path, {"step", "lr", "train_loss", "val_loss", "val_bits_per_byte", "tokens_per_s", "seconds"},
                  /*append=*/start > 0);
    const std::map<std::string, std::string> meta = mlm_meta(cfg, tok);
    auto save = [&](int64_t step) {
      Checkpoint ck{step, {}, meta, {{"data_rng", rng_state_to_tensor(batcher.rng_state())}}};
      save_checkpoint(ckpt_path, model, opt, ck);
    };

    Progress progress(o.steps, "train", "tok");
    progress.resume_from(start);
    auto t0 = std::chrono::steady_clock::now();
    Eval val;
    std::vector<Tensor> params = model.parameters();
    for (int64_t step = start + 1; step <= o.steps; ++step) {
      opt.set_lr(schedule.at(opt.step_count()));
      MlmBatch b = batcher.next();
      auto ts = std::chrono::steady_clock::now();
      Tensor loss = cross_entropy(model.forward_at(b.input, b.positions), b.labels);  // logits [M, V]
      opt.zero_grad();
      loss.backward();
      clip_grad_norm(params, o.clip);
      opt.step();
      double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
      double l = loss.item(), tok_s = double(o.batch * o.seq_len) / dt;
      progress.update(step, l, double(o.batch * o.seq_len), fmt::format("lr {:.1e}", opt.lr()));

      bool last = step == o.steps;
      Eval v;
      if (step % o.eval_every == 0 || last) {
        v = val = evaluate(model, tok, valid_ids, o, o.eval_batches);
        progress.message(fmt::format("step {:>6}: validation loss {:.4f} nats per masked token, {:.3f} bits per byte",
                                     step, v.nats_per_token, v.bits_per_byte));
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      csv.row({step, opt.lr(), l, v.nats_per_token, v.bits_per_byte, tok_s, secs});
      if (step % o.checkpoint_every == 0 || last) save(step);
    }
    progress.finish();
    plot_curves(csv_path, o.out + "/loss.png");
    const std::string model_path = o.out + "/model.safetensors";
    save_safetensors(model_path, model.state_dict(), meta);

    model.eval();
    fmt::print("\n== summary\n");
    fmt::print("validation loss     {:.4f} nats per masked token ({} masking, {} tokenizer)\n", val.nats_per_token,
               o.masking, tokenizer_kind_name(tok.kind()));
    fmt::print("unigram baseline    {:.4f} nats (token frequencies alone): the model is {:.1f}% below it\n", unigram,
               100 * (1 - val.nats_per_token / unigram));
    fmt::print("bits per byte       {:.3f} of the masked text (8.000 would be knowing nothing about bytes)\n",
               val.bits_per_byte);
    if (!held_ids.empty()) {
      Eval h = evaluate(model, tok, held_ids, o, std::max<int64_t>(o.eval_batches, 16));
      fmt::print("held-out loss       {:.4f} nats per masked token, {:.3f} bits per byte ({})\n", h.nats_per_token,
                 h.bits_per_byte, o.heldout);
    }
    try {  // a sample longer than the model's n (e.g. with a small --seq-len) must not fail a finished run
      FilledBlanks filled = fill_blanks(model, tok, sample);
      fmt::print("fill-mask           {}\n                 -> {}\n", sample, filled.text);
      for (size_t b = 0; b < filled.candidates.size() && b < 4; ++b)
        fmt::print("  blank {}:{}\n", b + 1, candidates_line(filled.candidates[b], 2));
    } catch (const Error& e) {
      fmt::print("fill-mask           skipped: {}\n", e.what());
    }
    fmt::print("files               {}, {}/loss.png, {}, {}\n", csv_path, o.out, ckpt_path, model_path);
  } catch (const Error& e) {
    fmt::print(stderr, "train_mlm: {}\n", e.what());
    return 1;
  }
  return 0;
}
