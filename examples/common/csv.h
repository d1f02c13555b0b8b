#pragma once
// A CSV log (RFC 4180 quoting): a header row, then one row per call, flushed immediately so a crashed or
// interrupted run keeps every row it wrote and `tail -f` shows progress.
//
//   lf::CsvWriter log("train.csv", {"step", "loss", "lr"});
//   log.row({step, loss, lr});
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace lf {

// One cell: a number (written in the shortest form that reads back exactly) or text (quoted when needed).
class CsvCell {
 public:
  CsvCell(double v) : v_(v) {}
  CsvCell(float v) : v_(v) {}  // kept as float: 3e-5f prints as 3e-05, not 2.9999999e-05
  CsvCell(int v) : v_(int64_t(v)) {}
  CsvCell(long v) : v_(int64_t(v)) {}
  CsvCell(long long v) : v_(int64_t(v)) {}
  CsvCell(unsigned v) : v_(int64_t(v)) {}
  CsvCell(unsigned long v) : v_(int64_t(v)) {}
  CsvCell(const char* s) : v_(std::string(s)) {}
  CsvCell(std::string s) : v_(std::move(s)) {}
  CsvCell(bool b) : v_(int64_t(b)) {}
  std::string str() const;

 private:
  std::variant<double, float, int64_t, std::string> v_;
};

class CsvWriter {
 public:
  // append = false: creates or truncates `path` and writes the header. append = true (a resumed run): keeps
  // the rows already there when the file's first line is this same header, else refuses with lf::Error.
  CsvWriter(const std::string& path, std::vector<std::string> header, bool append = false);
  ~CsvWriter();
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  void row(const std::vector<CsvCell>& cells);  // must have as many cells as the header has columns
  const std::string& path() const { return path_; }
  static std::string quote(const std::string& field);  // adds quotes only if the field needs them

 private:
  std::string path_;
  size_t columns_;
  FILE* f_ = nullptr;
};

// A resumed run's log: keeps the header and the rows whose `column` value passes `keep` (rows that are
// not numbers there are kept), dropping e.g. the rows a crashed run wrote after its last checkpoint, which
// the resumed run writes again. The file is rewritten atomically (a temporary file, fsync'ed and renamed
// over it). Returns the number of rows dropped; a missing file is 0 rows. lf::Error when `column` is not in
// the header or the file cannot be rewritten.
int64_t keep_csv_rows(const std::string& path, const std::string& column,
                      const std::function<bool(double)>& keep);

// The fields of one CSV line (RFC 4180: quoted fields, doubled quotes inside them).
std::vector<std::string> split_csv_line(const std::string& line);

}  // namespace lf
