// examples/common: the shared entry point (every exception becomes one line and an exit code), the flag
// validators, the resume rule for the schedule length, and keep_csv_rows. The programs themselves are
// tested through their command lines in tests/cli/.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>

#include "backends/backend.h"
#include "examples/common/cli_checks.h"
#include "examples/common/csv.h"
#include "examples/common/entry.h"
#include "examples/common/resume.h"
#include "tests/support/helpers.h"

using namespace lf;
namespace fs = std::filesystem;

namespace {

// Runs run_guarded with stderr captured; returns the exit code and sets *err to what was printed.
int guarded(const std::function<int()>& body, std::string* err) {
  std::fflush(stderr);
  char path[] = "/tmp/lf_test_entry_XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  int saved = ::dup(2);
  ::dup2(fd, 2);
  int rc = run_guarded("prog", body, "use a smaller --dim");
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  *err = ss.str();
  ::unlink(path);
  return rc;
}

// Parses argv with CLI11 through run_program; returns the exit code and sets *err.
int parse(std::vector<std::string> args, CLI::App& app, std::string* err) {
  std::vector<char*> argv;
  static std::string name = "prog";
  argv.push_back(name.data());
  for (auto& a : args) argv.push_back(a.data());
  return guarded([&] { return run_program("prog", app, int(argv.size()), argv.data(), [] { return 0; }); },
                 err);
}

}  // namespace

TEST_CASE("entry: every exception is one 'prog: error:' line with exit 1, usage errors exit 2") {
  std::string err;
  CHECK(guarded([] { return 0; }, &err) == 0);
  CHECK(err.empty());
  CHECK(guarded([] { return 3; }, &err) == 3);  // the body's own code passes through

  CHECK(guarded([]() -> int { throw Error("prog: matmul: shapes differ"); }, &err) == 1);
  CHECK(err == "prog: error: matmul: shapes differ\n");  // no doubled "prog: "
  CHECK(guarded([]() -> int { throw UsageError("--k 9 exceeds --n 8"); }, &err) == 2);
  CHECK(err == "prog: error: --k 9 exceeds --n 8 (see --help)\n");
  CHECK(guarded([]() -> int { throw std::bad_alloc(); }, &err) == 1);
  CHECK(err == "prog: error: out of memory (std::bad_alloc); use a smaller --dim\n");
  CHECK(guarded([]() -> int { throw Error("allocate: out of memory asking for 8 bytes"); }, &err) == 1);
  CHECK(err.find("out of memory asking for 8 bytes; use a smaller --dim") != std::string::npos);
  CHECK(guarded(
            []() -> int {
              std::vector<int> v;
              v.reserve(v.max_size() + 1);
              return 0;
            },
            &err) == 1);
  CHECK(err.find("prog: error: a size is too large") != std::string::npos);
  CHECK(err.find("std::length_error") != std::string::npos);
  CHECK(guarded(
            []() -> int {
              fs::directory_iterator it("/nonexistent/lf");
              return 0;
            },
            &err) == 1);
  CHECK(err.find("prog: error: filesystem error") != std::string::npos);
  CHECK(err.find("/nonexistent/lf") != std::string::npos);
  CHECK(guarded([]() -> int { throw std::runtime_error("boom"); }, &err) == 1);
  CHECK(err == "prog: error: unexpected error: boom\n");
  CHECK(guarded([]() -> int { throw 42; }, &err) == 1);
  CHECK(err.find("not a std::exception") != std::string::npos);
}

TEST_CASE("entry: CLI11's parse errors exit 2 naming the flag; --help exits 0") {
  std::string err;
  int64_t steps = 10;
  double lr = 1e-3;
  std::string device = "cpu";
  auto app = [&] {
    auto a = std::make_unique<CLI::App>("test");
    a->add_option("--steps", steps)->check(int_range(1, 100));
    a->add_option("--lr", lr)->check(positive_finite());
    a->add_option("--device", device)->check(device_name());
    return a;
  };
  CHECK(parse({"--help"}, *app(), &err) == 0);
  CHECK(parse({"--steps", "5"}, *app(), &err) == 0);
  CHECK(steps == 5);
  CHECK(parse({"--steps", "0"}, *app(), &err) == 2);
  CHECK(err == "prog: error: --steps: must be in [1, 100], got 0 (see --help)\n");
  CHECK(parse({"--steps", "x"}, *app(), &err) == 2);
  CHECK(parse({"--steps", "1", "--steps", "2"}, *app(), &err) == 2);
  CHECK(err.find("--steps is given 2 times") != std::string::npos);
  CHECK(parse({"--bogus"}, *app(), &err) == 2);
  for (const char* bad : {"nan", "inf", "-inf", "0", "-1", "1e999"}) {
    CHECK(parse({"--lr", bad}, *app(), &err) == 2);
    CHECK(err.find("--lr: must be a finite number > 0") != std::string::npos);
  }
  CHECK(parse({"--device", "cdua"}, *app(), &err) == 2);
  CHECK(err.find("'cdua' is not a device") != std::string::npos);
  if (!cuda_available()) CHECK(parse({"--device", "cuda"}, *app(), &err) == 2);
}

TEST_CASE("cli_checks: paths are checked for what they must be") {
  fs::path dir = fs::temp_directory_path() / fmt::format("lf_test_entry_{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "file") << "x";
  fs::create_symlink("loop", dir / "loop");
  auto msg = [](const CLI::Validator& v, fs::path p) {
    std::string s = p.string();
    return v(s);
  };
  CHECK(msg(readable_file(), dir / "file").empty());
  CHECK(msg(readable_file(), dir / "sub").find("is a directory") != std::string::npos);
  CHECK(msg(readable_file(), dir / "loop").find("Too many levels of symbolic links") != std::string::npos);
  CHECK(msg(readable_file(), dir / "none").find("No such file") != std::string::npos);
  CHECK(msg(readable_dir(), dir / "file").find("not a directory") != std::string::npos);
  CHECK(msg(output_dir(), dir / "new" / "deeper").empty());  // creatable
  CHECK(msg(output_dir(), dir / "file").find("is a file") != std::string::npos);
  CHECK(!msg(output_dir(), dir / "file" / "sub").empty());
  prepare_out_dir("--out", (dir / "new" / "deeper").string());
  CHECK(fs::is_directory(dir / "new" / "deeper"));
  CHECK(fs::is_empty(dir / "new" / "deeper"));  // the write probe is gone
  CHECK_ERROR(prepare_out_dir("--out", (dir / "file").string()), "--out", "file");
  CHECK_ERROR(prepare_out_file("--out", (dir / "sub").string()), "--out", "is a directory");
  CHECK_ERROR(with_flag("--corpus", "x", []() -> int { throw Error("TextCorpus: x is empty"); }),
              "--corpus: TextCorpus");
  CHECK_ERROR(with_flag("--corpus", "y", []() -> int { throw Error("empty"); }), "--corpus y: empty");
  fs::remove_all(dir);
}

TEST_CASE("resume: the schedule length keeps the checkpoint's unless --extend lengthens it") {
  std::string steps_arg;
  int64_t steps = 0;
  CLI::App app("test");
  app.add_option("--steps", steps);
  auto length = [&](std::vector<std::string> args, int64_t stored, int64_t done, bool extend) {
    app.clear();
    std::vector<char*> argv{const_cast<char*>("prog")};
    for (auto& a : args) argv.push_back(a.data());
    app.parse(int(argv.size()), argv.data());
    return ResumeSettings(app, "ck").schedule_length("--steps", "step", steps, stored, done, extend);
  };
  CHECK(length({}, 60, 30, false) == 60);
  CHECK(length({"--steps", "60"}, 60, 30, false) == 60);
  CHECK(length({"--steps", "90"}, 60, 30, true) == 90);
  CHECK_THROWS_AS(length({"--steps", "90"}, 60, 30, false), UsageError);  // longer needs --extend
  CHECK_THROWS_AS(length({"--steps", "45"}, 60, 30, false), UsageError);  // shorter: --stop-at
  CHECK_THROWS_AS(length({"--steps", "30"}, 60, 30, false), UsageError);  // nothing to train
  CHECK_THROWS_AS(length({}, 60, 60, false), UsageError);                 // the run is complete
}

TEST_CASE("csv: keep_csv_rows drops the rows after a step and rewrites the file") {
  fs::path p = fs::temp_directory_path() / fmt::format("lf_test_keep_{}.csv", ::getpid());
  {
    CsvWriter w(p.string(), {"step", "loss", "note"});
    for (int s = 1; s <= 6; ++s) w.row({s, 0.5 * s, s == 2 ? "a, \"quoted\" note" : "x"});
  }
  CHECK(keep_csv_rows(p.string(), "step", [](double s) { return s <= 4; }) == 2);
  std::ifstream in(p);
  std::string line, all;
  int rows = -1;
  while (std::getline(in, line)) all += line + "\n", ++rows;
  CHECK(rows == 4);
  CHECK(all.find("2,1,\"a, \"\"quoted\"\" note\"") != std::string::npos);  // a quoted field survives
  CHECK(!fs::exists(p.string() + ".tmp"));
  CHECK(keep_csv_rows(p.string(), "step", [](double s) { return s <= 4; }) == 0);
  CHECK_ERROR(keep_csv_rows(p.string(), "epoch", [](double) { return true; }), "no column 'epoch'");
  CHECK(keep_csv_rows("/nonexistent/lf.csv", "step", [](double) { return false; }) == 0);
  CHECK(split_csv_line("1,\"a,b\",\"c\"\"d\"") == std::vector<std::string>{"1", "a,b", "c\"d"});
  fs::remove(p);
}
