#include "examples/common/fashion_options.h"

#include <nlohmann/json.hpp>

#include "examples/common/cli_checks.h"
#include "examples/common/resume.h"

namespace lf {

namespace {

constexpr int64_t kMaxSize = int64_t(1) << 24, kMaxSteps = int64_t(1) << 40;

nlohmann::json json_metadata(const std::map<std::string, std::string>& meta, const char* key,
                             const std::string& path) {
  auto it = meta.find(key);
  LF_CHECK(it != meta.end(), "{}: no '{}' metadata: not a checkpoint of train_fashion_mnist", path, key);
  try {
    nlohmann::json j = nlohmann::json::parse(it->second);
    LF_CHECK(j.is_object(), "{}: the '{}' metadata is not a JSON object", path, key);
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: the '{}' metadata is not JSON: {}", path, key, e.what()));
  }
}

}  // namespace

void add_fashion_options(CLI::App& app, FashionOptions& o) {
  app.add_option("--data", o.data, "directory with the IDX files")
      ->capture_default_str()
      ->check(readable_dir());
  app.add_option("--out", o.out,
                 "directory for metrics.csv, curves.png, checkpoint.safetensors, model.safetensors")
      ->capture_default_str()
      ->check(output_dir());
  app.add_option(
         "--resume", o.resume,
         "continue from this checkpoint: the model and training settings come from it, and a flag that "
         "contradicts it is refused; the schedule is the checkpoint's (see --epochs, --extend)")
      ->check(readable_file());
  app.add_flag(
      "--extend", o.extend,
      "with --resume: let --epochs go beyond the checkpoint's schedule, which is stretched to --epochs "
      "(the learning rate rises again: not the same as a straight run)");
  app.add_option("--stop-at", o.stop_at,
                 "end this invocation after this step (a checkpoint is written), to continue with --resume")
      ->check(int_range(1, kMaxSteps));
  app.add_option("--checkpoint-every", o.checkpoint_every,
                 "steps between checkpoints (also after every epoch)")
      ->capture_default_str()
      ->check(int_range(1, kMaxSteps));
  app.add_option("--patch", o.patch,
                 "patch size P (n = (28/P)^2): 1, 2, 4, 7, 14 or 28; 0 = one pixel per "
                 "position (n = 784); with --patch-stride any P up to 28")
      ->capture_default_str()
      ->check(int_range(0, 28));
  app.add_option("--patch-stride", o.patch_stride,
                 "pixels between neighbouring patches (default: P, no overlap); S < P overlaps them like a "
                 "convolution's windows: n = ((28 - P)/S + 1)^2, S must divide 28 - P")
      ->check(int_range(1, 28));
  app.add_option("--patch-overlap", o.patch_overlap,
                 "V: every patch also sees V pixels beyond each of its edges (a (P + 2V)^2 window on the "
                 "image padded by V zero pixels, like a convolution's padding); n stays as without it")
      ->capture_default_str()
      ->check(int_range(0, 28));
  app.add_option("--attention", o.attention, "linformer | standard")
      ->capture_default_str()
      ->check(one_of({"linformer", "standard"}));
  app.add_option("--dim", o.dim, "model width (divisible by --heads)")
      ->capture_default_str()
      ->check(int_range(1, kMaxSize));
  app.add_option("--depth", o.depth, "encoder blocks")->capture_default_str()->check(int_range(1, 4096));
  app.add_option("--heads", o.heads, "attention heads")->capture_default_str()->check(int_range(1, 4096));
  app.add_option("--k", o.k,
                 "Linformer's projected length (at most n; the default is lowered to n; not with --attention "
                 "standard)")
      ->capture_default_str()
      ->check(int_range(1, kMaxSize));
  app.add_option("--sharing", o.sharing, "none | headwise | kv | layerwise")
      ->capture_default_str()
      ->check(one_of({"none", "headwise", "kv", "layerwise"}));
  app.add_option("--batch", o.batch,
                 "images per step, on each rank: under mpirun -np N the global batch is N x --batch (at most "
                 "--train-images)")
      ->capture_default_str()
      ->check(int_range(1, 60000));
  app.add_option(
         "--epochs", o.epochs,
         "passes over the training images: the length of the schedule (with --resume: the checkpoint's "
         "unless --extend)")
      ->capture_default_str()
      ->check(int_range(1, 1'000'000));
  app.add_option("--train-images", o.train_images, "train on the first this many of the 60,000 images")
      ->capture_default_str()
      ->check(int_range(1, 60000));
  app.add_option("--test-images", o.test_images, "test on the first this many of the 10,000 images")
      ->capture_default_str()
      ->check(int_range(1, 10000));
  app.add_option("--minutes", o.minutes, "stop training after this many minutes (then test)")
      ->capture_default_str()
      ->check(positive_finite());
  app.add_option("--lr", o.lr, "peak learning rate")->capture_default_str()->check(positive_finite());
  app.add_option("--warmup", o.warmup, "warmup steps (the default is lowered to the run's steps)")
      ->capture_default_str()
      ->check(int_range(0, kMaxSteps));
  app.add_option("--weight-decay", o.weight_decay, "AdamW weight decay")
      ->capture_default_str()
      ->check(non_negative_finite());
  app.add_option("--dropout", o.dropout, "dropout on residual branches")
      ->capture_default_str()
      ->check(fraction_below_one());
  app.add_option("--crop-pad", o.crop_pad,
                 "random crops: each training image is padded by this many zero pixels and cropped back to "
                 "28 x 28 at a random offset (0: off)")
      ->capture_default_str()
      ->check(int_range(0, 27));
  app.add_flag("--flip,!--no-flip", o.flip,
               "mirror each training image left-right with probability 1/2 (on by default)")
      ->capture_default_str();
  app.add_flag("--tta,!--no-tta", o.tta,
               "test-time flips (on by default): an image's prediction sums the class probabilities of the "
               "image and its mirror image; for a model trained with --flip (one trained without it scores "
               "mirror images badly)")
      ->capture_default_str();
  app.add_option("--label-smoothing", o.label_smoothing,
                 "the training loss's target puts this much probability evenly on all 10 classes")
      ->capture_default_str()
      ->check(finite_in(0, 1));
  app.add_option("--seed", o.seed, "seed for init, data order and augmentation")
      ->capture_default_str()
      ->check(seed_value());
}

EpochProgress adopt_fashion_checkpoint(const CLI::App& app, FashionOptions& o,
                                         const LoadedCheckpoint& loaded) {
  const std::string& path = o.resume;
  const nlohmann::json cfg = json_metadata(loaded.ck.meta, "config", path);
  const nlohmann::json train = json_metadata(loaded.ck.meta, "train", path);
  ResumeSettings r(app, path);
  r.keep("--patch", o.patch, cfg, "patch");
  r.keep("--patch-stride", o.patch_stride, cfg, "patch_stride");
  r.keep("--patch-overlap", o.patch_overlap, cfg, "patch_overlap");
  r.keep("--dim", o.dim, cfg, "dim");
  r.keep("--depth", o.depth, cfg, "depth");
  r.keep("--heads", o.heads, cfg, "heads");
  r.keep("--attention", o.attention, cfg, "attention");
  if (o.attention == "linformer") {
    r.keep("--k", o.k, cfg, "k");
    r.keep("--sharing", o.sharing, cfg, "sharing");
  }
  r.keep("--dropout", o.dropout, cfg, "dropout");
  r.keep("--batch", o.batch, train, "batch");
  r.keep("--lr", o.lr, train, "lr");
  r.keep("--warmup", o.warmup, train, "warmup");
  r.keep("--weight-decay", o.weight_decay, train, "weight_decay");
  r.keep("--seed", o.seed, train, "seed");
  r.keep("--crop-pad", o.crop_pad, train, "crop_pad");
  r.keep("--flip", o.flip, train, "flip");
  r.keep("--label-smoothing", o.label_smoothing, train, "label_smoothing");
  r.keep("--train-images", o.train_images, train, "train_images");
  r.default_to("--test-images", o.test_images, train, "test_images");
  r.default_to("--tta", o.tta, train, "tta");
  r.default_to("--checkpoint-every", o.checkpoint_every, train, "checkpoint_every");

  const EpochProgress p = epoch_progress(loaded, r);
  o.epochs = r.schedule_length("--epochs", "epoch", o.epochs, r.stored<int64_t>(train, "epochs"), p.epoch - 1,
                               o.extend);
  return p;
}

void check_fashion_flags(const CLI::App& app, const FashionOptions& o, int64_t done) {
  const int64_t side = kFashionMnistSide, P = o.patch, S = o.patch_stride == 0 ? P : o.patch_stride;
  LF_USAGE_CHECK(P != 0 || o.patch_stride == 0,
                 "--patch-stride applies to patches, not to --patch 0 (pixels)");
  LF_USAGE_CHECK(P != 0 || app.count("--patch-overlap") == 0,
                 "--patch-overlap applies to patches, not to --patch 0 (pixels)");
  // The overlap widens every window by V on both sides and pads the image by V: the grid is unchanged.
  LF_USAGE_CHECK(P == 0 || (S <= P && (side - P) % S == 0),
                 "--patch {} with {} {} does not tile the {}x{} image: the stride must be at most the patch "
                 "size and divide {} - {} = {}",
                 P, o.patch_stride == 0 ? "(its default) stride" : "--patch-stride", S, side, side, side, P,
                 side - P);
  LF_USAGE_CHECK(o.dim % o.heads == 0, "--dim {} is not divisible by --heads {}", o.dim, o.heads);
  LF_USAGE_CHECK(!o.resume.empty() || app.count("--extend") == 0, "--extend only applies with --resume");
  LF_USAGE_CHECK(o.attention == "linformer" || (app.count("--k") == 0 && app.count("--sharing") == 0),
                 "--k and --sharing apply to --attention linformer, not {}", o.attention);
  LF_USAGE_CHECK(app.count("--stop-at") == 0 || o.stop_at > done,
                 "--stop-at {} is not beyond the checkpoint's step {}", o.stop_at, done);
}

EncoderConfig fashion_config(const CLI::App& app, const FashionOptions& o, int64_t n, int64_t F) {
  LF_USAGE_CHECK(o.k <= n || (app.count("--k") == 0 && o.resume.empty()),
                 "--k {} exceeds n = {} positions (--patch {}): Linformer projects n onto k <= n", o.k, n,
                 o.patch);
  if (o.k > n && o.attention == "linformer")
    fmt::print("note: k = {} (n = {} positions, fewer than the default k {})\n", n, n, o.k);
  EncoderConfig cfg;
  cfg.in_features = F, cfg.dim = o.dim, cfg.depth = o.depth, cfg.heads = o.heads, cfg.max_len = n;
  cfg.kind = parse_attention_kind(o.attention);
  cfg.k = std::min(o.k, n), cfg.sharing = parse_sharing(o.sharing);
  cfg.dropout = o.dropout;
  cfg.validate();
  return cfg;
}

std::map<std::string, std::string> fashion_meta(const FashionOptions& o, const EncoderConfig& cfg,
                                                int64_t total) {
  nlohmann::json config = {{"in_features", cfg.in_features},
                           {"dim", cfg.dim},
                           {"depth", cfg.depth},
                           {"heads", cfg.heads},
                           {"max_len", cfg.max_len},
                           {"k", cfg.k},
                           {"attention", o.attention},
                           {"sharing", o.sharing},
                           {"dropout", cfg.dropout},
                           {"patch", o.patch},
                           {"patch_stride", o.patch_stride},
                           {"patch_overlap", o.patch_overlap},
                           {"classes", kFashionMnistClasses}};
  nlohmann::json train = {{"epochs", o.epochs},
                          {"total_steps", total},
                          {"batch", o.batch},
                          {"lr", o.lr},
                          {"warmup", o.warmup},
                          {"weight_decay", o.weight_decay},
                          {"seed", o.seed},
                          {"crop_pad", o.crop_pad},
                          {"flip", o.flip},
                          {"label_smoothing", o.label_smoothing},
                          {"tta", o.tta},
                          {"train_images", o.train_images},
                          {"test_images", o.test_images},
                          {"checkpoint_every", o.checkpoint_every}};
  return {{"config", config.dump()}, {"train", train.dump()}};
}

}  // namespace lf
