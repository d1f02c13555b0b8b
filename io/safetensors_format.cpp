#include "io/safetensors_format.h"

#include <zlib.h>

#include <algorithm>
#include <limits>
#include <set>

#include "core/untrusted_input.h"

namespace lf {

namespace {

using Json = nlohmann::ordered_json;  // keeps the header's order: tensors of equal offset stay in it

bool has_control_bytes(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

DType parse_dtype(const Json& dt, const std::string& where) {
  LF_CHECK(dt.is_string(), "{}: dtype {} is not a string", where, json_excerpt(dt));
  const std::string& name = dt.get_ref<const std::string&>();
  if (name == "F32") return DType::f32;
  if (name == "F64") return DType::f64;
  if (name == "I64") return DType::i64;
  throw Error(
      fmt::format("{}: dtype {} is not supported (supported: F32, F64, I64)", where, quote_untrusted(name)));
}

// The shape, refusing anything whose element or byte count would overflow. Every stride of a contiguous
// tensor is a product of trailing dimensions, so even a tensor with a 0 in its shape (no elements) must
// have a product of the other dimensions that fits: [0, 65536, 65536, 65536, 65536] has strides of 2^64.
Shape parse_shape(const Json& shape, DType dtype, uint64_t* nbytes, const std::string& where) {
  LF_CHECK(shape.is_array(), "{}: shape {} is not an array", where, json_excerpt(shape));
  LF_CHECK(shape.size() <= kMaxTensorDims, "{}: shape has {} dimensions, more than the {} allowed", where,
           shape.size(), kMaxTensorDims);
  Shape out;
  uint64_t nonzero_product = dtype_size(dtype), numel = 1;
  for (const Json& d : shape) {
    std::optional<int64_t> v = json_int64(d);
    LF_CHECK(v && *v >= 0, "{}: shape {} must hold non-negative integers that fit int64, not {}", where,
             json_excerpt(shape), json_excerpt(d));
    const uint64_t u = uint64_t(*v);
    if (u != 0) {
      LF_CHECK(!__builtin_mul_overflow(nonzero_product, u, &nonzero_product) &&
                   nonzero_product <= uint64_t(std::numeric_limits<int64_t>::max()),
               "{}: shape {} is too large: its element and byte counts overflow 64 bits", where,
               json_excerpt(shape));
    }
    numel = u == 0 ? 0 : numel * u;  // cannot overflow: bounded by nonzero_product
    out.push_back(*v);
  }
  *nbytes = numel * dtype_size(dtype);  // <= nonzero_product
  return out;
}

// The data_offsets [begin, end], ordered and within the data region.
void parse_offsets(const Json& off, uint64_t data_size, TensorEntry& e, const std::string& where) {
  std::optional<int64_t> b, en;
  if (off.is_array() && off.size() == 2) b = json_int64(off[0]), en = json_int64(off[1]);
  LF_CHECK(b && en && *b >= 0 && *en >= 0,
           "{}: data_offsets {} must be [begin, end], two non-negative integers", where, json_excerpt(off));
  e.begin = uint64_t(*b), e.end = uint64_t(*en);
  LF_CHECK(e.begin <= e.end, "{}: data_offsets [{}, {}] end before they begin", where, e.begin, e.end);
  LF_CHECK(e.end <= data_size,
           "{} at [{}, {}] runs past the end of the data ({} bytes); the file is truncated", where, e.begin,
           e.end, data_size);
}

TensorEntry parse_entry(const std::string& name, const Json& info, uint64_t data_size,
                        const std::string& source) {
  const std::string where = fmt::format("load_safetensors: {}: tensor {}", source, quote_untrusted(name));
  LF_CHECK(!name.empty(), "load_safetensors: {}: a tensor has an empty name", source);
  LF_CHECK(name.size() <= kMaxTensorNameBytes && !has_control_bytes(name),
           "{}: names must be at most {} bytes without control characters", where, kMaxTensorNameBytes);
  LF_CHECK(info.is_object(), "{}: needs an object with dtype, shape and data_offsets, not {}", where,
           json_excerpt(info));
  for (const auto& [key, value] : info.items())
    LF_CHECK(key == "dtype" || key == "shape" || key == "data_offsets",
             "{}: unknown field {} (a tensor has dtype, shape and data_offsets)", where,
             quote_untrusted(key));
  for (const char* key : {"dtype", "shape", "data_offsets"})
    LF_CHECK(info.contains(key), "{}: needs an object with dtype, shape and data_offsets; '{}' is missing",
             where, key);
  TensorEntry e;
  e.name = name;
  e.dtype = parse_dtype(info["dtype"], where);
  uint64_t nbytes = 0;
  e.shape = parse_shape(info["shape"], e.dtype, &nbytes, where);
  parse_offsets(info["data_offsets"], data_size, e, where);
  LF_CHECK(e.end - e.begin == nbytes, "{}: {} {} needs {} bytes but data_offsets [{}, {}] hold {}", where,
           dtype_name(e.dtype), shape_str(e.shape), nbytes, e.begin, e.end, e.end - e.begin);
  return e;
}

uint32_t parse_hex32(const std::string& s, bool* ok) {
  uint32_t v = 0;
  *ok = s.size() == 8;
  for (char c : s) {
    const int d = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
    if (d < 0) *ok = false;
    v = (v << 4) | uint32_t(d & 0xF);
  }
  return v;
}

// kCrcKey: every tensor of the file, and nothing else, with 8 hex digits.
void parse_crcs(const std::string& text, SafetensorsLayout& layout, const std::string& source) {
  const std::string what = fmt::format("load_safetensors: {}: __metadata__ '{}'", source, kCrcKey);
  Json j = parse_untrusted_json(text, what);
  LF_CHECK(j.is_object(), "{} must be a JSON object of tensor names and checksums, not {}", what,
           json_excerpt(j));
  std::set<std::string> names;
  for (const TensorEntry& e : layout.entries) names.insert(e.name);
  for (const auto& [name, value] : j.items()) {
    LF_CHECK(names.count(name), "{} has a checksum for tensor {}, which the file does not have", what,
             quote_untrusted(name));
    bool ok = value.is_string();
    const uint32_t crc = ok ? parse_hex32(value.get_ref<const std::string&>(), &ok) : 0;
    LF_CHECK(ok, "{}: the checksum of {} must be 8 hex digits, not {}", what, quote_untrusted(name),
             json_excerpt(value));
    layout.crc[name] = crc;
  }
  for (const TensorEntry& e : layout.entries)
    LF_CHECK(layout.crc.count(e.name), "{} has no checksum for tensor {} (was a tensor added to the file?)",
             what, quote_untrusted(e.name));
  layout.has_crc = true;
}

}  // namespace

uint64_t safetensors_header_length(const unsigned char bytes[8], uint64_t file_size,
                                   const std::string& source) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= uint64_t(bytes[i]) << (8 * i);
  LF_CHECK(n <= file_size - 8,
           "load_safetensors: {}: header length {} is larger than the rest of the file ({} "
           "bytes); not a safetensors file, or truncated",
           source, n, file_size - 8);
  LF_CHECK(n <= kMaxHeaderBytes,
           "load_safetensors: {}: header length {} is over the limit of {} bytes; not a "
           "safetensors file",
           source, n, kMaxHeaderBytes);
  LF_CHECK(n >= 2,
           "load_safetensors: {}: header length {} is too short for a JSON object; not a safetensors file",
           source, n);
  return n;
}

SafetensorsLayout parse_safetensors_header(std::string_view text, uint64_t data_size,
                                           const std::string& source) {
  Json header = parse_untrusted_json(text, fmt::format("load_safetensors: {}: header", source));
  LF_CHECK(header.is_object(), "load_safetensors: {}: the header is JSON but not an object: {}", source,
           json_excerpt(header));
  SafetensorsLayout layout;
  const std::string* crc_text = nullptr;
  for (const auto& [name, info] : header.items()) {
    if (name != "__metadata__") {
      layout.entries.push_back(parse_entry(name, info, data_size, source));
      continue;
    }
    LF_CHECK(info.is_object(), "load_safetensors: {}: __metadata__ must be an object of strings, not {}",
             source, json_excerpt(info));
    for (const auto& [k, v] : info.items()) {
      LF_CHECK(v.is_string(), "load_safetensors: {}: __metadata__ value of {} is not a string but {}", source,
               quote_untrusted(k), json_excerpt(v));
      if (k == kCrcKey)
        crc_text = &v.get_ref<const std::string&>();
      else
        layout.metadata[k] = v.get<std::string>();
    }
  }

  // The layout: tensors back to back from offset 0, exactly filling the data region. stable_sort keeps
  // the header order for empty tensors that share an offset.
  auto& entries = layout.entries;
  std::stable_sort(entries.begin(), entries.end(),
                   [](const TensorEntry& a, const TensorEntry& b) { return a.begin < b.begin; });
  uint64_t pos = 0;
  for (const TensorEntry& e : entries) {
    LF_CHECK(e.begin >= pos,
             "load_safetensors: {}: tensor {} at [{}, {}] overlaps the previous tensor, which ends "
             "at {}",
             source, quote_untrusted(e.name), e.begin, e.end, pos);
    LF_CHECK(e.begin == pos, "load_safetensors: {}: gap of {} bytes before tensor {} at [{}, {}]", source,
             e.begin - pos, quote_untrusted(e.name), e.begin, e.end);
    pos = e.end;
  }
  LF_CHECK(pos == data_size,
           "load_safetensors: {}: the data region is {} bytes but the tensors end at {}; the file "
           "has trailing bytes",
           source, data_size, pos);
  if (crc_text) parse_crcs(*crc_text, layout, source);
  return layout;
}

uint32_t crc32_of(const void* data, size_t n) {
  return uint32_t(::crc32_z(::crc32_z(0L, Z_NULL, 0), static_cast<const Bytef*>(data), n));
}

std::string crc_metadata(const std::vector<std::pair<std::string, uint32_t>>& crcs) {
  Json j = Json::object();
  for (const auto& [name, crc] : crcs) j[name] = fmt::format("{:08x}", crc);
  return j.dump();
}

void verify_crc(const SafetensorsLayout& layout, const TensorEntry& e, const void* data,
                const std::string& source) {
  if (!layout.has_crc) return;
  const uint32_t want = layout.crc.at(e.name), got = crc32_of(data, size_t(e.end - e.begin));
  LF_CHECK(got == want,
           "load_safetensors: {}: tensor {} is corrupted: its bytes [{}, {}] have CRC-32 {:08x} but "
           "the file recorded {:08x} when it was written",
           source, quote_untrusted(e.name), e.begin, e.end, got, want);
}

}  // namespace lf
