// bench_train_step: milliseconds per MLM training step (forward, backward, AdamW) and tokens per second,
// optionally side by side with PyTorch running the same model, and a per-op profile of one step.
//
//   build/bench_train_step                      # n 512, k 128, dim 128, depth 4, heads 4, batch 8, vocab 256
//   build/bench_train_step --torch --rounds 3   # also times bench/torch_twin.py (needs python3-torch)
//   build/bench_train_step --profile            # where the time goes, per kernel and per backward op
//   build/bench_train_step --device cuda --torch --tf32   # both sides' f32 products on TF32 tensor cores
//
// The twin runs under `python3` from PATH, or $LF_PYTHON when set. When that python cannot import torch (or,
// for --device cuda, has no CUDA), one line says so and lf is timed alone.
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "backends/cuda_options.h"
#include "backends/profiler.h"
#include "examples/common/cli_checks.h"
#include "examples/common/entry.h"
#include "nn/models.h"
#include "nn/optim.h"
#include "ops/ops.h"

using namespace lf;

namespace {

// The python that runs the twin, quoted for the shell: $LF_PYTHON, else python3 from PATH.
std::string twin_python() {
  const char* env = std::getenv("LF_PYTHON");
  std::string py = env && *env ? env : "python3", quoted = "'";
  for (char c : py) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// Why the twin cannot run on `device` ("" when it can): no such python, no torch, or torch without CUDA.
std::string twin_unavailable(const std::string& python, const std::string& device) {
  const std::string cmd = python + " -c 'import sys, torch; sys.exit(3 if sys.argv[1] == \"cuda\" and not " +
                          "torch.cuda.is_available() else 0)' " + device + " >/dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (rc == 0) return "";
  if (rc == 127) return fmt::format("{} was not found (set LF_PYTHON to a python with PyTorch)", python);
  if (rc == 3) return fmt::format("{}'s torch has no CUDA (torch.cuda.is_available() is False)", python);
  return fmt::format("{} cannot import torch (install PyTorch, or set LF_PYTHON to a python that has it)",
                     python);
}

}  // namespace

int main(int argc, char** argv) {
  EncoderConfig cfg;
  cfg.vocab = 256, cfg.dim = 128, cfg.depth = 4, cfg.heads = 4, cfg.max_len = 512, cfg.k = 128;
  cfg.sharing = Sharing::headwise;  // the torch twin's layout: one E, F per layer
  std::string attention = "linformer", device = "cpu";
  int64_t batch = 8, steps = 10, warmup = 2, threads = 2, rounds = 1;
  bool torch = false, profile = false, tf32 = false;
  constexpr int64_t kMax = int64_t(1) << 24;
  CLI::App app{"Time an MLM training step; optionally compare with PyTorch and profile per op."};
  app.add_option("--n", cfg.max_len, "sequence length")->capture_default_str()->check(lf::int_range(1, kMax));
  app.add_option("--k", cfg.k, "Linformer k (at most --n)")
      ->capture_default_str()
      ->check(lf::int_range(1, kMax));
  app.add_option("--dim", cfg.dim, "model width (divisible by --heads)")
      ->capture_default_str()
      ->check(lf::int_range(1, kMax));
  app.add_option("--depth", cfg.depth, "blocks")->capture_default_str()->check(lf::int_range(1, 4096));
  app.add_option("--heads", cfg.heads, "heads")->capture_default_str()->check(lf::int_range(1, 4096));
  app.add_option("--batch", batch, "batch size")->capture_default_str()->check(lf::int_range(1, kMax));
  app.add_option("--steps", steps, "timed steps (the median is reported)")
      ->capture_default_str()
      ->check(lf::int_range(1, 1'000'000));
  app.add_option("--warmup", warmup, "untimed steps first")
      ->capture_default_str()
      ->check(lf::int_range(0, 1'000'000));
  app.add_option("--attention", attention, "linformer | standard")
      ->capture_default_str()
      ->check(lf::one_of({"linformer", "standard"}));
  app.add_option("--device", device, "cpu | cuda")->capture_default_str()->check(lf::device_name());
  app.add_option("--threads", threads, "PyTorch is timed at 1 .. this many threads; the best counts")
      ->capture_default_str()
      ->check(lf::int_range(1, 1024));
  app.add_flag("--torch", torch, "also time the PyTorch twin (bench/torch_twin.py)");
  app.add_option("--rounds", rounds, "rounds of lf then each torch configuration; each keeps its best round")
      ->capture_default_str()
      ->check(lf::int_range(1, 1000));
  app.add_flag("--profile", profile, "print a per-op profile of one step");
  app.add_flag(
      "--tf32", tf32,
      "f32 matrix products on TF32 tensor cores, in lf (cuBLAS CUBLAS_TF32_TENSOR_OP_MATH) and in the twin "
      "(torch.backends.cuda.matmul.allow_tf32); --device cuda only. Default: off on both sides (full f32)");
  return run_program("bench_train_step", app, argc, argv, [&] {
    LF_USAGE_CHECK(cfg.dim % cfg.heads == 0, "--dim {} is not divisible by --heads {}", cfg.dim, cfg.heads);
    LF_USAGE_CHECK(attention == "standard" || cfg.k <= cfg.max_len, "--k {} exceeds --n {}", cfg.k,
                   cfg.max_len);
    LF_USAGE_CHECK(!torch || device == "cpu" || device == "cuda",
                   "--device {} with --torch: the twin takes cpu or cuda", device);
    LF_USAGE_CHECK(!tf32 || device != "cpu", "--tf32 needs a GPU (--device cuda): the CPU has no TF32");
    set_cuda_tf32(tf32);
    cfg.kind = parse_attention_kind(attention);
    Device dev = device == "cpu"    ? Device::cpu()
                 : device == "cuda" ? Device::cuda(0)
                                    : Device::cuda(std::stoi(device.substr(5)));
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
    // Median ms per step over `steps` timed steps.
    auto time_lf = [&] {
      std::vector<double> ms;
      for (int64_t i = 0; i < steps; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        step();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
      std::sort(ms.begin(), ms.end());
      return ms[ms.size() / 2];
    };
    // The torch twin in each configuration: intra-op thread counts 1 .. --threads, and both orders of the
    // K/V projection (the paper's E^T (X W^T), and lf's (E^T X) W^T). Debian's torch calls OpenBLAS, which
    // has its own thread pool: with 1 torch thread, OpenBLAS keeps --threads threads (its GEMMs use every
    // core; with OpenBLAS at 1 thread this run measured 486-540 instead of 322 ms); with more torch
    // threads, OpenBLAS gets 1, as lf keeps it (the two pools side by side ran at half speed: 880 ms).
    struct Peer {
      std::string label, cmd;
      double best = 0;  // ms per step, the lowest round median
    };
    std::vector<Peer> peers;
    if (device == "cuda") threads = 1;  // CPU threads do not matter to a GPU run
    const std::string python = twin_python();
    if (torch) {
      const std::string why = twin_unavailable(python, device);
      if (!why.empty()) fmt::print("torch   skipped: {}; lf is timed alone\n", why);
      torch = why.empty();
    }
    auto add_peers = [&](const std::string& what, const std::string& flags) {
      for (int64_t t = 1; t <= threads; ++t) {
        const int64_t blas = t > 1 ? 1 : threads;
        peers.push_back(
            {fmt::format("torch {}threads={} blas={}", what, t, blas),
             fmt::format("OPENBLAS_NUM_THREADS={} {} bench/torch_twin.py step --n {} --k {} "
                         "--dim {} --depth {} --heads {} --batch {} --steps {} --warmup {} --threads {} "
                         "--device {}{}{}",
                         blas, python, cfg.max_len, cfg.k, cfg.dim, cfg.depth, cfg.heads, batch, steps,
                         warmup, t, device, flags, tf32 ? " --tf32" : "")});
      }
    };
    if (torch && attention == "linformer") {
      add_peers("E^T (X W^T) ", "");
      add_peers("(E^T X) W^T ", " --project-first");
    } else if (torch) {
      add_peers("", " --standard");
    }
    auto time_torch = [](const std::string& cmd) {
      std::FILE* p = popen(cmd.c_str(), "r");
      LF_CHECK(p, "bench_train_step: cannot run '{}'", cmd);
      char buf[4096];
      std::string out;
      while (std::fgets(buf, sizeof buf, p)) out += buf;
      int rc = pclose(p);
      LF_CHECK(rc == 0, "bench_train_step: '{}' failed (its output: {})", cmd, out);
      auto pos = out.find("\"ms_per_step\": ");
      LF_CHECK(pos != std::string::npos, "bench_train_step: unexpected output from the torch twin: {}", out);
      return std::stod(out.substr(pos + 15));
    };
    // Rounds alternate lf and every peer, so that a slow spell of a shared machine hits all of them; each
    // one's figure is its best round.
    double lf_best = 0;
    for (int64_t r = 0; r < rounds; ++r) {
      double lf_ms = time_lf();
      lf_best = r == 0 ? lf_ms : std::min(lf_best, lf_ms);
      fmt::print("round {}: lf {:.1f} ms", r + 1, lf_ms);
      for (auto& peer : peers) {
        double ms = time_torch(peer.cmd);
        peer.best = r == 0 ? ms : std::min(peer.best, ms);
        fmt::print(" | {} {:.1f} ms", peer.label, ms);
      }
      fmt::print("\n");
    }
    fmt::print(
        "lf      {} n={} k={} dim={} depth={} heads={} batch={} on {}{}: {:.1f} ms/step, {:.0f} tokens/s\n",
        attention, cfg.max_len, cfg.k, cfg.dim, cfg.depth, cfg.heads, batch, dev, tf32 ? " (TF32)" : "",
        lf_best, double(batch * cfg.max_len) / lf_best * 1e3);
    for (const auto& peer : peers)
      fmt::print("{:<36} {:.1f} ms/step  lf / this = {:.2f}\n", peer.label, peer.best, lf_best / peer.best);
    if (!peers.empty()) {
      const Peer& best = *std::min_element(peers.begin(), peers.end(),
                                           [](const Peer& a, const Peer& b) { return a.best < b.best; });
      fmt::print("ratio   lf / best torch ({}) = {:.1f} / {:.1f} = {:.2f}\n", best.label, lf_best, best.best,
                 lf_best / best.best);
    }
    if (profile) {
      Profiler prof;
      step();
      fmt::print("\nprofile of one step:\n{}", prof.table());
    }
    return 0;
  });
}
