// Training checkpoints: resuming continues bit-identically; damaged files are refused.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "io/checkpoint.h"
#include "data/text.h"
#include "nn/models.h"
#include "io/safetensors.h"
#include "tests/support/helpers.h"

using namespace lf;
namespace fs = std::filesystem;

namespace {

EncoderConfig tiny_config() {
  EncoderConfig c;
  c.vocab = kTextVocabSize, c.dim = 16, c.depth = 1, c.heads = 2, c.max_len = 16, c.k = 8;
  c.kind = AttentionKind::linformer, c.sharing = Sharing::layerwise;
  c.dropout = 0.1;  // so the run draws from the global random stream, which the checkpoint must restore
  return c;
}

std::vector<int64_t> corpus_ids() {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "the quick brown fox jumps over the lazy dog. ";
  return Tokenizer::bytes().encode(text);
}

// One training step; returns the loss.
double train_step(MaskedLM& model, AdamW& opt, MlmBatcher& batcher) {
  MlmBatch b = batcher.next();
  Tensor loss = cross_entropy(model.forward(b.input).reshape({-1, kTextVocabSize}), b.target.reshape({-1}));
  opt.zero_grad();
  loss.backward();
  opt.step();
  return loss.item();
}

std::string temp_path(const char* name) {
  return (fs::temp_directory_path() / fmt::format("lf_test_ckpt_{}_{}", ::getpid(), name)).string();
}

}  // namespace

TEST_CASE("resuming from a checkpoint gives the same losses as an uninterrupted run") {
  const int total = 6, split = 3;
  std::vector<double> straight, resumed;
  {
    manual_seed(11);
    MaskedLM model(tiny_config());
    AdamW opt(model.named_parameters(), 1e-2);
    MlmBatcher batcher(corpus_ids(), 16, 4, 5);
    for (int s = 0; s < total; ++s) straight.push_back(train_step(model, opt, batcher));
  }
  std::string path = temp_path("resume.safetensors");
  {
    manual_seed(11);
    MaskedLM model(tiny_config());
    AdamW opt(model.named_parameters(), 1e-2);
    MlmBatcher batcher(corpus_ids(), 16, 4, 5);
    for (int s = 0; s < split; ++s) resumed.push_back(train_step(model, opt, batcher));
    save_checkpoint(path, model, opt, {split, {}, {{"note", "test"}}, {{"data_rng", rng_state_to_tensor(batcher.rng_state())}}});
    for (int s = 0; s < 5; ++s) randn({7});  // disturb the global stream: the checkpoint must restore it
  }
  {
    manual_seed(999);  // a different init, overwritten by the checkpoint
    MaskedLM model(tiny_config());
    AdamW opt(model.named_parameters(), 1e-2);
    MlmBatcher batcher(corpus_ids(), 16, 4, 12345);
    LoadedCheckpoint loaded = load_checkpoint(path);
    CHECK(loaded.ck.step == split);
    CHECK(loaded.ck.meta.at("note") == "test");
    restore_checkpoint(loaded, model, opt);
    REQUIRE(loaded.ck.extra.size() == 1);
    batcher.set_rng_state(rng_state_from_tensor(loaded.ck.extra[0].second));
    CHECK(opt.step_count() == split);
    for (int s = split; s < total; ++s) resumed.push_back(train_step(model, opt, batcher));
  }
  fs::remove(path);
  REQUIRE(resumed.size() == straight.size());
  for (size_t i = 0; i < straight.size(); ++i) {
    INFO("step " << i);
    CHECK(resumed[i] == straight[i]);  // bit-identical, not approximately equal
  }
  CHECK(straight.back() < straight.front());
}

TEST_CASE("a truncated or corrupted checkpoint is refused with the file's name") {
  manual_seed(1);
  MaskedLM model(tiny_config());
  AdamW opt(model.named_parameters(), 1e-2);
  std::string path = temp_path("damaged.safetensors");
  save_checkpoint(path, model, opt, {});
  auto size = fs::file_size(path);
  std::string bytes(size, '\0');
  {
    std::ifstream f(path, std::ios::binary);
    f.read(bytes.data(), std::streamsize(size));
  }
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);  // cut off the last 100 bytes
    f.write(bytes.data(), std::streamsize(size - 100));
  }
  CHECK_ERROR(load_checkpoint(path), "damaged.safetensors");
  {
    std::string bad = bytes;
    bad[12] = '#';  // inside the JSON header
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bad.data(), std::streamsize(bad.size()));
  }
  CHECK_ERROR(load_checkpoint(path), "damaged.safetensors");
  fs::remove(path);
  CHECK_ERROR(load_checkpoint(path), "damaged.safetensors");
}

TEST_CASE("restoring into a model of another shape names the mismatched keys") {
  manual_seed(1);
  MaskedLM model(tiny_config());
  AdamW opt(model.named_parameters(), 1e-2);
  std::string path = temp_path("shape.safetensors");
  save_checkpoint(path, model, opt, {});
  EncoderConfig other = tiny_config();
  other.dim = 8;
  MaskedLM small(other);
  AdamW opt2(small.named_parameters(), 1e-2);
  CHECK_ERROR(restore_checkpoint(load_checkpoint(path), small, opt2), "tok.weight", "[258,16]", "[258,8]");
  fs::remove(path);
}

TEST_CASE("hostile checkpoint metadata: every lf.* value is parsed strictly and range-checked") {
  manual_seed(1);
  MaskedLM model(tiny_config());
  AdamW opt(model.named_parameters(), 1e-2);
  std::string path = temp_path("meta.safetensors");
  save_checkpoint(path, model, opt, {});
  std::map<std::string, std::string> good;
  NamedTensors tensors = load_safetensors(path, &good);
  // Rewrites the checkpoint with one metadata value changed (or removed, for "").
  auto with = [&](const std::string& key, const std::optional<std::string>& value) {
    std::map<std::string, std::string> meta = good;
    if (value) meta[key] = *value;
    else meta.erase(key);
    save_safetensors(path, tensors, meta);
    return path;
  };
  for (const char* bad : {"-1", "9223372036854775807", "1000000000001", "-9223372036854775808"}) {
    CHECK_ERROR(load_checkpoint(with("lf.step", bad)), "meta.safetensors", "'lf.step'", bad, "out of range");
    CHECK_ERROR(load_checkpoint(with("lf.optim_steps", bad)), "'lf.optim_steps'", bad, "out of range");
  }
  for (const char* bad : {"", " 5", "+5", "5 ", "5x", "0x10", "1e3", "3.0", "99999999999999999999", "\x1b[2J"}) {
    INFO(bad);
    CHECK_ERROR(load_checkpoint(with("lf.step", bad)), "meta.safetensors", "'lf.step'", "not a 64-bit integer");
    CHECK_ERROR(load_checkpoint(with("lf.seed", bad)), "'lf.seed'", "not a 64-bit integer");
    CHECK_ERROR(load_checkpoint(with("lf.offset", bad)), "'lf.offset'", "not a 64-bit integer");
  }
  try {  // the escape sequence is shown escaped
    load_checkpoint(with("lf.step", "\x1b[2J"));
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find('\x1b') == std::string::npos);
  }
  // More optimizer steps than training steps: the schedule would silently jump ahead on resume.
  with("lf.step", "10");
  good["lf.step"] = "10";
  CHECK_ERROR(load_checkpoint(with("lf.optim_steps", "11")), "'lf.optim_steps' = 11", "'lf.step' = 10");
  CHECK(load_checkpoint(with("lf.optim_steps", "10")).optim_steps == 10);
  CHECK(load_checkpoint(with("lf.step", "1000000000000")).ck.step == 1'000'000'000'000);
  // Any 64-bit seed and offset (u64 stored as i64 bit patterns).
  CHECK(load_checkpoint(with("lf.seed", "-9223372036854775808")).ck.generator.seed == uint64_t(1) << 63);
  CHECK_ERROR(load_checkpoint(with("lf.offset", std::nullopt)), "no 'lf.offset'");
  CHECK_ERROR(load_checkpoint(with("lf.step", std::nullopt)), "no 'lf.step'");

  // The writer refuses what the reader would.
  auto at_step = [](int64_t step, std::map<std::string, std::string> meta = {}) {
    Checkpoint c;
    c.step = step, c.meta = std::move(meta);
    return c;
  };
  CHECK_ERROR(save_checkpoint(path, model, opt, at_step(-1)), "step -1", "out of range");
  CHECK_ERROR(save_checkpoint(path, model, opt, at_step(kMaxCheckpointSteps + 1)), "out of range");
  CHECK_ERROR(save_checkpoint(path, model, opt, at_step(0, {{"lf.step", "5"}})), "'lf.step'", "reserved");
  opt.set_step_count(3);
  CHECK_ERROR(save_checkpoint(path, model, opt, at_step(2)), "optimizer has made 3 steps", "step 2");
  fs::remove(path);
}

TEST_CASE("a checkpoint path that is a FIFO or a directory is refused, not waited on") {
  const std::string fifo = temp_path("fifo.safetensors");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_ERROR(load_checkpoint(fifo), fifo.c_str(), "FIFO");
  fs::remove(fifo);
  const std::string dir = fs::temp_directory_path().string();
  CHECK_ERROR(load_checkpoint(dir), "a directory");
}
