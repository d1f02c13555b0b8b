#include "examples/common/classifier_model.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "autograd/grad_mode.h"
#include "core/untrusted_input.h"
#include "io/safetensors.h"
#include "ops/ops.h"

namespace lf {

std::map<std::string, std::string> classifier_meta(const EncoderConfig& cfg, const Tokenizer& tok,
                                                   const std::vector<std::string>& classes) {
  std::map<std::string, std::string> meta = mlm_meta(cfg, tok);
  meta["classes"] = nlohmann::json(classes).dump();
  return meta;
}

std::vector<std::string> classes_from_meta(const std::map<std::string, std::string>& meta,
                                           const std::string& path) {
  auto it = meta.find("classes");
  LF_CHECK(it != meta.end(), "{}: no 'classes' metadata: not a classifier written by train_classifier", path);
  const nlohmann::ordered_json j = parse_untrusted_json(it->second, path + ": 'classes' metadata");
  LF_CHECK(j.is_array() && j.size() >= 2 && j.size() <= size_t(kMaxClasses),
           "{}: 'classes' must be a JSON array of 2 to {} class names, got {}", path, kMaxClasses, json_excerpt(j));
  std::vector<std::string> classes;
  std::set<std::string> seen;
  for (const auto& c : j) {
    LF_CHECK(c.is_string() && !c.get<std::string>().empty() && c.get<std::string>().size() <= 200,
             "{}: 'classes' holds {}, not a class name (a non-empty string of at most 200 bytes)", path,
             json_excerpt(c));
    LF_CHECK(seen.insert(c.get<std::string>()).second, "{}: 'classes' names {} twice", path,
             quote_untrusted(c.get<std::string>()));
    classes.push_back(c.get<std::string>());
  }
  return classes;
}

std::vector<std::pair<std::string, Shape>> classifier_weight_shapes(const EncoderConfig& cfg, int64_t classes) {
  std::vector<std::pair<std::string, Shape>> w = encoder_weight_shapes(cfg);
  w.push_back({"head.weight", {classes, cfg.dim}});
  w.push_back({"head.bias", {classes}});
  return w;
}

ClassifierFile load_classifier_file(const std::string& path) {
  std::map<std::string, std::string> meta;
  NamedTensors all = load_safetensors(path, &meta);
  MlmFile m = model_file_from(all, meta, path);
  ClassifierFile f{m.cfg, m.tok, classes_from_meta(meta, path), std::move(m.weights)};
  check_weights(classifier_weight_shapes(f.cfg, int64_t(f.classes.size())), f.weights, path);
  return f;
}

void load_pretrained_encoder(SequenceClassifier& model, const MlmFile& mlm, const std::string& path) {
  std::map<std::string, Tensor> start;
  for (const auto& [name, shape] : encoder_weight_shapes(model.cfg)) {
    auto it = mlm.weights.find(name);
    LF_CHECK(it != mlm.weights.end() && it->second.shape() == shape,
             "{}: the pretrained encoder has {} where the classifier needs '{}' {}", path,
             it == mlm.weights.end() ? std::string("no such weight") : shape_str(it->second.shape()), name,
             shape_str(shape));
    start[name] = it->second;
  }
  start["head.weight"] = model.head->weight;  // the fresh head: its own init
  start["head.bias"] = model.head->bias;
  model.load_state_dict(start);
}

std::vector<std::pair<std::string, double>> classify_text(const SequenceClassifier& model, const Tokenizer& tok,
                                                          const std::vector<std::string>& classes,
                                                          const std::string& text, int top) {
  std::vector<int64_t> ids = tok.encode(text);
  LF_CHECK(!ids.empty(), "classify: the text has no tokens");
  if (int64_t(ids.size()) > model.cfg.max_len) ids.resize(size_t(model.cfg.max_len));
  NoGradGuard no_grad;
  Tensor logits = model.forward(from_vector(ids, {1, int64_t(ids.size())}));  // [1, C]
  const std::vector<double> p = softmax(logits.to(DType::f64), -1).to_vector<double>();
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  std::vector<std::pair<std::string, double>> best;
  for (size_t i = 0; i < order.size() && int(i) < top; ++i) best.push_back({classes[order[i]], p[order[i]]});
  return best;
}

}  // namespace lf
