#pragma once
// train_fashion_mnist's command line: the flags with their checks, the checkpoint's metadata (the model
// config, the "train" settings and the "progress" inside the epoch), and how a resumed run takes them over
// (examples/common/resume.h has the rule; docs/checkpoints.md lists the keys).
#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "examples/common/epoch_loop.h"
#include "io/checkpoint.h"
#include "data/fashion_mnist.h"
#include "data/text.h"
#include "nn/models.h"

namespace lf {

struct FashionOptions {
  std::string data = kFashionMnistDir, out = "runs/fashion_mnist", attention = "linformer";
  std::string sharing = "layerwise", resume;
  // The defaults are the recipe measured in docs/results.md ("91%"): 7x7 patches, 50 epochs with random
  // crops of 1 pixel, flips and label smoothing, test-time flips: 91.87% in 12.3 minutes on 2 cores.
  int64_t patch = 7, patch_stride = 0;  // patch_stride 0: the patch size (no overlap)
  int64_t patch_overlap = 0;            // pixels each patch sees beyond its edges (window P + 2V)
  int64_t dim = 128, depth = 2, heads = 4, k = 16, batch = 64, epochs = 50, warmup = 200;
  int64_t train_images = 60000, test_images = 10000, checkpoint_every = 1000, stop_at = 0;
  double lr = 2e-3, weight_decay = 0.05, dropout = 0.0, minutes = 15;
  // Regularisers: random crops of the image padded by crop_pad pixels, horizontal flips, label smoothing;
  // tta scores each test image with its mirror image too. They pay over 50 epochs; over 12, crops cost
  // accuracy (the ablations in docs/results.md).
  int64_t crop_pad = 1;
  bool flip = true;
  double label_smoothing = 0.1;
  bool tta = true;  // test-time flips: the test accuracy averages each image and its mirror image
  bool extend = false;
  uint64_t seed = 1;
};

void add_fashion_options(CLI::App& app, FashionOptions& o);

// A resumed run: the flags are checked against the checkpoint (UsageError on a conflict), the ones left out
// take its values, and the progress is returned.
EpochProgress adopt_fashion_checkpoint(const CLI::App& app, FashionOptions& o,
                                         const LoadedCheckpoint& loaded);
// Checks between flags that need no data: dim divisible by heads, --stop-at beyond the checkpoint's step.
void check_fashion_flags(const CLI::App& app, const FashionOptions& o, int64_t done);
// The classifier's config for sequences of n positions x F features. An explicit --k above n is refused;
// the default k is lowered to n (with a note).
EncoderConfig fashion_config(const CLI::App& app, const FashionOptions& o, int64_t n, int64_t F);
// The checkpoint metadata: "config" and "train" (with the schedule's total steps); epoch_checkpoint
// (examples/common/epoch_loop.h) adds the progress.
std::map<std::string, std::string> fashion_meta(const FashionOptions& o, const EncoderConfig& cfg,
                                                int64_t total);

}  // namespace lf
