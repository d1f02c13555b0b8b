#pragma once
// Helpers for reading files nobody vouches for (checkpoints, model files, their JSON metadata): every
// problem becomes an lf::Error that names the file, and nothing from the file reaches a message unquoted
// or untruncated. A hostile file must not crash the process (deeply nested JSON overflows the stack of
// recursive code such as nlohmann's dump() or copy constructor), hang it (a FIFO or a device given as a
// path) or mislead it (duplicate keys, where the last one would silently win; terminal escape sequences in
// a name that ends up in an error message).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace lf {

// How deep untrusted JSON may nest. A safetensors header is 3 levels deep and an MLM config 1; 64 leaves
// room for any honest format and keeps recursive JSON code far from the stack's limit.
inline constexpr int kMaxJsonDepth = 64;

// `s` in single quotes, fit for an error message: control bytes (and DEL) shown as \xNN, quotes and
// backslashes escaped, and cut after `max_bytes` bytes (at a UTF-8 character boundary) with the full length
// noted: 'abc'... (1048576 bytes).
std::string quote_untrusted(std::string_view s, size_t max_bytes = 80);

// The same without the quotes (and without escaping quotes), e.g. for a whole error message that quotes
// untrusted text itself.
std::string escape_untrusted(std::string_view s, size_t max_bytes = 1000);

// A short excerpt of a JSON value for an error message: its compact text, escaped and truncated as
// quote_untrusted() does, without the quotes. Safe on any value parse_untrusted_json returned.
std::string json_excerpt(const nlohmann::ordered_json& j, size_t max_bytes = 80);

// Parses `text` as one JSON value. Refuses, with an lf::Error starting with `what` (e.g. "load_safetensors:
// model.safetensors: header"): invalid JSON (nlohmann's message, truncated; a NUL byte, where nlohmann
// would stop reading), nesting deeper than kMaxJsonDepth, and an object with the same key twice.
nlohmann::ordered_json parse_untrusted_json(std::string_view text, const std::string& what);

// The value of a JSON integer that fits int64 (signed or unsigned in the JSON); nullopt for anything else,
// floats such as 2.0 and booleans included.
std::optional<int64_t> json_int64(const nlohmann::ordered_json& j);

// An open file descriptor, closed when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileDescriptor& operator=(FileDescriptor&&) = delete;
  FileDescriptor(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  int release() {  // hands the descriptor to a new owner (e.g. gzdopen)
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

// Opens `path` for reading only if it is a regular file (a symlink to one is fine) and sets *size. A FIFO
// would block open() or read() forever, a directory or a device has no meaningful size, so each is refused
// with an lf::Error "<op>: <path> is a directory, not a regular file"; a missing or unreadable file gives
// "<op>: cannot open <path>: <strerror>". The file is opened non-blocking and checked with fstat on the
// open descriptor, so replacing it between a check and the open cannot sneak a FIFO in.
FileDescriptor open_regular_file(const std::string& path, const char* op, uint64_t* size);

// Reads exactly `n` bytes at `offset` (retrying short reads and EINTR); false when the file ended first or
// a read failed (errno is then set, 0 for an early end).
bool read_exactly(int fd, void* data, size_t n, uint64_t offset);

}  // namespace lf
