#pragma once
// Shared test helpers: value comparison, gradcheck with a readable report, error-message checks.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "ops/ops.h"

namespace lf::test {

// f64 leaf with requires_grad, filled from the Philox stream (seeded by the caller's manual_seed).
Tensor leaf64(const Shape& shape, double scale = 1.0);
// max |a - b| over all elements (both converted to f64 on the CPU); shapes must match.
double max_abs_diff(const Tensor& a, const Tensor& b);
bool all_close(const Tensor& a, const Tensor& b, double atol = 1e-5, double rtol = 1e-5);

// A fresh directory under the system's temp directory, removed with everything in it at scope exit.
struct TempDir {
  std::filesystem::path dir;
  explicit TempDir(const std::string& name);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (dir / name).string(); }
};
// Writes `s` to `path` as bytes (replacing the file).
void write_text(const std::string& path, const std::string& s);

}  // namespace lf::test

// CHECK_GRAD(fn, inputs): gradcheck in f64 and, on failure, print the worst element.
#define CHECK_GRAD(fn, ...)                                  \
  do {                                                       \
    auto lf_gc_ = ::lf::gradcheck((fn), __VA_ARGS__);        \
    INFO(lf_gc_.report);                                     \
    CHECK(lf_gc_.ok);                                        \
  } while (0)

// CHECK_ERROR(expr, "text"): expr throws lf::Error and its message contains every given text.
#define CHECK_ERROR(expr, ...)                                                        \
  do {                                                                                \
    try {                                                                             \
      (void)(expr);                                                                   \
      FAIL_CHECK("expected lf::Error from " #expr);                                   \
    } catch (const ::lf::Error& e) {                                                  \
      std::string lf_msg_ = e.what();                                                 \
      INFO("message: " << lf_msg_);                                                   \
      for (const char* lf_part_ : {__VA_ARGS__}) CHECK(lf_msg_.find(lf_part_) != std::string::npos); \
    }                                                                                 \
  } while (0)
