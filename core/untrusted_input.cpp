#include "core/untrusted_input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

#include "core/error.h"

namespace lf {

namespace {

// Length of the well-formed UTF-8 character at s[i], or 0 when the bytes there are not one (a stray
// continuation byte, an overlong form, a surrogate, a cut-off sequence).
size_t utf8_char_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Appends `s` to `out` with everything a terminal could act on escaped: C0 and C1 control characters,
// DEL and invalid UTF-8 become \xNN; `quote` and '\' get a backslash. Stops after `max_bytes` input bytes
// (never inside a character); returns whether it stopped early.
bool append_escaped(std::string& out, std::string_view s, size_t max_bytes, char quote) {
  size_t i = 0;
  while (i < s.size() && i < max_bytes) {
    const size_t len = utf8_char_length(s, i);
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const bool c1 = len == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;  // U+0080..U+009F
    if (len == 0 || c < 0x20 || c == 0x7F || c1) {
      out += fmt::format("\\x{:02x}", c);
      ++i;
      continue;
    }
    if (i + len > max_bytes) break;
    if (len == 1 && (s[i] == quote || s[i] == '\\')) out += '\\';
    out.append(s.substr(i, len));
    i += len;
  }
  return i < s.size();
}

// Refuses nesting deeper than kMaxJsonDepth and repeated keys while nlohmann builds the value, before a
// deep value exists that recursive code could choke on.
class StrictJsonCallback {
 public:
  explicit StrictJsonCallback(const std::string& what) : what_(what) {}

  bool operator()(int depth, nlohmann::ordered_json::parse_event_t event, nlohmann::ordered_json& parsed) {
    using Event = nlohmann::ordered_json::parse_event_t;
    if (event == Event::object_start || event == Event::array_start) {
      // `depth` counts the containers already open around this one.
      LF_CHECK(depth < kMaxJsonDepth, "{}: JSON nested more than {} levels deep", what_, kMaxJsonDepth);
      if (event == Event::object_start) keys_.emplace_back();
    } else if (event == Event::object_end) {
      keys_.pop_back();
    } else if (event == Event::key) {
      const std::string& key = parsed.get_ref<const std::string&>();
      LF_CHECK(keys_.back().insert(key).second, "{}: key {} appears twice in one JSON object", what_,
               quote_untrusted(key));
    }
    return true;
  }

 private:
  const std::string& what_;
  std::vector<std::set<std::string>> keys_;  // the keys seen so far in each open object, innermost last
};

}  // namespace

std::string quote_untrusted(std::string_view s, size_t max_bytes) {
  std::string out = "'";
  const bool cut = append_escaped(out, s, max_bytes, '\'');
  out += '\'';
  if (cut) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

std::string escape_untrusted(std::string_view s, size_t max_bytes) {
  std::string out;
  if (append_escaped(out, s, max_bytes, '\0')) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

std::string json_excerpt(const nlohmann::ordered_json& j, size_t max_bytes) {
  return escape_untrusted(j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace),
                          max_bytes);
}

nlohmann::ordered_json parse_untrusted_json(std::string_view text, const std::string& what) {
  // nlohmann takes a NUL byte for the end of the input and ignores whatever follows; valid JSON has none
  // (a string holds one as \u0000), so anything hidden behind a NUL is refused rather than skipped.
  const size_t nul = text.find('\0');
  LF_CHECK(nul == std::string_view::npos, "{}: invalid JSON: a NUL byte at offset {}", what, nul);
  StrictJsonCallback callback(what);
  try {
    return nlohmann::ordered_json::parse(text.begin(), text.end(), std::ref(callback));
  } catch (const nlohmann::json::exception& e) {
    std::string msg = what + ": invalid JSON: ";
    // nlohmann quotes the last token read, which may be long and hold any byte.
    if (append_escaped(msg, e.what(), 200, '\0')) msg += "...";
    throw Error(msg);
  }
}

std::optional<int64_t> json_int64(const nlohmann::ordered_json& j) {
  if (j.is_number_unsigned()) {
    const uint64_t v = j.get<uint64_t>();
    if (v > uint64_t(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return int64_t(v);
  }
  if (j.is_number_integer()) return j.get<int64_t>();
  return std::nullopt;
}

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

FileDescriptor open_regular_file(const std::string& path, const char* op, uint64_t* size) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer; O_NOCTTY: a terminal device
  // must not become our controlling terminal.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  LF_CHECK(fd.get() >= 0, "{}: cannot open {}: {}", op, path, std::strerror(errno));
  struct stat st {};
  LF_CHECK(::fstat(fd.get(), &st) == 0, "{}: cannot stat {}: {}", op, path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a file";
    throw Error(fmt::format("{}: {} is {}, not a regular file", op, path, kind));
  }
  // Back to blocking reads (O_NONBLOCK means nothing for a regular file, but say what we mean).
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  *size = uint64_t(st.st_size);
  return fd;
}

bool read_exactly(int fd, void* data, size_t n, uint64_t offset) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    // pread takes at most SSIZE_MAX, and Linux moves at most ~2 GiB per call anyway.
    const size_t chunk = std::min<size_t>(n, size_t(1) << 30);
    const ssize_t got = ::pread(fd, p, chunk, off_t(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got == 0) errno = 0;
      return false;
    }
    p += got, n -= size_t(got), offset += uint64_t(got);
  }
  return true;
}

}  // namespace lf
