// fill_mask: loads a train_mlm checkpoint and fills in the '_' characters of a sentence.
//
//   build/fill_mask "To be or n_t to be, that is the q_estion."
//   build/fill_mask --checkpoint runs/mlm/checkpoint.safetensors "A p_nny saved is a penny e_rned."
#include <CLI/CLI.hpp>

#include "examples/common/mlm_common.h"
#include "nn/checkpoint.h"

using namespace lf;

int main(int argc, char** argv) {
  std::string path = "runs/mlm/checkpoint.safetensors";
  std::vector<std::string> sentences;
  CLI::App app{"Fill in the '_' characters of sentences with a trained masked language model."};
  app.add_option("--checkpoint", path, "checkpoint written by train_mlm")->capture_default_str();
  app.add_option("sentences", sentences, "sentences with '_' where a character is missing")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    LoadedCheckpoint loaded = load_checkpoint(path);
    EncoderConfig cfg = config_from_meta(loaded.ck.meta, path);
    MaskedLM model(cfg);
    model.load_state_dict(loaded.model);
    model.eval();
    for (const std::string& s : sentences) {
      LF_CHECK(s.find('_') != std::string::npos, "fill_mask: '{}' has no '_' to fill in", s);
      fmt::print("{}\n-> {}\n", s, fill_blanks(model, s));
    }
  } catch (const Error& e) {
    fmt::print(stderr, "fill_mask: {}\n", e.what());
    return 1;
  }
  return 0;
}
