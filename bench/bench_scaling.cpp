// bench_scaling: Linformer against standard attention as the sequence grows, measured the way the paper's
// Table 3 is: a full forward pass in eval mode, time and peak activation memory, side by side.
//
//   build/bench_scaling                                   # CPU: n = 512 ... 16384, k = 128, 256
//   build/bench_scaling --device cuda --ns 4096 8192 16384 32768 65536 --ks 128
//   python3 bench/torch_twin.py forward --device cuda --ns ... --depth 1    # the same in PyTorch, with SDPA
//
// The model (documented in docs/benchmarks.md): token embedding + positions, `depth` pre-norm blocks of
// width `dim` with `heads` heads and a 4x GELU feed-forward, final LayerNorm; Linformer uses layerwise
// sharing. Each forward processes `tokens` tokens (batch = tokens / n, at least 1), so time per token is
// comparable across n. Activation memory = the allocator's peak during the forward minus what was in use
// before it (parameters and input). A size whose attention matrices would not fit in --max-gb is reported
// as "no fit", never attempted; one that runs out of memory is reported as "out of memory" in its table
// cell and CSV cell, and the benchmark goes on with the other contenders and sizes (the plot skips it).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include "backends/cuda_options.h"
#include "bench/paper_table3.h"
#include "core/allocator.h"
#include "examples/common/cli_checks.h"
#include "examples/common/csv.h"
#include "examples/common/entry.h"
#include "examples/common/plot.h"
#include "nn/models.h"
#include "ops/ops.h"

using namespace lf;

namespace {

struct Measure {
  double ms_per_seq = 0;
  double act_mb = 0;
};

struct Options {
  std::vector<int64_t> ns{512, 1024, 2048, 4096, 8192, 16384}, ks{128, 256};
  int64_t dim = 128, heads = 4, depth = 1, tokens = 16384, reps = 3;
  double max_gb = 16, min_seconds = 2;
  std::string device = "cpu", out = "runs/scaling";
  bool tf32 = false;
};

// Bytes the standard model's attention needs at its peak: scores and probabilities [B, h, n, n], f32.
double standard_attention_gb(const Options& o, int64_t n, int64_t batch) {
  return 2.0 * double(batch) * double(o.heads) * double(n) * double(n) * 4 / 1e9;
}

// One model at one (n, k), built and warmed up, timed a forward at a time. `failed` says why it has no
// measurement: "no fit" (skipped by --max-gb) or "out of memory".
struct Contender {
  std::unique_ptr<Encoder> model;
  Tensor x;
  int64_t batch = 1;
  std::vector<double> ms;
  double act = 0;  // bytes
  std::string failed;
};

// After an allocation failed: drop the contender's tensors and give the allocator's cache back, so that
// the next contender starts from the memory there is.
void out_of_memory(Contender& c, Device dev) {
  c.model.reset();
  c.x = Tensor();
  c.failed = "out of memory";
  allocator_for(dev).empty_cache();
}

Contender prepare(const Options& o, AttentionKind kind, int64_t n, int64_t k, Device dev) {
  Contender c;
  c.batch = std::max<int64_t>(1, o.tokens / n);
  if (kind == AttentionKind::standard && standard_attention_gb(o, n, c.batch) > o.max_gb) {
    c.failed = "no fit";
    return c;
  }
  EncoderConfig cfg;
  cfg.vocab = 256, cfg.dim = o.dim, cfg.heads = o.heads, cfg.depth = o.depth, cfg.max_len = n, cfg.k = k;
  cfg.kind = kind, cfg.sharing = Sharing::layerwise;
  try {
    manual_seed(0);
    c.model = std::make_unique<Encoder>(cfg);  // the encoder the doc describes: no vocabulary head
    c.model->to(dev);
    c.model->eval();
    c.x = randint(0, cfg.vocab, {c.batch, n}).to(dev);
    NoGradGuard no_grad;
    // Warm-up: the caching allocator now holds every block the forward needs.
    sum(c.model->encode(c.x)).item();
  } catch (...) {
    if (!handling_out_of_memory()) throw;
    out_of_memory(c, dev);
  }
  return c;
}

void time_once(Contender& c, Device dev) {
  try {
    NoGradGuard no_grad;
    int64_t before = memory_stats(dev).in_use;
    reset_peak_memory(dev);
    auto t0 = std::chrono::steady_clock::now();
    Tensor y = c.model->encode(c.x);
    sum(y).item();  // waits for the device
    c.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    c.act = double(memory_stats(dev).peak - before);
  } catch (...) {
    if (!handling_out_of_memory()) throw;
    out_of_memory(c, dev);
  }
}

// Times the contenders in turns, at least --reps each and more (up to 100) until --min-seconds have passed:
// a slow spell of a shared machine then hits all of them alike, and a short forward's median rests on
// enough samples. Returns each one's median time and activation memory per sequence (nullopt: failed).
std::vector<std::optional<Measure>> measure(const Options& o, std::vector<Contender>& cs, Device dev) {
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  for (int64_t r = 0; r < o.reps || (r < 100 && elapsed() < o.min_seconds); ++r)
    for (auto& c : cs)
      if (c.failed.empty()) time_once(c, dev);
  std::vector<std::optional<Measure>> out;
  for (auto& c : cs) {
    if (!c.failed.empty() || c.ms.empty()) {
      out.push_back(std::nullopt);
      continue;
    }
    std::sort(c.ms.begin(), c.ms.end());
    out.push_back(Measure{c.ms[c.ms.size() / 2] / double(c.batch), c.act / double(c.batch) / 1e6});
  }
  return out;
}

// A table cell: the value, or why there is none.
std::string cell(const std::optional<Measure>& m, double Measure::*field, const char* f,
                 const std::string& why) {
  return m ? fmt::format(fmt::runtime(f), (*m).*field) : why;
}
// A CSV cell: the number, or why there is none ("out of memory", "no fit").
CsvCell csv_cell(const std::optional<Measure>& m, double Measure::*field, const std::string& why) {
  return m ? CsvCell((*m).*field) : CsvCell(why);
}
// A ratio of two measurements, or NaN when either is missing.
double ratio(const std::optional<Measure>& a, const std::optional<Measure>& b, double Measure::*field) {
  return a && b ? (*a).*field / (*b).*field : NAN;
}

}  // namespace

int run(Options& o) {
  LF_USAGE_CHECK(o.dim % o.heads == 0, "--dim {} is not divisible by --heads {}", o.dim, o.heads);
  LF_USAGE_CHECK(!o.tf32 || o.device != "cpu", "--tf32 needs a GPU (--device cuda): the CPU has no TF32");
  set_cuda_tf32(o.tf32);
  std::sort(o.ns.begin(), o.ns.end());
  o.ns.erase(std::unique(o.ns.begin(), o.ns.end()), o.ns.end());
  std::sort(o.ks.begin(), o.ks.end());  // a k given twice would be timed twice and plotted as one curve
  o.ks.erase(std::unique(o.ks.begin(), o.ks.end()), o.ks.end());
  LF_USAGE_CHECK(std::any_of(o.ks.begin(), o.ks.end(), [&](int64_t k) { return k <= o.ns.back(); }),
                 "--ks: every k exceeds the largest n {}: no Linformer would run", o.ns.back());
  const Device dev = o.device == "cpu"    ? Device::cpu()
                     : o.device == "cuda" ? Device::cuda(0)
                                          : Device::cuda(std::stoi(o.device.substr(5)));
  prepare_out_dir("--out", o.out);
  CsvWriter csv(o.out + "/scaling.csv", {"n", "k", "batch", "linformer_ms_per_seq", "standard_ms_per_seq",
                                         "time_saved", "paper_time_saved", "linformer_act_mb",
                                         "standard_act_mb", "memory_saved", "paper_memory_saved"});
  fmt::print("model: dim {}, heads {}, depth {}, {} tokens per forward, device {}, TF32 {}\n", o.dim, o.heads,
             o.depth, o.tokens, dev, o.tf32 ? "on" : "off");
  fmt::print("{:>6} {:>4} | {:>13} {:>13} | {:>10} {:>6} | {:>13} {:>13} | {:>10} {:>6}\n", "n", "k",
             "lin ms/seq", "std ms/seq", "time saved", "paper", "lin MB", "std MB", "mem saved", "paper");
  std::vector<PlotSeries> series;
  PlotSeries standard{"standard", {}, {}};
  std::map<int64_t, PlotSeries> lin;
  std::map<int64_t, double> first_per_token;  // per k: time per token at the first n that was measured
  std::map<int64_t, int64_t> first_n;
  for (int64_t n : o.ns) {
    // The standard model and a Linformer per k <= n, timed side by side.
    std::vector<int64_t> ks;
    for (int64_t k : o.ks)
      if (k <= n) ks.push_back(k);
    std::vector<Contender> cs;
    cs.push_back(prepare(o, AttentionKind::standard, n, 0, dev));
    for (int64_t k : ks) cs.push_back(prepare(o, AttentionKind::linformer, n, k, dev));
    std::vector<std::optional<Measure>> m = measure(o, cs, dev);
    std::vector<std::string> why;
    for (const Contender& c : cs) why.push_back(c.failed);
    cs.clear();  // frees the models before the next n
    allocator_for(dev).empty_cache();
    const std::optional<Measure>& s = m[0];
    // A missing point is NaN: the plot skips it and breaks the line there.
    standard.x.push_back(double(n)), standard.y.push_back(s ? s->ms_per_seq : NAN);
    const int64_t batch = std::max<int64_t>(1, o.tokens / n);
    if (ks.empty())  // no k <= n: the standard model's row alone
      fmt::print("{:>6} {:>4} | {:>13} {:>13} |\n", n, "-", "-",
                 cell(s, &Measure::ms_per_seq, "{:.3f}", why[0]));
    for (size_t i = 0; i < ks.size(); ++i) {
      const int64_t k = ks[i];
      const std::optional<Measure>& l = m[i + 1];
      lin[k].name = fmt::format("linformer k={}", k);
      lin[k].x.push_back(double(n)), lin[k].y.push_back(l ? l->ms_per_seq : NAN);
      const paper::Table3Row* p = paper::table3(n, k);
      const double ts = ratio(s, l, &Measure::ms_per_seq), ms = ratio(s, l, &Measure::act_mb);
      auto x = [](double v) { return std::isnan(v) ? std::string("-") : fmt::format("{:.2f}x", v); };
      fmt::print("{:>6} {:>4} | {:>13} {:>13} | {:>10} {:>6} | {:>13} {:>13} | {:>10} {:>6}\n", n, k,
                 cell(l, &Measure::ms_per_seq, "{:.3f}", why[i + 1]),
                 cell(s, &Measure::ms_per_seq, "{:.3f}", why[0]), x(ts),
                 p ? fmt::format("{}x", p->time_saved) : "-", cell(l, &Measure::act_mb, "{:.1f}", why[i + 1]),
                 cell(s, &Measure::act_mb, "{:.1f}", why[0]), x(ms),
                 p ? fmt::format("{}x", p->memory_saved) : "-");
      csv.row({n, k, batch, csv_cell(l, &Measure::ms_per_seq, why[i + 1]),
               csv_cell(s, &Measure::ms_per_seq, why[0]), ts, p ? p->time_saved : NAN,
               csv_cell(l, &Measure::act_mb, why[i + 1]), csv_cell(s, &Measure::act_mb, why[0]), ms,
               p ? p->memory_saved : NAN});
      if (!l) continue;
      const double per_token = l->ms_per_seq / double(n);
      if (!first_per_token.count(k))
        first_per_token[k] = per_token, first_n[k] = n;
      else if (n == o.ns.back())
        fmt::print("       linformer k={}: time per token at n={} is {:.2f}x that at n={} (linear: 1.0)\n", k,
                   n, per_token / first_per_token[k], first_n[k]);
    }
  }
  series.push_back(standard);
  for (auto& [k, s] : lin) series.push_back(s);
  write_line_plot(o.out + "/scaling.png", series,
                  {.title = "forward time per sequence",
                   .x_label = "sequence length n",
                   .y_label = "ms per sequence",
                   .log_x = true,
                   .log_y = true,
                   .markers = true});
  fmt::print("wrote {0}/scaling.csv and {0}/scaling.png\n", o.out);
  return 0;
}

int main(int argc, char** argv) {
  Options o;
  constexpr int64_t kMax = int64_t(1) << 24;
  CLI::App app{"Linformer vs standard attention: forward time and activation memory as n grows (paper Table 3)."};
  app.add_option("--ns", o.ns, "sequence lengths")->capture_default_str()->check(int_range(1, kMax));
  app.add_option("--ks", o.ks, "Linformer k values (each n is run with the k <= n)")
      ->capture_default_str()
      ->check(int_range(1, kMax));
  app.add_option("--dim", o.dim, "model width (divisible by --heads)")
      ->capture_default_str()
      ->check(int_range(1, kMax));
  app.add_option("--heads", o.heads, "heads")->capture_default_str()->check(int_range(1, 4096));
  app.add_option("--depth", o.depth, "blocks")->capture_default_str()->check(int_range(1, 4096));
  app.add_option("--tokens", o.tokens, "tokens per forward (batch = tokens / n, at least 1)")
      ->capture_default_str()
      ->check(int_range(1, kMax));
  app.add_option("--reps", o.reps, "timed repetitions at least (median)")
      ->capture_default_str()
      ->check(int_range(1, 100));
  app.add_option("--min-seconds", o.min_seconds, "repeat short forwards until this much time has passed")
      ->capture_default_str()
      ->check(non_negative_finite());
  app.add_option("--max-gb", o.max_gb, "skip standard attention beyond this much attention memory")
      ->capture_default_str()
      ->check(positive_finite());
  app.add_option("--device", o.device, "cpu | cuda")->capture_default_str()->check(device_name());
  app.add_flag(
      "--tf32", o.tf32,
      "f32 matrix products on TF32 tensor cores (cuBLAS CUBLAS_TF32_TENSOR_OP_MATH); --device cuda only. "
      "Default: off (full f32; torch_twin.py forward --tf32 is the twin's switch)");
  app.add_option("--out", o.out, "directory for scaling.csv and scaling.png")
      ->capture_default_str()
      ->check(output_dir());
  return run_program(
      "bench_scaling", app, argc, argv, [&] { return run(o); },
      "use fewer --tokens per forward, smaller --ns, or a lower --max-gb");
}
