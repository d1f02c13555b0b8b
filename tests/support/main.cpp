// The one translation unit that compiles Catch2's runner; every test_*.cpp links against it. The runner ends
// through world().finish, so a test binary started by mpirun (tests/dist/) ends its MPI job cleanly; a
// plain run never starts MPI.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "dist/communicator.h"

int main(int argc, char** argv) { return lf::world().finish(Catch::Session().run(argc, argv)); }
