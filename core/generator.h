#pragma once
// The global random stream: (seed, offset). Each random op takes a fresh range of the stream by
// advancing the offset, so a run is reproducible from its seed, and saving (seed, offset) in a
// checkpoint lets a resumed run draw exactly the numbers it would have drawn.
#include <cstdint>

namespace lf {

struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;
};

void manual_seed(uint64_t seed);          // seed, offset = 0
GeneratorState generator_state();
void set_generator_state(GeneratorState s);
// Reserves `count` numbers of the stream and returns where they start (rounded to blocks of 4).
GeneratorState next_random_range(uint64_t count);

}  // namespace lf
