// compare_runs: one plot and one table for several train_mlm runs (their metrics.csv), as docs/results.md
// shows each comparison.
//
//   build/compare_runs --out docs/img/recipe.png --title "n 128, k 32" runs/std:standard runs/lin:linformer
//
// Each argument is RUN_DIR[:LABEL]. The plot has one validation curve per run (--column, default val_loss);
// the table gives each run's last value, its ratio to the first run's, and its mean ms per step.
#include <CLI/CLI.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "examples/common/cli_checks.h"
#include "examples/common/entry.h"
#include "examples/common/plot.h"

using namespace lf;

namespace {

struct Run {
  std::string label;
  PlotSeries curve;
  double last = NAN, ms_per_step = NAN;
};

Run read_run(const std::string& arg, const std::string& column) {
  size_t colon = arg.find(':');
  std::string dir = arg.substr(0, colon), label = colon == std::string::npos ? dir : arg.substr(colon + 1);
  std::ifstream in(dir + "/metrics.csv");
  LF_CHECK(in, "compare_runs: cannot read {}/metrics.csv", dir);
  std::string line;
  std::getline(in, line);
  std::vector<std::string> names;
  for (std::stringstream ss(line); std::getline(ss, line, ',');) names.push_back(line);
  auto index = [&](const std::string& name) {
    for (size_t i = 0; i < names.size(); ++i)
      if (names[i] == name) return i;
    throw Error(fmt::format("compare_runs: {}/metrics.csv has no column '{}'", dir, name));
  };
  const size_t col = index(column), step_col = index("step"), secs_col = index("seconds");
  Run r{label, {label, {}, {}}};
  double first_step = NAN, first_secs = NAN, last_step = NAN, last_secs = NAN;
  while (std::getline(in, line)) {
    std::vector<double> v;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) v.push_back(cell == "nan" ? NAN : std::atof(cell.c_str()));
    if (v.size() != names.size()) continue;
    if (std::isnan(first_step)) first_step = v[step_col], first_secs = v[secs_col];
    last_step = v[step_col], last_secs = v[secs_col];
    if (std::isnan(v[col])) continue;
    r.curve.x.push_back(v[step_col]);
    r.curve.y.push_back(v[col]);
    r.last = v[col];
  }
  LF_CHECK(!r.curve.x.empty(), "compare_runs: {}/metrics.csv has no values in column '{}'", dir, column);
  if (last_step > first_step) r.ms_per_step = 1e3 * (last_secs - first_secs) / (last_step - first_step);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string out, title, column = "val_loss", y_label = "validation loss (nats per masked token)";
  std::vector<std::string> runs;
  CLI::App app{"Plot and tabulate the validation curves of several train_mlm runs."};
  app.add_option("--out", out, "PNG to write")->required()->check(non_empty());
  app.add_option("--title", title, "plot title");
  app.add_option("--column", column, "metrics.csv column to compare")
      ->capture_default_str()
      ->check(non_empty());
  app.add_option("--y-label", y_label, "y axis label")->capture_default_str();
  // Each run's directory must hold a readable metrics.csv: checked with the command line.
  auto run_dir = CLI::Validator(
      [](std::string& arg) -> std::string {
        std::string csv = arg.substr(0, arg.find(':')) + "/metrics.csv";
        return readable_file()(csv);
      },
      "RUN_DIR[:LABEL]");
  app.add_option("runs", runs, "RUN_DIR[:LABEL] ...")->required()->check(run_dir);
  return run_program("compare_runs", app, argc, argv, [&] {
    prepare_out_file("--out", out);
    std::vector<Run> all;
    std::vector<PlotSeries> series;
    for (const std::string& a : runs) {
      all.push_back(read_run(a, column));
      series.push_back(all.back().curve);
    }
    write_line_plot(out, series, {.title = title, .x_label = "step", .y_label = y_label});
    fmt::print("| run | final {} | ratio to {} | ms per step |\n|---|---:|---:|---:|\n", column, all[0].label);
    for (const Run& r : all)
      fmt::print("| {} | {:.4f} | {:.3f} | {:.1f} |\n", r.label, r.last, r.last / all[0].last, r.ms_per_step);
    fmt::print("plot: {}\n", out);
    return 0;
  });
}
