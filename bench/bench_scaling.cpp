// bench_scaling: Linformer against standard attention as the sequence grows, measured the way the paper's
// Table 3 is: a full forward pass in eval mode, time and peak activation memory, side by side.
//
//   build/bench_scaling                                   # CPU: n = 512 ... 16384, k = 128, 256
//   build/bench_scaling --device cuda --ns 4096 8192 16384 32768 65536 --ks 128
//
// The model (documented in docs/benchmarks.md): token embedding + positions, `depth` pre-norm blocks of
// width `dim` with `heads` heads and a 4x GELU feed-forward, final LayerNorm; Linformer uses layerwise
// sharing. Each forward processes `tokens` tokens (batch = tokens / n, at least 1), so time per token is
// comparable across n. Activation memory = the allocator's peak during the forward minus what was in use
// before it (parameters and input). A size whose attention matrices would not fit in --max-gb is reported
// as "does not fit", never attempted.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include "bench/paper_table3.h"
#include "examples/common/csv.h"
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
};

// Bytes the standard model's attention needs at its peak: scores and probabilities [B, h, n, n], f32.
double standard_attention_gb(const Options& o, int64_t n, int64_t batch) {
  return 2.0 * double(batch) * double(o.heads) * double(n) * double(n) * 4 / 1e9;
}

// One model at one (n, k), built and warmed up, timed a forward at a time.
struct Contender {
  std::unique_ptr<Encoder> model;
  Tensor x;
  int64_t batch = 1;
  std::vector<double> ms;
  double act = 0;  // bytes
};

std::optional<Contender> prepare(const Options& o, AttentionKind kind, int64_t n, int64_t k, Device dev) {
  int64_t batch = std::max<int64_t>(1, o.tokens / n);
  if (kind == AttentionKind::standard && standard_attention_gb(o, n, batch) > o.max_gb) return std::nullopt;
  EncoderConfig cfg;
  cfg.vocab = 256, cfg.dim = o.dim, cfg.heads = o.heads, cfg.depth = o.depth, cfg.max_len = n, cfg.k = k;
  cfg.kind = kind, cfg.sharing = Sharing::layerwise;
  manual_seed(0);
  Contender c;
  c.model = std::make_unique<Encoder>(cfg);  // the encoder the doc describes: no vocabulary head
  c.model->to(dev);
  c.model->eval();
  c.batch = batch;
  c.x = randint(0, cfg.vocab, {batch, n}).to(dev);
  NoGradGuard no_grad;
  sum(c.model->encode(c.x)).item();  // warm-up: the caching allocator now holds every block the forward needs
  return c;
}

void time_once(Contender& c, Device dev) {
  NoGradGuard no_grad;
  int64_t before = memory_stats(dev).in_use;
  reset_peak_memory(dev);
  auto t0 = std::chrono::steady_clock::now();
  Tensor y = c.model->encode(c.x);
  sum(y).item();  // waits for the device
  c.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  c.act = double(memory_stats(dev).peak - before);
}

// Times the contenders in turns, at least --reps each and more (up to 100) until --min-seconds have passed:
// a slow spell of a shared machine then hits all of them alike, and a short forward's median rests on
// enough samples. Returns each one's median time and activation memory per sequence.
std::vector<std::optional<Measure>> measure(const Options& o, std::vector<std::optional<Contender>>& cs,
                                            Device dev) {
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  for (int64_t r = 0; r < o.reps || (r < 100 && elapsed() < o.min_seconds); ++r)
    for (auto& c : cs)
      if (c) time_once(*c, dev);
  std::vector<std::optional<Measure>> out;
  for (auto& c : cs) {
    if (!c) {
      out.push_back(std::nullopt);
      continue;
    }
    std::sort(c->ms.begin(), c->ms.end());
    out.push_back(Measure{c->ms[c->ms.size() / 2] / double(c->batch), c->act / double(c->batch) / 1e6});
  }
  return out;
}

std::string cell(const std::optional<Measure>& m, double Measure::*field, const char* f) {
  return m ? fmt::format(fmt::runtime(f), (*m).*field) : std::string("no fit");
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Linformer vs standard attention: forward time and activation memory as n grows (paper Table 3)."};
  app.add_option("--ns", o.ns, "sequence lengths")->capture_default_str();
  app.add_option("--ks", o.ks, "Linformer k values")->capture_default_str();
  app.add_option("--dim", o.dim, "model width")->capture_default_str();
  app.add_option("--heads", o.heads, "heads")->capture_default_str();
  app.add_option("--depth", o.depth, "blocks")->capture_default_str();
  app.add_option("--tokens", o.tokens, "tokens per forward (batch = tokens / n)")->capture_default_str();
  app.add_option("--reps", o.reps, "timed repetitions at least (median)")->capture_default_str();
  app.add_option("--min-seconds", o.min_seconds, "repeat short forwards until this much time has passed")
      ->capture_default_str();
  app.add_option("--max-gb", o.max_gb, "skip standard attention beyond this much attention memory")
      ->capture_default_str();
  app.add_option("--device", o.device, "cpu | cuda")->capture_default_str();
  app.add_option("--out", o.out, "directory for scaling.csv and scaling.png")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    Device dev = o.device == "cuda" ? Device::cuda(0) : Device::cpu();
    std::filesystem::create_directories(o.out);
    CsvWriter csv(o.out + "/scaling.csv", {"n", "k", "batch", "linformer_ms_per_seq", "standard_ms_per_seq",
                                           "time_saved", "paper_time_saved", "linformer_act_mb",
                                           "standard_act_mb", "memory_saved", "paper_memory_saved"});
    fmt::print("model: dim {}, heads {}, depth {}, {} tokens per forward, device {}\n", o.dim, o.heads, o.depth,
               o.tokens, dev);
    fmt::print("{:>6} {:>4} | {:>11} {:>11} | {:>10} {:>6} | {:>9} {:>9} | {:>10} {:>6}\n", "n", "k", "lin ms/seq",
               "std ms/seq", "time saved", "paper", "lin MB", "std MB", "mem saved", "paper");
    std::vector<PlotSeries> series;
    PlotSeries standard{"standard", {}, {}};
    std::map<int64_t, PlotSeries> lin;
    std::map<int64_t, double> per_token_512;
    for (int64_t n : o.ns) {
      // The standard model and a Linformer per k <= n, timed side by side.
      std::vector<int64_t> ks;
      for (int64_t k : o.ks)
        if (k <= n) ks.push_back(k);
      std::vector<std::optional<Contender>> cs;
      cs.push_back(prepare(o, AttentionKind::standard, n, 0, dev));
      for (int64_t k : ks) cs.push_back(prepare(o, AttentionKind::linformer, n, k, dev));
      std::vector<std::optional<Measure>> m = measure(o, cs, dev);
      cs.clear();  // frees the models before the next n
      std::optional<Measure> s = m[0];
      if (s) standard.x.push_back(double(n)), standard.y.push_back(s->ms_per_seq);
      for (size_t i = 0; i < ks.size(); ++i) {
        int64_t k = ks[i];
        std::optional<Measure> l = m[i + 1];
        lin[k].name = fmt::format("linformer k={}", k);
        lin[k].x.push_back(double(n)), lin[k].y.push_back(l->ms_per_seq);
        const paper::Table3Row* p = paper::table3(n, k);
        double ts = s ? s->ms_per_seq / l->ms_per_seq : NAN, ms = s ? s->act_mb / l->act_mb : NAN;
        fmt::print("{:>6} {:>4} | {:>11.3f} {:>11} | {:>10} {:>6} | {:>9.1f} {:>9} | {:>10} {:>6}\n", n, k,
                   l->ms_per_seq, cell(s, &Measure::ms_per_seq, "{:.3f}"), s ? fmt::format("{:.2f}x", ts) : "-",
                   p ? fmt::format("{}x", p->time_saved) : "-", l->act_mb, cell(s, &Measure::act_mb, "{:.1f}"),
                   s ? fmt::format("{:.2f}x", ms) : "-", p ? fmt::format("{}x", p->memory_saved) : "-");
        csv.row({n, k, std::max<int64_t>(1, o.tokens / n), l->ms_per_seq, s ? s->ms_per_seq : NAN, ts,
                 p ? p->time_saved : NAN, l->act_mb, s ? s->act_mb : NAN, ms, p ? p->memory_saved : NAN});
        double per_token = l->ms_per_seq / double(n);
        if (!per_token_512.count(k)) per_token_512[k] = per_token;
        else if (n == o.ns.back())
          fmt::print("       linformer k={}: time per token at n={} is {:.2f}x that at n={} (linear: 1.0)\n", k, n,
                     per_token / per_token_512[k], o.ns.front());
      }
    }
    series.push_back(standard);
    for (auto& [k, s] : lin) series.push_back(s);
    write_line_plot(o.out + "/scaling.png", series,
                    {.title = "forward time per sequence", .x_label = "sequence length n",
                     .y_label = "ms per sequence", .log_x = true, .log_y = true, .markers = true});
    fmt::print("wrote {0}/scaling.csv and {0}/scaling.png\n", o.out);
  } catch (const Error& e) {
    fmt::print(stderr, "bench_scaling: {}\n", e.what());
    return 1;
  }
  return 0;
}
