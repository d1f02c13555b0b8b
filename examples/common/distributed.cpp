#include "examples/common/distributed.h"

#include "examples/common/entry.h"

namespace lf {

Distributed::Distributed(int argc, char** argv) : comm_(world()) {
  if (comm_.size() == 1) return;
  std::string command;
  for (int i = 1; i < argc; ++i) command += std::string(argv[i]) + '\n';
  const std::vector<int> differ = ranks_differing(comm_, command);
  LF_USAGE_CHECK(
      differ.empty(),
      "rank {} was started with other flags than rank 0: every rank of a data-parallel job must run the "
      "same command line",
      differ.empty() ? 0 : differ.front());
  if (!writer()) {
    devnull_ = std::fopen("/dev/null", "w");
    LF_CHECK(devnull_ && std::freopen("/dev/null", "w", stdout), "rank {}: cannot open /dev/null", rank());
  }
}

Distributed::~Distributed() {
  if (devnull_) std::fclose(devnull_);
}

std::unique_ptr<GradientReducer> Distributed::start_model(const Module& model) const {
  std::vector<Tensor> state;
  for (const auto& [name, t] : model.state_dict()) state.push_back(t);
  broadcast_tensors(comm_, state);
  return std::make_unique<GradientReducer>(comm_, model.named_parameters());
}

std::string Distributed::banner(int64_t per_rank_batch, const char* unit) const {
  if (size() == 1) return "";
  return fmt::format("data parallel: {} ranks ({}), {} {} per rank = global batch {}", size(), comm_.name(),
                     per_rank_batch, unit, per_rank_batch * size());
}

}  // namespace lf
