// Training checkpoints: resuming continues bit-identically; damaged files are refused.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "nn/checkpoint.h"
#include "nn/data_text.h"
#include "nn/models.h"
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
