#include "examples/common/csv.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
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

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"')
        fields.back() += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        fields.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r' && c != '\n') {
      fields.back() += c;
    }
  }
  return fields;
}

int64_t keep_csv_rows(const std::string& path, const std::string& column,
                      const std::function<bool(double)>& keep) {
  std::ifstream in(path);
  if (!in) return 0;
  std::string header;
  if (!std::getline(in, header)) return 0;
  const std::vector<std::string> names = split_csv_line(header);
  size_t col = names.size();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == column) col = i;
  LF_CHECK(col < names.size(), "keep_csv_rows: {} has no column '{}' (its header is \"{}\")", path, column,
           header);
  std::string out = header + "\n", line;
  int64_t dropped = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f = split_csv_line(line);
    char* end = nullptr;
    double v = col < f.size() ? std::strtod(f[col].c_str(), &end) : NAN;
    const bool number = col < f.size() && !f[col].empty() && end == f[col].c_str() + f[col].size();
    if (number && !keep(v)) {
      ++dropped;
      continue;
    }
    out += line + "\n";
  }
  in.close();
  if (dropped == 0) return 0;
  // Rewrite through a temporary file and rename, so a crash now leaves the old file or the new one.
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  LF_CHECK(fd >= 0, "keep_csv_rows: cannot write {}: {}", tmp, std::strerror(errno));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t w = ::write(fd, out.data() + done, out.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(fmt::format("keep_csv_rows: writing {} failed: {}", tmp, std::strerror(err)));
    }
    done += size_t(w);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  LF_CHECK(synced && std::rename(tmp.c_str(), path.c_str()) == 0, "keep_csv_rows: replacing {} failed: {}",
           path, std::strerror(errno));
  return dropped;
}

}  // namespace lf
