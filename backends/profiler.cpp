#include "backends/profiler.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <memory>
#include <mutex>

namespace lf {

namespace {

std::mutex g_mu;
bool g_active = false;
std::map<std::string, Profiler::Entry> g_entries;

// Times one call of the wrapped backend and files it under "kernel <name>". The clock is read after
// synchronize(), which may throw a deferred index check's lf::Error (hence noexcept(false)); a call that
// threw itself is not timed.
class Timed {
 public:
  Timed(Backend& b, std::string name) : b_(b), name_(std::move(name)), t0_(std::chrono::steady_clock::now()) {}
  ~Timed() noexcept(false) {
    if (std::uncaught_exceptions() > exceptions_) return;
    b_.synchronize();
    profiler::add("kernel " + name_,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count());
  }

 private:
  Backend& b_;
  std::string name_;
  std::chrono::steady_clock::time_point t0_;
  int exceptions_ = std::uncaught_exceptions();
};

// Forwards every primitive to `inner`, timing it.
class ProfilingBackend final : public Backend {
 public:
  explicit ProfilingBackend(Backend& inner) : in_(inner) {}
  void copy(const Tensor& s, const Tensor& d) override { Timed t(in_, "copy"); in_.copy(s, d); }
  void upload(const Tensor& s, const Tensor& d) override { Timed t(in_, "upload"); in_.upload(s, d); }
  void download(const Tensor& s, const Tensor& d) override { Timed t(in_, "download"); in_.download(s, d); }
  void fill(const Tensor& d, double v) override { Timed t(in_, "fill"); in_.fill(d, v); }
  void random(const Tensor& d, RandomKind k, double a, double b, GeneratorState at) override {
    Timed t(in_, "random");
    in_.random(d, k, a, b, at);
  }
  void unary(UnaryOp op, const Tensor& x, const Tensor& o, double al) override {
    Timed t(in_, std::string("unary.") + unary_name(op));
    in_.unary(op, x, o, al);
  }
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& o) override {
    Timed t(in_, std::string("binary.") + binary_name(op));
    in_.binary(op, a, b, o);
  }
  void reduce(ReduceOp op, const Tensor& x, const Tensor& o, int64_t inner) override {
    Timed t(in_, op == ReduceOp::sum ? "reduce.sum" : "reduce.max");
    in_.reduce(op, x, o, inner);
  }
  void gemm(const GemmArgs& g) override {
    Timed t(in_, "gemm");
    in_.gemm(g);
  }
  void softmax(const Tensor& x, const Tensor& y, bool log) override {
    Timed t(in_, log ? "log_softmax" : "softmax");
    in_.softmax(x, y, log);
  }
  void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) override {
    Timed t(in_, log ? "log_softmax_backward" : "softmax_backward");
    in_.softmax_backward(y, dy, dx, log);
  }
  void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y, const Tensor& mean,
                  const Tensor& rstd) override {
    Timed t(in_, "layer_norm");
    in_.layer_norm(x, w, b, eps, y, mean, rstd);
  }
  void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd,
                           const Tensor& dy, const Tensor& dx, const Tensor& dw, const Tensor& db) override {
    Timed t(in_, "layer_norm_backward");
    in_.layer_norm_backward(x, w, mean, rstd, dy, dx, dw, db);
  }
  void cross_entropy(const Tensor& l, const Tensor& tg, int64_t ig, const Tensor& loss,
                     const Tensor& lse) override {
    Timed t(in_, "cross_entropy");
    in_.cross_entropy(l, tg, ig, loss, lse);
  }
  void cross_entropy_backward(const Tensor& l, const Tensor& tg, const Tensor& lse, int64_t ig,
                              const Tensor& scale, const Tensor& dl) override {
    Timed t(in_, "cross_entropy_backward");
    in_.cross_entropy_backward(l, tg, lse, ig, scale, dl);
  }
  void index_select(const Tensor& x, const Tensor& i, const Tensor& o, int64_t outer, int64_t n,
                    int64_t inner) override {
    Timed t(in_, "index_select");
    in_.index_select(x, i, o, outer, n, inner);
  }
  void index_add(const Tensor& s, const Tensor& i, const Tensor& o, int64_t outer, int64_t n,
                 int64_t inner) override {
    Timed t(in_, "index_add");
    in_.index_add(s, i, o, outer, n, inner);
  }
  void check_indices(const Tensor& i, const IndexCheck& c) override {
    Timed t(in_, "check_indices");
    in_.check_indices(i, c);
  }
  void masked_fill(const Tensor& x, const Tensor& m, double v, const Tensor& o) override {
    Timed t(in_, "masked_fill");
    in_.masked_fill(x, m, v, o);
  }
  void adamw(const std::vector<AdamWSlot>& s, const AdamWHyper& h) override {
    Timed t(in_, "adamw");
    in_.adamw(s, h);
  }
  void synchronize() override { in_.synchronize(); }

 private:
  Backend& in_;
};

}  // namespace

Profiler::Profiler() {
  std::lock_guard<std::mutex> lock(g_mu);
  LF_CHECK(!g_active, "Profiler: another Profiler is already collecting (they do not nest)");
  g_entries.clear();
  g_active = true;
}

Profiler::~Profiler() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_active = false;
}

std::vector<Profiler::Entry> Profiler::entries() const {
  std::lock_guard<std::mutex> lock(g_mu);
  std::vector<Entry> out;
  for (auto& [name, e] : g_entries) out.push_back(e);
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  return out;
}

std::string Profiler::table() const {
  std::vector<Entry> es = entries();
  double kernel_total = 0;
  for (auto& e : es)
    if (e.name.rfind("kernel ", 0) == 0) kernel_total += e.seconds;
  std::string s = fmt::format("{:<36} {:>8} {:>11} {:>10} {:>9}\n", "name", "calls", "total ms", "ms/call",
                              "% kernel");
  for (auto& e : es) {
    bool kernel = e.name.rfind("kernel ", 0) == 0;
    s += fmt::format("{:<36} {:>8} {:>11.2f} {:>10.3f} {:>9}\n", e.name, e.calls, e.seconds * 1e3,
                     e.seconds * 1e3 / double(std::max<int64_t>(e.calls, 1)),
                     kernel ? fmt::format("{:.1f}", 100 * e.seconds / std::max(kernel_total, 1e-12)) : "");
  }
  s += fmt::format("kernel time total: {:.2f} ms ('backward <op>' rows include the kernels they call)\n",
                   kernel_total * 1e3);
  return s;
}

namespace profiler {

bool active() { return g_active; }

void add(const std::string& name, double seconds) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_active) return;
  Profiler::Entry& e = g_entries[name];
  e.name = name;
  e.calls++;
  e.seconds += seconds;
}

Backend& wrap(Backend& inner) {
  // One decorator per wrapped backend, made on first use and kept (backends live for the whole program).
  static std::mutex mu;
  static std::map<Backend*, std::unique_ptr<ProfilingBackend>> wrappers;
  std::lock_guard<std::mutex> lock(mu);
  auto& w = wrappers[&inner];
  if (!w) w = std::make_unique<ProfilingBackend>(inner);
  return *w;
}

}  // namespace profiler
}  // namespace lf
