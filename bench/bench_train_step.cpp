// bench_train_step: milliseconds per MLM training step (forward, backward, AdamW) and tokens per second,
// optionally side by side with PyTorch running the same model, and a per-op profile of one step.
//
//   build/bench_train_step                      # n 512, k 128, dim 128, depth 4, heads 4, batch 8, vocab 256
//   build/bench_train_step --torch              # also times bench/torch_twin.py (needs python3-torch)
//   build/bench_train_step --profile            # where the time goes, per kernel and per backward op
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "backends/profiler.h"
#include "nn/models.h"
#include "nn/optim.h"
#include "ops/ops.h"

using namespace lf;

int main(int argc, char** argv) {
  EncoderConfig cfg;
  cfg.vocab = 256, cfg.dim = 128, cfg.depth = 4, cfg.heads = 4, cfg.max_len = 512, cfg.k = 128;
  cfg.sharing = Sharing::headwise;  // the torch twin's layout: one E, F per layer
  std::string attention = "linformer", device = "cpu";
  int64_t batch = 8, steps = 10, warmup = 2, threads = 2;
  bool torch = false, profile = false;
  CLI::App app{"Time an MLM training step; optionally compare with PyTorch and profile per op."};
  app.add_option("--n", cfg.max_len, "sequence length")->capture_default_str();
  app.add_option("--k", cfg.k, "Linformer k")->capture_default_str();
  app.add_option("--dim", cfg.dim, "model width")->capture_default_str();
  app.add_option("--depth", cfg.depth, "blocks")->capture_default_str();
  app.add_option("--heads", cfg.heads, "heads")->capture_default_str();
  app.add_option("--batch", batch, "batch size")->capture_default_str();
  app.add_option("--steps", steps, "timed steps")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed steps first")->capture_default_str();
  app.add_option("--attention", attention, "linformer | standard")->capture_default_str();
  app.add_option("--device", device, "cpu | cuda")->capture_default_str();
  app.add_option("--threads", threads, "PyTorch is timed at 1 .. this many threads; the best counts")->capture_default_str();
  app.add_flag("--torch", torch, "also time the PyTorch twin (bench/torch_twin.py)");
  app.add_flag("--profile", profile, "print a per-op profile of one step");
  CLI11_PARSE(app, argc, argv);
  try {
    cfg.kind = parse_attention_kind(attention);
    Device dev = device == "cuda" ? Device::cuda(0) : Device::cpu();
    manual_seed(0);
    MaskedLM model(cfg);
    model.to(dev);
    AdamW opt(model.named_parameters(), 1e-3, 0.9, 0.999, 1e-8, 0.01);
    Tensor x = randint(0, cfg.vocab, {batch, cfg.max_len}).to(dev);
    Tensor y = randint(0, cfg.vocab, {batch * cfg.max_len}).to(dev);
    auto step = [&] {
      opt.zero_grad();
      Tensor loss = cross_entropy(model.forward(x).reshape({-1, cfg.vocab}), y);
      loss.backward();
      opt.step();
      return loss.item();  // waits for the device
    };
    for (int64_t i = 0; i < warmup; ++i) step();
    std::vector<double> ms;
    for (int64_t i = 0; i < steps; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      step();
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms[ms.size() / 2];
    fmt::print("lf      {} n={} k={} dim={} depth={} heads={} batch={} on {}: median {:.1f} ms/step "
               "(min {:.1f}), {:.0f} tokens/s\n",
               attention, cfg.max_len, cfg.k, cfg.dim, cfg.depth, cfg.heads, batch, dev, median, ms.front(),
               double(batch * cfg.max_len) / median * 1e3);
    if (profile) {
      Profiler prof;
      step();
      fmt::print("\nprofile of one step:\n{}", prof.table());
    }
    if (torch) {
      // PyTorch at each thread count from 1 to --threads; its best is the one to beat.
      double best = 0;
      for (int64_t t = 1; t <= threads; ++t) {
        std::string cmd = fmt::format(
            "/usr/bin/python3 bench/torch_twin.py step --n {} --k {} --dim {} --depth {} --heads {} --batch {} "
            "--steps {} --warmup {} --threads {} --device {}{}",
            cfg.max_len, cfg.k, cfg.dim, cfg.depth, cfg.heads, batch, steps, warmup, t, device,
            attention == "standard" ? " --standard" : "");
        std::FILE* p = popen(cmd.c_str(), "r");
        LF_CHECK(p, "bench_train_step: cannot run '{}'", cmd);
        char buf[4096];
        std::string out;
        while (std::fgets(buf, sizeof buf, p)) out += buf;
        int rc = pclose(p);
        LF_CHECK(rc == 0, "bench_train_step: '{}' failed (is python3-torch installed?)", cmd);
        auto pos = out.find("\"ms_per_step\": ");
        LF_CHECK(pos != std::string::npos, "bench_train_step: unexpected output from the torch twin: {}", out);
        double torch_ms = std::stod(out.substr(pos + 15));
        best = best == 0 ? torch_ms : std::min(best, torch_ms);
        fmt::print("torch   {}", out);
      }
      fmt::print("ratio   lf / best torch = {:.1f} / {:.1f} = {:.2f}\n", median, best, median / best);
    }
  } catch (const Error& e) {
    fmt::print(stderr, "bench_train_step: {}\n", e.what());
    return 1;
  }
  return 0;
}
