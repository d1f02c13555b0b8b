#pragma once
// What train_classifier keeps in its files and does with a trained classifier: a SequenceClassifier's
// config and tokenizer as an MLM file has them (examples/common/mlm_common.h) plus the class names, the
// pretrained encoder a fine-tuning run starts from, and the top labels of a text.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "examples/common/mlm_common.h"

namespace lf {

// A classifier file's metadata: mlm_meta's "config" (and "tokenizer.model") plus "classes", a JSON array of
// the class names, label 0 first (docs/checkpoints.md).
std::map<std::string, std::string> classifier_meta(const EncoderConfig& cfg, const Tokenizer& tok,
                                                   const std::vector<std::string>& classes);
// The "classes" of a file nobody vouches for: a JSON array of 2 to kMaxClasses distinct, non-empty strings
// of at most 200 bytes; lf::Error naming the file otherwise.
inline constexpr int64_t kMaxClasses = 100000;
std::vector<std::string> classes_from_meta(const std::map<std::string, std::string>& meta, const std::string& path);

// A SequenceClassifier's weights: the encoder's (encoder_weight_shapes) and "head.weight" [classes, D],
// "head.bias" [classes].
std::vector<std::pair<std::string, Shape>> classifier_weight_shapes(const EncoderConfig& cfg, int64_t classes);

// A trained classifier read from train_classifier's model.safetensors or checkpoint.safetensors, its weights
// checked against its config, so SequenceClassifier(cfg, classes.size()).load_state_dict(weights) cannot fail.
struct ClassifierFile {
  EncoderConfig cfg;
  Tokenizer tok;
  std::vector<std::string> classes;
  std::map<std::string, Tensor> weights;
};
ClassifierFile load_classifier_file(const std::string& path);

// Fine-tuning's start: `model`'s encoder takes the weights of a pretrained masked LM (`mlm`, already checked
// against its config), its head keeps its fresh initialisation, and the MLM head is dropped. lf::Error when
// model's encoder has other names or shapes than the file's (its config differs from mlm.cfg).
void load_pretrained_encoder(SequenceClassifier& model, const MlmFile& mlm, const std::string& path);

// The `top` most likely classes of `text` (tokenized, cut to the model's max_len), best first, with their
// probabilities, from the model as it is (call model.eval() first: dropout off). lf::Error for a text
// without tokens.
std::vector<std::pair<std::string, double>> classify_text(const SequenceClassifier& model, const Tokenizer& tok,
                                                          const std::vector<std::string>& classes,
                                                          const std::string& text, int top = 3);

}  // namespace lf
