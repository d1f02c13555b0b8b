#pragma once
// What a resumed run shares between train_mlm and train_fashion_mnist: the run's settings come from the
// checkpoint, a flag given on the command line that contradicts the checkpoint is refused (naming the flag,
// the given value and the checkpoint's), and the schedule length (--steps, --epochs) follows one rule:
//
//   not given            the checkpoint's schedule (what the interrupted run would have done)
//   given, the same      the same
//   given, larger        refused, unless --extend: then the schedule is stretched to the new length
//                        (the learning rate rises again, so the result is not that of a straight run)
//   given, smaller       refused: a resumed run does not change its schedule; --stop-at stops early
//
// A checkpoint stores the settings as the metadata key "train", a JSON object (docs/checkpoints.md).
#include <CLI/CLI.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "examples/common/entry.h"

namespace lf {

// Formats a setting for a message: strings quoted, booleans as true/false, doubles in shortest form.
template <class T>
std::string setting_text(const T& v) {
  if constexpr (std::is_same_v<T, std::string>)
    return "'" + v + "'";
  else if constexpr (std::is_same_v<T, bool>)
    return v ? "true" : "false";
  else if constexpr (std::is_same_v<T, std::vector<int64_t>>)
    return v.empty() ? "none" : fmt::format("{}", fmt::join(v, ","));
  else
    return fmt::format("{}", v);
}

class ResumeSettings {
 public:
  // app: the parsed command line (count() says which flags were given); path: the checkpoint, for messages.
  ResumeSettings(const CLI::App& app, std::string path) : app_(app), path_(std::move(path)) {}

  bool given(const std::string& flag) const { return app_.count(flag) > 0; }

  // A setting that defines the run (model size, data, optimizer): when the flag was given with another
  // value than `stored`, UsageError; otherwise `value` becomes `stored`.
  template <class T>
  void keep(const std::string& flag, T& value, const T& stored) const {
    LF_USAGE_CHECK(
        !given(flag) || value == stored,
        "{} {} differs from the checkpoint's {} ({}): a resumed run keeps the settings it was started "
        "with; leave the flag out, or start a new run without --resume",
        flag, setting_text(value), setting_text(stored), path_);
    value = stored;
  }
  // The same with the stored value read from `train[key]`; a missing key (an older checkpoint) leaves
  // `value` as the command line has it.
  template <class T>
  void keep(const std::string& flag, T& value, const nlohmann::json& train, const char* key) const {
    if (train.contains(key)) keep(flag, value, stored<T>(train, key));
  }
  // A setting that only changes what is reported (how often to validate): the stored value unless the
  // flag was given.
  template <class T>
  void default_to(const std::string& flag, T& value, const nlohmann::json& train, const char* key) const {
    if (!given(flag) && train.contains(key)) value = stored<T>(train, key);
  }
  // train[key] as a T; lf::Error naming the checkpoint and the key when it has another type.
  template <class T>
  T stored(const nlohmann::json& train, const char* key) const {
    try {
      return train.at(key).get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(fmt::format("{}: the 'train' metadata's '{}' is malformed: {}", path_, key, e.what()));
    }
  }

  // The schedule length, by the rule at the top. flag: "--steps", unit: "step"; stored: the checkpoint's
  // total; done: how far the checkpoint is (in the same unit); extend: --extend was given. Returns the
  // total to use.
  int64_t schedule_length(const std::string& flag, const std::string& unit, int64_t requested, int64_t stored,
                          int64_t done, bool extend) const;

  const std::string& path() const { return path_; }

 private:
  const CLI::App& app_;
  std::string path_;
};

// The "train" metadata of a checkpoint as JSON: an empty object when the key is absent (a checkpoint
// written before the key existed); lf::Error when it is there but is not a JSON object.
nlohmann::json train_metadata(const std::map<std::string, std::string>& meta, const std::string& path);

// The cross-checks of --resume, --extend and --stop-at that do not need the checkpoint.
void check_resume_flags(const CLI::App& app, int64_t steps, int64_t stop_at);

// A training run's files in --out: creates the directory (prepare_out_dir), and for a new run over an old
// checkpoint says that it will be replaced and how to continue it instead.
struct RunFiles {
  std::string checkpoint, metrics;
};
// writer = false (a data-parallel rank other than 0): only the paths, nothing is created or printed.
RunFiles prepare_run_files(const std::string& out, bool resuming, bool writer = true);

}  // namespace lf
