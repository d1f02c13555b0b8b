// libFuzzer target: arbitrary bytes as a safetensors file (tools/fuzz.sh builds and runs it).
// parse_safetensors shares every check with load_safetensors; a file that parses then goes through the MLM
// path fill_mask takes (config, tokenizer, weights against the config). lf::Error is the only way out:
// any other exception, a crash, a leak or undefined behaviour is a finding.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "examples/common/mlm_common.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<std::string, std::string> meta;
  try {
    lf::NamedTensors tensors = lf::parse_safetensors(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.safetensors", &meta);
    if (meta.count("config")) lf::mlm_file_from(tensors, meta, "fuzz.safetensors");
  } catch (const lf::Error&) {
  }
  return 0;
}
