#pragma once
// Training checkpoints: everything a run needs to continue exactly where it stopped, in one safetensors
// file (so Python can open it too):
//
//   model.<name>        every entry of model.state_dict()
//   optim.<slot>.<name> the optimizer's state (Adam moments, momentum buffers)
//   extra.<name>        caller's tensors, e.g. the data batcher's RNG state
//   __metadata__        step, optimizer step count, the Philox (seed, offset), the caller's strings (config)
//
// save_safetensors writes to a temporary file, flushes, fsyncs and renames it, so a crash never leaves a
// half-written checkpoint; loading validates the whole file and refuses truncated or corrupted ones.
#include <map>
#include <string>

#include "core/generator.h"
#include "nn/module.h"
#include "nn/optim.h"

namespace lf {

// The largest step and optimizer step count a checkpoint may hold: 10^12 steps is decades of training at
// 1000 steps a second, so anything beyond is a damaged or hostile file (and INT64_MAX would overflow the
// first `step + 1`).
inline constexpr int64_t kMaxCheckpointSteps = 1'000'000'000'000;

struct Checkpoint {
  int64_t step = 0;                          // the caller's training step
  GeneratorState generator;                  // the global random stream at save time
  std::map<std::string, std::string> meta;   // caller's strings (e.g. the model config)
  NamedTensors extra;                        // caller's tensors (names without the "extra." prefix)
};

// Saves model, optimizer, the global generator state and `ck`'s step, meta and extra tensors. ck.step must be
// in [opt.step_count(), kMaxCheckpointSteps] and ck.meta must not use the "lf." keys, which are the file's.
void save_checkpoint(const std::string& path, const Module& model, const Optimizer& opt, const Checkpoint& ck);

// Reads the file only (no model needed): step, generator, meta and extra; model/optim entries are kept in
// `tensors` for restore_checkpoint. Refuses (lf::Error naming the file and key) a metadata value that is not
// a plain decimal integer, an lf.step or lf.optim_steps outside [0, kMaxCheckpointSteps], and more optimizer
// steps than steps.
struct LoadedCheckpoint {
  Checkpoint ck;
  std::map<std::string, Tensor> model;
  NamedTensors optim;
  int64_t optim_steps = 0;
};
LoadedCheckpoint load_checkpoint(const std::string& path);

// Copies the loaded state into `model` and `opt` (strict: every key must match) and restores the global
// generator, so the next random number is the one the saved run would have drawn.
void restore_checkpoint(const LoadedCheckpoint& loaded, Module& model, Optimizer& opt);

}  // namespace lf
