#pragma once
// What train_mlm and fill_mask share: the model config as checkpoint metadata, and filling in blanks.
#include <map>
#include <string>

#include "nn/models.h"

namespace lf {

// EncoderConfig <-> the strings stored in a checkpoint's metadata (key "config", a JSON object).
std::map<std::string, std::string> config_to_meta(const EncoderConfig& cfg);
EncoderConfig config_from_meta(const std::map<std::string, std::string>& meta, const std::string& path);

// Replaces every '_' in `text` by the byte the model finds most likely there (printable ASCII only),
// predicting all blanks at once from one forward pass. `text` may be at most cfg.max_len bytes.
std::string fill_blanks(const MaskedLM& model, const std::string& text);

}  // namespace lf
