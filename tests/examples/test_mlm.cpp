// The masked LM as train_mlm and fill_mask use it: logits at the masked positions only, model files with
// their config and tokenizer, filling blanks.
#include <filesystem>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "examples/common/mlm_common.h"
#include "io/checkpoint.h"
#include "data/text.h"
#include "io/safetensors.h"
#include "tests/support/helpers.h"

using namespace lf;
namespace fs = std::filesystem;

namespace {

EncoderConfig tiny(int64_t vocab, AttentionKind kind = AttentionKind::linformer) {
  EncoderConfig c;
  c.vocab = vocab, c.dim = 16, c.depth = 2, c.heads = 2, c.max_len = 24, c.k = 6;
  c.kind = kind, c.sharing = Sharing::layerwise, c.proj_init = ProjectionInit::pooling;
  return c;
}

std::string temp_path(const char* name) {
  return (fs::temp_directory_path() / fmt::format("lf_test_mlm_{}_{}", ::getpid(), name)).string();
}

std::vector<std::string> documents() {
  std::vector<std::string> docs;
  for (int d = 0; d < 150; ++d)
    docs.push_back(fmt::format("a friend in need is a friend indeed, said person {} to person {}.", d, d * 7 % 13));
  return docs;
}

}  // namespace

TEST_CASE("mlm: forward_at gives the full forward's logits at the chosen positions, and their gradients") {
  manual_seed(4);
  for (AttentionKind kind : {AttentionKind::linformer, AttentionKind::standard}) {
    MaskedLM model(tiny(40, kind));
    Tensor ids = from_vector(std::vector<int64_t>{1, 5, 7, 9, 3, 2, 8, 8, 30, 39, 0, 4}, {2, 6});
    Tensor positions = from_vector(std::vector<int64_t>{0, 4, 5, 7, 11}, {5});
    Tensor at = model.forward_at(ids, positions);  // [5, 40]
    Tensor full = model.forward(ids).reshape({12, 40});
    REQUIRE(at.shape() == Shape({5, 40}));
    CHECK(test::max_abs_diff(at, index_select(full, 0, positions)) < 1e-6);

    // The loss over the chosen positions is cross_entropy with the others ignored; so are the gradients.
    Tensor labels = from_vector(std::vector<int64_t>{3, 1, 4, 1, 5}, {5});
    std::vector<int64_t> t(12, kIgnoreIndex);
    t[0] = 3, t[4] = 1, t[5] = 4, t[7] = 1, t[11] = 5;
    model.zero_grad();
    cross_entropy(model.forward_at(ids, positions), labels).backward();
    NamedTensors g1;
    for (auto& [name, p] : model.named_parameters()) g1.emplace_back(name, p.grad());
    model.zero_grad();
    Tensor loss = cross_entropy(model.forward(ids).reshape({12, 40}), from_vector(t, {12}), kIgnoreIndex);
    loss.backward();
    size_t i = 0;
    for (auto& [name, p] : model.named_parameters()) {
      INFO(name);
      REQUIRE(g1[i].second.defined());
      CHECK(test::max_abs_diff(g1[i].second, p.grad()) < 1e-6);
      ++i;
    }
  }
  MaskedLM model(tiny(40));
  Tensor ids = from_vector(std::vector<int64_t>{1, 2, 3}, {1, 3});
  CHECK_ERROR(model.forward_at(ids, from_vector(std::vector<int64_t>{3}, {1})), "index_select");
  CHECK_ERROR(model.forward_at(ids, from_vector(std::vector<float>{0}, {1})), "forward_at", "i64");
}

TEST_CASE("mlm: a model file and a training checkpoint both load with their tokenizer; bad metadata is refused") {
  Tokenizer tok = Tokenizer::train_subword(documents(), 330, 1);
  EncoderConfig cfg = tiny(tok.vocab_size());
  manual_seed(9);
  MaskedLM model(cfg);
  const std::string model_path = temp_path("model.safetensors"), ckpt_path = temp_path("ckpt.safetensors");
  const auto meta = mlm_meta(cfg, tok);
  save_safetensors(model_path, model.state_dict(), meta);
  AdamW opt(model.named_parameters(), 1e-3);
  save_checkpoint(ckpt_path, model, opt, Checkpoint{3, {}, meta, {}});

  for (const std::string& path : {model_path, ckpt_path}) {
    INFO(path);
    MlmFile f = load_mlm_file(path);
    CHECK(f.cfg.vocab == cfg.vocab);
    CHECK(f.cfg.proj_init == ProjectionInit::pooling);
    CHECK(f.cfg.sharing == Sharing::layerwise);
    CHECK(f.tok.serialized() == tok.serialized());
    MaskedLM again(f.cfg);
    again.load_state_dict(f.weights);  // strict: every name present, nothing extra
    CHECK(test::max_abs_diff(again.E, model.E) == 0);
  }
  // Another program's file: only the required keys, bytes implied.
  save_safetensors(model_path, MaskedLM(tiny(kTextVocabSize)).state_dict(),
                   {{"config", R"({"vocab": 258, "dim": 16, "depth": 2, "heads": 2, "max_len": 24, "k": 6,
                                   "attention": "linformer", "sharing": "layerwise"})"}});
  MlmFile minimal = load_mlm_file(model_path);
  CHECK(minimal.tok.kind() == TokenizerKind::bytes);
  CHECK(minimal.cfg.proj_init == ProjectionInit::uniform);

  auto with_config = [&](const std::string& config, const std::string& model_b64 = "") {
    std::map<std::string, std::string> m = {{"config", config}};
    if (!model_b64.empty()) m["tokenizer.model"] = model_b64;
    save_safetensors(model_path, {}, m);
    return model_path;
  };
  const std::string base = R"("dim": 16, "depth": 2, "heads": 2, "max_len": 24, "k": 6, "attention": "linformer")";
  CHECK_ERROR(load_mlm_file(with_config("{" + base + "}")), "malformed", "vocab");
  CHECK_ERROR(load_mlm_file(with_config(R"({"vocab": 400, )" + base + R"(, "tokenizer": "subword"})")),
              "no 'tokenizer.model'");
  CHECK_ERROR(load_mlm_file(with_config(R"({"vocab": 400, )" + base + R"(, "tokenizer": "subword"})", "QUJD")),
              "not a SentencePiece model");
  CHECK_ERROR(load_mlm_file(with_config(R"({"vocab": 400, )" + base + R"(, "tokenizer": "words"})")), "'words'");
  CHECK_ERROR(load_mlm_file(with_config(R"({"vocab": 300, )" + base + "}")), "258 ids", "vocab is 300");
  CHECK_ERROR(load_mlm_file(with_config(R"({"vocab": 258, )" + base + R"(, "proj_init": "ones"})")), "'ones'");
  CHECK_ERROR(load_mlm_file(with_config("[1, 2]")), "not a JSON object");
  fs::remove(model_path);
  fs::remove(ckpt_path);
}

TEST_CASE("mlm: fill_blanks predicts a word per subword blank and a byte per '_'") {
  Tokenizer tok = Tokenizer::train_subword(documents(), 330, 1);
  manual_seed(2);
  MaskedLM model(tiny(tok.vocab_size()));
  model.eval();
  FilledBlanks f = fill_blanks(model, tok, "a friend in ___ is a [MASK] indeed", 3);
  REQUIRE(f.candidates.size() == 2);
  for (const auto& c : f.candidates) {
    REQUIRE(c.size() == 3);
    CHECK(c[0].second >= c[1].second);
    CHECK(c[1].second >= c[2].second);
    CHECK(c[0].first.front() != ' ');  // a word, shown without the blank's space
  }
  CHECK(f.text == "a friend in " + f.candidates[0][0].first + " is a " + f.candidates[1][0].first + " indeed");

  Tokenizer bytes = Tokenizer::bytes();
  MaskedLM byte_model(tiny(kTextVocabSize));
  FilledBlanks b = fill_blanks(byte_model, bytes, "fr__nd", 5);
  REQUIRE(b.candidates.size() == 2);
  CHECK(b.text.size() == 6);
  for (const auto& c : b.candidates)
    for (const auto& [w, p] : c) CHECK((w.size() == 1 && w[0] >= 32 && w[0] < 127));

  CHECK_ERROR(fill_blanks(model, tok, "no blank here"), "no blank", "___ or [MASK]");
  CHECK_ERROR(fill_blanks(model, tok, std::string(200, 'x') + " ___"), "at most 24");
}

TEST_CASE("mlm: the config's causal and layer_k keys round-trip through a file's metadata; bad values are refused") {
  Tokenizer tok = Tokenizer::bytes();
  EncoderConfig cfg = tiny(tok.vocab_size());
  cfg.kind = AttentionKind::standard, cfg.causal = true;
  CHECK(config_from_meta(mlm_meta(cfg, tok), "m.safetensors").causal);
  cfg.causal = false;
  CHECK_FALSE(config_from_meta(mlm_meta(cfg, tok), "m.safetensors").causal);
  auto meta = mlm_meta(cfg, tok);
  nlohmann::json j = nlohmann::json::parse(meta["config"]);
  j["attention"] = "linformer", j["causal"] = true;
  meta["config"] = j.dump();
  CHECK_ERROR(config_from_meta(meta, "m.safetensors"), "m.safetensors", "causal", "Linformer");
  j["attention"] = "linformer", j["causal"] = false, j["sharing"] = "headwise", j["layer_k"] = {3, 2};
  j["depth"] = 2;
  meta["config"] = j.dump();
  CHECK(config_from_meta(meta, "m.safetensors").layer_k == std::vector<int64_t>{3, 2});
  j["layer_k"] = {3, 2, 1};
  meta["config"] = j.dump();
  CHECK_ERROR(config_from_meta(meta, "m.safetensors"), "layer_k", "at most 2");
  j["layer_k"] = {3, "2"};
  meta["config"] = j.dump();
  CHECK_ERROR(config_from_meta(meta, "m.safetensors"), "layer_k", "integers");
  j["layer_k"] = nlohmann::json::array();
  j["causal"] = "yes";
  meta["config"] = j.dump();
  CHECK_ERROR(config_from_meta(meta, "m.safetensors"), "causal");
}
