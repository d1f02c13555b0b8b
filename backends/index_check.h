#pragma once
// Range checks of index tensors (embedding ids, index_select's index, cross_entropy's targets), made by the
// backend that holds the indices (Backend::check_indices). The CPU checks at once. The CUDA backend checks
// on the device and reports a failure later, where the host next waits for the GPU (DeferredChecks below):
// copying the indices to the host instead would cost a round trip per op, several per training step.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lf {

// Every index other than `skip` must lie in [0, limit). A failure reads "{op}: {what} {value} is out of
// range {range}", e.g. "embedding: index 300 is out of range for 256 rows".
struct IndexCheck {
  std::string op, what;
  int64_t limit = 0;
  std::optional<int64_t> skip;  // a value allowed anyway (cross_entropy's ignore_index)
  std::string range;            // how the message describes the valid range

  bool ok(int64_t v) const { return (skip && v == *skip) || (v >= 0 && v < limit); }
  std::string message(int64_t bad) const;
  bool operator==(const IndexCheck&) const = default;
};

// The host's half of the checks an asynchronous device makes. Each check gets an id (1, 2, ...); its kernel
// writes the id and the first bad value into a slot in device memory when an index fails (the first failure
// wins). The backend reads the slot back where it waits for the device anyway (a download: item(),
// to(cpu); synchronize()) and hands it to resolve(), which raises that check's lf::Error. Identical checks
// share an id, so a loop that never waits keeps a short list.
class DeferredChecks {
 public:
  static constexpr size_t kMaxPending = 256;  // the backend waits (and resolves) when this many are pending

  uint32_t add(const IndexCheck& check);  // the id the device records if this check fails
  bool pending() const { return !checks_.empty(); }
  bool full() const { return checks_.size() >= kMaxPending; }
  // With the slot as read back (failed_id 0: every check passed): forgets every pending check, then throws
  // the failed one's error, which says on which device it was found.
  void resolve(uint32_t failed_id, int64_t bad_value, const char* device);

 private:
  std::vector<IndexCheck> checks_;  // id i + 1 is checks_[i]
};

}  // namespace lf
