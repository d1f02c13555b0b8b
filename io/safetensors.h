#pragma once
// safetensors: the file format of Hugging Face's `safetensors` library, so checkpoints written here load in
// Python (safetensors.torch.load_file / safe_open) and the other way round.
//
//   [ u64 little-endian N ][ N bytes of JSON header, space-padded to a multiple of 8 ][ raw tensor bytes ]
//
//   header = {"__metadata__": {"key": "value", ...},
//             "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//
// Offsets are bytes relative to the start of the data region; tensors are stored row-major, little-endian,
// back to back with no gaps, in the order they were given. Supported dtypes: F32, F64, I64.
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace lf {

struct SafetensorsOptions {
  // Store each tensor's CRC-32 in __metadata__ "lf.crc32" ({"name": "8 hex digits"}, a JSON string, so
  // Python's safetensors still reads the file); the loader then refuses a tensor whose bytes changed. Off
  // only to write exactly the bytes another writer would (tests compare with Python's output).
  bool crc32 = true;
};

// Writes `tensors` (any device, any strides: each is copied to a contiguous CPU tensor first) and the
// string-to-string `metadata`. The file is written to a temporary file of a unique name next to it
// (path + ".tmp." + 6 random characters, so two writers never share one), flushed and fsync'ed, then renamed
// over `path`, so a crash mid-save leaves the previous file intact; on any failure the temporary file is
// removed. Names must be unique, non-empty, at most 1024 bytes and free of control characters; metadata
// keys "lf.crc32" and "__metadata__" are reserved. A missing or unwritable directory, or a `path` that is a
// directory, is an lf::Error naming the path.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {},
                      const SafetensorsOptions& options = {});

// Reads every tensor onto the CPU, in file order (by data offset). `path` must be a regular file (a FIFO,
// directory or device is refused before any read). Validates the whole layout and throws lf::Error naming
// the file and the problem (truncated file, bad or oversized header length, invalid or too deeply nested
// JSON, duplicate names, unsupported dtype, a shape whose size overflows, offsets that do not match the
// shape, overlap or run past the data, a CRC-32 that does not match); docs/checkpoints.md lists every rule.
// Fills *metadata when given (without "lf.crc32").
NamedTensors load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

// The same for a file's bytes already in memory; `source` names them in errors. load_safetensors shares
// all its checks (tests/fuzz/fuzz_safetensors.cpp feeds this hostile bytes).
NamedTensors parse_safetensors(std::string_view bytes, const std::string& source = "<memory>",
                               std::map<std::string, std::string>* metadata = nullptr);

// The header's name of a dtype: DType::f32 -> "F32", f64 -> "F64", i64 -> "I64".
std::string safetensors_dtype_name(DType dtype);

}  // namespace lf
