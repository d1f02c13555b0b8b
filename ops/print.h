#pragma once
// Printing: "Tensor(shape=[2,3], dtype=f32, device=cpu)\n[[0.1, ...], ...]", truncated for large tensors.
#include <ostream>
#include <string>

#include "core/tensor.h"

namespace lf {

std::string to_string(const Tensor& t, int64_t edge_items = 3);
inline std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace lf

template <> struct fmt::formatter<lf::Tensor> : fmt::formatter<std::string> {
  auto format(const lf::Tensor& t, format_context& ctx) const {
    return fmt::formatter<std::string>::format(lf::to_string(t), ctx);
  }
};
