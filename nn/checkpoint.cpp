#include "nn/checkpoint.h"

#include "nn/safetensors.h"

namespace lf {

namespace {

const std::string kModel = "model.", kOptim = "optim.", kExtra = "extra.";

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

int64_t parse_int(const std::string& path, const std::map<std::string, std::string>& meta, const std::string& key) {
  auto it = meta.find(key);
  LF_CHECK(it != meta.end(), "load_checkpoint: {} has no '{}' in its metadata (not a training checkpoint?)", path,
           key);
  try {
    size_t used = 0;
    long long v = std::stoll(it->second, &used);
    LF_CHECK(used == it->second.size(), "");
    return int64_t(v);
  } catch (const std::exception&) {
    throw Error(fmt::format("load_checkpoint: {}: metadata '{}' = '{}' is not an integer", path, key, it->second));
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const Module& model, const Optimizer& opt, const Checkpoint& ck) {
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
  out.ck.step = parse_int(path, meta, "lf.step");
  out.optim_steps = parse_int(path, meta, "lf.optim_steps");
  out.ck.generator = {uint64_t(parse_int(path, meta, "lf.seed")), uint64_t(parse_int(path, meta, "lf.offset"))};
  for (auto& [k, v] : meta)
    if (!starts_with(k, "lf.")) out.ck.meta[k] = v;
  for (auto& [name, t] : all) {
    if (starts_with(name, kModel)) out.model[name.substr(kModel.size())] = t;
    else if (starts_with(name, kOptim)) out.optim.emplace_back(name.substr(kOptim.size()), t);
    else if (starts_with(name, kExtra)) out.ck.extra.emplace_back(name.substr(kExtra.size()), t);
    else throw Error(fmt::format("load_checkpoint: {}: unexpected tensor '{}' (expected model.*, optim.* or extra.*)",
                                 path, name));
  }
  return out;
}

void restore_checkpoint(const LoadedCheckpoint& loaded, Module& model, Optimizer& opt) {
  model.load_state_dict(loaded.model, /*strict=*/true);
  opt.load_state(loaded.optim, loaded.optim_steps);
  set_generator_state(loaded.ck.generator);
}

}  // namespace lf
