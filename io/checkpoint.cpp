#include "io/checkpoint.h"

#include <charconv>
#include <limits>

#include "io/safetensors.h"
#include "core/untrusted_input.h"

namespace lf {

namespace {

const std::string kModel = "model.", kOptim = "optim.", kExtra = "extra.";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// A metadata integer in [lo, hi]: decimal digits with an optional '-', nothing else (std::stoll would also
// take leading spaces, a '+' and trailing junk).
int64_t parse_int(const std::string& path, const std::map<std::string, std::string>& meta,
                  const std::string& key, int64_t lo, int64_t hi) {
  auto it = meta.find(key);
  LF_CHECK(it != meta.end(), "load_checkpoint: {} has no '{}' in its metadata (not a training checkpoint?)", path,
           key);
  const std::string& s = it->second;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  LF_CHECK(!s.empty() && ec == std::errc() && end == s.data() + s.size(),
           "load_checkpoint: {}: metadata '{}' = {} is not a 64-bit integer", path, key, quote_untrusted(s));
  LF_CHECK(v >= lo && v <= hi, "load_checkpoint: {}: metadata '{}' = {} is out of range [{}, {}]", path, key,
           v, lo, hi);
  return v;
}

}  // namespace

void save_checkpoint(const std::string& path, const Module& model, const Optimizer& opt, const Checkpoint& ck) {
  // The loader's rules, checked here too, so a checkpoint written is one that loads.
  LF_CHECK(ck.step >= 0 && ck.step <= kMaxCheckpointSteps,
           "save_checkpoint: {}: step {} is out of range [0, {}]", path, ck.step, kMaxCheckpointSteps);
  LF_CHECK(opt.step_count() <= ck.step,
           "save_checkpoint: {}: the optimizer has made {} steps, more than the "
           "checkpoint's step {}",
           path, opt.step_count(), ck.step);
  for (const auto& [k, v] : ck.meta)
    LF_CHECK(!starts_with(k, "lf."),
             "save_checkpoint: {}: metadata key '{}' is reserved (lf.* keys are the "
             "checkpoint's own)",
             path, k);
  NamedTensors all;
  for (auto& [name, t] : model.state_dict()) all.emplace_back(kModel + name, t);
  for (auto& [name, t] : opt.state()) all.emplace_back(kOptim + name, t);
  for (auto& [name, t] : ck.extra) all.emplace_back(kExtra + name, t);
  std::map<std::string, std::string> meta = ck.meta;
  GeneratorState g = generator_state();
  meta["lf.step"] = std::to_string(ck.step);
  meta["lf.optim_steps"] = std::to_string(opt.step_count());
  // u64 seed and offset are stored as their i64 bit patterns (std::stoll reads them back).
  meta["lf.seed"] = std::to_string(int64_t(g.seed));
  meta["lf.offset"] = std::to_string(int64_t(g.offset));
  save_safetensors(path, all, meta);
}

LoadedCheckpoint load_checkpoint(const std::string& path) {
  std::map<std::string, std::string> meta;
  NamedTensors all = load_safetensors(path, &meta);
  LoadedCheckpoint out;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();
  out.ck.step = parse_int(path, meta, "lf.step", 0, kMaxCheckpointSteps);
  out.optim_steps = parse_int(path, meta, "lf.optim_steps", 0, kMaxCheckpointSteps);
  // One optimizer step per training step at most: more means the file was edited or damaged, and the
  // learning-rate schedule (which follows the optimizer's count) would silently jump ahead on resume.
  LF_CHECK(out.optim_steps <= out.ck.step,
           "load_checkpoint: {}: metadata 'lf.optim_steps' = {} is more than "
           "'lf.step' = {}",
           path, out.optim_steps, out.ck.step);
  // Any 64-bit pattern is a valid Philox seed and offset (u64 stored as i64).
  out.ck.generator = {uint64_t(parse_int(path, meta, "lf.seed", kMin, kMax)),
                      uint64_t(parse_int(path, meta, "lf.offset", kMin, kMax))};
  for (auto& [k, v] : meta)
    if (!starts_with(k, "lf.")) out.ck.meta[k] = v;
  for (auto& [name, t] : all) {
    if (starts_with(name, kModel)) out.model[name.substr(kModel.size())] = t;
    else if (starts_with(name, kOptim)) out.optim.emplace_back(name.substr(kOptim.size()), t);
    else if (starts_with(name, kExtra)) out.ck.extra.emplace_back(name.substr(kExtra.size()), t);
    else
      throw Error(
          fmt::format("load_checkpoint: {}: unexpected tensor {} (expected model.*, optim.* or extra.*)",
                      path, quote_untrusted(name)));
  }
  return out;
}

void restore_checkpoint(const LoadedCheckpoint& loaded, Module& model, Optimizer& opt) {
  model.load_state_dict(loaded.model, /*strict=*/true);
  opt.load_state(loaded.optim, loaded.optim_steps);
  set_generator_state(loaded.ck.generator);
}

}  // namespace lf
