// nn layer: Module bookkeeping (names, state_dict, load_state_dict errors, modes, dtype conversion) and the
// plain layers (Linear, Embedding, LayerNorm, Dropout, FeedForward, standard attention, heads).
#include <algorithm>
#include <cmath>

#include "backends/backend.h"
#include "nn/models.h"
#include "nn/optim.h"
#include "tests/support/helpers.h"

using namespace lf;
using lf::test::all_close;
using lf::test::max_abs_diff;

namespace {

EncoderConfig tiny_config(Sharing sharing = Sharing::headwise) {
  EncoderConfig c;
  c.vocab = 11, c.dim = 8, c.depth = 2, c.heads = 2, c.max_len = 6, c.k = 3;
  c.sharing = sharing;
  return c;
}

std::vector<std::string> names_of(const NamedTensors& nt) {
  std::vector<std::string> out;
  for (auto& [n, t] : nt) out.push_back(n);
  return out;
}

const Tensor& find(const NamedTensors& nt, const std::string& name) {
  for (auto& [n, t] : nt)
    if (n == name) return t;
  FAIL("no tensor named " << name);
  throw;
}

}  // namespace

TEST_CASE("MaskedLM parameter names and shapes match the torch twin") {
  manual_seed(0);
  MaskedLM m(tiny_config());
  NamedTensors p = m.named_parameters();
  std::vector<std::string> block;
  for (std::string b : {"blocks.0.", "blocks.1."})
    for (std::string s : {"ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias", "att.E", "att.F", "att.qkv.weight",
                          "att.qkv.bias", "att.out.weight", "att.out.bias", "ff.0.weight", "ff.0.bias",
                          "ff.2.weight", "ff.2.bias"})
      block.push_back(b + s);
  std::vector<std::string> expected{"pos", "tok.weight"};
  expected.insert(expected.end(), block.begin(), block.end());
  for (std::string s : {"ln.weight", "ln.bias", "head.weight", "head.bias"}) expected.push_back(s);
  CHECK(names_of(p) == expected);

  CHECK(find(p, "pos").shape() == Shape{6, 8});
  CHECK(find(p, "tok.weight").shape() == Shape{11, 8});
  CHECK(find(p, "blocks.1.att.E").shape() == Shape{6, 3});
  CHECK(find(p, "blocks.1.att.F").shape() == Shape{6, 3});
  CHECK(find(p, "blocks.0.att.qkv.weight").shape() == Shape{24, 8});
  CHECK(find(p, "blocks.0.att.qkv.bias").shape() == Shape{24});
  CHECK(find(p, "blocks.0.att.out.weight").shape() == Shape{8, 8});
  CHECK(find(p, "blocks.0.ff.0.weight").shape() == Shape{32, 8});
  CHECK(find(p, "blocks.0.ff.2.weight").shape() == Shape{8, 32});
  CHECK(find(p, "head.weight").shape() == Shape{11, 8});
  CHECK(find(p, "head.bias").shape() == Shape{11});
  for (auto& [n, t] : p) CHECK(t.requires_grad());

  int64_t total = 0;
  for (auto& [n, t] : p) total += t.numel();
  CHECK(m.num_parameters() == total);
  // 6*8 + 11*8 + 2 * (4*8 + 2*6*3 + 24*8+24 + 8*8+8 + 32*8+32 + 8*32+8) + 2*8 + 11*8+11
  CHECK(total == 48 + 88 + 2 * (32 + 36 + 216 + 72 + 288 + 264) + 16 + 99);
  CHECK(m.named_buffers().empty());
  CHECK(names_of(m.state_dict()) == expected);
}

TEST_CASE("sharing modes change only the projection parameters") {
  manual_seed(0);
  auto att_names = [](const Module& m) {
    std::vector<std::string> out;
    for (auto& [n, t] : m.named_parameters())
      if (n.find(".E") != std::string::npos || n.find(".F") != std::string::npos || n == "E")
        out.push_back(n + shape_str(t.shape()));
    return out;
  };
  CHECK(att_names(MaskedLM(tiny_config(Sharing::none))) ==
        std::vector<std::string>{"blocks.0.att.E[2,6,3]", "blocks.0.att.F[2,6,3]", "blocks.1.att.E[2,6,3]",
                                 "blocks.1.att.F[2,6,3]"});
  CHECK(att_names(MaskedLM(tiny_config(Sharing::kv))) ==
        std::vector<std::string>{"blocks.0.att.E[6,3]", "blocks.1.att.E[6,3]"});
  CHECK(att_names(MaskedLM(tiny_config(Sharing::layerwise))) == std::vector<std::string>{"E[6,3]"});
  EncoderConfig standard = tiny_config();
  standard.kind = AttentionKind::standard;
  CHECK(att_names(MaskedLM(standard)).empty());
  CHECK(parse_sharing("kv") == Sharing::kv);
  CHECK_ERROR(parse_sharing("rows"), "unknown mode 'rows'", "headwise");
  CHECK_ERROR(parse_attention_kind("sparse"), "unknown kind 'sparse'");
}

TEST_CASE("tied embeddings: the head reuses tok.weight and registers only its bias") {
  manual_seed(1);
  EncoderConfig c = tiny_config();
  c.tie_embeddings = true;
  MaskedLM m(c);
  auto names = names_of(m.named_parameters());
  CHECK(std::find(names.begin(), names.end(), "head.weight") == names.end());
  CHECK(std::find(names.begin(), names.end(), "head.bias") != names.end());
  CHECK(m.head->weight.same(m.tok->weight));
  Tensor ids = randint(0, 11, {2, 5});
  Tensor logits = m.forward(ids);
  CHECK(logits.shape() == Shape{2, 5, 11});
  sum(logits).backward();
  CHECK(m.tok->weight.grad().defined());
}

TEST_CASE("train/eval and zero_grad reach every submodule") {
  manual_seed(2);
  MaskedLM m(tiny_config());
  CHECK(m.blocks->at<EncoderBlock>(1).drop->is_training());
  m.eval();
  CHECK_FALSE(m.is_training());
  CHECK_FALSE(m.blocks->at<EncoderBlock>(1).drop->is_training());
  CHECK_FALSE(m.blocks->at<EncoderBlock>(0).ff->fc1->is_training());
  m.train();
  CHECK(m.blocks->at<EncoderBlock>(0).drop->is_training());

  sum(m.forward(randint(0, 11, {2, 4}))).backward();
  for (auto& [n, t] : m.named_parameters()) {
    INFO(n);
    CHECK(t.grad().defined());
  }
  m.zero_grad();
  for (auto& [n, t] : m.named_parameters()) CHECK_FALSE(t.grad().defined());
}

TEST_CASE("state_dict round trip copies values into the existing tensors") {
  manual_seed(3);
  MaskedLM a(tiny_config());
  manual_seed(4);
  MaskedLM b(tiny_config());
  Tensor ids = randint(0, 11, {2, 6});
  CHECK(max_abs_diff(a.forward(ids), b.forward(ids)) > 1e-3);
  Tensor b_E = find(b.state_dict(), "blocks.0.att.E");  // a handle taken before loading
  const TensorImpl* impl_before = b_E.impl();
  b.load_state_dict(a.state_dict());
  CHECK(max_abs_diff(a.forward(ids), b.forward(ids)) == 0.0);
  CHECK(find(b.state_dict(), "blocks.0.att.E").impl() == impl_before);
  CHECK(max_abs_diff(b_E, find(a.state_dict(), "blocks.0.att.E")) == 0.0);
  CHECK(b_E.requires_grad());
}

TEST_CASE("load_state_dict lists every missing, unexpected and mis-shaped key in one error") {
  manual_seed(5);
  MaskedLM m(tiny_config());
  NamedTensors sd = m.state_dict();
  Tensor pos_before = m.pos.clone();
  NamedTensors bad;
  for (auto& [n, t] : sd) {
    if (n == "blocks.1.ff.2.bias" || n == "ln.weight") continue;  // missing
    if (n == "blocks.0.att.E") {
      bad.emplace_back(n, zeros({5, 3}));  // mis-shaped
      continue;
    }
    bad.emplace_back(n, n == "pos" ? zeros_like(t) : t);
  }
  bad.emplace_back("blocks.0.attn.E", zeros({6, 3}));  // unexpected
  CHECK_ERROR(m.load_state_dict(bad), "load_state_dict", "4 problem", "missing keys: blocks.1.ff.2.bias, ln.weight",
              "unexpected keys: blocks.0.attn.E", "blocks.0.att.E (given [5,3], expected [6,3])");
  CHECK(max_abs_diff(m.pos, pos_before) == 0.0);  // nothing was copied

  // strict = false ignores missing and unexpected keys but never a wrong shape.
  CHECK_ERROR(m.load_state_dict(bad, /*strict=*/false), "1 problem", "blocks.0.att.E (given [5,3]");
  NamedTensors partial{{"pos", zeros({6, 8})}, {"extra", ones({1})}};
  m.load_state_dict(partial, /*strict=*/false);
  CHECK(sum(abs(m.pos)).item() == 0.0);
  CHECK_ERROR(m.load_state_dict(NamedTensors{{"pos", zeros({6, 8})}, {"pos", zeros({6, 8})}}), "'pos' appears twice");
}

TEST_CASE("load_state_dict converts dtypes") {
  manual_seed(6);
  Linear a(3, 2), b(3, 2);
  NamedTensors sd;
  for (auto& [n, t] : a.state_dict()) sd.emplace_back(n, t.to(DType::f64));
  b.load_state_dict(sd);
  CHECK(b.weight.dtype() == DType::f32);
  CHECK(max_abs_diff(a.weight, b.weight) == 0.0);
}

TEST_CASE("registration errors name the module entry") {
  Module m;
  m.register_parameter("w", zeros({2}));
  CHECK_ERROR(m.register_parameter("w", zeros({2})), "'w' is already registered");
  CHECK_ERROR(m.register_buffer("a.b", zeros({2})), "'a.b'", "no '.'");
  CHECK_ERROR(m.register_parameter("ids", zeros({2}, DType::i64)), "floating");
  m.register_buffer("count", zeros({1}, DType::i64));
  CHECK(names_of(m.state_dict()) == std::vector<std::string>{"w", "count"});
  CHECK(m.num_parameters() == 2);
}

TEST_CASE("to(f64) converts parameters in place and keeps handles and values") {
  manual_seed(7);
  LayerNorm ln(4);
  Linear lin(4, 3);
  Tensor w = lin.weight;  // handle held elsewhere (as an optimizer would)
  std::vector<float> before = w.to_vector<float>();
  lin.to(DType::f64);
  CHECK(w.dtype() == DType::f64);
  CHECK(lin.weight.same(w));
  CHECK(w.requires_grad());
  std::vector<double> after = w.to_vector<double>();
  for (size_t i = 0; i < before.size(); ++i) CHECK(after[i] == double(before[i]));
  ln.to(DType::f64);
  Tensor y = lin.forward(ln.forward(randn({2, 4}, DType::f64)));
  CHECK(y.dtype() == DType::f64);
  CHECK(lin.to(Device::cpu()).parameters().size() == 2);
  if (!cuda_available()) CHECK_ERROR(lin.to(Device::cuda(0)), "cuda");
}

TEST_CASE("Linear: y = x W^T + b on any leading dims, PyTorch's init bound") {
  manual_seed(8);
  Linear lin(2, 3);
  NoGradGuard g;
  backend_for(Device::cpu()).copy(from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {3, 2}), lin.weight);
  backend_for(Device::cpu()).copy(from_vector(std::vector<float>{0.5f, -1, 0}, {3}), lin.bias);
  Tensor x = from_vector(std::vector<float>{1, 1, 2, -1}, {2, 1, 2});
  Tensor y = lin.forward(x);
  CHECK(y.shape() == Shape{2, 1, 3});
  CHECK(y.to_vector<float>() == std::vector<float>{3.5f, 6, 11, 0.5f, 1, 4});
  CHECK_ERROR(lin.forward(ones({2, 3})), "linear", "[2,3]", "in_features 2");

  Linear big(100, 50);
  double bound = 1.0 / std::sqrt(100.0);
  auto w = big.weight.to_vector<float>();
  double lo = *std::min_element(w.begin(), w.end()), hi = *std::max_element(w.begin(), w.end());
  CHECK(lo >= -bound);
  CHECK(hi <= bound);
  CHECK(lo < -0.9 * bound);  // the whole interval is used
  CHECK(hi > 0.9 * bound);
  Linear nobias(4, 2, /*bias=*/false);
  CHECK(names_of(nobias.named_parameters()) == std::vector<std::string>{"weight"});
}

TEST_CASE("Embedding N(0,1), LayerNorm identity init, Dropout only in training") {
  manual_seed(9);
  Embedding emb(200, 50);
  Tensor w = emb.weight;
  CHECK(mean(w).item() == Approx(0.0).margin(0.04));  // 10 000 draws: 4 standard errors
  CHECK(var(w).item() == Approx(1.0).margin(0.06));
  Tensor ids = from_vector(std::vector<int64_t>{3, 0, 3}, {3});
  Tensor e = emb.forward(ids);
  CHECK(max_abs_diff(e.slice(0, 0, 1), w.slice(0, 3, 4)) == 0.0);
  CHECK(max_abs_diff(e.slice(0, 2, 3), w.slice(0, 3, 4)) == 0.0);

  LayerNorm ln(4);
  Tensor x = from_vector(std::vector<float>{1, 2, 3, 4}, {1, 4});
  std::vector<float> y = ln.forward(x).to_vector<float>();
  double sd = std::sqrt(1.25 + 1e-5);
  for (int i = 0; i < 4; ++i) CHECK(y[i] == Approx((i + 1 - 2.5) / sd).epsilon(1e-5));
  CHECK_ERROR(ln.forward(ones({2, 3})), "LayerNorm", "[2,3]", "dim 4");

  Dropout drop(0.5);
  Tensor ones_in = ones({1000});
  std::vector<float> d = drop.forward(ones_in).to_vector<float>();
  int zeros_count = 0;
  for (float v : d) {
    CHECK((v == 0.0f || v == 2.0f));
    zeros_count += v == 0.0f;
  }
  CHECK(zeros_count > 400);
  CHECK(zeros_count < 600);
  drop.eval();
  CHECK(max_abs_diff(drop.forward(ones_in), ones_in) == 0.0);
  CHECK_ERROR(Dropout(1.0), "p = 1");
}

TEST_CASE("FeedForward is fc2(gelu(fc1(x))) with 4x hidden width") {
  manual_seed(10);
  FeedForward ff(3);
  CHECK(ff.fc1->weight.shape() == Shape{12, 3});
  CHECK(ff.fc2->weight.shape() == Shape{3, 12});
  Tensor x = randn({2, 3});
  Tensor expected = add(matmul(gelu(add(matmul(x, ff.fc1->weight.transpose(0, 1)), ff.fc1->bias)),
                               ff.fc2->weight.transpose(0, 1)),
                        ff.fc2->bias);
  CHECK(all_close(ff.forward(x), expected, 1e-6, 1e-6));
}

TEST_CASE("standard attention: a padded sequence gives the truncated sequence's outputs") {
  // With padding at the end, attending over the real keys only is the same as running on the real tokens.
  manual_seed(11);
  MultiHeadSelfAttention att(8, 2);
  Tensor x = randn({2, 5, 8});
  Tensor mask = from_vector(std::vector<float>{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}, {2, 5});
  Tensor y = att.forward(x, mask);
  CHECK(y.shape() == Shape{2, 5, 8});
  Tensor y0 = att.forward(x.slice(0, 0, 1).slice(1, 0, 3), Tensor());
  CHECK(max_abs_diff(y.slice(0, 0, 1).slice(1, 0, 3), y0) < 1e-6);
  CHECK(max_abs_diff(y.slice(0, 1, 2), att.forward(x.slice(0, 1, 2), Tensor())) < 1e-6);
  // Changing padded inputs changes no real output.
  Tensor x2 = x.clone();
  {
    NoGradGuard g;
    backend_for(Device::cpu()).copy(mul(randn({1, 2, 8}), 10.0), x2.slice(0, 0, 1).slice(1, 3, 5));
  }
  CHECK(max_abs_diff(att.forward(x2, mask).slice(0, 0, 1).slice(1, 0, 3), y.slice(0, 0, 1).slice(1, 0, 3)) < 1e-6);
  CHECK_ERROR(att.forward(x, ones({2, 4})), "mask [2,4]", "[2,5,8]");
  CHECK_ERROR(MultiHeadSelfAttention(6, 4), "dim 6 is not divisible by heads 4");
}

TEST_CASE("standard attention gradcheck with a padding mask") {
  manual_seed(12);
  MultiHeadSelfAttention att(4, 2);
  att.to(DType::f64);
  Tensor x = lf::test::leaf64({2, 3, 4});
  Tensor mask = from_vector(std::vector<double>{1, 1, 0, 1, 1, 1}, {2, 3});
  std::vector<Tensor> inputs{x};
  for (const Tensor& p : att.parameters()) inputs.push_back(p);
  CHECK_GRAD([&](const std::vector<Tensor>& in) { return att.forward(in[0], mask, Tensor()); }, inputs);
}

TEST_CASE("ClassificationHead mean-pools real positions only") {
  manual_seed(13);
  ClassificationHead head(2, 3);
  Tensor h = from_vector(std::vector<double>{1, 2, 3, 4, 100, 100, 5, 6, 7, 8, 9, 10}, {2, 3, 2});
  Tensor mask = from_vector(std::vector<double>{1, 1, 0, 1, 1, 1}, {2, 3});
  head.to(DType::f64);
  Tensor logits = head.forward(h, mask);
  Tensor pooled = from_vector(std::vector<double>{2, 3, 7, 8}, {2, 2});  // means of the real rows
  Tensor expected = add(matmul(pooled, head.weight.transpose(0, 1)), head.bias);
  CHECK(max_abs_diff(logits, expected) < 1e-12);
  Tensor all = head.forward(h);  // no mask: every position
  Tensor pooled_all = from_vector(std::vector<double>{104.0 / 3, 106.0 / 3, 7, 8}, {2, 2});
  CHECK(max_abs_diff(all, add(matmul(pooled_all, head.weight.transpose(0, 1)), head.bias)) < 1e-12);
}

TEST_CASE("SequenceClassifier over features: proj front, logits per sequence") {
  manual_seed(14);
  EncoderConfig c = tiny_config();
  c.in_features = 5;
  SequenceClassifier m(c, 4);
  auto names = names_of(m.named_parameters());
  CHECK(std::find(names.begin(), names.end(), "proj.weight") != names.end());
  CHECK(std::find(names.begin(), names.end(), "tok.weight") == names.end());
  CHECK(m.proj->weight.shape() == Shape{8, 5});
  CHECK(m.head->weight.shape() == Shape{4, 8});
  Tensor y = m.forward(randn({3, 6, 5}));
  CHECK(y.shape() == Shape{3, 4});
  CHECK_ERROR(m.forward(randn({3, 6, 4})), "Encoder", "[B, n, 5]", "[3,6,4]");
  CHECK_ERROR(m.forward(randn({3, 7, 5})), "sequence length 7", "max_len = 6");
  CHECK_ERROR(MaskedLM(c), "MaskedLM", "in_features 5");
  EncoderConfig bad = tiny_config();
  bad.heads = 3;
  CHECK_ERROR(MaskedLM(bad), "dim 8 is not divisible by heads 3");
}

TEST_CASE("to(cuda) moves parameters in place; outputs and an AdamW step match the CPU (skipped without a GPU)") {
  if (!cuda_available()) {
    SUCCEED("no GPU");
    return;
  }
  Device gpu_dev = Device::cuda(0);
  manual_seed(15);
  MaskedLM cpu(tiny_config());
  manual_seed(15);
  MaskedLM gpu(tiny_config());
  Tensor w = gpu.tok->weight;  // a handle taken before the move
  gpu.to(gpu_dev);
  CHECK(w.device() == gpu_dev);
  CHECK(gpu.named_parameters().size() == cpu.named_parameters().size());
  Tensor ids = randint(0, 11, {2, 6});
  Tensor mask = from_vector(std::vector<float>{1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1}, {2, 6});
  Tensor yc = cpu.forward(ids, mask), yg = gpu.forward(ids.to(gpu_dev), mask.to(gpu_dev));
  CHECK(yg.device() == gpu_dev);
  CHECK(all_close(yg, yc, 1e-4, 1e-4));

  // eps 1e-3 keeps the update continuous in g (with eps 1e-8 it is about lr * sign(g), and a gradient near
  // zero could take either sign on the two devices).
  AdamW oc(cpu.named_parameters(), 1e-2, 0.9, 0.999, 1e-3), og(gpu.named_parameters(), 1e-2, 0.9, 0.999, 1e-3);
  CHECK(og.state()[0].second.device() == gpu_dev);
  sum(mul(yc, yc)).backward();
  sum(mul(yg, yg)).backward();
  oc.step();
  og.step();
  auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
  for (size_t i = 0; i < pc.size(); ++i) {
    INFO(pc[i].first);
    CHECK(all_close(pg[i].second, pc[i].second, 1e-4, 1e-4));
  }
  gpu.to(Device::cpu());
  CHECK(w.device().is_cpu());
  CHECK(max_abs_diff(w, cpu.tok->weight) < 1e-4);
}
