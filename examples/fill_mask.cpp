// fill_mask: loads a trained masked LM and fills in the blanks of sentences, with the top candidates.
//
//   build/fill_mask "A friend in need is a ___ indeed."            # subword model: ___ or [MASK] is a word
//   build/fill_mask --model runs/mlm/checkpoint.safetensors "To be or not to be, that is the ___."
//   build/fill_mask --model runs/bytes/model.safetensors "A p_nny saved is a p_nny earned."   # bytes: _ a letter
//
// The file may be a train_mlm checkpoint or a model file (weights under their own names); either way its
// metadata carries the config and the tokenizer (docs/checkpoints.md).
#include <CLI/CLI.hpp>

#include "examples/common/cli_checks.h"
#include "examples/common/entry.h"
#include "examples/common/mlm_common.h"

using namespace lf;

int main(int argc, char** argv) {
  std::string path = "runs/mlm/model.safetensors";
  std::vector<std::string> sentences;
  int top = 5;
  CLI::App app{"Fill in the blanks of sentences with a trained masked language model."};
  app.add_option("--model,--checkpoint", path,
                 "model.safetensors or checkpoint.safetensors written by train_mlm")
      ->capture_default_str()
      ->check(readable_file());
  app.add_option("--top", top, "candidates to show per blank")
      ->capture_default_str()
      ->check(int_range(1, 100));
  app.add_option("sentences", sentences,
                 "sentences with blanks: ___ or [MASK] for a word (subword models), _ for a "
                 "character (byte models)")
      ->required()
      ->check(non_empty());
  return run_program("fill_mask", app, argc, argv, [&] {
    MlmFile file = with_flag("--model", path, [&] { return load_mlm_file(path); });
    LF_CHECK(!file.cfg.causal, "--model {}: a causal LM (trained with --causal) predicts the next token, not blanks; "
             "train_mlm prints its continuation of a sample", path);
    MaskedLM model(file.cfg);
    with_flag("--model", path, [&] { model.load_state_dict(file.weights); });
    model.eval();
    // Every sentence is checked before any is filled: one without a blank, or too long, fails the run now.
    for (const std::string& s : sentences)
      with_flag("sentence", "'" + s + "'", [&] { check_blanks_fit(file.tok, s, file.cfg.max_len); });
    for (const std::string& s : sentences) {
      FilledBlanks filled = fill_blanks(model, file.tok, s, top);
      fmt::print("{}\n-> {}\n", s, filled.text);
      for (size_t b = 0; b < filled.candidates.size(); ++b)
        fmt::print("   blank {}:{}\n", b + 1, candidates_line(filled.candidates[b], 3));
    }
    return 0;
  });
}
