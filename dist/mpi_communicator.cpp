// The Communicator over MPI (built when CMake finds MPI: -DLF_MPI=AUTO|ON). Every call is the plain MPI
// collective on MPI_COMM_WORLD; errors come back as return codes (MPI_ERRORS_RETURN) and become lf::Error
// naming the call, instead of MPI's default of aborting without a word about where.
#ifdef LF_WITH_MPI
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "core/error.h"
#include "dist/communicator.h"

namespace lf {

namespace {

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(fmt::format("{}: {}", call, std::string(text, size_t(len))));
}

// MPI counts are int: a longer buffer goes in pieces of at most INT_MAX elements.
template <typename F>
void in_pieces(int64_t n, F&& call) {
  for (int64_t done = 0; done < n;) {
    const int piece = int(std::min<int64_t>(n - done, INT_MAX));
    call(done, piece);
    done += piece;
  }
}

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator() {
    int provided = 0;
    // FUNNELED: only the main thread calls MPI (OpenMP's threads only compute).
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    std::string v(version, size_t(len));
    name_ = "MPI (" + v.substr(0, v.find_first_of(",\n")) + ")";
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return name_; }

  void all_reduce_sum(float* data, int64_t n) override {
    in_pieces(n, [&](int64_t at, int count) {
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, data + at, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
                "MPI_Allreduce");
    });
  }
  void all_reduce_sum(double* data, int64_t n) override {
    in_pieces(n, [&](int64_t at, int count) {
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, data + at, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
                "MPI_Allreduce");
    });
  }
  void all_reduce_max(int64_t* data, int64_t n) override {
    in_pieces(n, [&](int64_t at, int count) {
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, data + at, count, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD),
                "MPI_Allreduce");
    });
  }
  void broadcast(void* data, int64_t bytes, int root) override {
    in_pieces(bytes, [&](int64_t at, int count) {
      check_mpi(MPI_Bcast(static_cast<char*>(data) + at, count, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    });
  }

  int finish(int code) override {
    std::fflush(stdout);
    std::fflush(stderr);
    if (code != 0 && size_ > 1) MPI_Abort(MPI_COMM_WORLD, code);  // ends every rank; does not return
    MPI_Finalize();
    return code;
  }

 private:
  int rank_ = 0, size_ = 1;
  std::string name_;
};

bool launched_by_mpirun() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(var)) return true;
  return false;
}

}  // namespace

Communicator& world() {
  static std::unique_ptr<Communicator> comm = launched_by_mpirun()
                                                  ? std::unique_ptr<Communicator>(new MpiCommunicator())
                                                  : std::unique_ptr<Communicator>(new SingleProcess());
  return *comm;
}

bool built_with_mpi() { return true; }

}  // namespace lf
#endif
