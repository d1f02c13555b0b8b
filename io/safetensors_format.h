#pragma once
// The safetensors header, validated (internal to io/safetensors.cpp; the public API is io/safetensors.h).
// Everything a file says is checked here, before a byte of tensor memory is allocated: see the list in
// docs/checkpoints.md ("What the loader refuses").
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace lf {

// Python's safetensors refuses headers over 100 MB as well (MAX_HEADER_SIZE in the Rust crate).
inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;
// Far above any real tensor (rank), and a name is a dotted path: both limits keep hostile headers cheap.
inline constexpr size_t kMaxTensorDims = 64;
inline constexpr size_t kMaxTensorNameBytes = 1024;
// The __metadata__ key holding each tensor's CRC-32 (zlib's), a JSON object {"name": "8 hex digits"}.
inline constexpr const char* kCrcKey = "lf.crc32";

struct TensorEntry {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte range within the data region
};

struct SafetensorsLayout {
  std::vector<TensorEntry> entries;             // in data order (by begin; header order among ties)
  std::map<std::string, std::string> metadata;  // __metadata__, without kCrcKey
  bool has_crc = false;                         // kCrcKey was there: every entry has a checksum
  std::map<std::string, uint32_t> crc;          // name -> CRC-32 of its bytes
};

// The 8-byte little-endian header length at the start of a file of `file_size` bytes, checked against
// the file and kMaxHeaderBytes. `source` names the file in errors.
uint64_t safetensors_header_length(const unsigned char bytes[8], uint64_t file_size,
                                   const std::string& source);

// Parses and validates the JSON header for a data region of `data_size` bytes: field types, dtypes,
// shapes (dimensions, element and byte counts without overflow), offsets (ordered, each tensor exactly
// its bytes, back to back with no gap or overlap, filling the region), names (unique, no control
// characters, at most kMaxTensorNameBytes), __metadata__ (strings only) and kCrcKey.
SafetensorsLayout parse_safetensors_header(std::string_view text, uint64_t data_size,
                                           const std::string& source);

// Throws when the layout has a checksum for `e` and `data` (its e.end - e.begin bytes) does not match.
void verify_crc(const SafetensorsLayout& layout, const TensorEntry& e, const void* data,
                const std::string& source);

// zlib's CRC-32 of n bytes, and the kCrcKey value for tensors with those checksums (in the given order).
uint32_t crc32_of(const void* data, size_t n);
std::string crc_metadata(const std::vector<std::pair<std::string, uint32_t>>& crcs);

}  // namespace lf
