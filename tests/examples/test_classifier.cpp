// train_classifier's pieces (examples/common/classifier_model.h, class_metrics.h): the padding mask leaves a
// text's logits unchanged, a pretrained encoder is loaded with a fresh head (and a mismatch is refused),
// classifier files round-trip and hostile "classes" metadata is refused, the scores and baselines compute
// what they say.
#include "examples/common/class_metrics.h"
#include "examples/common/classifier_model.h"
#include "data/text.h"
#include "io/safetensors.h"
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::TempDir;

namespace {

EncoderConfig tiny(AttentionKind kind, ProjectionKind projection = ProjectionKind::learned) {
  EncoderConfig c;
  c.vocab = 40, c.dim = 16, c.depth = 2, c.heads = 2, c.max_len = 12, c.k = 4;
  c.kind = kind, c.projection = projection;
  return c;
}

}  // namespace

TEST_CASE("classifier: padding a text inside a longer batch does not change its logits") {
  for (const EncoderConfig& cfg : {tiny(AttentionKind::standard), tiny(AttentionKind::linformer),
                                   tiny(AttentionKind::linformer, ProjectionKind::pool)}) {
    INFO("attention " << attention_kind_name(cfg.kind) << ", projection " << projection_kind_name(cfg.projection));
    manual_seed(5);
    SequenceClassifier model(cfg, 3);
    model.eval();
    NoGradGuard no_grad;
    // Text A has 5 tokens, text B 9: alone, A is [1, 5]; in the batch it is padded to 9 with id 0.
    const std::vector<int64_t> a = {3, 7, 1, 9, 4}, b = {5, 2, 8, 8, 6, 1, 3, 2, 7};
    Tensor alone = model.forward(from_vector(a, {1, 5}));
    std::vector<int64_t> ids = a;
    ids.resize(9, 0);
    ids.insert(ids.end(), b.begin(), b.end());
    std::vector<float> mask(18, 1.0f);
    std::fill(mask.begin() + 5, mask.begin() + 9, 0.0f);
    Tensor batch = model.forward(from_vector(ids, {2, 9}), from_vector(mask, {2, 9}));
    CHECK(lf::test::max_abs_diff(batch.slice(0, 0, 1), alone) < 1e-5);
    // and B's row is B alone
    CHECK(lf::test::max_abs_diff(batch.slice(0, 1, 2), model.forward(from_vector(b, {1, 9}))) < 1e-5);
    // without the mask the padding would change A's logits
    CHECK(lf::test::max_abs_diff(model.forward(from_vector(ids, {2, 9})).slice(0, 0, 1), alone) > 1e-4);
  }
}

TEST_CASE("classifier: a pretrained encoder's weights with a fresh head; a mismatched config is refused") {
  const EncoderConfig cfg = tiny(AttentionKind::linformer);
  manual_seed(6);
  MaskedLM mlm(cfg);
  MlmFile file{cfg, Tokenizer::bytes(), {}};
  for (auto& [name, t] : mlm.state_dict()) file.weights[name] = t;
  manual_seed(7);
  SequenceClassifier model(cfg, 4);
  const std::vector<float> head_before = model.head->weight.to_vector<float>();
  load_pretrained_encoder(model, file, "mlm.safetensors");
  std::map<std::string, Tensor> got;
  for (auto& [name, t] : model.state_dict()) got[name] = t;
  for (const auto& [name, shape] : encoder_weight_shapes(cfg)) {
    INFO(name);
    CHECK(lf::test::max_abs_diff(got.at(name), file.weights.at(name)) == 0);
  }
  CHECK(model.head->weight.to_vector<float>() == head_before);  // not the MLM's head [vocab, D]
  CHECK(model.head->weight.shape() == Shape{4, 16});

  EncoderConfig other = cfg;
  other.k = 6;  // E is [12, 6] in the classifier, [12, 4] in the file
  SequenceClassifier wrong(other, 4);
  CHECK_ERROR(load_pretrained_encoder(wrong, file, "mlm.safetensors"), "mlm.safetensors", "'blocks.0.att.E' [12,6]");
  file.weights.erase("ln.bias");
  CHECK_ERROR(load_pretrained_encoder(model, file, "mlm.safetensors"), "no such weight", "'ln.bias'");
}

TEST_CASE("classifier files: round trip, and refusals of a missing, malformed or mismatched 'classes'") {
  TempDir tmp("classifier");
  const EncoderConfig cfg = tiny(AttentionKind::standard);
  manual_seed(8);
  SequenceClassifier model(cfg, 3);
  const std::vector<std::string> classes = {"gpl", "mpl", "apache"};
  const Tokenizer tok = Tokenizer::bytes();
  EncoderConfig byte_cfg = cfg;
  byte_cfg.vocab = tok.vocab_size();
  SequenceClassifier byte_model(byte_cfg, 3);
  const std::string path = tmp.file("model.safetensors");
  save_safetensors(path, byte_model.state_dict(), classifier_meta(byte_cfg, tok, classes));
  const ClassifierFile f = load_classifier_file(path);
  CHECK(f.classes == classes);
  CHECK(f.cfg.vocab == byte_cfg.vocab);
  SequenceClassifier back(f.cfg, 3);
  back.load_state_dict(f.weights);
  back.eval(), byte_model.eval();
  const auto top = classify_text(back, f.tok, f.classes, "free software", 3);
  REQUIRE(top.size() == 3);
  CHECK(top[0].second >= top[1].second);
  CHECK(top[1].second >= top[2].second);
  CHECK(top[0].second + top[1].second + top[2].second == Approx(1.0));
  CHECK(classify_text(byte_model, tok, classes, "free software", 3) == top);
  CHECK_ERROR(classify_text(back, f.tok, f.classes, "", 3), "no tokens");

  auto with_classes = [&](const std::string& json) {
    std::map<std::string, std::string> meta = classifier_meta(byte_cfg, tok, classes);
    meta["classes"] = json;
    save_safetensors(path, byte_model.state_dict(), meta);
    return load_classifier_file(path);
  };
  CHECK_ERROR(with_classes("\"gpl\""), "'classes' must be a JSON array");
  CHECK_ERROR(with_classes("[\"gpl\"]"), "'classes' must be a JSON array of 2 to");
  CHECK_ERROR(with_classes("[\"gpl\", \"gpl\", \"mpl\"]"), "names 'gpl' twice");
  CHECK_ERROR(with_classes("[\"gpl\", 3, \"mpl\"]"), "not a class name");
  CHECK_ERROR(with_classes("[\"gpl\", \"\", \"mpl\"]"), "not a class name");
  CHECK_ERROR(with_classes("[\"a\", \"b\"]"), "the weights do not match", "'head.weight' is [3,16]");
  CHECK_ERROR(with_classes("[\"a\", \"b\""), "'classes' metadata");  // not JSON
  save_safetensors(path, byte_model.state_dict(), mlm_meta(byte_cfg, tok));
  CHECK_ERROR(load_classifier_file(path), "no 'classes' metadata");
}

TEST_CASE("class metrics: accuracy and macro-F1 by hand, the majority class, argmax") {
  // truth 0 0 1 1 2, predicted 0 1 1 1 0: class 0 TP 1 FP 1 FN 1 -> F1 1/2; class 1 TP 2 FP 1 FN 0 -> 4/5;
  // class 2 TP 0 -> 0. Macro-F1 (0.5 + 0.8 + 0) / 3 = 0.4333.
  const ClassScores s = score_predictions({0, 0, 1, 1, 2}, {0, 1, 1, 1, 0}, 3);
  CHECK(s.accuracy == Approx(0.6));
  CHECK(s.f1[0] == Approx(0.5));
  CHECK(s.f1[1] == Approx(0.8));
  CHECK(s.f1[2] == 0);
  CHECK(s.macro_f1 == Approx(1.3 / 3));
  CHECK(majority_class({2, 1, 2, 1, 0}, 3) == 1);  // a tie: the smaller label
  CHECK(argmax_rows(from_vector(std::vector<float>{0, 3, 1, 5, 5, 2}, {2, 3})) == std::vector<int64_t>{1, 0});
  CHECK_ERROR(score_predictions({0, 1}, {0}, 2), "as many predictions as labels");
  CHECK_ERROR(score_predictions({0, 3}, {0, 1}, 2), "outside [0, 2)");
}

TEST_CASE("bag-of-pieces baseline: learns a task that word counts decide") {
  // Class 0 texts contain token 1, class 1 texts token 2, both with noise tokens 3..9.
  std::vector<std::vector<int64_t>> train, test;
  std::vector<int64_t> y, test_y;
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    const int64_t label = i % 2;
    std::vector<int64_t> t = {label == 0 ? 1 : 2};
    for (int j = 0; j < 4; ++j) t.push_back(3 + int64_t(rng.below(7)));
    (i < 160 ? train : test).push_back(t);
    (i < 160 ? y : test_y).push_back(label);
  }
  manual_seed(9);
  const std::vector<int64_t> predicted = bag_of_pieces_baseline(train, y, test, 10, 2, {.epochs = 20});
  CHECK(score_predictions(test_y, predicted, 2).accuracy == 1.0);
}
