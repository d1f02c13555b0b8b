#pragma once
// Communicator: what data-parallel training needs from the processes of a job, and nothing more. Every
// process ("rank") holds the whole model; the ranks sum gradients and a few scalars, and copy rank 0's
// weights at the start. The interface is small so that the same training code runs on one process
// (SingleProcess), on MPI (MpiCommunicator, dist/mpi_communicator.cpp: `mpirun -np N ...`, one machine or
// many), and later on NCCL for CUDA tensors (the same four calls over ncclAllReduce / ncclBroadcast).
//
//   Communicator& comm = world();        // MPI's world under mpirun (when built with MPI), else one process
//   comm.all_reduce_sum(grad, n);         // every rank now holds the sum over all ranks
//   ... return world().finish(code);      // MPI_Finalize, or MPI_Abort after a failure
#include <cstdint>
#include <string>

namespace lf {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;  // "single process", "MPI (Open MPI 4.1.4)"

  // Sums `n` values over all ranks, in place: afterwards every rank holds the same sums. Blocking; every
  // rank must make the same calls in the same order (a collective).
  virtual void all_reduce_sum(float* data, int64_t n) = 0;
  virtual void all_reduce_sum(double* data, int64_t n) = 0;
  // The largest of each value over all ranks, in place.
  virtual void all_reduce_max(int64_t* data, int64_t n) = 0;
  // Copies `bytes` bytes at `data` on rank `root` to `data` on every other rank.
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;

  // Ends this process's part of the job with exit code `code`, and returns it for main() to return. A
  // failure on one rank must end all of them (the others would wait in the next collective forever), so
  // with more than one rank a nonzero code aborts the whole job.
  virtual int finish(int code) = 0;
};

// One process: sums and broadcasts are the identity.
class SingleProcess : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "single process"; }
  void all_reduce_sum(float*, int64_t) override {}
  void all_reduce_sum(double*, int64_t) override {}
  void all_reduce_max(int64_t*, int64_t) override {}
  void broadcast(void*, int64_t, int) override {}
  int finish(int code) override { return code; }
};

// The job's communicator. With MPI in the build (LF_WITH_MPI) and the process started by mpirun (Open
// MPI's OMPI_COMM_WORLD_SIZE, or PMI_SIZE / PMIX_RANK of other launchers, in the environment): MPI's
// COMM_WORLD, initialised on the first call. Otherwise SingleProcess: a plain `build/train_mlm` never
// initialises MPI.
Communicator& world();

// Whether this build can run on several processes (it was built with MPI).
bool built_with_mpi();
// How many processes the launcher started (mpirun's OMPI_COMM_WORLD_SIZE, or PMI_SIZE), read from the
// environment without starting MPI: 1 for a plain start.
int launched_ranks();

}  // namespace lf
