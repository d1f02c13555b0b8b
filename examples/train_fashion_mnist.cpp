// train_fashion_mnist: a Linformer classifier on Fashion-MNIST, images read as sequences.
//
//   build/train_fashion_mnist                          # 4x4 patches: n = 49 positions of 16 pixels
//   build/train_fashion_mnist --patch 0 --k 64         # pixel sequence: n = 784 positions of 1 pixel
//   build/train_fashion_mnist --minutes 15             # stop training after 15 minutes, then test
//
// Each image [28, 28] -> sequence [n, F] -> "proj" Linear(F, dim) + positions -> Linformer blocks ->
// mean pooling -> Linear(dim, 10). Reports test accuracy after every epoch; writes <out>/metrics.csv,
// <out>/curves.png and <out>/model.safetensors.
#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <numeric>

#include "examples/common/csv.h"
#include "examples/common/plot.h"
#include "examples/common/progress.h"
#include "nn/data_fashion_mnist.h"
#include "nn/data_text.h"
#include "nn/models.h"
#include "nn/optim.h"
#include "nn/safetensors.h"
#include "nn/schedule.h"
#include "ops/ops.h"

using namespace lf;

namespace {

struct Options {
  std::string data = kFashionMnistDir, out = "runs/fashion_mnist", sharing = "layerwise";
  int64_t patch = 4, dim = 128, depth = 2, heads = 4, k = 32, batch = 64, epochs = 6, warmup = 200;
  double lr = 2e-3, weight_decay = 0.05, dropout = 0.0, minutes = 15;
  uint64_t seed = 1;
};

Tensor as_sequence(const Tensor& images, int64_t patch) {
  return patch == 0 ? pixel_sequence(images) : patch_sequence(images, patch);
}

// Accuracy of `model` on `seq` [N, n, F] / `labels` [N], in batches, without recording a graph.
double accuracy(SequenceClassifier& model, const Tensor& seq, const Tensor& labels, int64_t batch) {
  NoGradGuard no_grad;
  model.eval();
  int64_t correct = 0, N = seq.size(0);
  std::vector<int64_t> y = labels.to_vector<int64_t>();
  for (int64_t s = 0; s < N; s += batch) {
    int64_t b = std::min(batch, N - s);
    Tensor logits = model.forward(seq.narrow(0, s, b));  // [b, 10]
    std::vector<float> l = logits.contiguous().to_vector<float>();
    for (int64_t i = 0; i < b; ++i) {
      int64_t best = 0;
      for (int64_t c = 1; c < kFashionMnistClasses; ++c)
        if (l[size_t(i * 10 + c)] > l[size_t(i * 10 + best)]) best = c;
      correct += best == y[size_t(s + i)];
    }
  }
  model.train();
  return double(correct) / double(N);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"Train a Linformer classifier on Fashion-MNIST (pixel or patch sequences) and report test accuracy."};
  app.add_option("--data", o.data, "directory with the IDX files")->capture_default_str();
  app.add_option("--out", o.out, "directory for metrics.csv, curves.png, model.safetensors")->capture_default_str();
  app.add_option("--patch", o.patch, "patch size P (n = (28/P)^2); 0 = one pixel per position (n = 784)")
      ->capture_default_str();
  app.add_option("--dim", o.dim, "model width")->capture_default_str();
  app.add_option("--depth", o.depth, "encoder blocks")->capture_default_str();
  app.add_option("--heads", o.heads, "attention heads")->capture_default_str();
  app.add_option("--k", o.k, "Linformer's projected length (at most n)")->capture_default_str();
  app.add_option("--sharing", o.sharing, "none | headwise | kv | layerwise")->capture_default_str();
  app.add_option("--batch", o.batch, "images per step")->capture_default_str();
  app.add_option("--epochs", o.epochs, "passes over the 60,000 training images")->capture_default_str();
  app.add_option("--minutes", o.minutes, "stop training after this many minutes (then test)")->capture_default_str();
  app.add_option("--lr", o.lr, "peak learning rate")->capture_default_str();
  app.add_option("--warmup", o.warmup, "warmup steps")->capture_default_str();
  app.add_option("--weight-decay", o.weight_decay, "AdamW weight decay")->capture_default_str();
  app.add_option("--dropout", o.dropout, "dropout on residual branches")->capture_default_str();
  app.add_option("--seed", o.seed, "seed for init and data order")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    std::filesystem::create_directories(o.out);
    FashionMnist train = load_fashion_mnist("train", o.data), test = load_fashion_mnist("test", o.data);
    Tensor train_seq = as_sequence(train.images, o.patch), test_seq = as_sequence(test.images, o.patch);
    const int64_t n = train_seq.size(1), F = train_seq.size(2);

    EncoderConfig cfg;
    cfg.in_features = F, cfg.dim = o.dim, cfg.depth = o.depth, cfg.heads = o.heads, cfg.max_len = n;
    cfg.k = std::min(o.k, n), cfg.kind = AttentionKind::linformer, cfg.sharing = parse_sharing(o.sharing);
    cfg.dropout = o.dropout;
    cfg.validate();
    manual_seed(o.seed);
    SequenceClassifier model(cfg, kFashionMnistClasses);
    fmt::print("Fashion-MNIST: {} train / {} test images as sequences of n = {} positions x {} features\n",
               train.size(), test.size(), n, F);
    fmt::print("model: Linformer k {}, {} sharing, dim {}, depth {}, heads {}: {} parameters\n", cfg.k,
               sharing_name(cfg.sharing), cfg.dim, cfg.depth, cfg.heads, model.num_parameters());

    const int64_t steps_per_epoch = train.size() / o.batch, total = steps_per_epoch * o.epochs;
    AdamW opt(model.named_parameters(), o.lr, 0.9, 0.999, 1e-8, o.weight_decay);
    LRSchedule schedule(o.lr, std::min(o.warmup, total), total, Decay::cosine, o.lr * 0.02);
    CsvWriter csv(o.out + "/metrics.csv", {"epoch", "step", "train_loss", "test_accuracy", "seconds"});
    PlotSeries loss_curve{"train loss (epoch mean)", {}, {}}, acc_curve{"test error (1 - accuracy)", {}, {}};
    Rng rng(o.seed);
    std::vector<int64_t> order(size_t(train.size()));
    Progress progress(total, "train", "img");
    auto t0 = std::chrono::steady_clock::now();
    auto minutes = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 60; };
    double acc = 0;
    int64_t step = 0;
    bool out_of_time = false;
    for (int64_t epoch = 1; epoch <= o.epochs && !out_of_time; ++epoch) {
      std::iota(order.begin(), order.end(), 0);
      for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);  // Fisher-Yates
      double loss_sum = 0;
      int64_t loss_count = 0;
      for (int64_t s = 0; s < steps_per_epoch; ++s) {
        Tensor idx = from_vector(std::vector<int64_t>(order.begin() + s * o.batch, order.begin() + (s + 1) * o.batch),
                                 {o.batch});
        Tensor x = index_select(train_seq, 0, idx), y = index_select(train.labels, 0, idx);
        opt.set_lr(schedule.at(opt.step_count()));
        Tensor loss = cross_entropy(model.forward(x), y);
        opt.zero_grad();
        loss.backward();
        clip_grad_norm(model.parameters(), 1.0);
        opt.step();
        double l = loss.item();
        loss_sum += l, loss_count++;
        progress.update(++step, l, double(o.batch), fmt::format("epoch {}", epoch));
        if (minutes() > o.minutes) {
          out_of_time = true;
          break;
        }
      }
      acc = accuracy(model, test_seq, test.labels, 500);
      double mean_loss = loss_sum / double(std::max<int64_t>(loss_count, 1));
      progress.message(fmt::format("epoch {}: train loss {:.4f}, test accuracy {:.2f}%{}", epoch, mean_loss,
                                   100 * acc, out_of_time ? " (time limit reached)" : ""));
      csv.row({epoch, step, mean_loss, acc, minutes() * 60});
      loss_curve.x.push_back(double(epoch)), loss_curve.y.push_back(mean_loss);
      acc_curve.x.push_back(double(epoch)), acc_curve.y.push_back(1 - acc);
    }
    progress.finish();
    write_line_plot(o.out + "/curves.png", {loss_curve, acc_curve},
                    {.title = "Fashion-MNIST", .x_label = "epoch", .y_label = "", .markers = true});
    save_safetensors(o.out + "/model.safetensors", model.state_dict());
    fmt::print("\n== summary\ntest accuracy   {:.2f}% after {} steps in {:.1f} minutes (n = {})\n", 100 * acc, step,
               minutes(), n);
    fmt::print("for comparison  GRU+SVM 88.8%, 2 conv + pooling 91.6% (Fashion-MNIST benchmark list)\n");
    fmt::print("files           {0}/metrics.csv, {0}/curves.png, {0}/model.safetensors\n", o.out);
  } catch (const Error& e) {
    fmt::print(stderr, "train_fashion_mnist: {}\n", e.what());
    return 1;
  }
  return 0;
}
