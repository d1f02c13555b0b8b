#include "examples/common/entry.h"

#include <cstdio>
#include <filesystem>
#include <new>
#include <stdexcept>

#include "dist/communicator.h"

namespace lf {

std::string error_line(const std::string& name, const std::string& message) {
  std::string m = message;
  const std::string prefix = name + ": ";
  if (m.rfind(prefix, 0) == 0) m.erase(0, prefix.size());
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return fmt::format("{}: error: {}", name, m);
}

namespace {

void report(const char* name, const std::string& message) {
  std::fflush(stdout);  // what the program printed so far comes before the error, also when both are a tty
  std::fprintf(stderr, "%s\n", error_line(name, message).c_str());
  std::fflush(stderr);
}

bool is_out_of_memory(const std::string& message) {
  return message.find("out of memory") != std::string::npos;
}

}  // namespace

bool handling_out_of_memory() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return true;
  } catch (const Error& e) {
    return is_out_of_memory(e.what());
  } catch (...) {
    return false;
  }
}

int run_guarded(const char* name, const std::function<int()>& body, const std::string& oom_hint) {
  try {
    return body();
  } catch (const UsageError& e) {
    report(name, fmt::format("{} (see --help)", e.what()));
    return kExitUsage;
  } catch (const Error& e) {
    // The allocators report exhaustion as lf::Error ("allocate: out of memory ..."): give the same hint.
    report(name,
           is_out_of_memory(e.what()) ? fmt::format("{}; {}", e.what(), oom_hint) : std::string(e.what()));
    return kExitError;
  } catch (const std::bad_alloc&) {
    report(name, fmt::format("out of memory (std::bad_alloc); {}", oom_hint));
    return kExitError;
  } catch (const std::length_error& e) {
    // A size too large for a container (std::vector, std::string): a flag asked for more than can exist.
    report(name, fmt::format("a size is too large ({}: std::length_error); {}", e.what(), oom_hint));
    return kExitError;
  } catch (const std::filesystem::filesystem_error& e) {
    report(name, e.what());  // names the operation, the reason and the path(s)
    return kExitError;
  } catch (
      const CLI::Error& e) {  // e.g. count() of a name that is no option: a bug, but reported, not aborted
    report(name, fmt::format("command line: {}", e.what()));
    return kExitError;
  } catch (const std::exception& e) {
    report(name, fmt::format("unexpected error: {}", e.what()));
    return kExitError;
  } catch (...) {
    report(name, "unexpected error (an exception that is not a std::exception)");
    return kExitError;
  }
}

namespace {

int run_parsed(const char* name, CLI::App& app, int argc, char** argv, const std::function<int()>& body,
               const std::string& oom_hint, bool data_parallel) {
  return run_guarded(
      name,
      [&] {
        LF_USAGE_CHECK(data_parallel || launched_ranks() == 1,
                       "this program runs on one process, and mpirun started {}; only train_mlm and "
                       "train_fashion_mnist train on several (docs/distributed.md)",
                       launched_ranks());
        try {
          app.parse(argc, argv);
        } catch (const CLI::ParseError& e) {
          // --help and --help-all are "errors" with exit code 0: CLI11 prints the help and we exit 0.
          if (e.get_exit_code() == 0) return app.exit(e);
          // Everything else (unknown flag, a value that does not convert, a validator's refusal) is a usage
          // error: CLI11's own codes (105..114) become 2, and the message names the flag.
          std::string m = e.what();
          // CLI11's wording for a flag given twice ("--k: At Most 1 required but received 2") reads as if the
          // value were wrong.
          const std::string twice = ": At Most 1 required but received ";
          if (size_t at = m.find(twice); at != std::string::npos)
            m = fmt::format("{} is given {} times; give it once", m.substr(0, at),
                            m.substr(at + twice.size()));
          throw UsageError(m);
        }
        return body();
      },
      oom_hint);
}

}  // namespace

int run_program(const char* name, CLI::App& app, int argc, char** argv, const std::function<int()>& body,
                const std::string& oom_hint) {
  return run_parsed(name, app, argc, argv, body, oom_hint, /*data_parallel=*/false);
}

int run_data_parallel_program(const char* name, CLI::App& app, int argc, char** argv,
                              const std::function<int()>& body, const std::string& oom_hint) {
  return world().finish(run_parsed(name, app, argc, argv, body, oom_hint, /*data_parallel=*/true));
}

}  // namespace lf
