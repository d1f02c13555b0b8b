#pragma once
// The one entry point of every program in examples/ and bench/: parses the command line, runs the body, and
// turns anything thrown into one line on stderr and an exit code, so no exception ever escapes main (an
// uncaught one aborts with "terminate called ...", which tells a user nothing about what to fix).
//
//   int main(int argc, char** argv) {
//     CLI::App app{"..."};
//     app.add_option("--steps", steps, "...")->check(lf::int_range(1, 1'000'000'000));
//     return lf::run_program("train_mlm", app, argc, argv, [&] { ...; return 0; });
//   }
//
// Exit codes: 0 success (--help included), 1 an error while running (a file, the data, memory, a diverged
// run), 2 the command line is wrong (CLI11's parse and validator errors, UsageError: a flag that conflicts
// with another or with a checkpoint). Messages read "train_mlm: error: <what>".
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "core/error.h"

namespace lf {

// A mistake in the command line found after parsing (flags that contradict each other or a checkpoint):
// reported like a parse error, with exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// LF_USAGE_CHECK(cond, "--k {} exceeds --seq-len {}", k, n) throws UsageError when cond is false.
#define LF_USAGE_CHECK(cond, ...)                                    \
  do {                                                               \
    if (!(cond)) throw ::lf::UsageError(::fmt::format(__VA_ARGS__)); \
  } while (0)

inline constexpr int kExitError = 1, kExitUsage = 2;

// Runs body() and maps what it throws to a message and an exit code (see above). oom_hint is appended to the
// out-of-memory message: which flags make the run smaller.
int run_guarded(const char* name, const std::function<int()>& body,
                const std::string& oom_hint = "use smaller sizes (--batch, --seq-len, --dim)");

// app.parse(argc, argv), then body(), both under run_guarded. --help prints the help and exits 0. A program
// started by `mpirun -np N` with N > 1 is refused (exit 2): it runs on one process.
int run_program(const char* name, CLI::App& app, int argc, char** argv, const std::function<int()>& body,
                const std::string& oom_hint = "use smaller sizes (--batch, --seq-len, --dim)");
// The same for a program that trains on several processes under mpirun (train_mlm, train_fashion_mnist;
// examples/common/distributed.h): it ends through world().finish, so that a rank that fails ends the job.
int run_data_parallel_program(const char* name, CLI::App& app, int argc, char** argv,
                              const std::function<int()>& body, const std::string& oom_hint);

// Inside a catch block: whether the exception being handled is an allocation failure (std::bad_alloc, or an
// allocator's lf::Error "... out of memory ..."), which a benchmark reports for one size and goes on.
bool handling_out_of_memory();

// The line run_guarded prints, "name: error: message", without a repeated "name: " at the message's start
// (many library messages begin with the program's or the op's name already). Exposed for tests.
std::string error_line(const std::string& name, const std::string& message);

}  // namespace lf
