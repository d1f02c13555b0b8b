// safetensors: round trips, byte-compatibility with Python's safetensors, and refusal of damaged files.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/safetensors.h"
#include "tests/support/helpers.h"

using namespace lf;
namespace fs = std::filesystem;

namespace {

// A directory for this process's files, removed when the test program exits.
struct TempDir {
  fs::path dir = fs::temp_directory_path() / fmt::format("lf_test_safetensors_{}", ::getpid());
  TempDir() { fs::create_directories(dir); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// A fresh path, unique per call.
std::string temp_path(const std::string& name) {
  static TempDir tmp;
  static int counter = 0;
  return (tmp.dir / fmt::format("{}_{}.safetensors", counter++, name)).string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = char(v >> (8 * i));
  return s;
}

// True when nothing named "<path>.tmp..." (a save's temporary file) is left next to `path`.
bool no_temporary_left(const std::string& path) {
  const std::string prefix = fs::path(path).filename().string() + ".tmp";
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path()))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) return false;
  return true;
}

template <typename T> std::string raw_of(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// A file with the given JSON header (padded to 8 like the writer does) and data bytes.
std::string make_file(const std::string& json, const std::string& data) {
  std::string h = json;
  h.append((8 - h.size() % 8) % 8, ' ');
  return u64_le(h.size()) + h + data;
}

}  // namespace

TEST_CASE("safetensors: f32, f64 and i64 tensors and metadata survive a round trip in order") {
  Tensor a = from_vector(std::vector<float>{1.5f, -2.f, 3.25f, 0.f, 1e-7f, -1e30f}, {2, 3});
  Tensor b = from_vector(std::vector<double>{3.141592653589793, -1e-300, 2.0}, {3});
  Tensor c = from_vector(std::vector<int64_t>{-5, 0, int64_t(1) << 62, 7}, {2, 1, 2});
  Tensor empty = Tensor::empty({0, 4}, DType::f32);
  Tensor scalar = from_vector(std::vector<double>{42.0}, {});
  std::string path = temp_path("roundtrip");
  // Names deliberately not in alphabetical order: the file keeps the given order.
  save_safetensors(path, {{"zeta.weight", a}, {"alpha", b}, {"ids", c}, {"empty", empty}, {"s", scalar}},
                   {{"step", "1200"}, {"config", "{\"dim\": 64}"}});
  CHECK(no_temporary_left(path));

  std::map<std::string, std::string> meta;
  NamedTensors loaded = load_safetensors(path, &meta);
  REQUIRE(loaded.size() == 5);
  CHECK(loaded[0].first == "zeta.weight");
  CHECK(loaded[1].first == "alpha");
  CHECK(loaded[2].first == "ids");
  CHECK(loaded[3].first == "empty");
  CHECK(loaded[4].first == "s");
  CHECK(loaded[0].second.dtype() == DType::f32);
  CHECK(loaded[0].second.shape() == Shape{2, 3});
  CHECK(loaded[0].second.to_vector<float>() == a.to_vector<float>());
  CHECK(loaded[1].second.dtype() == DType::f64);
  CHECK(loaded[1].second.to_vector<double>() == b.to_vector<double>());
  CHECK(loaded[2].second.dtype() == DType::i64);
  CHECK(loaded[2].second.shape() == Shape{2, 1, 2});
  CHECK(loaded[2].second.to_vector<int64_t>() == c.to_vector<int64_t>());
  CHECK(loaded[3].second.shape() == Shape{0, 4});
  CHECK(loaded[4].second.shape() == Shape{});
  CHECK(loaded[4].second.item() == 42.0);
  CHECK(meta == std::map<std::string, std::string>{{"step", "1200"}, {"config", "{\"dim\": 64}"}});

  // The header is padded so the data starts 8-byte aligned.
  std::string bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK(n % 8 == 0);
}

TEST_CASE("safetensors: non-contiguous views are written as their row-major values") {
  Tensor m = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor t = m.transpose(0, 1);  // [3, 2] view with strides [1, 3]
  REQUIRE_FALSE(t.is_contiguous());
  std::string path = temp_path("view");
  save_safetensors(path, {{"t", t}});
  NamedTensors loaded = load_safetensors(path);
  CHECK(loaded[0].second.shape() == Shape{3, 2});
  CHECK(loaded[0].second.to_vector<float>() == std::vector<float>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("safetensors: saving replaces an existing file and leaves no temporary behind") {
  std::string path = temp_path("replace");
  save_safetensors(path, {{"x", from_vector(std::vector<float>{1, 2, 3}, {3})}});
  save_safetensors(path, {{"y", from_vector(std::vector<int64_t>{9}, {1})}});
  NamedTensors loaded = load_safetensors(path);
  REQUIRE(loaded.size() == 1);
  CHECK(loaded[0].first == "y");
  CHECK(no_temporary_left(path));
  CHECK_ERROR(save_safetensors("/nonexistent_dir_lf/x.safetensors", {{"x", loaded[0].second}}),
              "/nonexistent_dir_lf/x.safetensors", "No such file or directory");
  CHECK_ERROR(save_safetensors(path, {{"a", loaded[0].second}, {"a", loaded[0].second}}), "duplicate", "'a'");
  CHECK_ERROR(save_safetensors(path, {{"__metadata__", loaded[0].second}}), "reserved");
}

TEST_CASE("safetensors: reads the bytes Python's safetensors writes, and writes the same bytes") {
  // What `safetensors.numpy.save({"test": np.array([[1, 2], [3, 4]], dtype=np.float32)})` produces: a 64-byte
  // header (60 bytes of compact JSON + 4 spaces), then the 16 data bytes.
  std::string json = R"({"test":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  REQUIRE(json.size() == 60);
  std::string python = std::string("@\0\0\0\0\0\0\0", 8) + json + "    " + raw_of(std::vector<float>{1, 2, 3, 4});
  std::string path = temp_path("python");
  write_bytes(path, python);
  std::map<std::string, std::string> meta;
  NamedTensors loaded = load_safetensors(path, &meta);
  REQUIRE(loaded.size() == 1);
  CHECK(loaded[0].first == "test");
  CHECK(loaded[0].second.shape() == Shape{2, 2});
  CHECK(loaded[0].second.to_vector<float>() == std::vector<float>{1, 2, 3, 4});
  CHECK(meta.empty());

  std::string ours = temp_path("ours");
  save_safetensors(ours, {{"test", loaded[0].second}}, {}, {.crc32 = false});  // Python writes no checksums
  CHECK(read_bytes(ours) == python);

  // With __metadata__ (save_file(..., metadata={"framework": "pt"}) puts it first), as I64.
  std::string json2 = R"({"__metadata__":{"framework":"pt"},"test1":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})";
  std::string path2 = temp_path("python_meta");
  write_bytes(path2, make_file(json2, raw_of(std::vector<int64_t>{-3, 1000000000000})));
  loaded = load_safetensors(path2, &meta);
  REQUIRE(loaded.size() == 1);
  CHECK(loaded[0].second.to_vector<int64_t>() == std::vector<int64_t>{-3, 1000000000000});
  CHECK(meta["framework"] == "pt");
  std::string ours2 = temp_path("ours_meta");
  save_safetensors(ours2, {{"test1", loaded[0].second}}, {{"framework", "pt"}}, {.crc32 = false});
  CHECK(read_bytes(ours2) == read_bytes(path2));
}

TEST_CASE("safetensors: tensors are returned in data order, whatever the header order") {
  std::string json = R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  std::string path = temp_path("order");
  write_bytes(path, make_file(json, raw_of(std::vector<float>{10, 20})));
  NamedTensors loaded = load_safetensors(path);
  REQUIRE(loaded.size() == 2);
  CHECK(loaded[0].first == "a");
  CHECK(loaded[0].second.item() == 10);
  CHECK(loaded[1].first == "b");
  CHECK(loaded[1].second.item() == 20);
}

TEST_CASE("safetensors: damaged files are refused with the file and the problem named") {
  std::string good = temp_path("good");
  save_safetensors(good, {{"w", from_vector(std::vector<float>{1, 2, 3, 4}, {4})}});
  const std::string bytes = read_bytes(good);
  std::string p = temp_path("bad");

  SECTION("missing file") {
    std::string missing = p + ".missing";
    CHECK_ERROR(load_safetensors(missing), missing.c_str(), "cannot open");
  }
  SECTION("too short for the header length") {
    write_bytes(p, bytes.substr(0, 5));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "too short");
  }
  SECTION("header length beyond the file") {
    write_bytes(p, u64_le(1u << 20) + bytes.substr(8));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "header length 1048576", "larger than");
  }
  SECTION("truncated data") {
    write_bytes(p, bytes.substr(0, bytes.size() - 4));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "'w'", "truncated");
  }
  SECTION("truncated inside the header") {
    write_bytes(p, bytes.substr(0, 20));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "larger than");
  }
  SECTION("corrupted header") {
    std::string bad = bytes;
    bad[8] = '[';  // the header's opening brace
    write_bytes(p, bad);
    CHECK_ERROR(load_safetensors(p), p.c_str(), "invalid JSON");
  }
  SECTION("trailing bytes") {
    write_bytes(p, bytes + "junk");
    CHECK_ERROR(load_safetensors(p), p.c_str(), "trailing");
  }
  SECTION("unsupported dtype") {
    write_bytes(p, make_file(R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}})", "abcd"));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "'h'", "F16", "not supported");
  }
  SECTION("offsets that do not match the shape") {
    write_bytes(p, make_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "12345678"));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "'w'", "[3]", "needs 12 bytes");
  }
  SECTION("overlapping tensors") {
    write_bytes(p, make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                             "123456789012"));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "'b'", "overlaps");
  }
  SECTION("offsets beyond the file") {
    write_bytes(p, make_file(R"({"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}})",
                             "12345678"));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "'b'", "runs past the end");
  }
  SECTION("negative or malformed fields") {
    write_bytes(p, make_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "1234"));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "non-negative");
    write_bytes(p, make_file(R"({"a":{"dtype":"F32","shape":[1]}})", "1234"));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "'a'", "data_offsets");
    write_bytes(p, make_file(R"({"__metadata__":{"k":1}})", ""));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "__metadata__", "'k'");
    write_bytes(p, make_file(R"([1,2])", ""));
    CHECK_ERROR(load_safetensors(p), p.c_str(), "not an object");
  }
}
