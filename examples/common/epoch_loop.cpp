#include "examples/common/epoch_loop.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>

#include "examples/common/csv.h"
#include "examples/common/plot.h"

namespace lf {

Checkpoint epoch_checkpoint(const std::map<std::string, std::string>& meta, const EpochProgress& p) {
  Checkpoint ck{p.step, {}, meta, {{"order_rng", rng_state_to_tensor(p.epoch_rng)}}};
  ck.meta["progress"] = nlohmann::json{{"epoch", p.epoch},
                                       {"epoch_step", p.epoch_step},
                                       {"loss_sum", p.loss_sum},
                                       {"loss_count", p.loss_count}}
                            .dump();
  return ck;
}

EpochProgress epoch_progress(const LoadedCheckpoint& loaded, const ResumeSettings& r) {
  const std::string& path = r.path();
  auto it = loaded.ck.meta.find("progress");
  LF_CHECK(it != loaded.ck.meta.end(), "{}: no 'progress' metadata, so the run cannot continue exactly", path);
  nlohmann::json progress;
  try {
    progress = nlohmann::json::parse(it->second);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: the 'progress' metadata is not JSON: {}", path, e.what()));
  }
  LF_CHECK(progress.is_object(), "{}: the 'progress' metadata is not a JSON object", path);
  EpochProgress p;
  p.step = loaded.ck.step;
  p.epoch = r.stored<int64_t>(progress, "epoch");
  p.epoch_step = r.stored<int64_t>(progress, "epoch_step");
  p.loss_sum = r.stored<double>(progress, "loss_sum");
  p.loss_count = r.stored<int64_t>(progress, "loss_count");
  LF_CHECK(p.epoch >= 1 && p.epoch_step >= 0 && p.loss_count >= 0 && p.epoch_step <= p.step,
           "{}: the 'progress' metadata is inconsistent (epoch {}, epoch_step {}, loss_count {} at step {})", path,
           p.epoch, p.epoch_step, p.loss_count, p.step);
  bool rng = false;
  for (auto& [name, t] : loaded.ck.extra)
    if (name == "order_rng") p.epoch_rng = rng_state_from_tensor(t), rng = true;
  LF_CHECK(rng, "{}: no extra.order_rng (the data order's generator), so the run cannot continue exactly",
           path);
  return p;
}

EpochOutcome run_epochs(const EpochPlan& plan, const EpochProgress& at, Rng& rng, Progress& progress,
                        const EpochHooks& hooks) {
  const int64_t steps_per_epoch = plan.examples / plan.batch;
  const int64_t stop_at = plan.stop_at > 0 ? plan.stop_at : std::numeric_limits<int64_t>::max();
  const auto t0 = std::chrono::steady_clock::now();
  auto minutes = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 60; };
  std::vector<int64_t> order(size_t(plan.examples)), rows(size_t(plan.batch));
  EpochOutcome out{at.step, false, false};
  int64_t& step = out.step;
  for (int64_t epoch = at.epoch; epoch <= plan.epochs; ++epoch) {
    const Rng::State epoch_rng = rng.state();  // a mid-epoch checkpoint stores it to redo this shuffle
    std::iota(order.begin(), order.end(), 0);
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    const bool resumed = epoch == at.epoch;
    double loss_sum = resumed ? at.loss_sum : 0;
    int64_t loss_count = resumed ? at.loss_count : 0, s = resumed ? at.epoch_step : 0;
    auto here = [&] { return EpochProgress{step, epoch, s, loss_sum, loss_count, epoch_rng}; };
    while (s < steps_per_epoch) {
      std::copy(order.begin() + s * plan.batch, order.begin() + (s + 1) * plan.batch, rows.begin());
      const double l = hooks.step(rows, step + 1);
      loss_sum += l, loss_count++, ++s;
      progress.update(++step, l, double(plan.batch), fmt::format("epoch {}", epoch));
      out.stopped = step >= stop_at;
      out.out_of_time = minutes() > plan.minutes;
      if (hooks.out_of_time) out.out_of_time = hooks.out_of_time(out.out_of_time);
      if (out.stopped || out.out_of_time) break;
      if (s < steps_per_epoch && step % plan.checkpoint_every == 0) hooks.save(here());
    }
    const bool complete = s == steps_per_epoch;
    if (out.stopped && !complete) {  // --stop-at: the checkpoint is all; the epoch's row comes when it ends
      hooks.save(here());
      return out;
    }
    hooks.end_epoch(epoch, step, loss_sum / double(std::max<int64_t>(loss_count, 1)), complete);
    hooks.save(complete ? EpochProgress{step, epoch + 1, 0, 0, 0, rng.state()} : here());
    if (out.stopped || out.out_of_time) return out;
  }
  return out;
}

void plot_epoch_curves(const std::string& csv_path, const std::string& png, const std::string& title) {
  PlotSeries loss{"train loss (epoch mean)", {}, {}}, err{"test error (1 - accuracy)", {}, {}};
  std::ifstream in(csv_path);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::vector<std::string> f = split_csv_line(line);
    if (f.size() < 4) continue;
    const double epoch = std::atof(f[0].c_str());
    loss.x.push_back(epoch), loss.y.push_back(std::atof(f[2].c_str()));
    err.x.push_back(epoch), err.y.push_back(1 - std::atof(f[3].c_str()));
  }
  write_line_plot(png, {loss, err}, {.title = title, .x_label = "epoch", .y_label = "", .markers = true});
}

}  // namespace lf
