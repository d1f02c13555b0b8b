#include "examples/common/resume.h"

#include <filesystem>

#include "examples/common/cli_checks.h"

namespace lf {

int64_t ResumeSettings::schedule_length(const std::string& flag, const std::string& unit, int64_t requested,
                                        int64_t stored, int64_t done, bool extend) const {
  if (!given(flag)) {
    LF_USAGE_CHECK(
        done < stored,
        "--resume {}: the run is complete ({} {} of {}); to train further give {} with a larger value "
        "and --extend",
        path_, unit, done, stored, flag);
    return stored;
  }
  LF_USAGE_CHECK(requested > done,
                 "{} {} is not beyond the checkpoint's {} {} ({}): nothing would be trained", flag, requested,
                 unit, done, path_);
  if (requested == stored) return stored;
  LF_USAGE_CHECK(
      requested > stored || !extend,
      "{} {} with --extend: the checkpoint's schedule is {}, so --extend would shorten it; use --stop-at "
      "to stop early",
      flag, requested, stored);
  LF_USAGE_CHECK(
      extend,
      "{} {} differs from the checkpoint's schedule, {} {}s ({}): a resumed run keeps its schedule, so "
      "that it ends as a straight run would; to train longer add --extend (the schedule is stretched to "
      "{} and the learning rate rises again), to stop early use --stop-at",
      flag, requested, stored, unit, path_, requested);
  return requested;
}

nlohmann::json train_metadata(const std::map<std::string, std::string>& meta, const std::string& path) {
  auto it = meta.find("train");
  if (it == meta.end()) return nlohmann::json::object();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: the 'train' metadata is not JSON: {}", path, e.what()));
  }
  LF_CHECK(j.is_object(), "{}: the 'train' metadata is not a JSON object", path);
  return j;
}

void check_resume_flags(const CLI::App& app, int64_t steps, int64_t stop_at) {
  const bool resume = app.count("--resume") > 0;
  LF_USAGE_CHECK(resume || app.count("--extend") == 0, "--extend only applies with --resume");
  // Without --resume, --steps is the schedule and --stop-at must fall inside it. With --resume the
  // schedule comes from the checkpoint; the run checks --stop-at against it once it is read.
  LF_USAGE_CHECK(resume || app.count("--stop-at") == 0 || stop_at <= steps,
                 "--stop-at {} is beyond --steps {}", stop_at, steps);
}

RunFiles prepare_run_files(const std::string& out, bool resuming, bool writer) {
  RunFiles f{out + "/checkpoint.safetensors", out + "/metrics.csv"};
  if (!writer) return f;
  prepare_out_dir("--out", out);
  if (!resuming && std::filesystem::exists(f.checkpoint))
    fmt::print("note: {} is from an earlier run; this new run replaces it and {} (--resume {} continues that run "
               "instead)\n",
               f.checkpoint, f.metrics, f.checkpoint);
  return f;
}

}  // namespace lf
