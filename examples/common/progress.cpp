#include "examples/common/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace lf {

Progress::Progress(int64_t total, std::string label, std::string unit, FILE* out, int tty, double line_interval_s)
    : total_(total), label_(std::move(label)), unit_(std::move(unit)), out_(out),
      tty_(tty < 0 ? ::isatty(fileno(out)) != 0 : tty != 0), line_interval_s_(line_interval_s) {
  LF_CHECK(total > 0, "Progress: total must be positive, got {}", total);
  start_ = last_draw_ = last_rate_ = Clock::now();
}

Progress::~Progress() {
  if (tty_ && drawn_ && !finished_) std::fputc('\n', out_);
}

void Progress::resume_from(int64_t first_step) {
  first_step_ = step_ = first_step;
  start_ = last_draw_ = last_rate_ = Clock::now();
}

std::string Progress::format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  int64_t t = int64_t(std::llround(s));
  int64_t d = t / 86400, h = t / 3600 % 24, m = t / 60 % 60, sec = t % 60;
  if (d > 0) return fmt::format("{}d {:02}:{:02}:{:02}", d, h, m, sec);
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, sec);
  return fmt::format("{}:{:02}", m, sec);
}

std::string Progress::format_rate(double v) {
  if (!std::isfinite(v) || v <= 0) return "0";
  if (v >= 1e9) return fmt::format("{:.2f}G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f}M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{:.1f}", v);
}

void Progress::update(int64_t step, double loss, double items, const std::string& extra) {
  step_ = step;
  loss_ = loss;
  extra_ = extra;
  items_ += items;
  items_since_rate_ += items;
  // Throughput over windows of at least a second: fast enough to follow changes, slow enough not to flicker.
  auto now = Clock::now();
  double window = std::chrono::duration<double>(now - last_rate_).count();
  if (window >= 1.0) {
    rate_ = items_since_rate_ / window;
    items_since_rate_ = 0;
    last_rate_ = now;
  }
  draw(step >= total_);
}

std::string Progress::render(bool bar) const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const int64_t done = step_ - first_step_;
  const double frac = std::min(1.0, double(step_) / double(total_));
  std::string s = label_.empty() ? "" : label_ + " ";
  if (bar) {
    constexpr int kWidth = 24;
    int filled = std::clamp(int(frac * kWidth), 0, kWidth);
    s += fmt::format("[{:#<{}}{:.<{}}] ", "", filled, "", kWidth - filled);
  }
  int digits = int(std::to_string(total_).size());
  s += fmt::format("{:>{}}/{} {:3.0f}%", step_, digits, total_, frac * 100);
  if (std::isfinite(loss_)) s += fmt::format(" | loss {:.4f}", loss_);
  if (items_ > 0) {
    double rate = rate_ > 0 ? rate_ : (elapsed > 0 ? items_ / elapsed : 0);
    s += fmt::format(" | {} {}/s", format_rate(rate), unit_);
  }
  if (!extra_.empty()) s += " | " + extra_;
  double eta = done > 0 ? elapsed / double(done) * double(total_ - step_) : NAN;
  s += step_ >= total_ ? " | took " + format_duration(elapsed) : " | ETA " + format_duration(eta);
  return s;
}

void Progress::draw(bool force) {
  auto now = Clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (tty_) {
    if (!force && drawn_ && since < 0.1) return;
    std::fprintf(out_, "\r%s\033[K", render(true).c_str());  // \033[K clears what a longer line left behind
  } else {
    if (step_ == printed_step_) return;
    if (!force && printed_step_ >= 0 && since < line_interval_s_) return;
    std::fprintf(out_, "%s\n", render(false).c_str());
    printed_step_ = step_;
  }
  std::fflush(out_);
  drawn_ = true;
  last_draw_ = now;
}

void Progress::message(const std::string& line) {
  if (tty_ && drawn_) {
    std::fprintf(out_, "\r\033[K%s\n", line.c_str());
    std::fprintf(out_, "%s\033[K", render(true).c_str());
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

void Progress::finish() {
  if (finished_) return;
  draw(true);
  if (tty_ && drawn_) std::fputc('\n', out_);
  std::fflush(out_);
  finished_ = true;
}

}  // namespace lf
