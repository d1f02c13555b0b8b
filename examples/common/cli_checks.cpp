#include "examples/common/cli_checks.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "backends/backend.h"

namespace lf {

namespace fs = std::filesystem;

namespace {

// Parses the whole string as a double (CLI11 has already checked the type, but a validator sees the text).
bool parse_double(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool parse_int(const std::string& s, int64_t* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() || errno == ERANGE) return false;
  *v = x;
  return true;
}

CLI::Validator float_check(std::string desc, std::function<bool(double)> ok) {
  return CLI::Validator(
      [desc, ok](std::string& s) -> std::string {
        double v = 0;
        if (!parse_double(s, &v)) return fmt::format("'{}' is not a number", s);
        if (!std::isfinite(v) || !ok(v)) return fmt::format("must be {}, got {}", desc, s);
        return "";
      },
      desc);
}

// Why `path` cannot be used, or "": stat's reason (a missing path, a symlink loop), or the wrong kind.
std::string stat_problem(const std::string& path, struct stat* st) {
  if (path.empty()) return "the path is empty";
  if (::stat(path.c_str(), st) != 0) return fmt::format("cannot use '{}': {}", path, std::strerror(errno));
  return "";
}

}  // namespace

CLI::Validator int_range(int64_t lo, int64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        int64_t v = 0;
        if (!parse_int(s, &v)) return fmt::format("'{}' is not an integer in [{}, {}]", s, lo, hi);
        if (v < lo || v > hi) return fmt::format("must be in [{}, {}], got {}", lo, hi, v);
        return "";
      },
      fmt::format("in [{}, {}]", lo, hi));
}

CLI::Validator seed_value() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        const bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
        errno = 0;
        if (digits) std::strtoull(s.c_str(), nullptr, 10);
        if (!digits || errno == ERANGE)
          return fmt::format("must be a whole number in [0, 2^64 - 1], got {}", s);
        return "";
      },
      "in [0, 2^64 - 1]");
}

CLI::Validator positive_finite() {
  return float_check("a finite number > 0", [](double v) { return v > 0; });
}

CLI::Validator non_negative_finite() {
  return float_check("a finite number >= 0", [](double v) { return v >= 0; });
}

CLI::Validator finite_in(double lo, double hi) {
  return float_check(fmt::format("a finite number in [{}, {}]", lo, hi),
                     [lo, hi](double v) { return v >= lo && v <= hi; });
}

CLI::Validator fraction_below_one() {
  return float_check("a finite number in [0, 1)", [](double v) { return v >= 0 && v < 1; });
}

CLI::Validator one_of(std::vector<std::string> choices) {
  std::string list = fmt::format("{}", fmt::join(choices, " | "));
  return CLI::Validator(
      [choices, list](std::string& s) -> std::string {
        for (const std::string& c : choices)
          if (s == c) return "";
        return fmt::format("'{}' is not one of {}", s, list);
      },
      list);
}

CLI::Validator non_empty() {
  return CLI::Validator([](std::string& s) -> std::string { return s.empty() ? "must not be empty" : ""; },
                        "non-empty");
}

CLI::Validator device_name() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s == "cpu") return "";
        int64_t index = 0;
        const bool cuda =
            s == "cuda" || (s.rfind("cuda:", 0) == 0 && parse_int(s.substr(5), &index) && index >= 0);
        if (!cuda) return fmt::format("'{}' is not a device (cpu, cuda or cuda:N)", s);
#ifndef LF_WITH_CUDA
        return fmt::format(
            "'{}': this build has no CUDA backend (configure with -DLF_CUDA=ON on a machine with "
            "nvcc); use --device cpu",
            s);
#else
        if (!cuda_available()) return fmt::format("'{}': no CUDA GPU is present; use --device cpu", s);
        if (index >= cuda_device_count())
          return fmt::format("'{}': there are only {} CUDA devices", s, cuda_device_count());
        return "";
#endif
      },
      "cpu | cuda[:N]");
}

CLI::Validator readable_file() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        struct stat st {};
        if (std::string p = stat_problem(s, &st); !p.empty()) return p;
        if (S_ISDIR(st.st_mode)) return fmt::format("'{}' is a directory, not a file", s);
        if (!S_ISREG(st.st_mode)) return fmt::format("'{}' is not a regular file", s);
        int fd = ::open(s.c_str(), O_RDONLY);
        if (fd < 0) return fmt::format("cannot read '{}': {}", s, std::strerror(errno));
        ::close(fd);
        return "";
      },
      "FILE");
}

CLI::Validator readable_dir() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        struct stat st {};
        if (std::string p = stat_problem(s, &st); !p.empty()) return p;
        if (!S_ISDIR(st.st_mode)) return fmt::format("'{}' is not a directory", s);
        DIR* d = ::opendir(s.c_str());
        if (!d) return fmt::format("cannot read the directory '{}': {}", s, std::strerror(errno));
        ::closedir(d);
        return "";
      },
      "DIR");
}

CLI::Validator readable_path() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        struct stat st {};
        if (std::string p = stat_problem(s, &st); !p.empty()) return p;
        if (S_ISDIR(st.st_mode)) return readable_dir()(s);
        return readable_file()(s);
      },
      "PATH");
}

CLI::Validator output_dir() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s.empty()) return "the path is empty";
        // The path itself when it exists, else its nearest existing ancestor, must be a directory we can
        // write in; nothing is created here (a validator only looks).
        fs::path p = s;
        struct stat st {};
        if (::stat(p.c_str(), &st) == 0) {
          if (!S_ISDIR(st.st_mode)) return fmt::format("'{}' is a file, not a directory", s);
          if (::access(p.c_str(), W_OK | X_OK) != 0)
            return fmt::format("cannot write in '{}': {}", s, std::strerror(errno));
          return "";
        }
        if (errno != ENOENT) return fmt::format("cannot use '{}': {}", s, std::strerror(errno));
        fs::path a = fs::absolute(p).parent_path();
        while (::stat(a.c_str(), &st) != 0) {
          if (errno != ENOENT) return fmt::format("cannot use '{}': {}", a.string(), std::strerror(errno));
          if (a == a.root_path()) break;
          a = a.parent_path();
        }
        if (!S_ISDIR(st.st_mode))
          return fmt::format("cannot create '{}': '{}' is a file, not a directory", s, a.string());
        if (::access(a.c_str(), W_OK | X_OK) != 0)
          return fmt::format("cannot create '{}' in '{}': {}", s, a.string(), std::strerror(errno));
        return "";
      },
      "DIR");
}

void prepare_out_dir(const std::string& flag, const std::string& path) {
  LF_CHECK(!path.empty(), "{}: the path is empty", flag);
  std::error_code ec;
  fs::create_directories(path, ec);
  // create_directories reports an existing file, a file on the way, or a read-only place through ec; the
  // filesystem's own wording ("Not a directory", "Read-only file system") says which.
  bool dir = fs::is_directory(path, ec);
  LF_CHECK(dir, "{} {}: cannot create the directory: {}", flag, path,
           fs::exists(path) ? std::string("it is a file")
           : ec             ? ec.message()
                            : "unknown reason");
  // Permission bits do not tell the whole story (root ignores them, a read-only mount does not): write.
  const std::string probe = (fs::path(path) / fmt::format(".lf-write-test-{}", ::getpid())).string();
  int fd = ::open(probe.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600);
  LF_CHECK(fd >= 0, "{} {}: cannot write in the directory: {}", flag, path, std::strerror(errno));
  ::close(fd);
  ::unlink(probe.c_str());
}

void prepare_out_file(const std::string& flag, const std::string& path) {
  LF_CHECK(!path.empty(), "{}: the path is empty", flag);
  LF_CHECK(!fs::is_directory(path), "{} {}: is a directory, not a file", flag, path);
  fs::path parent = fs::path(path).parent_path();
  prepare_out_dir(flag, parent.empty() ? "." : parent.string());
}

namespace {

// `m` names `value` as a word of its own (a path in a message), not as part of another word.
bool mentions(const std::string& m, const std::string& value) {
  if (value.empty()) return false;
  for (size_t at = m.find(value); at != std::string::npos; at = m.find(value, at + 1)) {
    const size_t end = at + value.size();
    const bool before = at == 0 || std::strchr(" '\"([", m[at - 1]),
               after = end == m.size() || std::strchr(" :'\",)]/", m[end]);
    if (before && after) return true;
  }
  return false;
}

}  // namespace

void rethrow_with_flag(const std::string& flag, const std::string& value) {
  try {
    throw;
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    if (!dynamic_cast<const Error*>(&e) && !dynamic_cast<const fs::filesystem_error*>(&e)) throw;
    // Most loaders name the file already: then the flag alone is added, not the path a second time.
    const std::string m = e.what();
    throw Error(mentions(m, value) ? fmt::format("{}: {}", flag, m)
                                   : fmt::format("{} {}: {}", flag, value, m));
  }
}

}  // namespace lf
