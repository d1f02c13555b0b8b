#include "core/generator.h"

namespace lf {

static GeneratorState g_state{0x5eed, 0};

void manual_seed(uint64_t seed) { g_state = {seed, 0}; }
GeneratorState generator_state() { return g_state; }
void set_generator_state(GeneratorState s) { g_state = s; }

GeneratorState next_random_range(uint64_t count) {
  GeneratorState start = g_state;
  g_state.offset += (count + 3) & ~uint64_t(3);
  return start;
}

}  // namespace lf
