// Linformer's projection kinds (nn/linformer_projection.h): learned, fixed random, fixed mean pooling and a
// strided convolution, with every sharing mode: what is a parameter and what a buffer, the values the fixed
// ones hold, the conv's arithmetic against a hand computation, f64 gradchecks, and parameter_count.
#include <cmath>

#include "nn/models.h"
#include "nn/optim.h"
#include "tests/support/helpers.h"

using namespace lf;
using In = std::vector<Tensor>;

namespace {
const ProjectionKind kKinds[] = {ProjectionKind::learned, ProjectionKind::random, ProjectionKind::pool,
                                 ProjectionKind::conv};
const Sharing kSharings[] = {Sharing::none, Sharing::headwise, Sharing::kv, Sharing::layerwise};

EncoderConfig config(ProjectionKind kind, Sharing sharing) {
  EncoderConfig c;
  c.vocab = 20, c.dim = 8, c.depth = 2, c.heads = 2, c.max_len = 8, c.k = 4;
  c.sharing = sharing, c.projection = kind, c.proj_init = ProjectionInit::pooling;
  return c;
}

bool has(const NamedTensors& named, const std::string& name) {
  for (const auto& [n, t] : named)
    if (n == name) return true;
  return false;
}
}  // namespace

TEST_CASE(
    "projection kinds x sharing modes: names, parameters or buffers, shapes, forward, parameter_count") {
  for (ProjectionKind kind : kKinds)
    for (Sharing sharing : kSharings) {
      INFO(projection_kind_name(kind) << " / " << sharing_name(sharing));
      const EncoderConfig cfg = config(kind, sharing);
      manual_seed(31);
      MaskedLM model(cfg);
      const std::string e = sharing == Sharing::layerwise ? "E" : "blocks.0.att.E";
      const bool per_head = sharing == Sharing::none;
      CHECK(has(model.state_dict(), e));
      CHECK(has(model.named_parameters(), e) == projection_trained(kind));
      CHECK(has(model.named_buffers(), e) == !projection_trained(kind));
      const Shape want = kind == ProjectionKind::conv
                             ? (per_head ? Shape{2, 4, 8} : Shape{4, 8})   // [dh, s dh]
                             : (per_head ? Shape{2, 8, 4} : Shape{8, 4});  // [n, k]
      for (const auto& [name, t] : model.state_dict())
        if (is_linformer_projection(name)) CHECK(t.shape() == want);
      CHECK(cfg.parameter_count() == model.num_parameters());
      Tensor ids =
          from_vector(std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, {2, 8});
      Tensor logits = model.forward(ids);
      CHECK(logits.shape() == Shape{2, 8, 20});
      // a shorter sequence (n < max_len): the conv pads its last block
      CHECK(model.forward(ids.slice(1, 0, 5)).shape() == Shape{2, 5, 20});
    }
}

TEST_CASE("random is N(0, 1/k) and pool is exact block means; neither trains") {
  manual_seed(32);
  Tensor r = make_projection(ProjectionKind::random, {512, 64}, ProjectionInit::pooling, 512, 64);
  const std::vector<double> v = r.to_vector<double>();
  double mean = 0, sq = 0;
  for (double x : v) mean += x, sq += x * x;
  mean /= double(v.size()), sq /= double(v.size());
  CHECK(std::abs(mean) < 0.005);
  CHECK(sq == Approx(1.0 / 64).epsilon(0.05));
  // pool: row i averages into column i k / n with weight 1 / (n / k): [6, 3] -> blocks of 2 rows
  CHECK(make_projection(ProjectionKind::pool, {6, 3}, ProjectionInit::uniform, 6, 3).to_vector<float>() ==
        std::vector<float>{0.5, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0.5, 0, 0, 0, 0.5, 0, 0, 0.5});
  // training leaves them alone: the optimizer sees only parameters
  MaskedLM model(config(ProjectionKind::random, Sharing::headwise));
  Tensor before = model.blocks->at<EncoderBlock>(0).att->named_buffers()[0].second.clone();
  AdamW opt(model.named_parameters(), 0.1);
  Tensor ids = from_vector(std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8}, {1, 8});
  cross_entropy(model.forward(ids).reshape({8, 20}), ids.reshape({8})).backward();
  opt.step();
  CHECK(test::max_abs_diff(model.blocks->at<EncoderBlock>(0).att->named_buffers()[0].second, before) == 0);
}

TEST_CASE("conv_project: each head's blocks of s positions through W, the last block zero-padded") {
  // t [1, 3, 2] with 2 heads of dh 1, s 2: head 0 sees (1, 3, 5), head 1 (2, 4, 6); W [1, 2] = (10, 1)
  Tensor t = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {1, 3, 2});
  Tensor W = from_vector(std::vector<double>{10, 1}, {1, 2});
  // blocks (1, 3), (5, 0) -> 10*1 + 3 = 13, 50; head 1: (2, 4), (6, 0) -> 24, 60
  CHECK(conv_project(W, t, 2, 2).to_vector<double>() == std::vector<double>{13, 50, 24, 60});
  // per-head kernels [2, 1, 2]: head 1 uses (1, 1) -> 6, 6
  Tensor Wh = from_vector(std::vector<double>{10, 1, 1, 1}, {2, 1, 2});
  CHECK(conv_project(Wh, t, 2, 2).to_vector<double>() == std::vector<double>{13, 50, 6, 6});
  CHECK_ERROR(projection_shape(ProjectionKind::conv, false, 8, 2, 10, 4), "conv", "k 4", "max_len 10");
  EncoderConfig bad = config(ProjectionKind::conv, Sharing::kv);
  bad.max_len = 10;
  CHECK_ERROR(bad.validate(), "conv projection", "k 4", "max_len 10");
}

TEST_CASE("projection kinds: f64 gradcheck of Linformer attention for every kind and sharing") {
  for (ProjectionKind kind : kKinds)
    for (Sharing sharing : {Sharing::none, Sharing::headwise, Sharing::kv}) {
      INFO(projection_kind_name(kind) << " / " << sharing_name(sharing));
      manual_seed(33);
      LinformerSelfAttention att(4, 2, 6, 3, sharing, ProjectionInit::uniform, kind);
      att.to(DType::f64);
      Tensor x = test::leaf64({2, 5, 4});  // n 5 < max_len 6: the padded conv block is checked too
      Tensor mask = from_vector(std::vector<double>{1, 1, 1, 0, 1, 1, 1, 1, 1, 1}, {2, 5});
      In inputs{x};
      for (const Tensor& p : att.parameters()) inputs.push_back(p);  // E, F among them when trained
      CHECK_GRAD([&](const In& in) { return att.forward(in[0], mask, Tensor()); }, inputs);
    }
  // layerwise: the Encoder's one projection, through a whole model with a feature front
  for (ProjectionKind kind : kKinds) {
    EncoderConfig cfg = config(kind, Sharing::layerwise);
    cfg.in_features = 3, cfg.max_len = 4, cfg.k = 2, cfg.depth = 1;
    manual_seed(34);
    Encoder enc(cfg);
    enc.to(DType::f64);
    Tensor x = test::leaf64({1, 4, 3});
    In inputs{x};
    if (enc.E.requires_grad()) inputs.push_back(enc.E);
    CHECK_GRAD([&](const In& in) { return enc.encode(in[0]); }, inputs);
  }
}

TEST_CASE("non-uniform k: a k per block, every kind, parameter_count; refused where it cannot apply") {
  for (ProjectionKind kind : kKinds)
    for (Sharing sharing : {Sharing::none, Sharing::headwise, Sharing::kv}) {
      INFO(projection_kind_name(kind) << " / " << sharing_name(sharing));
      EncoderConfig cfg = config(kind, sharing);
      cfg.layer_k = {4, 2};  // max_len 8: conv kernels of 2 and 4 positions
      manual_seed(35);
      MaskedLM model(cfg);
      const bool conv = kind == ProjectionKind::conv, per_head = sharing == Sharing::none;
      for (int64_t i = 0; i < 2; ++i) {
        const int64_t k = cfg.layer_k[size_t(i)], s = 8 / k;
        const Shape one = conv ? Shape{4, s * 4} : Shape{8, k};
        Shape want = one;
        if (per_head) want.insert(want.begin(), 2);
        for (const auto& [name, t] : model.state_dict())
          if (name == fmt::format("blocks.{}.att.E", i)) CHECK(t.shape() == want);
      }
      CHECK(cfg.parameter_count() == model.num_parameters());
      CHECK(model.forward(from_vector(std::vector<int64_t>(8, 3), {1, 8})).shape() == Shape{1, 8, 20});
    }
  EncoderConfig cfg = config(ProjectionKind::learned, Sharing::layerwise);
  cfg.layer_k = {4, 2};
  CHECK_ERROR(cfg.validate(), "layer_k", "layerwise");
  cfg.sharing = Sharing::kv, cfg.layer_k = {4};
  CHECK_ERROR(cfg.validate(), "layer_k has 1 entries for 2 blocks");
  cfg.layer_k = {4, 9};
  CHECK_ERROR(cfg.validate(), "layer_k entry 9");
  cfg.layer_k = {4, 3}, cfg.projection = ProjectionKind::conv;
  CHECK_ERROR(cfg.validate(), "conv projection", "k 3", "max_len 8");
  cfg.projection = ProjectionKind::learned;
  cfg.validate();  // 3 does not have to divide 8 for a matrix
  cfg.kind = AttentionKind::standard;
  CHECK_ERROR(cfg.validate(), "layer_k applies to Linformer");
}
