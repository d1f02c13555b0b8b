// spectrum: the singular values of a trained model's attention matrices, the Linformer paper's Figure 1.
//
//   build/spectrum --model runs/mlm/model.safetensors                 # -> runs/spectrum/
//   build/spectrum --model runs/std512/checkpoint.safetensors --sequences 256 --index 128
//
// Held-out sequences (the validation documents of the corpus, split as train_mlm splits it, cut into windows
// of the model's n tokens) run through the model; every layer's attention probabilities P (n x n for
// standard attention, n x k for a Linformer) are recorded, and for each layer, head and sequence the
// singular values of P (LAPACK) become normalised cumulative sums, averaged over the sequences as the paper
// does. Writes, in --out:
//   spectrum.csv   layer, head ("mean" for the mean over heads), i, cumulative: the first i singular values'
//                  share of the total
//   spectrum.png   one curve per layer (mean over heads): the paper's left panel
//   heatmap.png    the cumulative share at --index over layers x heads: the paper's right panel
// and prints one line per layer: "layer 3: 90% of the spectrum in the first 17 of 128 singular values".
#include "examples/common/spectrum.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "data/text.h"
#include "examples/common/cli_checks.h"
#include "examples/common/csv.h"
#include "examples/common/entry.h"
#include "examples/common/heatmap.h"
#include "examples/common/mlm_common.h"
#include "examples/common/plot.h"
#include "nn/attention.h"
#include "ops/ops.h"

using namespace lf;

namespace {
double lowest(const std::vector<std::vector<double>>& table) {
  double lo = 1.0;
  for (const auto& row : table)
    for (double v : row) lo = std::min(lo, v);
  return lo;
}
}  // namespace

int main(int argc, char** argv) {
  std::string path = "runs/mlm/model.safetensors", corpus_path = kFortunesDir, out = "runs/spectrum";
  int64_t sequences = 64, batch = 8, index = 0;
  double fraction = 0.9;
  CLI::App app{
      "The singular values of a trained model's attention matrices (the Linformer paper's Figure 1)."};
  app.add_option("--model,--checkpoint", path,
                 "model.safetensors or checkpoint.safetensors written by train_mlm")
      ->capture_default_str()
      ->check(readable_file());
  app.add_option("--corpus", corpus_path, "text whose held-out (validation) documents are the input")
      ->capture_default_str()
      ->check(readable_path());
  app.add_option("--sequences", sequences,
                 "held-out sequences to average over (fewer when the text has fewer)")
      ->capture_default_str()
      ->check(int_range(1, 1'000'000));
  app.add_option("--batch", batch, "sequences per forward pass")
      ->capture_default_str()
      ->check(int_range(1, 4096));
  app.add_option("--index", index,
                 "the heatmap shows the cumulative share of the first this many singular values "
                 "(default: a quarter of P's rank, the smallest layer's for a k per layer)")
      ->check(int_range(1, int64_t(1) << 24));
  app.add_option("--fraction", fraction,
                 "the share of the spectrum the per-layer summary counts values up to")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 1.0));
  app.add_option("--out", out, "directory for spectrum.csv, spectrum.png and heatmap.png")
      ->capture_default_str()
      ->check(output_dir());
  return run_program("spectrum", app, argc, argv, [&] {
    MlmFile file = with_flag("--model", path, [&] { return load_mlm_file(path); });
    MaskedLM model(file.cfg);
    with_flag("--model", path, [&] { model.load_state_dict(file.weights); });
    model.eval();
    const int64_t n = file.cfg.max_len;
    // P's rank, the number of singular values: n, or the smallest of the blocks' k for a Linformer.
    int64_t rank = n;
    if (file.cfg.kind == AttentionKind::linformer)
      for (int64_t i = 0; i < file.cfg.depth; ++i) rank = std::min(rank, file.cfg.k_at(i));
    LF_USAGE_CHECK(index <= rank, "--index {} exceeds the rank of P ({} singular values)", index, rank);
    if (index == 0) index = std::max<int64_t>(1, rank / 4);
    prepare_out_dir("--out", out);

    // Held-out windows of n tokens: the validation half of the split train_mlm makes.
    const TextCorpus corpus =
        with_flag("--corpus", corpus_path, [&] { return TextCorpus::load(corpus_path); });
    const std::vector<int64_t> ids = file.tok.encode_documents(corpus.split(0.05).valid);
    const int64_t windows = std::min<int64_t>(sequences, int64_t(ids.size()) / n);
    LF_USAGE_CHECK(windows >= 1,
                   "--corpus {}: its held-out documents have {} tokens, fewer than one sequence of {}",
                   corpus_path, ids.size(), n);
    std::vector<int64_t> ks;
    for (int64_t i = 0; i < file.cfg.depth; ++i)
      ks.push_back(file.cfg.kind == AttentionKind::linformer ? file.cfg.k_at(i) : n);
    fmt::print("model: {} ({} attention, n {}, {} layers x {} heads; P is {} x {})\n", path,
               file.cfg.kind == AttentionKind::linformer ? "Linformer" : "standard", n, file.cfg.depth,
               file.cfg.heads, n, fmt::join(ks, "|"));
    fmt::print("held-out sequences: {} of {} tokens from {}{}\n", windows, n, corpus.source(),
               windows < sequences ? " (all the held-out text holds)" : "");

    SpectrumAccumulator acc;
    NoGradGuard no_grad;
    for (int64_t s0 = 0; s0 < windows; s0 += batch) {
      const int64_t b = std::min(batch, windows - s0);
      std::vector<int64_t> chunk(ids.begin() + s0 * n, ids.begin() + (s0 + b) * n);
      AttentionProbe probe;
      // The head runs at one position only: the spectrum needs the attention, not the logits.
      model.forward_at(from_vector(chunk, {b, n}), from_vector(std::vector<int64_t>{0}, {1}));
      acc.add(probe.probs);
    }

    CsvWriter csv(out + "/spectrum.csv", {"layer", "head", "i", "cumulative"});
    std::vector<PlotSeries> curves;
    std::vector<std::vector<double>> at_index(size_t(acc.layers()));
    for (int64_t l = 0; l < acc.layers(); ++l) {
      for (int64_t h = 0; h < acc.heads(); ++h) {
        const std::vector<double> c = acc.mean(l, h);
        for (size_t i = 0; i < c.size(); ++i) csv.row({l, h, int64_t(i) + 1, c[i]});
        at_index[size_t(l)].push_back(c[size_t(index) - 1]);
      }
      const std::vector<double> c = acc.layer_mean(l);
      PlotSeries curve{fmt::format("layer {}", l), {}, c};
      for (size_t i = 0; i < c.size(); ++i) {
        csv.row({l, "mean", int64_t(i) + 1, c[i]});
        curve.x.push_back(double(i) + 1);
      }
      curves.push_back(curve);
      fmt::print(
          "layer {}: {:.0f}% of the spectrum in the first {} of {} singular values; the first {} hold "
          "{:.3f}\n",
          l, 100 * fraction, count_to_reach(c, fraction), c.size(), index, c[size_t(index) - 1]);
    }
    write_line_plot(out + "/spectrum.png", curves,
                    {.title = "normalised cumulative singular values of P",
                     .x_label = "singular value index",
                     .y_label = "cumulative share"});
    write_heatmap(out + "/heatmap.png", at_index,
                  {.title = fmt::format("share of the first {} of {} singular values", index, rank),
                   .row_label = "layer",
                   .col_label = "head",
                   .lo = std::floor(10 * lowest(at_index)) / 10,  // white at the lowest tenth shown
                   .hi = 1.0});
    fmt::print("wrote {0}/spectrum.csv, {0}/spectrum.png, {0}/heatmap.png\n", out);
    return 0;
  });
}
