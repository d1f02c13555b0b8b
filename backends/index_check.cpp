#include "backends/index_check.h"

#include <algorithm>

#include "core/error.h"

namespace lf {

std::string IndexCheck::message(int64_t bad) const {
  return fmt::format("{}: {} {} is out of range {}", op, what, bad, range);
}

uint32_t DeferredChecks::add(const IndexCheck& check) {
  auto it = std::find(checks_.begin(), checks_.end(), check);
  if (it == checks_.end()) it = checks_.insert(checks_.end(), check);
  return uint32_t(it - checks_.begin()) + 1;
}

void DeferredChecks::resolve(uint32_t failed_id, int64_t bad_value, const char* device) {
  std::vector<IndexCheck> checks = std::move(checks_);
  checks_.clear();
  if (failed_id == 0) return;
  LF_CHECK(failed_id <= checks.size(), "deferred index check: the device reported check {} of {}", failed_id,
           checks.size());
  throw Error(fmt::format("{} (checked on the {}, reported at the next synchronisation)",
                          checks[failed_id - 1].message(bad_value), device));
}

}  // namespace lf
