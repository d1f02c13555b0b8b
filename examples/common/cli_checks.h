#pragma once
// Checks for command-line values, so that every flag is validated when the command line is parsed and the
// message names the flag ("--lr: must be a finite number > 0, got nan"), instead of a run that trains to
// NaN, divides by zero, or fails after an hour. CLI11 puts the flag's name in front of each message.
//
//   app.add_option("--lr", o.lr, "peak learning rate")->check(lf::positive_finite());
//   app.add_option("--sharing", o.sharing, "...")->check(lf::one_of({"none", "headwise", "kv",
//   "layerwise"}));
//
// And the file-system checks a program runs before it starts working: an output directory that can be
// written, an input that exists and can be read.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "examples/common/entry.h"

namespace lf {

// Integers in [lo, hi]. The upper bounds the programs use keep products of sizes (batch * seq_len ...) far
// from int64 overflow; they are far above anything that fits in memory.
CLI::Validator int_range(int64_t lo, int64_t hi);
// A seed: a whole number in [0, 2^64 - 1] (CLI11 alone would wrap "-1" around to 2^64 - 1).
CLI::Validator seed_value();
// Floating-point values: finite (no nan, no inf) and in the stated range.
CLI::Validator positive_finite();                // > 0
CLI::Validator non_negative_finite();            // >= 0
CLI::Validator finite_in(double lo, double hi);  // [lo, hi]
CLI::Validator fraction_below_one();             // [0, 1): dropout, probabilities
// One of the listed words (the message lists them).
CLI::Validator one_of(std::vector<std::string> choices);
// A non-empty string.
CLI::Validator non_empty();
// --device: "cpu", or "cuda" / "cuda:N" when this build has the CUDA backend and a GPU is present.
CLI::Validator device_name();
// Inputs: the path exists (symlinks followed, a loop is reported as such) and can be opened for reading.
CLI::Validator readable_file();
CLI::Validator readable_dir();
CLI::Validator readable_path();  // a file or a directory
// Outputs: the directory exists and can be written, or can be created (its nearest existing ancestor is a
// writable directory). Only looks; prepare_out_dir creates it when the run starts.
CLI::Validator output_dir();

// Makes `path` a writable directory for the run's output (creating it and its parents), or throws
// UsageError naming `flag` and the path: "--out runs/x: is a file, not a directory". Runs before any work,
// so a run never trains for an hour and then fails to write its results.
void prepare_out_dir(const std::string& flag, const std::string& path);
// The same for an output file: its directory must exist (or be creatable) and be writable, and the path
// must not be a directory.
void prepare_out_file(const std::string& flag, const std::string& path);

// Runs fn(); an lf::Error or filesystem error from it is rethrown as lf::Error with "<flag> <value>: " in
// front, so that e.g. a corpus the loader refuses is reported with the flag that named it.
template <class F>
auto with_flag(const std::string& flag, const std::string& value, F&& fn) -> decltype(fn());
[[noreturn]] void rethrow_with_flag(const std::string& flag, const std::string& value);

template <class F>
auto with_flag(const std::string& flag, const std::string& value, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (...) {
    rethrow_with_flag(flag, value);
  }
}

}  // namespace lf
