// bench_torch_parity: lf and its PyTorch twin (bench/torch_twin.py) trained side by side, from the same
// initial weights on the same batches, with the same AdamW, learning-rate schedule and gradient clipping;
// their per-step losses must agree to --tolerance (relative), as llm.c's test_gpt2 checks its losses
// against PyTorch's.
//
//   build/bench_torch_parity                         # 200 steps, dim 64, depth 2, heads 4, n 128, k 32,
//                                                    # layerwise sharing, pooling init of E, batch 8, bytes
//                                                    # of the fortunes corpus
//   build/bench_torch_parity --sharing none --steps 50
//   build/bench_torch_parity --attention standard
//
// lf writes its initial weights (init.safetensors, with the config and the optimizer settings as metadata)
// and every batch with its learning rate (batches.safetensors) into a temporary directory; the twin
// (`torch_twin.py train --dir DIR`) trains on them in f32 and writes torch_losses.json, and once more in f64
// (unless --no-floor): how far f32 round-off alone moves this run, the yardstick for lf's difference. Then lf
// trains and the loss curves are compared. Python: $LF_PYTHON, else python3 on PATH, else /usr/bin/python3,
// the first that can import torch; with none, the bench says so and exits 0 (skipped).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "examples/common/cli_checks.h"
#include "examples/common/entry.h"
#include "data/text.h"
#include "nn/models.h"
#include "nn/optim.h"
#include "io/safetensors.h"
#include "nn/schedule.h"
#include "data/tokenizer.h"
#include "ops/ops.h"

using namespace lf;
namespace fs = std::filesystem;

namespace {

struct Options {
  std::string attention = "linformer", sharing = "layerwise", proj_init = "pooling", corpus = kFortunesDir,
              keep;
  int64_t steps = 200, dim = 64, depth = 2, heads = 4, n = 128, k = 32, batch = 8, warmup = 20, every = 20;
  int64_t threads = 1;
  double lr = 2e-3, weight_decay = 0.01, clip = 1.0, tolerance = 1e-3;
  bool tie = false, floor = true;
  uint64_t seed = 1;
};

// s in single quotes for sh, each ' in it written as '\''
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

bool can_import_torch(const std::string& python) {
  return std::system(fmt::format("{} -c 'import torch' >/dev/null 2>&1", shell_quote(python)).c_str()) == 0;
}

// The first of $LF_PYTHON, python3 (PATH), /usr/bin/python3 that has torch; "" when none has. *tried lists
// them.
std::string find_python(std::string* tried) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("LF_PYTHON"); env && *env) candidates.push_back(env);
  candidates.push_back("python3");
  candidates.push_back("/usr/bin/python3");
  for (size_t i = 0; i < candidates.size(); ++i) {
    const std::string& py = candidates[i];
    if (std::find(candidates.begin(), candidates.begin() + long(i), py) != candidates.begin() + long(i))
      continue;
    *tried += (tried->empty() ? "" : ", ") + py;
    if (can_import_torch(py)) return py;
  }
  return "";
}

// lf's EncoderConfig as the JSON torch_twin.Config reads (the keys of train_mlm's "config" metadata).
std::string config_json(const EncoderConfig& c) {
  return nlohmann::json{{"vocab", c.vocab},
                        {"dim", c.dim},
                        {"depth", c.depth},
                        {"heads", c.heads},
                        {"max_len", c.max_len},
                        {"k", c.k},
                        {"attention", std::string(attention_kind_name(c.kind))},
                        {"sharing", std::string(sharing_name(c.sharing))},
                        {"dropout", c.dropout},
                        {"tie_embeddings", c.tie_embeddings},
                        {"token_init_std", c.token_init_std},
                        {"sinusoidal_init", c.sinusoidal_init},
                        {"proj_init", std::string(projection_init_name(c.proj_init))}}
      .dump();
}

// A directory for this run's files, removed at exit unless the user asked to keep them (--keep DIR).
struct WorkDir {
  fs::path path;
  bool keep;
  explicit WorkDir(const std::string& keep_dir)
      : path(keep_dir.empty() ? fs::temp_directory_path() / fmt::format("lf_torch_parity_{}", ::getpid())
                              : fs::path(keep_dir)),
        keep(!keep_dir.empty()) {
    fs::create_directories(path);
  }
  ~WorkDir() {
    std::error_code ec;
    if (!keep) fs::remove_all(path, ec);
  }
};

int run(const Options& o) {
  LF_USAGE_CHECK(o.dim % o.heads == 0, "--dim {} is not divisible by --heads {}", o.dim, o.heads);
  LF_USAGE_CHECK(o.attention == "standard" || o.k <= o.n, "--k {} exceeds --n {}", o.k, o.n);
  std::string tried, python = find_python(&tried);
  if (python.empty()) {
    fmt::print(
        "bench_torch_parity: skipped: PyTorch is missing (no 'import torch' in {}); install it with "
        "apt-get install python3-torch, or point LF_PYTHON at a Python that has it\n",
        tried);
    return 0;
  }
  fs::path twin = fs::path(__FILE__).parent_path() / "torch_twin.py";
  if (!fs::exists(twin)) twin = "bench/torch_twin.py";  // built elsewhere: run from the repository root
  LF_CHECK(fs::exists(twin), "bench_torch_parity: cannot find the twin {} (run from the repository root)",
           twin.string());
  LF_CHECK(o.steps >= 1 && o.every >= 1, "bench_torch_parity: --steps {} and --every {} must be >= 1",
           o.steps, o.every);

  EncoderConfig cfg;
  cfg.vocab = kTextVocabSize, cfg.dim = o.dim, cfg.depth = o.depth, cfg.heads = o.heads, cfg.max_len = o.n;
  cfg.k = o.k, cfg.kind = parse_attention_kind(o.attention), cfg.sharing = parse_sharing(o.sharing);
  cfg.proj_init = parse_projection_init(o.proj_init), cfg.tie_embeddings = o.tie;
  cfg.validate();
  manual_seed(o.seed);
  MaskedLM model(cfg);
  WorkDir dir(o.keep);
  const double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  nlohmann::json train = {
      {"beta1", beta1}, {"beta2", beta2}, {"eps", eps}, {"weight_decay", o.weight_decay}, {"clip", o.clip}};
  save_safetensors((dir.path / "init.safetensors").string(), model.state_dict(),
                   {{"config", config_json(cfg)}, {"train", train.dump()}});

  // train_mlm's recipe: MlmBatcher windows (15% of positions masked BERT-style), warmup then cosine decay to
  // 5% of the peak, clipping at --clip. The batches come from the whole corpus (no validation here).
  TextCorpus corpus = TextCorpus::load(o.corpus);
  MlmBatcher batcher(Tokenizer::bytes().encode(corpus.text()), o.n, o.batch, o.seed);  // byte-level ids
  LRSchedule schedule(o.lr, std::min(o.warmup, o.steps), o.steps, Decay::cosine, o.lr * 0.05);
  std::vector<MlmBatch> batches;
  std::vector<double> lrs;
  NamedTensors files;
  for (int64_t i = 0; i < o.steps; ++i) {
    MlmBatch b = batcher.next();  // input, target i64 [B, n]; target -100 where nothing is to predict
    files.emplace_back(fmt::format("input.{}", i), b.input);
    files.emplace_back(fmt::format("target.{}", i), b.target);
    batches.push_back(b);
    lrs.push_back(schedule.at(i));
  }
  files.emplace_back("lr", from_vector(lrs, {o.steps}));
  save_safetensors((dir.path / "batches.safetensors").string(), files);
  fmt::print(
      "model: {} attention{}, dim {}, depth {}, heads {}, n {}, vocab {}: {} parameters; batch {}, "
      "{} steps on {}\n",
      o.attention,
      cfg.kind == AttentionKind::linformer ? fmt::format(" (k {}, {} sharing)", o.k, o.sharing) : "", o.dim,
      o.depth, o.heads, o.n, cfg.vocab, model.num_parameters(), o.batch, o.steps, corpus.source());

  // The twin first (it reads the files), with the same thread count for torch and its BLAS; then, unless
  // --no-floor, once more in f64: how far f32 round-off alone moves this run's losses (the "drift" column),
  // which is what lf's difference from torch should be compared with.
  auto run_twin = [&](const char* dtype, const char* out) {
    std::string cmd = fmt::format(
        "OMP_NUM_THREADS={0} OPENBLAS_NUM_THREADS={0} {1} {2} train --dir {3} --threads {0} --dtype {4} "
        "--out {5}",
        o.threads, shell_quote(python), shell_quote(twin.string()), shell_quote(dir.path.string()), dtype,
        out);
    fmt::print("torch:  {}\n", cmd);
    std::fflush(stdout);
    LF_CHECK(std::system(cmd.c_str()) == 0, "bench_torch_parity: the twin failed: {}", cmd);
    std::ifstream in(dir.path / out);
    nlohmann::json result = nlohmann::json::parse(in);
    LF_CHECK(int64_t(result.at("losses").size()) == o.steps,
             "bench_torch_parity: the twin wrote {} losses for {} steps", result.at("losses").size(),
             o.steps);
    return result;
  };
  nlohmann::json result = run_twin("float32", "torch_losses.json"), exact;
  if (o.floor) exact = run_twin("float64", "torch_losses_f64.json");
  std::vector<double> theirs = result.at("losses").get<std::vector<double>>();

  AdamW opt(model.named_parameters(), o.lr, beta1, beta2, eps, o.weight_decay);
  std::vector<Tensor> params = model.parameters();
  std::vector<double> ours;
  auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < o.steps; ++i) {  // train_mlm's step
    opt.set_lr(lrs[size_t(i)]);
    Tensor logits = model.forward(batches[size_t(i)].input);  // [B, n, V]
    Tensor loss =
        cross_entropy(logits.reshape({-1, cfg.vocab}), batches[size_t(i)].target.reshape({-1}), kIgnoreIndex);
    opt.zero_grad();
    loss.backward();
    if (o.clip > 0) clip_grad_norm(params, o.clip);
    opt.step();
    ours.push_back(loss.item());
  }
  double lf_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Relative differences per step: lf vs torch (f32), and torch f32 vs torch f64 (the drift).
  auto rel = [](double a, double b) { return std::abs(a - b) / std::abs(b); };
  std::vector<double> f64 = o.floor ? exact.at("losses").get<std::vector<double>>() : std::vector<double>();
  fmt::print("\n{:>6} {:>10} {:>10} {:>10}  {:>9}{}\n", "step", "lr", "lf", "torch", "rel diff",
             o.floor ? fmt::format("  {:>10}  {:>9}", "torch f64", "f32 drift") : "");
  double worst = 0, drift = 0, lf_exact = 0;
  int64_t worst_step = 0;
  for (size_t i = 0; i < size_t(o.steps); ++i) {
    double r = rel(ours[i], theirs[i]);
    if (!(r <= worst)) worst = r, worst_step = int64_t(i) + 1;  // NaN counts as the worst
    if (o.floor)
      drift = std::max(drift, rel(theirs[i], f64[i])), lf_exact = std::max(lf_exact, rel(ours[i], f64[i]));
    if ((i + 1) % size_t(o.every) == 0 || i == 0 || i + 1 == size_t(o.steps))
      fmt::print("{:>6} {:>10.2e} {:>10.6f} {:>10.6f}  {:>9.2e}{}\n", i + 1, lrs[i], ours[i], theirs[i], r,
                 o.floor ? fmt::format("  {:>10.6f}  {:>9.2e}", f64[i], rel(theirs[i], f64[i])) : "");
  }
  bool pass = worst <= o.tolerance;
  fmt::print("\nlf {:.1f} s, torch {} ({} thread{}) {:.1f} s{}\n", lf_s, result.value("version", "?"),
             o.threads, o.threads == 1 ? "" : "s", result.value("seconds", 0.0),
             o.floor ? fmt::format(", torch f64 {:.1f} s", exact.value("seconds", 0.0)) : "");
  if (o.floor)
    fmt::print("largest relative difference from torch f64: lf {:.3e}, torch f32 {:.3e} (the f32 drift)\n",
               lf_exact, drift);
  fmt::print("largest relative loss difference lf vs torch {:.3e} at step {} (tolerance {:.0e}): {}\n", worst,
             worst_step, o.tolerance, pass ? "PASS" : "FAIL");
  if (!pass && o.floor && lf_exact <= 3 * drift)
    fmt::print(
        "note: lf is within 3x of torch f32's own distance from torch f64: this run amplifies f32 "
        "round-off (fewer --steps, or another --seed, will show it)\n");
  if (dir.keep) fmt::print("files kept in {}\n", dir.path.string());
  return pass ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  constexpr int64_t kMax = int64_t(1) << 24;
  CLI::App app{"Train lf and the PyTorch twin side by side on the same batches; compare their losses."};
  app.add_option("--steps", o.steps, "training steps")->capture_default_str()->check(int_range(1, 1'000'000));
  app.add_option("--attention", o.attention, "linformer | standard")
      ->capture_default_str()
      ->check(one_of({"linformer", "standard"}));
  app.add_option("--sharing", o.sharing, "none | headwise | kv | layerwise")
      ->capture_default_str()
      ->check(one_of({"none", "headwise", "kv", "layerwise"}));
  app.add_option("--k", o.k, "Linformer's projected length (at most --n)")
      ->capture_default_str()
      ->check(int_range(1, kMax));
  app.add_option("--dim", o.dim, "model width (divisible by --heads)")
      ->capture_default_str()
      ->check(int_range(1, kMax));
  app.add_option("--depth", o.depth, "encoder blocks")->capture_default_str()->check(int_range(1, 4096));
  app.add_option("--heads", o.heads, "attention heads")->capture_default_str()->check(int_range(1, 4096));
  app.add_option("--n", o.n, "sequence length")->capture_default_str()->check(int_range(1, kMax));
  app.add_option("--batch", o.batch, "sequences per step")->capture_default_str()->check(int_range(1, kMax));
  app.add_option("--proj-init", o.proj_init, "how E and F start: pooling | uniform | xavier | gaussian")
      ->capture_default_str()
      ->check(one_of({"pooling", "uniform", "xavier", "gaussian"}));
  app.add_flag("--tie-embeddings", o.tie, "the output layer reuses tok.weight");
  app.add_option("--lr", o.lr, "peak learning rate")->capture_default_str()->check(positive_finite());
  app.add_option("--warmup", o.warmup,
                 "linear warmup steps (more than --steps: all of them; then cosine decay to 5% of --lr)")
      ->capture_default_str()
      ->check(int_range(0, 1'000'000));
  app.add_option("--weight-decay", o.weight_decay, "AdamW's decoupled weight decay")
      ->capture_default_str()
      ->check(non_negative_finite());
  app.add_option("--clip", o.clip, "gradient norm clip (0: none)")
      ->capture_default_str()
      ->check(non_negative_finite());
  app.add_option("--seed", o.seed, "seed for the initial weights and the batches")
      ->capture_default_str()
      ->check(seed_value());
  app.add_option("--corpus", o.corpus, "text file, or a directory of fortune files")
      ->capture_default_str()
      ->check(readable_path());
  app.add_option("--every", o.every, "print the losses every this many steps")
      ->capture_default_str()
      ->check(int_range(1, 1'000'000));
  app.add_option("--tolerance", o.tolerance, "largest relative loss difference that passes")
      ->capture_default_str()
      ->check(non_negative_finite());
  app.add_option("--threads", o.threads, "torch and BLAS threads of the twin (lf: OMP_NUM_THREADS)")
      ->capture_default_str()
      ->check(int_range(1, 1024));
  app.add_flag("!--no-floor", o.floor, "skip the second twin run in f64 (the f32 drift column)");
  app.add_option("--keep", o.keep, "write the files into this directory and keep them")->check(output_dir());
  // Exit 0: the losses agree (or PyTorch is missing: skipped); 1: they do not, or an error; 2: the command
  // line.
  return run_program(
      "bench_torch_parity", app, argc, argv, [&] { return run(o); },
      "use smaller sizes (--batch, --n, --dim) or fewer --steps");
}
