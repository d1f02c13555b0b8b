#pragma once
// A training progress line on stderr:
//
//   train [##########..............]  420/1000  42% | loss 2.3145 | 18.2k tok/s | ETA 0:56
//
// On a terminal it redraws one line with '\r' (at most every 0.1 s); when stderr is a file or a pipe
// (CI logs, `2> log.txt`) it prints plain lines instead, at most one every `line_interval_s` seconds, plus
// the first and the last step, so logs stay readable.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace lf {

class Progress {
 public:
  // total: number of steps; unit: what throughput counts ("tok", "img"); out: the stream (tests pass a
  // file); tty: -1 to ask isatty(out), 0 or 1 to force plain lines or the redrawn bar.
  Progress(int64_t total, std::string label = "", std::string unit = "it", FILE* out = stderr, int tty = -1,
           double line_interval_s = 10.0);
  ~Progress();  // ends the bar's line if finish() was not called
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Step `step` (1..total) is done; it processed `items` units (for throughput) and had loss `loss` (NaN
  // hides the loss). `extra` is appended, e.g. "lr 3.0e-04".
  void update(int64_t step, double loss, double items = 0, const std::string& extra = "");
  // Prints a whole line (e.g. a validation result) without garbling the bar, which is redrawn after it.
  void message(const std::string& line);
  // Draws the final state and ends the line.
  void finish();

  // The steps of a resumed run are counted from `first_step` for ETA and throughput (call before update).
  void resume_from(int64_t first_step);

  // "0:41", "1:02:03", "3d 04:05:06": what the ETA and elapsed fields show.
  static std::string format_duration(double seconds);
  // 18234 -> "18.2k", 3.1e6 -> "3.10M".
  static std::string format_rate(double per_second);

 private:
  using Clock = std::chrono::steady_clock;
  std::string render(bool bar) const;
  void draw(bool force);

  int64_t total_, step_ = 0, first_step_ = 0;
  std::string label_, unit_, extra_;
  FILE* out_;
  bool tty_, finished_ = false, drawn_ = false;
  int64_t printed_step_ = -1;  // plain-line mode: the step of the last line printed
  double line_interval_s_, loss_ = 0, items_ = 0, rate_ = 0;
  Clock::time_point start_, last_draw_, last_rate_;
  double items_since_rate_ = 0;
};

}  // namespace lf
