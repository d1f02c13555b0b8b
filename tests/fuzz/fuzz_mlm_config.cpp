// libFuzzer target: arbitrary bytes as an MLM file's metadata (tools/fuzz.sh builds and runs it). The
// input is the "config" JSON, optionally followed by a 0xFF byte (never part of UTF-8 JSON) and the
// "tokenizer.model" string. A config that config_from_meta accepts must build: when its model is small,
// it is constructed and run on a few tokens, so a config that validates but breaks a layer is a finding
// too. lf::Error is the only way out.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "examples/common/mlm_common.h"
#include "ops/ops.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> meta;
  const size_t sep = input.find('\xff');
  meta["config"] = input.substr(0, sep);
  if (sep != std::string::npos) meta["tokenizer.model"] = input.substr(sep + 1);
  try {
    lf::EncoderConfig cfg = lf::config_from_meta(meta, "fuzz.safetensors");
    (void)lf::mlm_weight_shapes(cfg);
    if (cfg.parameter_count() <= 20000 && cfg.depth <= 4) {
      lf::MaskedLM model(cfg);
      if (model.num_parameters() != cfg.parameter_count())
        __builtin_trap();  // validate() bounds the wrong count
      const int64_t n = std::min<int64_t>(cfg.max_len, 3);
      std::vector<int64_t> ids(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) ids[size_t(i)] = i % cfg.vocab;
      lf::NoGradGuard no_grad;
      lf::Tensor logits = model.forward(lf::from_vector(ids, {1, n}));
      if (logits.shape() != lf::Shape({1, n, cfg.vocab})) __builtin_trap();
    }
    lf::Tokenizer tok = lf::tokenizer_from_meta(meta, "fuzz.safetensors");
    (void)tok.encode("fuzz");
  } catch (const lf::Error&) {
  }
  return 0;
}
