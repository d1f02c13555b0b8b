// Hostile model configs and MLM files: every field of a config read from a file is type- and range-checked
// before a model is built (a max_len of 1e8 used to run for minutes, a dim of 1e12 threw bad_alloc), and the
// weights must fit the config before anyone uses them.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "examples/common/mlm_common.h"
#include "io/safetensors.h"
#include "tests/support/helpers.h"

using namespace lf;
namespace fs = std::filesystem;

namespace {

EncoderConfig small(AttentionKind kind = AttentionKind::linformer, Sharing sharing = Sharing::layerwise) {
  EncoderConfig c;
  c.vocab = 258, c.dim = 16, c.depth = 2, c.heads = 2, c.max_len = 24, c.k = 6;
  c.kind = kind, c.sharing = sharing;
  return c;
}

std::string temp_path(const char* name) {
  return (fs::temp_directory_path() / fmt::format("lf_test_hostile_config_{}_{}", ::getpid(), name)).string();
}

// The metadata of a byte-level model whose config is `base` with `key` replaced by the raw JSON `value`
// (or removed when value is empty).
std::map<std::string, std::string> config_with(const std::string& key, const std::string& value) {
  std::vector<std::pair<std::string, std::string>> base = {{"vocab", "258"},
                                                           {"dim", "16"},
                                                           {"depth", "2"},
                                                           {"heads", "2"},
                                                           {"max_len", "24"},
                                                           {"k", "6"},
                                                           {"attention", "\"linformer\""},
                                                           {"sharing", "\"layerwise\""},
                                                           {"dropout", "0.0"},
                                                           {"tie_embeddings", "false"},
                                                           {"token_init_std", "1.0"},
                                                           {"tokenizer", "\"bytes\""}};
  bool found = false;
  std::string json = "{";
  for (auto& [k, v] : base) {
    std::string val = v;
    if (k == key) val = value, found = true;
    if (val.empty()) continue;
    json += fmt::format("{}\"{}\": {}", json.size() > 1 ? ", " : "", k, val);
  }
  if (!found && !value.empty()) json += fmt::format(", \"{}\": {}", key, value);
  return {{"config", json + "}"}};
}

}  // namespace

TEST_CASE(
    "EncoderConfig: parameter_count matches the model, and huge configs are refused before allocating") {
  for (AttentionKind kind : {AttentionKind::linformer, AttentionKind::standard})
    for (Sharing s : {Sharing::none, Sharing::headwise, Sharing::kv, Sharing::layerwise})
      for (bool tie : {false, true}) {
        EncoderConfig c = small(kind, s);
        c.tie_embeddings = tie;
        MaskedLM m(c);
        CHECK(c.parameter_count() == m.num_parameters());
        // The shapes load_mlm_file checks are the model's own, name for name.
        std::map<std::string, Shape> want, got;
        for (auto& [name, shape] : mlm_weight_shapes(c)) want[name] = shape;
        for (auto& [name, t] : m.state_dict()) got[name] = t.shape();
        CHECK(want == got);
      }
  EncoderConfig f = small();
  f.in_features = 28;
  CHECK(f.parameter_count() == Encoder(f).num_parameters());

  auto refused = [](auto change, std::vector<const char*> parts) {
    EncoderConfig c = small();
    change(c);
    const auto t0 = std::chrono::steady_clock::now();
    try {
      c.validate();
      FAIL_CHECK("expected an lf::Error");
    } catch (const Error& e) {
      INFO(e.what());
      for (const char* p : parts) CHECK(std::string(e.what()).find(p) != std::string::npos);
    }
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(100));
  };
  refused([](EncoderConfig& c) { c.vocab = (1 << 24) + 1; }, {"vocab 16777217"});
  refused([](EncoderConfig& c) { c.vocab = 0; }, {"vocab 0"});
  refused([](EncoderConfig& c) { c.dim = 1'000'000'000'000; }, {"dim 1000000000000", "[1, 16384]"});
  refused([](EncoderConfig& c) { c.depth = 257; }, {"depth 257"});
  refused([](EncoderConfig& c) { c.depth = -1; }, {"depth -1"});
  refused([](EncoderConfig& c) { c.heads = 0; }, {"heads 0"});
  refused([](EncoderConfig& c) { c.heads = 32; }, {"heads 32", "[1, 16]"});
  refused([](EncoderConfig& c) { c.heads = 3; }, {"not divisible by heads 3"});
  refused([](EncoderConfig& c) { c.max_len = 100'000'000; }, {"max_len 100000000"});
  refused([](EncoderConfig& c) { c.k = 0; }, {"k 0", "[1, 24]"});
  refused([](EncoderConfig& c) { c.k = 25; }, {"k 25", "[1, 24]"});
  refused([](EncoderConfig& c) { c.dropout = 1; }, {"dropout 1"});
  refused([](EncoderConfig& c) { c.dropout = std::nan(""); }, {"dropout nan"});
  refused([](EncoderConfig& c) { c.token_init_std = 0; }, {"token_init_std 0"});
  refused([](EncoderConfig& c) { c.token_init_std = INFINITY; }, {"token_init_std inf"});
  refused([](EncoderConfig& c) { c.in_features = -1; }, {"in_features -1"});
  // Each size within its limit, the whole too large: the computed count is in the message.
  refused([](EncoderConfig& c) { c.vocab = 1 << 24, c.dim = 16384; }, {"556215894160 parameters", "2^32"});
  refused(
      [](EncoderConfig& c) {
        c.max_len = 1 << 20, c.k = 1 << 20, c.sharing = Sharing::none, c.heads = 16;
        c.depth = 256;
      },
      {"parameters", "more than the limit"});
  EncoderConfig standard = small(AttentionKind::standard);
  standard.k = -5;  // ignored by standard attention
  standard.validate();
}

TEST_CASE("config_from_meta: every key's type and range is checked; errors name the file, key and value") {
  const std::string p = "model.safetensors";
  auto refused = [&](const std::string& key, const std::string& value, std::vector<const char*> parts) {
    INFO(key << " = " << value);
    try {
      config_from_meta(config_with(key, value), p);
      FAIL_CHECK("expected an lf::Error");
    } catch (const Error& e) {
      const std::string msg = e.what();
      INFO("message: " << msg);
      CHECK(msg.find(p) != std::string::npos);
      for (const char* part : parts) CHECK(msg.find(part) != std::string::npos);
      CHECK(msg.size() < 1000);
      CHECK(msg.find('\x1b') == std::string::npos);
    }
  };
  CHECK(config_from_meta(config_with("", ""), p).dim == 16);  // the base config is fine
  for (const char* key : {"vocab", "dim", "depth", "heads", "max_len", "k"}) {
    refused(key, "\"16\"", {key, "must be an integer", "\"16\""});
    refused(key, "16.0", {key, "must be an integer", "16.0"});
    refused(key, "true", {key, "must be an integer"});
    refused(key, "null", {key, "must be an integer"});
    refused(key, "[16]", {key, "must be an integer"});
    refused(key, "9223372036854775808", {key, "fits int64"});
    refused(key, "-7", {key, "-7"});
    refused(key, "1000000000000", {key, "1000000000000"});
    refused(key, "", {key, "required key", "missing"});
  }
  refused("max_len", "100000000", {"max_len 100000000", "[1, 1048576]"});
  refused("attention", "\"sparse\"", {"'attention'", "'sparse'", "standard or linformer"});
  refused("attention", "1", {"'attention'", "must be a string"});
  refused("attention", "", {"'attention'", "missing"});
  refused("attention", "\"\\u001b[31mred\"", {"'attention'", "\\x1b[31mred"});
  refused("attention", "\"" + std::string(100000, 'x') + "\"", {"'attention'", "(100000 bytes)"});
  refused("sharing", "\"all\"", {"'sharing'", "'all'"});
  refused("sharing", "[]", {"'sharing'", "must be a string"});
  refused("proj_init", "\"ones\"", {"'proj_init'", "'ones'"});
  refused("tokenizer", "\"words\"", {"'tokenizer'", "'words'"});
  refused("dropout", "\"0.1\"", {"'dropout'", "must be a number"});
  refused("dropout", "1.5", {"dropout 1.5"});
  refused("dropout", "-0.1", {"dropout -0.1"});
  refused("token_init_std", "0", {"token_init_std 0"});
  refused("token_init_std", "1e400", {"invalid JSON"});
  refused("tie_embeddings", "1", {"'tie_embeddings'", "true or false"});
  refused("tie_embeddings", "\"true\"", {"'tie_embeddings'", "true or false"});
  refused("sinusoidal_init", "0", {"'sinusoidal_init'", "true or false"});
  refused("in_features", "28", {"unknown key 'in_features'"});
  refused("dim ", "16", {"unknown key 'dim '"});
  refused("heads", "3", {"not divisible by heads 3"});
  refused("k", "25", {"k 25"});

  auto whole = [&](const std::string& config, const char* part) {
    INFO(config.substr(0, 100));
    CHECK_ERROR(config_from_meta({{"config", config}}, p), p.c_str(), part);
  };
  whole(std::string(100000, '[') + std::string(100000, ']'), "nested more than 64 levels");
  whole(R"({"vocab": 258, "vocab": 300})", "'vocab' appears twice");
  whole("[1, 2]", "not a JSON object");
  whole("", "invalid JSON");
  whole(std::string("{}\0junk", 7), "NUL byte");
  whole("{\"vocab\": " + std::string(100000, '9') + "}",
        "invalid JSON");  // a float overflow, message cut short
  CHECK_ERROR(config_from_meta({}, p), p.c_str(), "no 'config'");
}

TEST_CASE("tokenizer_from_meta and load_mlm_file refuse contradictory metadata and weights that do not fit") {
  const std::string p = "m.safetensors";
  auto meta = config_with("", "");
  meta["tokenizer.model"] = "QUJD";
  CHECK_ERROR(tokenizer_from_meta(meta, p), p.c_str(), "'bytes'", "contradicts");
  meta = config_with("tokenizer", "\"subword\"");
  CHECK_ERROR(tokenizer_from_meta(meta, p), p.c_str(), "no 'tokenizer.model'");
  meta["tokenizer.model"] =
      "QU\x1b"
      "D";
  CHECK_ERROR(tokenizer_from_meta(meta, p), p.c_str(), "'tokenizer.model'", "base64", "\\x1b");
  meta["tokenizer.model"] = "QUJD";
  CHECK_ERROR(tokenizer_from_meta(meta, p), p.c_str(), "not a SentencePiece model");
  meta["tokenizer.model"] = std::string(1 << 16, 'A');  // valid base64 of zeros, not a model
  CHECK_ERROR(tokenizer_from_meta(meta, p), p.c_str(), "not a SentencePiece model");

  const std::string path = temp_path("weights.safetensors");
  manual_seed(3);
  MaskedLM model(small());
  auto state = model.state_dict();
  auto saved = [&](NamedTensors tensors, std::map<std::string, std::string> m = config_with("", "")) {
    save_safetensors(path, tensors, m);
    return path;
  };
  CHECK(load_mlm_file(saved(state)).weights.size() == state.size());
  NamedTensors missing(state.begin() + 1, state.end());
  CHECK_ERROR(load_mlm_file(saved(missing)), path.c_str(), "do not match", "'pos' is missing");
  NamedTensors extra = state;
  extra.emplace_back("blocks.9.evil", from_vector(std::vector<float>{1}, {1}));
  CHECK_ERROR(load_mlm_file(saved(extra)), "'blocks.9.evil' is not a weight");
  NamedTensors reshaped = state;
  reshaped[0].second = reshaped[0].second.reshape({-1});
  CHECK_ERROR(load_mlm_file(saved(reshaped)), "'pos' is [384], the config needs [24,16]");
  NamedTensors ints = state;
  ints[0].second = Tensor::empty({24, 16}, DType::i64);
  CHECK_ERROR(load_mlm_file(saved(ints)), "'pos' is i64");
  // A config far larger than its weights is refused from the file alone, quickly and without allocating.
  const auto t0 = std::chrono::steady_clock::now();
  CHECK_ERROR(load_mlm_file(saved(state, config_with("max_len", "1048576"))),
              "the config needs [1048576,16]");
  CHECK_ERROR(load_mlm_file(saved(state, config_with("dim", "1000000000000"))), "dim 1000000000000");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  fs::remove(path);
}
