#include "nn/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

namespace lf {

// The format is little-endian; we copy tensor bytes straight to and from memory.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

namespace {

using Json = nlohmann::ordered_json;  // keeps the header's key order (and so our tensor order on save)

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<FILE, FileCloser>;

DType dtype_from_name(const std::string& path, const std::string& tensor, const std::string& name) {
  if (name == "F32") return DType::f32;
  if (name == "F64") return DType::f64;
  if (name == "I64") return DType::i64;
  throw Error(fmt::format("load_safetensors: {}: tensor '{}' has dtype '{}', which is not supported "
                          "(supported: F32, F64, I64)", path, tensor, name));
}

// A contiguous CPU tensor with the same values (a no-op for the common case).
Tensor host_contiguous(const Tensor& t) {
  Tensor h = t.device().is_cpu() ? t : t.to(Device::cpu());
  return h.is_contiguous() ? h : h.contiguous();
}

void write_all(FILE* f, const void* data, size_t n, const std::string& path) {
  if (n == 0) return;
  LF_CHECK(std::fwrite(data, 1, n, f) == n, "save_safetensors: writing {} failed: {}", path, std::strerror(errno));
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
                      const std::map<std::string, std::string>& metadata) {
  // 1. Header: __metadata__ first (as Python's safetensors writes it), then the tensors in the given order,
  //    each one's bytes right after the previous one's.
  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [k, v] : metadata) meta[k] = v;
    header["__metadata__"] = std::move(meta);
  }
  std::vector<Tensor> host;  // contiguous CPU copies, written in step 3
  host.reserve(tensors.size());
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    LF_CHECK(!name.empty(), "save_safetensors: {}: empty tensor name", path);
    LF_CHECK(name != "__metadata__", "save_safetensors: {}: '__metadata__' is reserved, not a tensor name", path);
    LF_CHECK(seen.insert(name).second, "save_safetensors: {}: duplicate tensor name '{}'", path, name);
    LF_CHECK(t.defined(), "save_safetensors: {}: tensor '{}' is undefined", path, name);
    host.push_back(host_contiguous(t));
    uint64_t nbytes = uint64_t(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", safetensors_dtype_name(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  std::string text;
  try {
    text = header.dump();  // compact, like Python's: {"a":{"dtype":"F32",...}}
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("save_safetensors: {}: cannot encode header (names and metadata must be UTF-8): {}",
                            path, e.what()));
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
  uint64_t n = text.size();

  // 2. Write everything to a temporary file next to the target...
  std::string tmp = path + ".tmp";
  {
    File f(std::fopen(tmp.c_str(), "wb"));
    LF_CHECK(f, "save_safetensors: cannot open {} for writing: {}", tmp, std::strerror(errno));
    unsigned char len[8];
    for (int i = 0; i < 8; ++i) len[i] = uint8_t(n >> (8 * i));
    write_all(f.get(), len, 8, tmp);
    write_all(f.get(), text.data(), text.size(), tmp);
    for (const Tensor& t : host) write_all(f.get(), t.raw_data(), size_t(t.numel()) * dtype_size(t.dtype()), tmp);
    // ...and make sure the bytes are on disk before the rename makes them visible under `path`.
    LF_CHECK(std::fflush(f.get()) == 0, "save_safetensors: flushing {} failed: {}", tmp, std::strerror(errno));
    LF_CHECK(::fsync(fileno(f.get())) == 0, "save_safetensors: fsync of {} failed: {}", tmp, std::strerror(errno));
    FILE* raw = f.release();
    LF_CHECK(std::fclose(raw) == 0, "save_safetensors: closing {} failed: {}", tmp, std::strerror(errno));
  }
  // 3. Atomically replace the old file, then sync the directory so the rename itself survives a crash.
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw Error(fmt::format("save_safetensors: cannot rename {} to {}: {}", tmp, path, std::strerror(err)));
  }
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: some file systems refuse to fsync a directory
    ::close(dfd);
  }
}

NamedTensors load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata) {
  File f(std::fopen(path.c_str(), "rb"));
  LF_CHECK(f, "load_safetensors: cannot open {}: {}", path, std::strerror(errno));
  std::error_code ec;
  uint64_t file_size = std::filesystem::file_size(path, ec);
  LF_CHECK(!ec, "load_safetensors: cannot get the size of {}: {}", path, ec.message());

  // 1. The header length: 8 bytes, little-endian.
  LF_CHECK(file_size >= 8, "load_safetensors: {} is {} bytes, too short for the 8-byte header length "
           "(not a safetensors file, or truncated)", path, file_size);
  unsigned char len[8];
  LF_CHECK(std::fread(len, 1, 8, f.get()) == 8, "load_safetensors: reading {} failed", path);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(len[i]) << (8 * i);
  LF_CHECK(n <= file_size - 8, "load_safetensors: {}: header length {} is larger than the rest of the file ({} "
           "bytes); not a safetensors file, or truncated", path, n, file_size - 8);

  // 2. The JSON header.
  std::string text(n, '\0');
  LF_CHECK(std::fread(text.data(), 1, n, f.get()) == n, "load_safetensors: reading the header of {} failed", path);
  Json header;
  try {
    header = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("load_safetensors: {}: invalid JSON header: {}", path, e.what()));
  }
  LF_CHECK(header.is_object(), "load_safetensors: {}: the header is JSON but not an object", path);

  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    uint64_t begin, end;
  };
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      LF_CHECK(info.is_object(), "load_safetensors: {}: __metadata__ must be an object of strings", path);
      for (const auto& [k, v] : info.items()) {
        LF_CHECK(v.is_string(), "load_safetensors: {}: __metadata__ value of '{}' is not a string", path, k);
        if (metadata) (*metadata)[k] = v.get<std::string>();
      }
      continue;
    }
    LF_CHECK(info.is_object() && info.contains("dtype") && info.contains("shape") && info.contains("data_offsets"),
             "load_safetensors: {}: tensor '{}' needs an object with dtype, shape and data_offsets", path, name);
    const Json& dt = info["dtype"];
    LF_CHECK(dt.is_string(), "load_safetensors: {}: tensor '{}': dtype is not a string", path, name);
    Entry e{name, dtype_from_name(path, name, dt.get<std::string>()), {}, 0, 0};
    const Json& shape = info["shape"];
    LF_CHECK(shape.is_array(), "load_safetensors: {}: tensor '{}': shape is not an array", path, name);
    // numel must fit the file, so any dimension larger than the file size is already an error; checking
    // that keeps the product from overflowing.
    uint64_t numel = 1;
    for (const Json& d : shape) {
      LF_CHECK(d.is_number_unsigned(), "load_safetensors: {}: tensor '{}': shape {} must hold non-negative integers",
               path, name, shape.dump());
      uint64_t v = d.get<uint64_t>();
      LF_CHECK(v <= file_size, "load_safetensors: {}: tensor '{}': shape {} is larger than the file", path, name,
               shape.dump());
      numel = (numel == 0 || v == 0) ? 0 : numel * v;
      LF_CHECK(numel <= file_size, "load_safetensors: {}: tensor '{}': shape {} is larger than the file", path,
               name, shape.dump());
      e.shape.push_back(int64_t(v));
    }
    const Json& off = info["data_offsets"];
    LF_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() && off[1].is_number_unsigned(),
             "load_safetensors: {}: tensor '{}': data_offsets {} must be [begin, end] non-negative integers", path,
             name, off.dump());
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    LF_CHECK(e.begin <= e.end, "load_safetensors: {}: tensor '{}': data_offsets [{}, {}] end before begin", path,
             name, e.begin, e.end);
    uint64_t want = numel * dtype_size(e.dtype);
    LF_CHECK(e.end - e.begin == want, "load_safetensors: {}: tensor '{}': {} {} needs {} bytes but data_offsets "
             "[{}, {}] hold {}", path, name, dtype_name(e.dtype), shape_str(e.shape), want, e.begin, e.end,
             e.end - e.begin);
    entries.push_back(std::move(e));
  }

  // 3. The layout: tensors back to back from offset 0, exactly filling the data region. stable_sort keeps
  //    the header order for empty tensors that share an offset.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  uint64_t data_size = file_size - 8 - n, pos = 0;
  for (const Entry& e : entries) {
    LF_CHECK(e.begin >= pos, "load_safetensors: {}: tensor '{}' at [{}, {}] overlaps the previous tensor, "
             "which ends at {}", path, e.name, e.begin, e.end, pos);
    LF_CHECK(e.begin == pos, "load_safetensors: {}: gap of {} bytes before tensor '{}' at [{}, {}]", path,
             e.begin - pos, e.name, e.begin, e.end);
    LF_CHECK(e.end <= data_size, "load_safetensors: {}: tensor '{}' at [{}, {}] runs past the end of the data "
             "({} bytes); the file is truncated", path, e.name, e.begin, e.end, data_size);
    pos = e.end;
  }
  LF_CHECK(pos == data_size, "load_safetensors: {}: the data region is {} bytes but the tensors end at {}; "
           "the file has trailing bytes", path, data_size, pos);

  // 4. The data, read straight into each tensor's memory (sequential: the entries are in file order).
  NamedTensors out;
  out.reserve(entries.size());
  for (const Entry& e : entries) {
    Tensor t = Tensor::empty(e.shape, e.dtype);
    size_t bytes = size_t(e.end - e.begin);
    LF_CHECK(bytes == 0 || std::fread(t.raw_data(), 1, bytes, f.get()) == bytes,
             "load_safetensors: {}: reading tensor '{}' failed (file changed while reading?)", path, e.name);
    out.emplace_back(e.name, std::move(t));
  }
  return out;
}

}  // namespace lf
