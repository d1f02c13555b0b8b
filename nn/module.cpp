#include "nn/module.h"

#include <set>

#include "autograd/grad_mode.h"
#include "ops/convert.h"

namespace lf {

void Module::check_new_name(const char* what, const std::string& name) const {
  LF_CHECK(!name.empty() && name.find('.') == std::string::npos,
           "{}: name '{}' must be non-empty and contain no '.'", what, name);
  bool taken = false;
  for (auto& [n, t] : params_) taken |= n == name;
  for (auto& [n, t] : buffers_) taken |= n == name;
  for (auto& [n, m] : children_) taken |= n == name;
  LF_CHECK(!taken, "{}: name '{}' is already registered in this module", what, name);
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name("register_parameter", name);
  LF_CHECK(t.defined(), "register_parameter: '{}' is an undefined tensor", name);
  t.requires_grad_(true);  // throws for non-floating tensors and non-leaves
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name("register_buffer", name);
  LF_CHECK(t.defined(), "register_buffer: '{}' is an undefined tensor", name);
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name("register_module", name);
  LF_CHECK(m != nullptr, "register_module: '{}' is a null module", name);
  children_.emplace_back(name, std::move(m));
}

// Depth-first walk; `seen` drops a tensor met a second time (a shared weight keeps its first name).
void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  std::set<const TensorImpl*> seen;
  // An explicit stack of (module, prefix) keeps the order: own entries, then each child in turn.
  std::vector<std::pair<const Module*, std::string>> stack{{this, prefix}};
  while (!stack.empty()) {
    auto [m, pre] = stack.back();
    stack.pop_back();
    for (auto& [name, t] : params ? m->params_ : m->buffers_)
      if (seen.insert(t.impl()).second) out.emplace_back(pre + name, t);
    for (size_t i = m->children_.size(); i-- > 0;)
      stack.emplace_back(m->children_[i].second.get(), pre + m->children_[i].first + ".");
  }
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, m] : children_) m->train(on);
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) t.zero_grad();
}

NamedTensors Module::state_dict() const {
  NamedTensors out = named_parameters();
  for (auto& entry : named_buffers()) out.push_back(entry);
  return out;
}

void load_named_tensors(const char* op, const NamedTensors& target, const std::map<std::string, Tensor>& source,
                        bool strict) {
  std::vector<std::string> missing, unexpected, misshaped;
  std::set<std::string> known;
  for (auto& [name, t] : target) {
    known.insert(name);
    auto it = source.find(name);
    if (it == source.end() || !it->second.defined()) {
      missing.push_back(name);
    } else if (it->second.shape() != t.shape()) {
      misshaped.push_back(fmt::format("{} (given {}, expected {})", name, shape_str(it->second.shape()),
                                      shape_str(t.shape())));
    }
  }
  for (auto& [name, t] : source)
    if (!known.count(name)) unexpected.push_back(name);
  if (!strict) missing.clear(), unexpected.clear();

  if (!missing.empty() || !unexpected.empty() || !misshaped.empty()) {
    std::vector<std::string> parts;
    if (!missing.empty()) parts.push_back(fmt::format("missing keys: {}", fmt::join(missing, ", ")));
    if (!unexpected.empty()) parts.push_back(fmt::format("unexpected keys: {}", fmt::join(unexpected, ", ")));
    if (!misshaped.empty()) parts.push_back(fmt::format("mis-shaped keys: {}", fmt::join(misshaped, ", ")));
    throw Error(fmt::format("{}: {} problem(s): {}", op, missing.size() + unexpected.size() + misshaped.size(),
                            fmt::join(parts, "; ")));
  }

  // Every check passed: copy in place. The backend copy converts the dtype; a source on another device is
  // moved first. No graph is recorded: this overwrites leaves.
  NoGradGuard no_grad;
  for (auto& [name, t] : target) {
    auto it = source.find(name);
    if (it == source.end()) continue;  // non-strict
    assign_(t, it->second);
  }
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  load_named_tensors("load_state_dict", state_dict(), state, strict);
}

void Module::load_state_dict(const NamedTensors& state, bool strict) {
  std::map<std::string, Tensor> lookup;
  for (auto& [name, t] : state)
    LF_CHECK(lookup.emplace(name, t).second, "load_state_dict: key '{}' appears twice in the given state", name);
  load_state_dict(lookup, strict);
}

namespace {

// Points `dst` (a registered tensor's impl) at the storage and layout of `src`, keeping the impl itself,
// so every handle to it sees the new data.
void replace_data(TensorImpl& dst, const Tensor& src) {
  dst.storage = src.impl()->storage;
  dst.offset = src.offset();
  dst.shape = src.shape();
  dst.strides = src.strides();
  dst.dtype = src.dtype();
}

// Applies `convert` to every parameter and buffer (and to a parameter's gradient).
template <typename Fn> void convert_all(const Module& m, Fn convert) {
  NoGradGuard no_grad;
  for (auto& [name, t] : m.state_dict()) {
    replace_data(*t.impl(), convert(t.detach()));
    if (t.grad().defined()) t.set_grad(convert(t.grad()));
  }
}

}  // namespace

Module& Module::to(Device device) {
  convert_all(*this, [&](const Tensor& t) { return t.device() == device ? t : t.to(device); });
  return *this;
}

Module& Module::to(DType dtype) {
  convert_all(*this, [&](const Tensor& t) { return is_floating(t.dtype()) && t.dtype() != dtype ? t.to(dtype) : t; });
  return *this;
}

}  // namespace lf
