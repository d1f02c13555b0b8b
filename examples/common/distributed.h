#pragma once
// A training program's part in a data-parallel job (docs/distributed.md): `mpirun -np N build/train_mlm ...`
// runs N copies of the program, one per rank, that train one model. Each rank:
//   - checks that every rank was started with the same command line (refused together otherwise);
//   - takes rank 0's weights (broadcast), so all start identical whatever their seed;
//   - draws the same global batch of N x --batch examples (the data generator is the same everywhere, so a
//     resumed run needs only rank 0's checkpoint) and trains on its own rows of it;
//   - sums the gradients with the other ranks (GradientReducer) before every optimizer step.
// Rank 0 alone prints and writes files (metrics, plots, checkpoints, the model); the others' standard
// output goes to /dev/null, and their errors still reach stderr. Without mpirun (or in a build without
// MPI) the program is one rank of one and nothing of this costs anything.
#include <cstdio>
#include <memory>
#include <string>

#include "dist/data_parallel.h"
#include "nn/module.h"

namespace lf {

class Distributed {
 public:
  // Joins the job; UsageError on every rank when some rank's command line (argv[1..]) differs from rank 0's.
  Distributed(int argc, char** argv);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  Communicator& comm() const { return comm_; }
  int rank() const { return comm_.rank(); }
  int size() const { return comm_.size(); }
  bool writer() const { return comm_.rank() == 0; }  // prints, writes files
  FILE* progress_stream() const { return writer() ? stderr : devnull_; }

  // This rank's rows [begin, begin + per_rank) of a global batch of size() * per_rank rows.
  int64_t first_row(int64_t per_rank) const { return int64_t(rank()) * per_rank; }
  // Gives every rank rank 0's parameters and buffers, and returns the reducer for the model's gradients.
  std::unique_ptr<GradientReducer> start_model(const Module& model) const;
  // "data parallel: 2 ranks (MPI (Open MPI 4.1.4)), 8 per rank = global batch 16", or "" for one rank.
  std::string banner(int64_t per_rank_batch, const char* unit) const;

 private:
  Communicator& comm_;
  FILE* devnull_ = nullptr;
};

}  // namespace lf
