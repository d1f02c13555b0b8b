// world() for a build without MPI; dist/mpi_communicator.cpp defines it when the build has MPI.
#include "dist/communicator.h"

#ifndef LF_WITH_MPI
namespace lf {

Communicator& world() {
  static SingleProcess single;
  return single;
}

bool built_with_mpi() { return false; }

}  // namespace lf
#endif
