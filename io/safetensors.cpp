#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <new>
#include <random>
#include <set>

#include "io/safetensors_format.h"
#include "core/untrusted_input.h"

namespace lf {

// The format is little-endian; we copy tensor bytes straight to and from memory.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

using Json = nlohmann::ordered_json;  // keeps the given key order (and so our tensor order on save)

// A contiguous CPU tensor with the same values (a no-op for the common case).
Tensor host_contiguous(const Tensor& t) {
  Tensor h = t.device().is_cpu() ? t : t.to(Device::cpu());
  return h.is_contiguous() ? h : h.contiguous();
}

size_t nbytes_of(const Tensor& t) { return size_t(t.numel()) * dtype_size(t.dtype()); }

// Different in every process and call: random_device where it works, else the clock, pid and a counter.
uint64_t random_seed() {
  static std::atomic<uint64_t> calls{0};
  uint64_t seed = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                  (uint64_t(::getpid()) << 32) ^ (calls++ * 0x9E3779B97F4A7C15ull);
  try {
    std::random_device rd;
    seed ^= (uint64_t(rd()) << 32) | rd();
  } catch (const std::exception&) {  // no entropy source: the clock and the counter still differ
  }
  return seed;
}

// The temporary file of one save: created exclusively (O_EXCL) under a fresh random name, so concurrent
// saves to one path, or a stale temporary left by a killed run, never collide; unlinked unless committed.
class TempFile {
 public:
  explicit TempFile(const std::string& target) {
    std::mt19937_64 rng(random_seed());
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    bool short_name = false;  // when target's name is already near NAME_MAX, "<dir>/.lf-XXXXXX.tmp"
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::string suffix;
      for (int i = 0; i < 6; ++i) suffix += kChars[rng() % (sizeof(kChars) - 1)];
      const std::filesystem::path dir = std::filesystem::path(target).parent_path();
      path_ = short_name ? (dir / (".lf-" + suffix + ".tmp")).string() : target + ".tmp." + suffix;
      // 0666 before the umask, as fopen would: the saved file gets the usual permissions.
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) return;
      if (errno == ENAMETOOLONG && !short_name)
        short_name = true;
      else if (errno != EEXIST)
        break;
    }
    const int err = errno;
    throw Error(fmt::format("save_safetensors: cannot create a temporary file next to {} ({}): {}", target,
                            path_, std::strerror(err)));
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }
  void write(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t put = ::write(fd_, p, std::min<size_t>(n, size_t(1) << 30));
      if (put < 0 && errno == EINTR) continue;
      LF_CHECK(put > 0, "save_safetensors: writing {} failed: {}", path_, std::strerror(errno));
      p += put, n -= size_t(put);
    }
  }
  // fsync and close: the bytes are on disk before a rename can make them visible under the target's name.
  void sync_and_close() {
    LF_CHECK(::fsync(fd_) == 0, "save_safetensors: fsync of {} failed: {}", path_, std::strerror(errno));
    const int fd = fd_;
    fd_ = -1;
    LF_CHECK(::close(fd) == 0, "save_safetensors: closing {} failed: {}", path_, std::strerror(errno));
  }
  void commit() { committed_ = true; }

 private:
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

// Says clearly what is wrong with where `path` would go, before a byte is written.
void check_target(const std::string& path) {
  LF_CHECK(!path.empty(), "save_safetensors: the path is empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    LF_CHECK(!S_ISDIR(st.st_mode), "save_safetensors: {} is a directory; give a file name", path);
    // The rename would replace a FIFO or a device with a regular file: as root, "/dev/null" would be gone.
    LF_CHECK(S_ISREG(st.st_mode), "save_safetensors: {} exists and is not a regular file (a FIFO, device or "
             "socket); refusing to replace it", path);
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? "." : parent.string();
  if (::stat(dir.c_str(), &st) != 0)
    throw Error(
        fmt::format("save_safetensors: cannot write {}: directory {}: {}", path, dir, std::strerror(errno)));
  LF_CHECK(S_ISDIR(st.st_mode), "save_safetensors: cannot write {}: {} is not a directory", path, dir);
}

// An uninitialised tensor for an entry. Running out of memory (a huge tensor in a big, e.g. sparse, file)
// is an lf::Error naming the file and the tensor.
Tensor allocate(const TensorEntry& e, const std::string& source) {
  auto fail = [&](const char* why) {
    return Error(fmt::format("load_safetensors: {}: cannot allocate {} bytes for tensor {} {}: {}", source,
                             e.end - e.begin, quote_untrusted(e.name), shape_str(e.shape), why));
  };
  try {
    return Tensor::empty(e.shape, e.dtype);
  } catch (const std::bad_alloc&) {
    throw fail("out of memory");
  } catch (const Error& err) {
    throw fail(err.what());
  }
}

}  // namespace

std::string safetensors_dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "F32";
    case DType::f64: return "F64";
    case DType::i64: return "I64";
  }
  throw Error("safetensors_dtype_name: unknown dtype");
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata, const SafetensorsOptions& options) {
  check_target(path);
  // 1. Header: __metadata__ first (as Python's safetensors writes it), then the tensors in the given order,
  //    each one's bytes right after the previous one's. The names obey the loader's rules, so every file
  //    written here can be read back.
  std::vector<Tensor> host;  // contiguous CPU copies, written in step 3
  host.reserve(tensors.size());
  std::set<std::string> seen;
  std::vector<std::pair<std::string, uint32_t>> crcs;
  Json entries = Json::object();
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    LF_CHECK(!name.empty(), "save_safetensors: {}: empty tensor name", path);
    LF_CHECK(name != "__metadata__", "save_safetensors: {}: '__metadata__' is reserved, not a tensor name", path);
    LF_CHECK(name.size() <= kMaxTensorNameBytes &&
                 std::none_of(name.begin(), name.end(),
                              [](char c) { return (unsigned char)c < 0x20 || c == 0x7F; }),
             "save_safetensors: {}: tensor name {} must be at most {} bytes without control characters", path,
             quote_untrusted(name), kMaxTensorNameBytes);
    LF_CHECK(seen.insert(name).second, "save_safetensors: {}: duplicate tensor name '{}'", path, name);
    LF_CHECK(t.defined(), "save_safetensors: {}: tensor '{}' is undefined", path, name);
    host.push_back(host_contiguous(t));
    const uint64_t nbytes = nbytes_of(host.back());
    if (options.crc32) crcs.emplace_back(name, nbytes ? crc32_of(host.back().raw_data(), nbytes) : 0);
    entries[name] = {{"dtype", safetensors_dtype_name(t.dtype())},
                     {"shape", t.shape()},
                     {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  Json header = Json::object();
  if (!metadata.empty() || options.crc32) {
    Json meta = Json::object();
    for (const auto& [k, v] : metadata) {
      LF_CHECK(k != kCrcKey, "save_safetensors: {}: metadata key '{}' is reserved for the checksums", path,
               k);
      meta[k] = v;
    }
    if (options.crc32) meta[kCrcKey] = crc_metadata(crcs);
    header["__metadata__"] = std::move(meta);
  }
  for (auto& [name, entry] : entries.items()) header[name] = std::move(entry);
  std::string text;
  try {
    text = header.dump();  // compact, like Python's: {"a":{"dtype":"F32",...}}
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("save_safetensors: {}: cannot encode header (names and metadata must be UTF-8): {}",
                            path, e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
  LF_CHECK(text.size() <= kMaxHeaderBytes,
           "save_safetensors: {}: the header is {} bytes, over the {} a reader "
           "accepts (metadata too large?)",
           path, text.size(), kMaxHeaderBytes);

  // 2. Write everything to a temporary file next to the target (removed again if anything fails)...
  TempFile tmp(path);
  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = uint8_t(uint64_t(text.size()) >> (8 * i));
  tmp.write(len, 8);
  tmp.write(text.data(), text.size());
  for (const Tensor& t : host)
    if (nbytes_of(t) > 0) tmp.write(t.raw_data(), nbytes_of(t));
  tmp.sync_and_close();
  // 3. ...atomically replace the old file, then sync the directory so the rename itself survives a crash.
  if (std::rename(tmp.path().c_str(), path.c_str()) != 0)
    throw Error(
        fmt::format("save_safetensors: cannot rename {} to {}: {}", tmp.path(), path, std::strerror(errno)));
  tmp.commit();
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: some file systems refuse to fsync a directory
    ::close(dfd);
  }
}

NamedTensors load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  uint64_t file_size = 0;
  FileDescriptor fd = open_regular_file(path, "load_safetensors", &file_size);
  auto read_at = [&](void* data, size_t n, uint64_t offset, const std::string& what) {
    LF_CHECK(n == 0 || read_exactly(fd.get(), data, n, offset),
             "load_safetensors: reading {} of {} failed: {}", what, path,
             errno ? std::strerror(errno) : "the file ended early (did it change while reading?)");
  };

  // 1. The header length: 8 bytes, little-endian.
  LF_CHECK(file_size >= 8, "load_safetensors: {} is {} bytes, too short for the 8-byte header length "
           "(not a safetensors file, or truncated)", path, file_size);
  unsigned char len[8];
  read_at(len, 8, 0, "the header length");
  const uint64_t n = safetensors_header_length(len, file_size, path);

  // 2. The JSON header, every field checked before any tensor memory is allocated.
  std::string text(n, '\0');
  read_at(text.data(), n, 8, "the header");
  SafetensorsLayout layout = parse_safetensors_header(text, file_size - 8 - n, path);

  // 3. The data, read straight into each tensor's memory.
  NamedTensors out;
  out.reserve(layout.entries.size());
  for (const TensorEntry& e : layout.entries) {
    Tensor t = allocate(e, path);
    const size_t bytes = size_t(e.end - e.begin);
    read_at(t.raw_data(), bytes, 8 + n + e.begin, fmt::format("tensor {}", quote_untrusted(e.name)));
    verify_crc(layout, e, t.raw_data(), path);
    out.emplace_back(e.name, std::move(t));
  }
  if (metadata) *metadata = std::move(layout.metadata);
  return out;
}

NamedTensors parse_safetensors(std::string_view bytes, const std::string& source,
                               std::map<std::string, std::string>* metadata) {
  LF_CHECK(bytes.size() >= 8,
           "load_safetensors: {} is {} bytes, too short for the 8-byte header length "
           "(not a safetensors file, or truncated)",
           source, bytes.size());
  const uint64_t n =
      safetensors_header_length(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), source);
  SafetensorsLayout layout = parse_safetensors_header(bytes.substr(8, n), bytes.size() - 8 - n, source);
  NamedTensors out;
  out.reserve(layout.entries.size());
  for (const TensorEntry& e : layout.entries) {
    Tensor t = allocate(e, source);
    const char* data = bytes.data() + 8 + n + e.begin;
    if (e.end > e.begin) std::memcpy(t.raw_data(), data, size_t(e.end - e.begin));
    verify_crc(layout, e, data, source);
    out.emplace_back(e.name, std::move(t));
  }
  if (metadata) *metadata = std::move(layout.metadata);
  return out;
}

}  // namespace lf
