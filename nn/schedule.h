#pragma once
// Learning-rate schedule: linear warmup from 0 to peak_lr over warmup_steps, then a linear or cosine decay to
// min_lr at total_steps, and min_lr after that (or peak_lr throughout the decay phase for Decay::constant).
//
//   step:  0 .. warmup-1            lr = peak * (step + 1) / warmup
//          warmup .. total          p = (step - warmup) / (total - warmup)
//                                   linear: min + (peak - min) * (1 - p)
//                                   cosine: min + (peak - min) * (1 + cos(pi * p)) / 2
//          > total                  min
#include <cstdint>
#include <string_view>

namespace lf {

enum class Decay { constant, linear, cosine };
Decay parse_decay(std::string_view name);  // "constant", "linear", "cosine"; throws lf::Error otherwise

class LRSchedule {
 public:
  LRSchedule(double peak_lr, int64_t warmup_steps, int64_t total_steps, Decay decay = Decay::cosine,
             double min_lr = 0.0);
  double at(int64_t step) const;  // step counts from 0 (the optimizer's step_count() before its step())

  double peak_lr, min_lr;
  int64_t warmup_steps, total_steps;
  Decay decay;
};

}  // namespace lf
