#pragma once
// Element types. f32 is the working type everywhere, f64 exists on the CPU so gradcheck can use
// central differences without drowning in rounding error, i64 holds indices (tokens, targets).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"

namespace lf {

enum class DType : uint8_t { f32, f64, i64 };

inline size_t dtype_size(DType t) { return t == DType::f32 ? 4 : 8; }
inline bool is_floating(DType t) { return t != DType::i64; }
inline std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::i64: return "i64";
  }
  return "?";
}

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::f32; }
template <> constexpr DType dtype_of<double>() { return DType::f64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::i64; }

// Calls fn with a value of the C++ type behind `t`: dispatch(t, [&](auto tag) { using T = decltype(tag); ... })
template <typename Fn> decltype(auto) dispatch(DType t, Fn&& fn) {
  switch (t) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    case DType::i64: return fn(int64_t{});
  }
  throw Error("dispatch: unknown dtype");
}
// Same, but only floating types; `op` names the caller in the error.
template <typename Fn> decltype(auto) dispatch_float(DType t, const char* op, Fn&& fn) {
  switch (t) {
    case DType::f32: return fn(float{});
    case DType::f64: return fn(double{});
    default: throw Error(fmt::format("{}: expected a floating dtype (f32 or f64), got {}", op, dtype_name(t)));
  }
}

}  // namespace lf

template <> struct fmt::formatter<lf::DType> : fmt::formatter<std::string_view> {
  auto format(lf::DType t, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(lf::dtype_name(t), ctx);
  }
};
