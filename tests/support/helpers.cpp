#include "tests/support/helpers.h"

#include <unistd.h>

#include <cmath>
#include <fstream>

namespace lf::test {

Tensor leaf64(const Shape& shape, double scale) {
  Tensor t = randn(shape, DType::f64) * scale;
  return t.detach().requires_grad_();
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  auto va = a.to(Device::cpu()).to(DType::f64).to_vector<double>();
  auto vb = b.to(Device::cpu()).to(DType::f64).to_vector<double>();
  double worst = 0;
  for (size_t i = 0; i < va.size(); ++i) worst = std::max(worst, std::abs(va[i] - vb[i]));
  return worst;
}

bool all_close(const Tensor& a, const Tensor& b, double atol, double rtol) {
  if (a.shape() != b.shape()) return false;
  auto va = a.to(Device::cpu()).to(DType::f64).to_vector<double>();
  auto vb = b.to(Device::cpu()).to(DType::f64).to_vector<double>();
  for (size_t i = 0; i < va.size(); ++i)
    if (!(std::abs(va[i] - vb[i]) <= atol + rtol * std::abs(vb[i]))) return false;
  return true;
}

TempDir::TempDir(const std::string& name) {
  static int counter = 0;
  dir = std::filesystem::temp_directory_path() / fmt::format("lf_test_{}_{}_{}", ::getpid(), counter++, name);
  std::filesystem::create_directories(dir);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

void write_text(const std::string& path, const std::string& s) {
  std::ofstream out(path, std::ios::binary);
  out << s;
}

}  // namespace lf::test
