// PyTorch reference: lf's MaskedLM against the torch twin (bench/torch_twin.py), as llm.c's test_gpt2 checks
// its C model against PyTorch. Each fixture in tests/torch_reference/ (written by make_fixture.py there, in
// float64 by torch) holds the initial weights, an input batch and its targets, and what torch computed: the
// logits, the loss, every parameter's gradient and the parameters after 3 AdamW steps. lf loads the weights
// by their state_dict names and must reproduce all of it, in f64 (tolerances near round-off) and in f32.
//
// The error of a tensor is max |lf - torch| / max |torch|: relative to the tensor's scale, since an
// element-wise relative error is meaningless where a value is (near) zero, e.g. the gradient of an unused
// embedding row.
//
// LF_TORCH_REFERENCE_DIR points the test at another directory of fixtures: make_fixture.py --mutant writes
// fixtures from a deliberately wrong twin there, which this test must then fail.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/text.h"
#include "nn/models.h"
#include "nn/optim.h"
#include "io/safetensors.h"
#include "tests/support/helpers.h"

using namespace lf;
namespace fs = std::filesystem;

namespace {

const char* kFixtures[] = {"linformer_layerwise", "linformer_none", "linformer_headwise_tied", "standard"};

fs::path fixture_dir() {
  if (const char* dir = std::getenv("LF_TORCH_REFERENCE_DIR")) return dir;
  return fs::path(__FILE__).parent_path().parent_path() / "torch_reference";
}

struct AdamWSettings {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t steps;
};

struct Fixture {
  std::string name;
  EncoderConfig cfg;
  AdamWSettings adamw;
  std::map<std::string, Tensor> t;  // every tensor of the file by name
  NamedTensors init;                // "init.<name>" with the prefix removed, in file order
  std::vector<std::string> grad_names;
};

// lf's EncoderConfig from the JSON the fixture stores (the keys of train_mlm's "config"; others are ignored).
EncoderConfig config_from_json(const std::string& text, const std::string& path) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    EncoderConfig c;
    c.vocab = j.at("vocab"), c.dim = j.at("dim"), c.depth = j.at("depth"), c.heads = j.at("heads");
    c.max_len = j.at("max_len"), c.k = j.at("k");
    c.kind = parse_attention_kind(j.at("attention").get<std::string>());
    c.sharing = parse_sharing(j.at("sharing").get<std::string>());
    c.tie_embeddings = j.at("tie_embeddings");
    c.dropout = j.value("dropout", 0.0);
    c.validate();
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: malformed config '{}': {}", path, text, e.what()));
  }
}

Fixture load_fixture(const std::string& name) {
  Fixture fx;
  fx.name = name;
  std::string path = (fixture_dir() / (name + ".fixture")).string();
  std::map<std::string, std::string> meta;
  NamedTensors all = load_safetensors(path, &meta);
  LF_CHECK(meta.count("config") && meta.count("adamw"), "{}: no 'config' or 'adamw' metadata", path);
  fx.cfg = config_from_json(meta["config"], path);
  nlohmann::json a = nlohmann::json::parse(meta["adamw"]);
  fx.adamw = {a.at("lr"), a.at("beta1"), a.at("beta2"), a.at("eps"), a.at("weight_decay"), a.at("steps")};
  for (auto& [key, tensor] : all) {
    fx.t[key] = tensor;
    if (key.rfind("init.", 0) == 0) fx.init.emplace_back(key.substr(5), tensor);
    if (key.rfind("grad.", 0) == 0) fx.grad_names.push_back(key.substr(5));
  }
  for (const char* key : {"input", "target", "logits", "loss"})
    LF_CHECK(fx.t.count(key), "{}: no tensor '{}'", path, key);
  return fx;
}

// max |a - ref| / max |ref| (both as f64 on the CPU); shapes must match.
double rel_err(const Tensor& a, const Tensor& ref) {
  REQUIRE(a.shape() == ref.shape());
  auto va = a.to(DType::f64).to_vector<double>(), vr = ref.to(DType::f64).to_vector<double>();
  double diff = 0, scale = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    diff = std::max(diff, std::abs(va[i] - vr[i]));
    scale = std::max(scale, std::abs(vr[i]));
  }
  return diff / std::max(scale, 1e-300);
}

// The largest error per quantity, and which parameter it came from.
struct Errors {
  double logits = 0, loss = 0, grad = 0, adamw = 0;
  std::string grad_at, adamw_at;
};

struct Tolerances {
  double logits, loss, grad, adamw;
};

// Runs lf on the fixture in `dtype`: forward, loss, backward (compared), then `steps` AdamW steps on the same
// batch (compared). `init` replaces the fixture's initial weights when given (to perturb one).
Errors run_lf(const Fixture& fx, DType dtype, const NamedTensors* init = nullptr) {
  MaskedLM model(fx.cfg);
  model.to(dtype);
  model.load_state_dict(init ? *init : fx.init);  // strict: the names must be lf's state_dict names
  model.train();
  const Tensor &ids = fx.t.at("input"), &target = fx.t.at("target");
  const int64_t V = fx.cfg.vocab;
  AdamW opt(model.named_parameters(), fx.adamw.lr, fx.adamw.beta1, fx.adamw.beta2, fx.adamw.eps,
            fx.adamw.weight_decay);
  Errors e;
  for (int64_t step = 0; step < fx.adamw.steps; ++step) {
    opt.zero_grad();
    Tensor logits = model.forward(ids);  // [B, n, V]
    Tensor loss = cross_entropy(logits.reshape({-1, V}), target.reshape({-1}), kIgnoreIndex);
    loss.backward();
    if (step == 0) {
      e.logits = rel_err(logits, fx.t.at("logits"));
      e.loss = rel_err(loss, fx.t.at("loss"));
      // One-to-one: every lf parameter has a gradient and a torch gradient of that name, and no torch
      // gradient is left over.
      std::vector<std::string> lf_names;
      for (auto& [name, p] : model.named_parameters()) {
        lf_names.push_back(name);
        INFO("parameter " << name);
        REQUIRE(p.grad().defined());
        REQUIRE(fx.t.count("grad." + name));
        double err = rel_err(p.grad(), fx.t.at("grad." + name));
        if (err >= e.grad) e.grad = err, e.grad_at = name;
      }
      CHECK(lf_names == fx.grad_names);
    }
    opt.step();
  }
  const int64_t D = fx.cfg.dim;
  for (auto& [name, p] : model.named_parameters()) {
    INFO("parameter " << name);
    REQUIRE(fx.t.count("adamw." + name));
    const Tensor& ref = fx.t.at("adamw." + name);
    double err = rel_err(p, ref);
    if (fx.cfg.kind == AttentionKind::standard && name.ends_with("att.qkv.bias")) {
      // Standard attention's key bias (rows D..2D-1) has gradient exactly 0: it adds q.bk to every score
      // of a query's row, which softmax ignores. Both gradients are round-off noise there, and AdamW's
      // m / sqrt(v) turns noise into steps of +-lr of random sign, so only the q and v rows are compared.
      // (Linformer adds (E^T 1)_j q.bk to key j, which differs per j: its key bias is learned and compared.)
      err = std::max(rel_err(p.slice(0, 0, D), ref.slice(0, 0, D)),
                     rel_err(p.slice(0, 2 * D, 3 * D), ref.slice(0, 2 * D, 3 * D)));
    }
    if (err >= e.adamw) e.adamw = err, e.adamw_at = name;
  }
  return e;
}

void check_within(const Fixture& fx, DType dtype, const Errors& e, const Tolerances& tol) {
  fmt::print("torch reference {:<24} {}: logits {:.1e}  loss {:.1e}  grad {:.1e} ({})  adamw {:.1e} ({})\n",
             fx.name, dtype, e.logits, e.loss, e.grad, e.grad_at, e.adamw, e.adamw_at);
  INFO("fixture " << fx.name << " in " << fmt::format("{}", dtype));
  INFO("worst gradient: " << e.grad_at << ", worst parameter after AdamW: " << e.adamw_at);
  CHECK(e.logits <= tol.logits);
  CHECK(e.loss <= tol.loss);
  CHECK(e.grad <= tol.grad);
  CHECK(e.adamw <= tol.adamw);
}

// A few times the largest error measured over the four fixtures (test_torch_reference prints them; the
// figures are in docs/checkpoints.md), so that a real bug fails: see make_fixture.py --mutant.
constexpr Tolerances kF64Tol{5e-15, 3e-15, 2e-14, 5e-14};
constexpr Tolerances kF32Tol{1e-6, 5e-7, 3e-6, 1e-5};

}  // namespace

TEST_CASE("torch reference: logits, loss, gradients and 3 AdamW steps match PyTorch in f64",
          "[torch_reference]") {
  for (const char* name : kFixtures) {
    Fixture fx = load_fixture(name);
    check_within(fx, DType::f64, run_lf(fx, DType::f64), kF64Tol);
  }
}

TEST_CASE("torch reference: the same in f32, within f32 round-off", "[torch_reference]") {
  for (const char* name : kFixtures) {
    Fixture fx = load_fixture(name);
    check_within(fx, DType::f32, run_lf(fx, DType::f32), kF32Tol);
  }
}

TEST_CASE("torch reference: the tolerances see a small change of one weight", "[torch_reference]") {
  // The shared Linformer projection E moved by 1e-6 at one entry (E is ~0.3): far smaller than any bug,
  // yet the f64 comparison must notice it, in the logits and in the gradients.
  Fixture fx = load_fixture("linformer_layerwise");
  NamedTensors init = fx.init;
  bool found = false;
  for (auto& [name, t] : init)
    if (name == "E") {
      std::vector<double> v = t.to_vector<double>();
      v[5] += 1e-6;
      t = from_vector(v, t.shape());
      found = true;
    }
  REQUIRE(found);
  Errors e = run_lf(fx, DType::f64, &init);
  INFO("logits " << e.logits << ", gradients " << e.grad << ", after AdamW " << e.adamw);
  CHECK(e.logits > kF64Tol.logits);
  CHECK(e.grad > kF64Tol.grad);
  CHECK(e.adamw > kF64Tol.adamw);
}

TEST_CASE("torch reference: a missing fixture is reported by path", "[torch_reference]") {
  CHECK_ERROR(load_fixture("no_such_fixture"), "no_such_fixture.fixture", "cannot open");
}
