// Index range checks (backends/index_check.h): the messages, the CPU backend's immediate check, and the
// host half of the GPU's deferred checks (DeferredChecks), driven here with slot values as a kernel would
// write them, so that this logic is tested on every machine.
#include "backends/backend.h"
#include "ops/ops.h"
#include "tests/support/helpers.h"

using namespace lf;

namespace {

IndexCheck rows_check(int64_t v) {
  return {"embedding", "index", v, std::nullopt, fmt::format("for {} rows", v)};
}

IndexCheck target_check() {
  return {"cross_entropy", "target", 5, -100, "for 5 classes (ignore_index is -100)"};
}

}  // namespace

TEST_CASE("IndexCheck: the valid range, the skipped value and the message") {
  IndexCheck c = target_check();
  CHECK(c.ok(0));
  CHECK(c.ok(4));
  CHECK(c.ok(-100));
  CHECK_FALSE(c.ok(5));
  CHECK_FALSE(c.ok(-1));
  CHECK_FALSE(rows_check(3).ok(-100));  // no skip value: -100 is out of range like any negative
  CHECK(c.message(9) == "cross_entropy: target 9 is out of range for 5 classes (ignore_index is -100)");
}

TEST_CASE("cpu check_indices throws at once, naming the op and the first bad value") {
  Backend& be = cpu_backend();
  be.check_indices(from_vector(std::vector<int64_t>{0, 3, 2}, {3}), rows_check(4));
  be.check_indices(from_vector(std::vector<int64_t>{}, {0}), rows_check(0));  // nothing to check
  CHECK_ERROR(be.check_indices(from_vector(std::vector<int64_t>{0, 7, -2}, {3}), rows_check(4)),
              "embedding: index 7 is out of range for 4 rows");
  be.check_indices(from_vector(std::vector<int64_t>{-100, 4}, {2}), target_check());
  CHECK_ERROR(be.check_indices(from_vector(std::vector<int64_t>{-100, -1}, {2}), target_check()),
              "target -1");
  // a strided index tensor is read in its logical order
  Tensor m = from_vector(std::vector<int64_t>{0, 9, 1, 2}, {2, 2}).transpose(0, 1);  // [[0, 1], [9, 2]]
  CHECK_ERROR(be.check_indices(m, rows_check(4)), "index 9");
  CHECK_ERROR(be.check_indices(zeros({2}), rows_check(4)), "embedding: indices must be i64");
}

TEST_CASE("DeferredChecks: ids per distinct check, the failed one raised once, then a clean slate") {
  DeferredChecks d;
  CHECK_FALSE(d.pending());
  d.resolve(0, 0, "GPU");  // nothing pending, nothing failed: no error
  const uint32_t a = d.add(rows_check(256)), b = d.add(target_check());
  CHECK(a == 1);
  CHECK(b == 2);
  CHECK(d.add(rows_check(256)) == a);  // the same check again (a training loop): the same id
  CHECK(d.add(rows_check(128)) == 3);  // another limit: another check
  CHECK(d.pending());
  // the device recorded check b failing on the value 300
  CHECK_ERROR(d.resolve(b, 300, "GPU"),
              "cross_entropy: target 300 is out of range for 5 classes (ignore_index is -100)",
              "(checked on the GPU, reported at the next synchronisation)");
  CHECK_FALSE(d.pending());           // forgotten: the error is raised once
  CHECK(d.add(target_check()) == 1);  // ids start again
  d.resolve(0, 0, "GPU");             // passed
  CHECK_FALSE(d.pending());
  // an id the host never gave out is an error too, not undefined behaviour
  d.add(rows_check(4));
  CHECK_ERROR(d.resolve(7, 1, "GPU"), "the device reported check 7 of 1");
}

TEST_CASE("DeferredChecks::full bounds the list of distinct pending checks") {
  DeferredChecks d;
  for (size_t i = 0; i < DeferredChecks::kMaxPending; ++i) {
    CHECK_FALSE(d.full());
    d.add(rows_check(int64_t(i) + 1));
  }
  CHECK(d.full());
  d.resolve(0, 0, "GPU");
  CHECK_FALSE(d.full());
}

TEST_CASE("ops range-check their indices through the backend: embedding, index_select, cross_entropy") {
  CHECK_ERROR(embedding(zeros({3, 2}), from_vector(std::vector<int64_t>{0, 3}, {2})),
              "embedding: index 3 is out of range for 3 rows");
  CHECK_ERROR(index_select(zeros({2, 3}), 1, from_vector(std::vector<int64_t>{-1}, {1})),
              "index_select: index -1 is out of range for dim 1 of size 3");
  CHECK_ERROR(cross_entropy(zeros({2, 3}), from_vector(std::vector<int64_t>{0, 5}, {2})),
              "cross_entropy: target 5 is out of range for 3 classes (ignore_index is -100)");
  // every row ignored: loss 0 and a zero gradient (the count is taken on the device: max(count, 1))
  Tensor logits = randn({2, 3}).requires_grad_();
  Tensor loss = cross_entropy(logits, from_vector(std::vector<int64_t>{-100, -100}, {2}));
  CHECK(loss.item() == 0);
  loss.backward();
  CHECK(test::max_abs_diff(logits.grad(), zeros({2, 3})) == 0);
}
