// train_mlm: a masked language model on real English text, with Linformer or standard attention.
//
//   build/train_mlm                                   # defaults: a few minutes on 2 cores, fortunes corpus
//   build/train_mlm --attention standard              # the same model with O(n^2) attention
//   build/train_mlm --seq-len 512 --k 128 --sharing layerwise --steps 2000
//   build/train_mlm --resume runs/mlm/checkpoint.safetensors --steps 8000   # continue a run
//
// Each step: a batch of random byte windows with 15% of positions masked (nn/data_text.h) ->
// MaskedLM -> cross_entropy over the masked positions -> backward -> clip -> AdamW with warmup + cosine.
// Writes <out>/metrics.csv, <out>/loss.png and <out>/checkpoint.safetensors; ends with validation loss,
// bits per character and a filled-in sentence.
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
#include "nn/schedule.h"
#include "ops/ops.h"

using namespace lf;

namespace {

struct Options {
  std::string corpus = kFortunesDir, out = "runs/mlm", resume, attention = "linformer", sharing = "layerwise";
  std::string decay = "cosine", sample = "The quick brown fox jumps over the l_zy dog. A f__end in need is a fr__nd indeed.";
  int64_t seq_len = 128, k = 32, dim = 128, depth = 2, heads = 4, batch = 16, steps = 4000, warmup = 100;
  int64_t eval_every = 250, eval_batches = 8, checkpoint_every = 500;
  double lr = 2e-3, weight_decay = 0.01, dropout = 0.0, clip = 1.0, token_init_std = 1.0;
  uint64_t seed = 1;
};

// Mean masked-token loss over a fixed set of validation batches (same batches at every evaluation).
double evaluate(MaskedLM& model, const std::vector<int64_t>& valid, const Options& o) {
  NoGradGuard no_grad;
  model.eval();
  MlmBatcher batcher(valid, o.seq_len, o.batch, /*seed=*/o.seed + 7919);
  double total = 0;
  for (int64_t i = 0; i < o.eval_batches; ++i) {
    MlmBatch b = batcher.next();
    Tensor logits = model.forward(b.input);
    total += cross_entropy(logits.reshape({-1, logits.size(-1)}), b.target.reshape({-1}), kIgnoreIndex).item();
  }
  model.train();
  return total / double(o.eval_batches);
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
  write_line_plot(png, {train, valid}, {.title = "masked LM loss (nats per masked byte)", .x_label = "step",
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
  app.add_option("--attention", o.attention, "linformer | standard")->capture_default_str();
  app.add_option("--k", o.k, "Linformer's projected length")->capture_default_str();
  app.add_option("--sharing", o.sharing, "none | headwise | kv | layerwise")->capture_default_str();
  app.add_option("--seq-len", o.seq_len, "sequence length n")->capture_default_str();
  app.add_option("--dim", o.dim, "model width")->capture_default_str();
  app.add_option("--depth", o.depth, "encoder blocks")->capture_default_str();
  app.add_option("--heads", o.heads, "attention heads")->capture_default_str();
  app.add_option("--dropout", o.dropout, "dropout on residual branches")->capture_default_str();
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
  app.add_option("--sample", o.sample, "sentence whose '_' the model fills in at the end")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    std::filesystem::create_directories(o.out);
    const std::string ckpt_path = o.out + "/checkpoint.safetensors", csv_path = o.out + "/metrics.csv";

    EncoderConfig cfg;
    LoadedCheckpoint loaded;
    if (!o.resume.empty()) {
      loaded = load_checkpoint(o.resume);
      cfg = config_from_meta(loaded.ck.meta, o.resume);
    } else {
      cfg.vocab = kTextVocabSize;
      cfg.dim = o.dim, cfg.depth = o.depth, cfg.heads = o.heads, cfg.max_len = o.seq_len, cfg.k = o.k;
      cfg.kind = parse_attention_kind(o.attention);
      cfg.sharing = parse_sharing(o.sharing);
      cfg.dropout = o.dropout;
      cfg.token_init_std = o.token_init_std;
      cfg.validate();
    }
    LF_CHECK(o.seq_len <= cfg.max_len, "train_mlm: --seq-len {} exceeds the checkpoint's max_len {}", o.seq_len,
             cfg.max_len);

    TextCorpus corpus = TextCorpus::load(o.corpus);
    TextCorpus::Split split = corpus.split(0.05);
    fmt::print("corpus: {} ({:.2f} MB, {} documents; {} train / {} validation bytes)\n", corpus.source(),
               double(corpus.size_bytes()) / 1e6, corpus.documents().size(), split.train.size(), split.valid.size());

    manual_seed(o.seed);
    MaskedLM model(cfg);
    AdamW opt(model.named_parameters(), o.lr, 0.9, 0.999, 1e-8, o.weight_decay);
    LRSchedule schedule(o.lr, o.warmup, o.steps, parse_decay(o.decay), o.lr * 0.05);
    MlmBatcher batcher(split.train, o.seq_len, o.batch, o.seed);
    int64_t start = 0;
    if (!o.resume.empty()) {
      restore_checkpoint(loaded, model, opt);
      for (auto& [name, t] : loaded.ck.extra)
        if (name == "data_rng") batcher.set_rng_state(rng_state_from_tensor(t));
      start = loaded.ck.step;
      fmt::print("resumed from {} at step {}\n", o.resume, start);
    }
    fmt::print("model: {} attention{}, dim {}, depth {}, heads {}, n {}: {} parameters\n",
               attention_kind_name(cfg.kind),
               cfg.kind == AttentionKind::linformer
                   ? fmt::format(" (k {}, {} sharing)", cfg.k, sharing_name(cfg.sharing)) : "",
               cfg.dim, cfg.depth, cfg.heads, o.seq_len, model.num_parameters());

    CsvWriter csv(csv_path, {"step", "lr", "train_loss", "val_loss", "bits_per_char", "tokens_per_s", "seconds"},
                  /*append=*/start > 0);
    auto save = [&](int64_t step) {
      Checkpoint ck{step, {}, config_to_meta(cfg), {{"data_rng", rng_state_to_tensor(batcher.rng_state())}}};
      save_checkpoint(ckpt_path, model, opt, ck);
    };

    Progress progress(o.steps, "train", "tok");
    progress.resume_from(start);
    auto t0 = std::chrono::steady_clock::now();
    double val = NAN;
    std::vector<Tensor> params = model.parameters();
    for (int64_t step = start + 1; step <= o.steps; ++step) {
      opt.set_lr(schedule.at(opt.step_count()));
      MlmBatch b = batcher.next();
      auto ts = std::chrono::steady_clock::now();
      Tensor logits = model.forward(b.input);  // [B, n, V]
      Tensor loss = cross_entropy(logits.reshape({-1, cfg.vocab}), b.target.reshape({-1}), kIgnoreIndex);
      opt.zero_grad();
      loss.backward();
      clip_grad_norm(params, o.clip);
      opt.step();
      double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
      double l = loss.item(), tok_s = double(o.batch * o.seq_len) / dt;
      progress.update(step, l, double(o.batch * o.seq_len), fmt::format("lr {:.1e}", opt.lr()));

      bool last = step == o.steps;
      double v = NAN;
      if (step % o.eval_every == 0 || last) {
        v = val = evaluate(model, split.valid, o);
        progress.message(fmt::format("step {:>6}: validation loss {:.4f}, {:.3f} bits per masked byte", step, v,
                                     v / std::log(2.0)));
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      csv.row({step, opt.lr(), l, v, v / std::log(2.0), tok_s, secs});
      if (step % o.checkpoint_every == 0 || last) save(step);
    }
    progress.finish();
    plot_curves(csv_path, o.out + "/loss.png");

    model.eval();
    std::string sample = o.sample.substr(0, size_t(cfg.max_len));
    fmt::print("\n== summary\n");
    fmt::print("validation loss     {:.4f} nats per masked byte\n", val);
    fmt::print("bits per character  {:.3f} (masked positions; uniform over 256 bytes would be 8.000)\n",
               val / std::log(2.0));
    fmt::print("fill-mask           {}\n                 -> {}\n", sample, fill_blanks(model, sample));
    fmt::print("files               {}, {}/loss.png, {}\n", csv_path, o.out, ckpt_path);
  } catch (const Error& e) {
    fmt::print(stderr, "train_mlm: {}\n", e.what());
    return 1;
  }
  return 0;
}
