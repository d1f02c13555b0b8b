#include "backends/backend.h"

#include "backends/profiler.h"

namespace lf {

// The device's own backend, never wrapped.
static Backend& device_backend(Device d);

bool cuda_available() {
#ifdef LF_WITH_CUDA
  return cuda_device_count() > 0;
#else
  return false;
#endif
}

Backend& backend_for(Device d) {
  if (profiler::active()) return profiler::wrap(device_backend(d));
  return device_backend(d);
}

static Backend& device_backend(Device d) {
  if (d.is_cpu()) return cpu_backend();
#ifdef LF_WITH_CUDA
  static const int count = cuda_device_count();  // asked once: the driver's answer does not change
  LF_CHECK(d.index >= 0 && d.index < count, "device {}: not available ({} CUDA devices found)", d, count);
  return cuda_backend();
#else
  throw Error(fmt::format("device {}: not available: this build has no CUDA backend (configure with -DLF_CUDA=ON)", d));
#endif
}

}  // namespace lf
