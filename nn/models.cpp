#include "nn/models.h"

#include "ops/join.h"

namespace lf {

MaskedLM::MaskedLM(const EncoderConfig& c) : Encoder(c) {
  LF_CHECK(cfg.in_features == 0, "MaskedLM: needs a token front (in_features = 0), got in_features {}",
           cfg.in_features);
  head = register_module("head",
                         std::make_shared<MaskedLMHead>(cfg.dim, cfg.vocab, cfg.tie_embeddings ? tok->weight : Tensor()));
}

Tensor MaskedLM::forward(const Tensor& ids, const Tensor& mask) const { return head->forward(encode(ids, mask)); }

Tensor MaskedLM::forward_at(const Tensor& ids, const Tensor& positions, const Tensor& mask) const {
  LF_CHECK(positions.defined() && positions.dim() == 1 && positions.dtype() == DType::i64,
           "MaskedLM::forward_at: positions must be i64 [M], got {}",
           positions.defined() ? shape_str(positions.shape()) : "undefined");
  Tensor h = encode(ids, mask);                                       // [B, n, D]
  Tensor rows = h.reshape({h.size(0) * h.size(1), h.size(2)});        // [B n, D]
  return head->forward(index_select(rows, 0, positions));             // [M, D] -> [M, V]
}

SequenceClassifier::SequenceClassifier(const EncoderConfig& c, int64_t classes) : Encoder(c) {
  head = register_module("head", std::make_shared<ClassificationHead>(cfg.dim, classes));
}

Tensor SequenceClassifier::forward(const Tensor& input, const Tensor& mask) const {
  return head->forward(encode(input, mask), mask);
}

}  // namespace lf
