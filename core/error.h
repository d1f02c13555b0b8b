#pragma once
// lf::Error: the one exception type for every mistake a user can make (bad shapes, dtypes, devices,
// indices, files). Messages name the op and the values involved, e.g.
//   "matmul: cannot multiply [8,512,128] by [64,128]: inner dimensions 128 and 64 differ"
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <stdexcept>
#include <string>

namespace lf {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// LF_CHECK(cond, "op: what went wrong with {}", value) throws lf::Error when cond is false.
#define LF_CHECK(cond, ...)                                        \
  do {                                                             \
    if (!(cond)) throw ::lf::Error(::fmt::format(__VA_ARGS__));    \
  } while (0)

}  // namespace lf
