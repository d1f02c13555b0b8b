#include "nn/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace lf {

Decay parse_decay(std::string_view name) {
  if (name == "constant") return Decay::constant;
  if (name == "linear") return Decay::linear;
  if (name == "cosine") return Decay::cosine;
  throw Error(fmt::format("schedule: unknown decay '{}' (choose constant, linear or cosine)", name));
}

LRSchedule::LRSchedule(double peak, int64_t warmup, int64_t total, Decay d, double min)
    : peak_lr(peak), min_lr(min), warmup_steps(warmup), total_steps(total), decay(d) {
  LF_CHECK(peak > 0 && min >= 0 && min <= peak, "LRSchedule: need 0 <= min_lr {} <= peak_lr {} and peak_lr > 0",
           min, peak);
  LF_CHECK(warmup >= 0 && total >= warmup, "LRSchedule: need 0 <= warmup_steps {} <= total_steps {}", warmup,
           total);
}

double LRSchedule::at(int64_t step) const {
  LF_CHECK(step >= 0, "LRSchedule: step {} must be >= 0", step);
  if (step < warmup_steps) return peak_lr * double(step + 1) / double(warmup_steps);
  if (decay == Decay::constant) return peak_lr;
  if (step >= total_steps) return min_lr;
  double p = double(step - warmup_steps) / double(total_steps - warmup_steps);  // in [0, 1)
  double frac = decay == Decay::linear ? 1.0 - p : 0.5 * (1.0 + std::cos(std::numbers::pi * p));
  return min_lr + (peak_lr - min_lr) * frac;
}

}  // namespace lf
