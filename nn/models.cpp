#include "nn/models.h"

namespace lf {

MaskedLM::MaskedLM(const EncoderConfig& c) : Encoder(c) {
  LF_CHECK(cfg.in_features == 0, "MaskedLM: needs a token front (in_features = 0), got in_features {}",
           cfg.in_features);
  head = register_module("head",
                         std::make_shared<MaskedLMHead>(cfg.dim, cfg.vocab, cfg.tie_embeddings ? tok->weight : Tensor()));
}

Tensor MaskedLM::forward(const Tensor& ids, const Tensor& mask) const { return head->forward(encode(ids, mask)); }

SequenceClassifier::SequenceClassifier(const EncoderConfig& c, int64_t classes) : Encoder(c) {
  head = register_module("head", std::make_shared<ClassificationHead>(cfg.dim, classes));
}

Tensor SequenceClassifier::forward(const Tensor& input, const Tensor& mask) const {
  return head->forward(encode(input, mask), mask);
}

}  // namespace lf
