#pragma once
// train_fashion_mnist's command line: the flags with their checks, the checkpoint's metadata (the model
// config, the "train" settings and the "progress" inside the epoch), and how a resumed run takes them over
// (examples/common/resume.h has the rule; docs/checkpoints.md lists the keys).
#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "io/checkpoint.h"
#include "data/fashion_mnist.h"
#include "data/text.h"
#include "nn/models.h"

namespace lf {

struct FashionOptions {
  std::string data = kFashionMnistDir, out = "runs/fashion_mnist", sharing = "layerwise", resume;
  int64_t patch = 4, dim = 128, depth = 2, heads = 4, k = 32, batch = 64, epochs = 6, warmup = 200;
  int64_t train_images = 60000, test_images = 10000, checkpoint_every = 1000, stop_at = 0;
  double lr = 2e-3, weight_decay = 0.05, dropout = 0.0, minutes = 15;
  bool extend = false;
  uint64_t seed = 1;
};

void add_fashion_options(CLI::App& app, FashionOptions& o);

// Where a run is: `step` optimizer steps done, in epoch `epoch` (1-based) of which `epoch_step` steps are
// done, with the epoch's loss so far (for its mean), and the data-order generator as it was before this
// epoch's shuffle (a resumed run shuffles again and skips the steps done).
struct FashionProgress {
  int64_t step = 0, epoch = 1, epoch_step = 0;
  double loss_sum = 0;
  int64_t loss_count = 0;
  Rng::State epoch_rng{};
};

// A resumed run: the flags are checked against the checkpoint (UsageError on a conflict), the ones left out
// take its values, and the progress is returned.
FashionProgress adopt_fashion_checkpoint(const CLI::App& app, FashionOptions& o,
                                         const LoadedCheckpoint& loaded);
// Checks between flags that need no data: dim divisible by heads, --stop-at beyond the checkpoint's step.
void check_fashion_flags(const CLI::App& app, const FashionOptions& o, int64_t done);
// The classifier's config for sequences of n positions x F features. An explicit --k above n is refused;
// the default k is lowered to n (with a note).
EncoderConfig fashion_config(const CLI::App& app, const FashionOptions& o, int64_t n, int64_t F);
// The checkpoint metadata: "config" and "train" (with the schedule's total steps).
std::map<std::string, std::string> fashion_meta(const FashionOptions& o, const EncoderConfig& cfg,
                                                int64_t total);
// A checkpoint of progress `p`: meta plus "progress", and the generator as extra.order_rng.
Checkpoint fashion_checkpoint(const std::map<std::string, std::string>& meta, const FashionProgress& p);

}  // namespace lf
