#pragma once
// Training by epochs, as train_fashion_mnist and train_classifier do it: every epoch visits the training
// examples in a fresh random order (a Fisher-Yates shuffle with the run's Rng) in batches of `batch` (a
// last partial batch is dropped) and ends with the caller's evaluation. A checkpoint is written every
// `checkpoint_every` steps inside an epoch and after each epoch; it stores where the run is (EpochProgress),
// so a resumed run redoes the epoch's shuffle from the stored generator state, skips the steps done and
// continues bit-identically.
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "data/text.h"
#include "examples/common/progress.h"
#include "examples/common/resume.h"
#include "io/checkpoint.h"

namespace lf {

// Where a run is: `step` optimizer steps done, in epoch `epoch` (1-based) of which `epoch_step` steps are
// done, with the epoch's loss so far (for its mean), and the data-order generator as it was before this
// epoch's shuffle.
struct EpochProgress {
  int64_t step = 0, epoch = 1, epoch_step = 0;
  double loss_sum = 0;
  int64_t loss_count = 0;
  Rng::State epoch_rng{};
};

// A checkpoint of `p`: `meta` plus "progress" (JSON), and the generator as extra.order_rng.
Checkpoint epoch_checkpoint(const std::map<std::string, std::string>& meta, const EpochProgress& p);
// The progress a checkpoint holds; lf::Error naming the file when "progress" or extra.order_rng is missing
// or malformed.
EpochProgress epoch_progress(const LoadedCheckpoint& loaded, const ResumeSettings& r);

struct EpochPlan {
  int64_t examples = 0, batch = 1, epochs = 1, checkpoint_every = 1000;
  int64_t stop_at = 0;  // end after this step (--stop-at; 0: run the schedule out)
  double minutes = std::numeric_limits<double>::infinity();  // end training after this long (--minutes)
};

struct EpochHooks {
  // One optimizer step on the examples `rows` (step: its 1-based number); returns the loss.
  std::function<double(const std::vector<int64_t>& rows, int64_t step)> step;
  // After an epoch, or after the time limit cut one short (complete = false): evaluate and report.
  std::function<void(int64_t epoch, int64_t step, double mean_loss, bool complete)> end_epoch;
  // Writes a checkpoint of `p`.
  std::function<void(const EpochProgress& p)> save;
  // Optional: whether the run is out of time (--minutes), given this process's own clock. Every rank of a
  // data-parallel job must stop at the same step, so there it returns whether any rank is out of time.
  std::function<bool(bool mine)> out_of_time;
};

struct EpochOutcome {
  int64_t step = 0;
  bool stopped = false;      // --stop-at ended the run (a checkpoint was written)
  bool out_of_time = false;  // --minutes ended it
};

// Runs epochs at.epoch .. plan.epochs from `at`; `rng` must hold at.epoch_rng. The progress line counts
// steps with `batch` items each.
EpochOutcome run_epochs(const EpochPlan& plan, const EpochProgress& at, Rng& rng, Progress& progress,
                        const EpochHooks& hooks);

// The curves of an epoch run's metrics.csv (columns epoch, step, train_loss, test_accuracy, ...): the
// epoch's mean training loss and the test error (1 - accuracy) against the epoch, read from the file so
// that a resumed run plots its whole history.
void plot_epoch_curves(const std::string& csv_path, const std::string& png, const std::string& title);

}  // namespace lf
