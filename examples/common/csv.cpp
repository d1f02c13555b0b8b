#include "examples/common/csv.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace lf {

std::string CsvCell::str() const {
  if (auto* d = std::get_if<double>(&v_)) {
    if (std::isnan(*d)) return "nan";
    if (std::isinf(*d)) return *d > 0 ? "inf" : "-inf";
    return fmt::format("{}", *d);  // shortest round-trip form: 0.1 -> "0.1", 3e-05 -> "3e-05"
  }
  if (auto* f = std::get_if<float>(&v_))  // shortest form of the float, not of its double widening
    return std::isfinite(*f) ? fmt::format("{}", *f) : CsvCell(double(*f)).str();
  if (auto* i = std::get_if<int64_t>(&v_)) return std::to_string(*i);
  return CsvWriter::quote(std::get<std::string>(v_));
}

std::string CsvWriter::quote(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';  // a quote inside a quoted field is doubled
    out += c;
  }
  return out + "\"";
}

static std::string join_header(const std::vector<std::string>& header) {
  std::string line;
  for (size_t i = 0; i < header.size(); ++i) {
    if (i) line += ',';
    line += CsvWriter::quote(header[i]);
  }
  return line;
}

CsvWriter::CsvWriter(const std::string& path, std::vector<std::string> header, bool append)
    : path_(path), columns_(header.size()) {
  LF_CHECK(!header.empty(), "CsvWriter: {}: the header needs at least one column", path);
  const std::string line = join_header(header);
  bool write_header = true;
  if (append) {
    std::ifstream in(path);
    std::string first;
    if (in && std::getline(in, first)) {
      if (!first.empty() && first.back() == '\r') first.pop_back();
      LF_CHECK(first == line, "CsvWriter: cannot append to {}: its header is \"{}\", expected \"{}\"", path, first,
               line);
      write_header = false;
    }
  }
  f_ = std::fopen(path.c_str(), append ? "a" : "w");
  LF_CHECK(f_, "CsvWriter: cannot open {} for writing: {}", path, std::strerror(errno));
  if (write_header) {
    std::fprintf(f_, "%s\n", line.c_str());
    std::fflush(f_);
  }
}

CsvWriter::~CsvWriter() {
  if (f_) std::fclose(f_);
}

void CsvWriter::row(const std::vector<CsvCell>& cells) {
  LF_CHECK(cells.size() == columns_, "CsvWriter: {}: row has {} cells, the header has {} columns", path_,
           cells.size(), columns_);
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) line += ',';
    line += cells[i].str();
  }
  line += '\n';
  LF_CHECK(std::fwrite(line.data(), 1, line.size(), f_) == line.size() && std::fflush(f_) == 0,
           "CsvWriter: writing {} failed: {}", path_, std::strerror(errno));
}

}  // namespace lf
