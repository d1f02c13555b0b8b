// A 20-step training run of a small Linformer on the CPU and on the GPU: same init, same batches, same
// dropout masks (one Philox stream), so the losses must agree to 1e-4 relative. Skips without a GPU.
#include <cstdio>

#include "backends/backend.h"
#include "data/text.h"
#include "nn/models.h"
#include "nn/optim.h"
#include "tests/support/helpers.h"

using namespace lf;

namespace {

std::vector<double> train_losses(Device dev, int steps) {
  EncoderConfig c;
  c.vocab = kTextVocabSize, c.dim = 32, c.depth = 2, c.heads = 4, c.max_len = 32, c.k = 8;
  c.kind = AttentionKind::linformer, c.sharing = Sharing::headwise, c.dropout = 0.1;
  manual_seed(7);
  MaskedLM model(c);
  model.to(dev);
  AdamW opt(model.named_parameters(), 3e-3);
  std::string text;
  for (int i = 0; i < 30; ++i) text += "a stitch in time saves nine; look before you leap. ";
  MlmBatcher batcher(Tokenizer::bytes().encode(text), 32, 4, 3);
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    MlmBatch b = batcher.next();
    Tensor logits = model.forward(b.input.to(dev));
    Tensor loss = cross_entropy(logits.reshape({-1, kTextVocabSize}), b.target.reshape({-1}).to(dev));
    opt.zero_grad();
    loss.backward();
    clip_grad_norm(model.parameters(), 1.0);
    opt.step();
    losses.push_back(loss.item());
  }
  return losses;
}

}  // namespace

TEST_CASE("cuda: 20 training steps match the CPU run to 1e-4 relative", "[cuda]") {
  if (!cuda_available()) {
    WARN("skipped: no GPU (this build " << (
#ifdef LF_WITH_CUDA
        "has the CUDA backend, but the driver found no device)"
#else
        "has no CUDA backend)"
#endif
        ));
    return;
  }
  std::vector<double> cpu = train_losses(Device::cpu(), 20), gpu = train_losses(Device::cuda(0), 20);
  REQUIRE(cpu.size() == gpu.size());
  double worst = 0;
  size_t worst_step = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    INFO("step " << i << ": cpu " << cpu[i] << " gpu " << gpu[i]);
    CHECK(std::abs(cpu[i] - gpu[i]) <= 1e-4 * std::abs(cpu[i]));
    const double rel = std::abs(cpu[i] - gpu[i]) / std::abs(cpu[i]);
    if (rel > worst) worst = rel, worst_step = i;
  }
  // printed on success too: tools/gpu-check.sh records it
  std::printf(
      "cuda training parity: %zu steps, worst relative loss difference %.3g (step %zu: cpu %.9g, gpu %.9g)\n",
      cpu.size(), worst, worst_step, cpu[worst_step], gpu[worst_step]);
  CHECK(cpu.back() < cpu.front());
}

TEST_CASE("cpu reference run of the parity test learns (runs everywhere)") {
  std::vector<double> cpu = train_losses(Device::cpu(), 20);
  CHECK(cpu.back() < cpu.front());
}
