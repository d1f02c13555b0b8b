// world() for a build without MPI (dist/mpi_communicator.cpp defines it when the build has MPI), and what
// the launcher says about the job.
#include "dist/communicator.h"

#include <cstdlib>
#include <string>

namespace lf {

int launched_ranks() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(var)) {
      const int n = std::atoi(v);
      return n > 0 ? n : 1;
    }
  return 1;
}

#ifndef LF_WITH_MPI
Communicator& world() {
  static SingleProcess single;
  return single;
}

bool built_with_mpi() { return false; }
#endif

}  // namespace lf
