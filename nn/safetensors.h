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
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace lf {

// Writes `tensors` (any device, any strides: each is copied to a contiguous CPU tensor first) and the
// string-to-string `metadata`. The file is written to path + ".tmp", flushed and fsync'ed, then renamed
// over `path`, so a crash mid-save leaves the previous file intact. Names must be unique and non-empty.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads every tensor onto the CPU, in file order (by data offset). Validates the whole layout and throws
// lf::Error naming the file and the problem (truncated file, bad header length, invalid JSON, unsupported
// dtype, offsets that do not match the shape, overlap or run past the data). Fills *metadata when given.
NamedTensors load_safetensors(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

// The header's name of a dtype: DType::f32 -> "F32", f64 -> "F64", i64 -> "I64".
std::string safetensors_dtype_name(DType dtype);

}  // namespace lf
