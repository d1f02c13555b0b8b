// train_fashion_mnist: a Linformer classifier on Fashion-MNIST, images read as sequences.
//
//   build/train_fashion_mnist                          # the recipe: 7x7 patches (n = 16), 50 epochs, ~12 min
//   build/train_fashion_mnist --patch 4 --k 32         # 4x4 patches: n = 49 positions of 16 pixels
//   build/train_fashion_mnist --patch 0 --k 64         # pixel sequence: n = 784 positions of 1 pixel
//   build/train_fashion_mnist --minutes 15             # stop training after 15 minutes, then test
//   build/train_fashion_mnist --resume runs/fashion_mnist/checkpoint.safetensors   # continue a run
//
// Each image [28, 28] -> sequence [n, F] -> "proj" Linear(F, dim) + positions -> Linformer blocks ->
// mean pooling -> Linear(dim, 10), trained with AdamW, warmup and cosine decay, weight decay 0.05. The
// regularisers (on by default, examples/common/fashion_options.h): every training image randomly shifted by
// up to --crop-pad pixels and mirrored with probability 1/2 (--flip; data/image_augment.h), and
// --label-smoothing; --tta scores each test image with its mirror image too.
//
// Reports test accuracy after every epoch; writes <out>/metrics.csv, <out>/curves.png,
// <out>/checkpoint.safetensors (after every epoch, every --checkpoint-every steps and when the run stops) and
// <out>/model.safetensors. A resumed run continues bit-identically: it takes its settings from the
// checkpoint (examples/common/fashion_options.h) and refuses flags that contradict it.
//
// `mpirun -np N build/train_fashion_mnist ...` trains on N processes (docs/distributed.md): --batch is per
// rank, each rank takes its rows of the global batch.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <optional>

#include "examples/common/cli_checks.h"
#include "examples/common/csv.h"
#include "examples/common/distributed.h"
#include "examples/common/divergence_guard.h"
#include "examples/common/epoch_loop.h"
#include "examples/common/entry.h"
#include "examples/common/fashion_options.h"
#include "examples/common/plot.h"
#include "examples/common/progress.h"
#include "examples/common/resume.h"
#include "io/checkpoint.h"
#include "data/fashion_mnist.h"
#include "data/image_augment.h"
#include "data/text.h"
#include "nn/models.h"
#include "nn/optim.h"
#include "io/safetensors.h"
#include "nn/schedule.h"
#include "ops/ops.h"

using namespace lf;

namespace {

using Options = FashionOptions;

Tensor as_sequence(const Tensor& images, const Options& o) {
  // --patch-overlap V: (P + 2V)^2 windows at the stride of P x P patches on the image padded by V.
  const int64_t V = o.patch_overlap, stride = o.patch_stride == 0 ? o.patch : o.patch_stride;
  return o.patch == 0 ? pixel_sequence(images) : patch_sequence(images, o.patch + 2 * V, stride, V);
}

// The first `n` images of a split (--train-images, --test-images).
FashionMnist first(const FashionMnist& d, int64_t n) {
  if (n >= d.size()) return d;
  return {d.images.narrow(0, 0, n).contiguous(), d.labels.narrow(0, 0, n).contiguous()};
}

// Accuracy of `model` on `views` (each [N, n, F], the same N images as different sequences: the test images,
// and with --tta their mirror images too) / `labels` [N], in batches, without recording a graph. An image's
// prediction is the class with the largest sum of its views' probabilities; `first_view` is the accuracy of
// views[0] alone (the same as `all_views` for one view). Each rank of a data-parallel job scores its slice
// of the images and the counts are summed.
struct TestAccuracy {
  double all_views, first_view;
};
TestAccuracy accuracy(SequenceClassifier& model, const std::vector<Tensor>& views, const Tensor& labels,
                      int64_t batch, const Distributed& dist) {
  NoGradGuard no_grad;
  model.eval();
  const int64_t N = labels.size(0), C = kFashionMnistClasses;
  const int64_t begin = N * dist.rank() / dist.size(), end = N * (dist.rank() + 1) / dist.size();
  double correct[2] = {0, 0};  // all views, the first view
  std::vector<int64_t> y = labels.to_vector<int64_t>();
  auto is_right = [&](const float* row, int64_t image) {
    return std::max_element(row, row + C) - row == y[size_t(image)];
  };
  for (int64_t s = begin; s < end; s += batch) {
    int64_t b = std::min(batch, end - s);
    std::vector<float> p(size_t(b * C), 0.0f);  // [b, 10]: the summed probabilities
    for (size_t v = 0; v < views.size(); ++v) {
      Tensor logits = model.forward(views[v].narrow(0, s, b));  // [b, 10]
      std::vector<float> q = softmax(logits, 1).contiguous().to_vector<float>();
      for (size_t i = 0; i < p.size(); ++i) p[i] += q[i];
      if (v == 0)
        for (int64_t i = 0; i < b; ++i) correct[1] += is_right(q.data() + i * C, s + i);
    }
    for (int64_t i = 0; i < b; ++i) correct[0] += is_right(p.data() + i * C, s + i);
  }
  dist.comm().all_reduce_sum(correct, 2);
  model.train();
  return {correct[0] / double(N), correct[1] / double(N)};
}

int train(const CLI::App& app, Options& o, int argc, char** argv) {
  Distributed dist(argc, argv);
  LoadedCheckpoint loaded;
  EpochProgress at;  // where the run is: epoch 1, step 0 for a fresh run
  if (!o.resume.empty()) {
    loaded = with_flag("--resume", o.resume, [&] { return load_checkpoint(o.resume); });
    at = with_flag("--resume", o.resume, [&] { return adopt_fashion_checkpoint(app, o, loaded); });
  }
  check_fashion_flags(app, o, at.step);
  const RunFiles files = prepare_run_files(o.out, !o.resume.empty(), dist.writer());
  const std::string &ckpt_path = files.checkpoint, &csv_path = files.metrics;

  FashionMnist train = with_flag("--data", o.data, [&] { return load_fashion_mnist("train", o.data); });
  FashionMnist test = with_flag("--data", o.data, [&] { return load_fashion_mnist("test", o.data); });
  train = first(train, o.train_images), test = first(test, o.test_images);
  const int64_t global_batch = o.batch * dist.size();  // one step: --batch images on each rank
  LF_USAGE_CHECK(global_batch <= train.size(),
                 "--batch {}{} exceeds the {} training images: an epoch would have no step", o.batch,
                 dist.size() > 1 ? fmt::format(" on {} ranks", dist.size()) : "", train.size());
  Tensor train_seq = as_sequence(train.images, o);
  std::vector<Tensor> test_views = {as_sequence(test.images, o)};  // --tta: and the mirror images
  if (o.tta) test_views.push_back(as_sequence(mirror_images(test.images), o));
  const int64_t n = train_seq.size(1), F = train_seq.size(2);
  const EncoderConfig cfg = fashion_config(app, o, n, F);
  manual_seed(o.seed);
  SequenceClassifier model(cfg, kFashionMnistClasses);
  fmt::print("Fashion-MNIST: {} train / {} test images as sequences of n = {} positions x {} features\n",
             train.size(), test.size(), n, F);
  const std::string attention =
      cfg.kind == AttentionKind::linformer
          ? fmt::format("Linformer k {}, {} sharing", cfg.k, sharing_name(cfg.sharing))
          : std::string("standard attention");
  fmt::print("model: {}, dim {}, depth {}, heads {}: {} parameters\n", attention, cfg.dim, cfg.depth, cfg.heads,
             model.num_parameters());
  const ImageAugment augment{o.crop_pad, o.flip};
  fmt::print("recipe: random crops (pad {}), {}flips, label smoothing {}, {}test-time flips\n", o.crop_pad,
             o.flip ? "" : "no ", o.label_smoothing, o.tta ? "" : "no ");

  if (dist.size() > 1) fmt::print("{}\n", dist.banner(o.batch, "images"));
  const int64_t steps_per_epoch = train.size() / global_batch, total = steps_per_epoch * o.epochs;
  LF_USAGE_CHECK(app.count("--warmup") == 0 || o.warmup <= total, "--warmup {} exceeds the run's {} steps",
                 o.warmup, total);
  LF_USAGE_CHECK(app.count("--stop-at") == 0 || o.stop_at <= total,
                 "--stop-at {} is beyond the run's {} steps", o.stop_at, total);
  AdamW opt(model.named_parameters(), o.lr, 0.9, 0.999, 1e-8, o.weight_decay);
  LRSchedule schedule(o.lr, std::min(o.warmup, total), total, Decay::cosine, o.lr * 0.02);
  Rng rng(o.seed);
  if (!o.resume.empty()) {
    with_flag("--resume", o.resume, [&] { restore_checkpoint(loaded, model, opt); });
    rng.set_state(at.epoch_rng);
    fmt::print("resumed from {} at step {} of {} (epoch {}, {} of its {} steps done)\n", o.resume, at.step,
               total, at.epoch, at.epoch_step, steps_per_epoch);
    // A crashed run's rows after the checkpoint, and a partial epoch's row at it (the epoch is finished
    // now), are written again below.
    auto keep = [&](double s) { return s < double(at.step) || (s == double(at.step) && at.epoch_step == 0); };
    if (int64_t dropped = dist.writer() ? keep_csv_rows(csv_path, "step", keep) : 0)
      fmt::print("{}: dropped {} rows from step {} on (written after the checkpoint)\n", csv_path, dropped,
                 at.step);
  }
  const std::unique_ptr<GradientReducer> reducer = dist.start_model(model);  // rank 0's weights everywhere
  std::optional<CsvWriter> csv;
  if (dist.writer())
    csv.emplace(csv_path, std::vector<std::string>{"epoch", "step", "train_loss", "test_accuracy", "seconds"},
                /*append=*/at.step > 0);
  const std::map<std::string, std::string> meta = fashion_meta(o, cfg, total);
  DivergenceGuard guard(ckpt_path, model.parameters(), at.step, "start again with a lower --lr");
  if (dist.size() > 1) guard.set_data_parallel(reducer.get());
  Progress progress(total, "train", "img", dist.progress_stream());
  progress.resume_from(at.step);
  const auto t0 = std::chrono::steady_clock::now();
  auto minutes = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 60;
  };
  double acc = NAN;
  EpochHooks hooks;
  hooks.step = [&](const std::vector<int64_t>& global_rows, int64_t step) {
    // this rank's rows of the global batch; its loss is 1/size of the global mean
    const int64_t first_row = dist.first_row(o.batch);
    const std::vector<int64_t> rows(global_rows.begin() + first_row,
                                    global_rows.begin() + first_row + o.batch);
    Tensor idx = from_vector(rows, {o.batch});
    Tensor y = index_select(train.labels, 0, idx);
    // The batch's images, shifted and flipped by the draws of (seed, step), then cut into the sequence.
    Tensor x = augment.active()
                   ? as_sequence(augment_images(index_select(train.images, 0, idx), augment, o.seed, uint64_t(step),
                                                first_row),
                                 o)
                   : index_select(train_seq, 0, idx);
    opt.set_lr(schedule.at(opt.step_count()));
    Tensor loss = label_smoothed_cross_entropy(model.forward(x), y, o.label_smoothing);
    return guard.step(step, dist.size() > 1 ? loss / double(dist.size()) : loss, opt, 1.0);
  };
  hooks.end_epoch = [&](int64_t epoch, int64_t step, double mean_loss, bool complete) {
    const TestAccuracy a = accuracy(model, test_views, test.labels, 500, dist);
    acc = a.all_views;
    const std::string single =
        o.tta ? fmt::format(" ({:.2f}% without test-time flips)", 100 * a.first_view) : "";
    progress.message(fmt::format("epoch {}: train loss {:.4f}, test accuracy {:.2f}%{}{}", epoch, mean_loss,
                                 100 * acc, single, complete ? "" : " (time limit reached)"));
    if (csv) csv->row({epoch, step, mean_loss, acc, minutes() * 60});
  };
  hooks.save = [&](const EpochProgress& p) { guard.save(model, opt, epoch_checkpoint(meta, p)); };
  if (dist.size() > 1)  // --minutes: the ranks' clocks differ, so they stop together when any runs out
    hooks.out_of_time = [&](bool mine) {
      int64_t any = mine;
      dist.comm().all_reduce_max(&any, 1);
      return any != 0;
    };
  const EpochPlan plan{train.size(), global_batch, o.epochs, o.checkpoint_every,
                       app.count("--stop-at") ? o.stop_at : 0, o.minutes};
  const EpochOutcome done = run_epochs(plan, at, rng, progress, hooks);
  const int64_t step = done.step;
  const bool stopped = done.stopped;
  progress.finish();
  if (dist.writer()) plot_epoch_curves(csv_path, o.out + "/curves.png", "Fashion-MNIST");
  if (stopped && step < total) {
    fmt::print("stopped at step {} of {} (--stop-at); continue with: train_fashion_mnist --resume {}\n", step,
               total, ckpt_path);
    return 0;
  }
  if (dist.writer()) save_safetensors(o.out + "/model.safetensors", model.state_dict());
  fmt::print("\n== summary\ntest accuracy   {:.2f}% after {} steps in {:.1f} minutes (n = {})\n", 100 * acc,
             step, minutes(), n);
  fmt::print("for comparison  GRU+SVM 88.8%, 2 conv + pooling 91.6% (Fashion-MNIST benchmark list)\n");
  fmt::print(
      "files           {0}/metrics.csv, {0}/curves.png, {0}/checkpoint.safetensors, {0}/model.safetensors\n",
      o.out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "Train a Linformer classifier on Fashion-MNIST (pixel or patch sequences) and report test accuracy."};
  add_fashion_options(app, o);
  return run_data_parallel_program(
      "train_fashion_mnist", app, argc, argv, [&] { return train(app, o, argc, argv); },
      "use smaller sizes (--batch, --dim, --depth, or a larger --patch)");
}
