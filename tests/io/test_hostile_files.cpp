// Hostile safetensors files, built byte by byte: each is refused with an lf::Error naming the file and the
// problem, never a crash (stack overflow, overflowing arithmetic), a hang (FIFO) or a silent misreading
// (duplicate keys, flipped bits). tests/fuzz/ throws random bytes at the same code.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "io/safetensors.h"
#include "tests/support/helpers.h"

using namespace lf;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path dir = fs::temp_directory_path() / fmt::format("lf_test_hostile_{}", ::getpid());
  TempDir() { fs::create_directories(dir); }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(dir / "readonly", fs::perms::owner_all, ec);
    fs::remove_all(dir, ec);
  }
};

const fs::path& temp_dir() {
  static TempDir tmp;
  return tmp.dir;
}

std::string temp_path(const std::string& name) {
  static int counter = 0;
  return (temp_dir() / fmt::format("{}_{}.safetensors", counter++, name)).string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string u64_le(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = char(v >> (8 * i));
  return s;
}

// A file with the given JSON header (padded to 8) and data bytes.
std::string make_file(const std::string& json, const std::string& data = "") {
  std::string h = json;
  h.append((8 - h.size() % 8) % 8, ' ');
  return u64_le(h.size()) + h + data;
}

// Writes the file and returns its path.
std::string hostile(const std::string& json, const std::string& data = "") {
  std::string p = temp_path("hostile");
  write_bytes(p, make_file(json, data));
  return p;
}

std::string nested(int depth, const std::string& inner = "1") {
  return std::string(size_t(depth), '[') + inner + std::string(size_t(depth), ']');
}

// A valid F32 [n] entry at `begin`.
std::string f32_entry(const std::string& name, int n, int begin = 0) {
  return fmt::format(R"("{}":{{"dtype":"F32","shape":[{}],"data_offsets":[{},{}]}})", name, n, begin,
                     begin + 4 * n);
}

bool no_temporary_left(const std::string& path) {
  const std::string prefix = fs::path(path).filename().string() + ".tmp.";
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path()))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) return false;
  return true;
}

Tensor vec(std::vector<float> v) {
  const int64_t n = int64_t(v.size());
  return from_vector(v, {n});
}

}  // namespace

TEST_CASE("hostile safetensors: JSON nested 100 000 levels deep is refused without recursion") {
  const std::string deep = nested(100000);
  for (const std::string& json :
       {R"({"__metadata__":{"k":)" + deep + "}}",
        R"({"a":{"dtype":"F32","shape":)" + deep + R"(,"data_offsets":[0,0]}})",
        R"({"a":{"dtype":"F32","shape":[0],"data_offsets":)" + deep + "}}", deep, [] {
          std::string objects;
          for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
          return objects + "1" + std::string(100000, '}');
        }()}) {
    const std::string p = hostile(json);
    CHECK_ERROR(load_safetensors(p), p.c_str(), "nested more than 64 levels");
  }
  // Nesting within the limit is an ordinary type error, whose message shows a short excerpt only.
  const std::string p = hostile(R"({"__metadata__":{"k":)" + nested(60) + "}}");
  try {
    load_safetensors(p);
    FAIL("expected an lf::Error");
  } catch (const Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("'k'") && Catch::Contains("not a string"));
    CHECK(std::string(e.what()).size() < 400);
  }
}

TEST_CASE("hostile safetensors: shapes whose element or byte count overflows are refused") {
  // Zero elements, but the strides of [0, 65536^4] are 2^64.
  std::string p =
      hostile(R"({"a":{"dtype":"F32","shape":[0,65536,65536,65536,65536],"data_offsets":[0,0]}})");
  CHECK_ERROR(load_safetensors(p), p.c_str(), "'a'", "overflow");
  p = hostile(R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}})");
  CHECK_ERROR(load_safetensors(p), p.c_str(), "overflow");
  p = hostile(
      R"({"a":{"dtype":"I64","shape":[1152921504606846976],"data_offsets":[0,0]}})");  // 2^60 * 8 bytes
  CHECK_ERROR(load_safetensors(p), p.c_str(), "overflow");
  p = hostile(R"({"a":{"dtype":"F32","shape":[18446744073709551615],"data_offsets":[0,0]}})");
  CHECK_ERROR(load_safetensors(p), p.c_str(), "fit int64", "18446744073709551615");
  p = hostile(R"({"a":{"dtype":"F32","shape":[1000000],"data_offsets":[0,16]}})", std::string(16, 'x'));
  CHECK_ERROR(load_safetensors(p), p.c_str(), "needs 4000000 bytes");
  std::string ones = "1";
  for (int i = 0; i < 64; ++i) ones += ",1";  // 65 dimensions
  p = hostile(R"({"a":{"dtype":"F32","shape":[)" + ones + R"(],"data_offsets":[0,4]}})", "abcd");
  CHECK_ERROR(load_safetensors(p), p.c_str(), "65 dimensions");
  for (const char* bad : {"[2.0]", "[true]", "[\"2\"]", "[-0.5]", "[null]", "{\"0\":2}", "2", "[1e400]"}) {
    INFO(bad);
    p = hostile(fmt::format(R"({{"a":{{"dtype":"F32","shape":{},"data_offsets":[0,8]}}}})", bad), "12345678");
    CHECK_ERROR(load_safetensors(p), p.c_str());
  }
}

TEST_CASE("hostile safetensors: every header field is type- and range-checked") {
  const std::string d8(8, 'x');
  struct Case {
    std::string json, data;
    std::vector<const char*> parts;
  };
  const std::vector<Case> cases = {
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", d8, {"'a'", "data_offsets [0]"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}})", d8, {"'a'", "[begin, end]"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0.0,8.0]}})", d8, {"'a'", "[begin, end]"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":["0","8"]}})", d8, {"'a'", "[begin, end]"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}})", d8, {"'a'", "non-negative"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", d8, {"'a'", "end before they begin"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}})",
       d8,
       {"'a'", "[begin, end]"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[9223372036854775800,9223372036854775807]}})",
       d8,
       {"'a'", "runs past the end"}},
      {R"({"a":{"dtype":1,"shape":[2],"data_offsets":[0,8]}})", d8, {"'a'", "dtype 1 is not a string"}},
      {R"({"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}})", d8, {"'a'", "'f32'", "not supported"}},
      {R"({"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,8]}})", d8, {"'a'", "'BF16'", "not supported"}},
      {R"({"a":{"shape":[2],"data_offsets":[0,8]}})", d8, {"'a'", "'dtype' is missing"}},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}})",
       d8,
       {"'a'", "unknown field 'extra'"}},
      {R"({"a":[1,2]})", d8, {"'a'", "needs an object"}},
      {R"({"a":null})", "", {"'a'", "needs an object"}},
      {R"({"":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", d8, {"empty name"}},
      {R"({"a\u001b[31m":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
       d8,
       {"control characters", "\\x1b[31m"}},
      {"{" + f32_entry("a", 2) + "," + f32_entry("a", 2, 8) + "}", d8 + d8, {"'a'", "appears twice"}},
      {R"({"a":{"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]}})",
       d8,
       {"'dtype'", "appears twice"}},
      {R"({"__metadata__":{"k":"1","k":"2"}})", "", {"'k'", "appears twice"}},
      {R"({"__metadata__":{},"__metadata__":{}})", "", {"'__metadata__'", "appears twice"}},
      {R"({"__metadata__":[]})", "", {"__metadata__ must be an object"}},
      {R"({"__metadata__":{"k":null}})", "", {"'k'", "not a string"}},
      {"{" + f32_entry("a", 1) + "," + f32_entry("b", 1, 8) + "}",
       std::string(12, 'x'),
       {"gap of 4 bytes", "'b'"}},
      {"{" + f32_entry("a", 2) + "}", std::string(12, 'x'), {"trailing bytes"}},
      {"{}", "x", {"trailing bytes"}},
      {"{\"a\":\"\xff\"}", "", {"invalid JSON"}},                       // not UTF-8
      {std::string("{\"a\":1}\0\0", 9), "", {"NUL byte at offset 7"}},  // nlohmann would stop at a NUL
      {std::string("{}\0{\"hidden\":1}", 15), "", {"NUL byte at offset 2"}},
      {"{\"a\":1} x", "", {"invalid JSON"}},  // anything after the object
      {"\"just a string\"", "", {"not an object"}},
      {"  ", "", {"invalid JSON"}},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    const std::string p = hostile(c.json, c.data);
    try {
      load_safetensors(p);
      FAIL_CHECK("expected an lf::Error");
    } catch (const Error& e) {
      const std::string msg = e.what();
      INFO("message: " << msg);
      CHECK(msg.find(p) != std::string::npos);
      for (const char* part : c.parts) CHECK(msg.find(part) != std::string::npos);
      CHECK(msg.find('\x1b') == std::string::npos);  // nothing from the file reaches a terminal raw
    }
  }
}

TEST_CASE("hostile safetensors: the header length must be sane") {
  std::string p = temp_path("len");
  write_bytes(p, u64_le(0));
  CHECK_ERROR(load_safetensors(p), p.c_str(), "header length 0", "too short");
  write_bytes(p, u64_le(1) + "{");
  CHECK_ERROR(load_safetensors(p), p.c_str(), "header length 1");
  write_bytes(p, u64_le(~uint64_t(0)) + "{}");
  CHECK_ERROR(load_safetensors(p), p.c_str(), "header length 18446744073709551615", "larger than");
  // A header over 100 MB in a (sparse) file that is large enough for it.
  write_bytes(p, u64_le(150'000'000) + "{}");
  fs::resize_file(p, 200'000'000);
  CHECK_ERROR(load_safetensors(p), p.c_str(), "header length 150000000", "over the limit");
  fs::remove(p);
}

TEST_CASE("hostile safetensors: long values are cut short in messages") {
  const std::string big(1 << 20, 'Q');
  for (const std::string& json :
       {R"({"a":{"dtype":")" + big + R"(","shape":[2],"data_offsets":[0,8]}})",
        R"({"a":{"dtype":"F32","shape":[)" + std::string(300000, '1') + R"(],"data_offsets":[0,8]}})",
        R"({"a":{"dtype":"F32","shape":["x)" + big + R"("],"data_offsets":[0,8]}})",
        R"({")" + big + R"(":1})", R"({"a":")" + big + "\x01" + R"("})"}) {
    const std::string p = hostile(json, "12345678");
    try {
      load_safetensors(p);
      FAIL_CHECK("expected an lf::Error");
    } catch (const Error& e) {
      INFO(std::string(e.what()).substr(0, 300));
      CHECK(std::string(e.what()).size() < 1000);
    }
  }
}

TEST_CASE("hostile safetensors: only regular files are opened, so a FIFO cannot hang the loader") {
  const std::string fifo = (temp_dir() / "fifo.safetensors").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_ERROR(load_safetensors(fifo), fifo.c_str(), "FIFO", "not a regular file");
  const std::string dir = temp_dir().string();
  CHECK_ERROR(load_safetensors(dir), dir.c_str(), "a directory");
  CHECK_ERROR(load_safetensors("/dev/null"), "/dev/null", "character device");
  CHECK_ERROR(load_safetensors("/dev/zero"), "/dev/zero", "character device");
  CHECK_ERROR(load_safetensors(""), "cannot open");
  CHECK_ERROR(load_safetensors((temp_dir() / "missing").string()), "missing", "No such file");
  // A symlink to a regular file is fine; to a directory, not.
  const std::string good = temp_path("good");
  save_safetensors(good, {{"w", vec({1, 2})}});
  const std::string link = (temp_dir() / "link.safetensors").string(),
                    dlink = (temp_dir() / "dlink").string();
  fs::create_symlink(good, link);
  fs::create_directory_symlink(temp_dir(), dlink);
  CHECK(load_safetensors(link).size() == 1);
  CHECK_ERROR(load_safetensors(dlink), dlink.c_str(), "a directory");
}

TEST_CASE("safetensors checksums: a flipped bit is refused naming the tensor; files without them load") {
  const std::string p = temp_path("crc");
  save_safetensors(p, {{"a", vec({1, 2, 3})}, {"b", vec({4, 5})}}, {{"note", "x"}});
  std::map<std::string, std::string> meta;
  REQUIRE(load_safetensors(p, &meta).size() == 2);
  CHECK(meta == std::map<std::string, std::string>{{"note", "x"}});  // lf.crc32 is the loader's business
  const std::string bytes = read_bytes(p);
  CHECK(bytes.find(R"("lf.crc32":"{\"a\":\")") != std::string::npos);  // a JSON string, as Python expects

  std::string flipped = bytes;
  flipped[flipped.size() - 3] ^= 0x10;  // inside b's data
  write_bytes(p, flipped);
  CHECK_ERROR(load_safetensors(p), p.c_str(), "'b'", "corrupted", "CRC-32");
  CHECK_ERROR(parse_safetensors(flipped, "in memory"), "in memory", "'b'", "corrupted");

  // Checksums that do not fit the file are refused too (the header was edited).
  const std::string t = f32_entry("a", 1);
  for (const auto& [crc, part] : std::vector<std::pair<std::string, const char*>>{
           {R"([1])", "must be a JSON object"},
           {R"({\"a\":\"xyz\"})", "8 hex digits"},
           {R"({\"a\":123})", "8 hex digits"},
           {R"({\"a\":\"00000000\",\"zz\":\"00000000\"})", "'zz', which the file does not have"},
           {R"({})", "no checksum for tensor 'a'"},
           {R"({\"a\":\"0\",\"a\":\"0\"})", "appears twice"},
           {"not json", "invalid JSON"}}) {
    INFO(crc);
    const std::string q = hostile(R"({"__metadata__":{"lf.crc32":")" + crc + R"("},)" + t + "}", "abcd");
    CHECK_ERROR(load_safetensors(q), q.c_str(), "lf.crc32", part);
  }
  CHECK_ERROR(save_safetensors(p, {{"a", vec({1})}}, {{"lf.crc32", "{}"}}), "reserved");
}

TEST_CASE("parse_safetensors reads a file's bytes exactly as load_safetensors reads the file") {
  const std::string p = temp_path("same");
  save_safetensors(p, {{"x", vec({1, 2, 3})}, {"e", Tensor::empty({0, 3}, DType::f64)}}, {{"k", "v"}});
  std::map<std::string, std::string> m1, m2;
  NamedTensors a = load_safetensors(p, &m1), b = parse_safetensors(read_bytes(p), "bytes", &m2);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second.shape() == b[i].second.shape());
  }
  CHECK(b[0].second.to_vector<float>() == std::vector<float>{1, 2, 3});
  CHECK(m1 == m2);
  CHECK_ERROR(parse_safetensors(std::string("abc")), "<memory>", "too short");
}

TEST_CASE("saving: a unique temporary per save, removed on failure; bad targets are named") {
  const std::string p = temp_path("target");
  // A stale temporary of the old fixed name, and one of the new form, are left alone.
  write_bytes(p + ".tmp", "stale");
  write_bytes(p + ".tmp.AAAAAA", "stale");
  save_safetensors(p, {{"w", vec({1})}});
  CHECK(read_bytes(p + ".tmp") == "stale");
  fs::remove(p + ".tmp");
  fs::remove(p + ".tmp.AAAAAA");
  CHECK(no_temporary_left(p));

  // Concurrent saves to one path: every save succeeds and the file is one of them, whole.
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] { save_safetensors(p, {{"w", vec(std::vector<float>(1000, float(i)))}}); });
  for (auto& th : threads) th.join();
  NamedTensors got = load_safetensors(p);
  REQUIRE(got.size() == 1);
  const std::vector<float> v = got[0].second.to_vector<float>();
  CHECK(std::all_of(v.begin(), v.end(), [&](float x) { return x == v[0]; }));
  CHECK(no_temporary_left(p));

  // A target name near NAME_MAX still gets a temporary (a shorter one).
  const std::string longname = (temp_dir() / (std::string(240, 'n') + ".safetensors")).string();
  save_safetensors(longname, {{"w", vec({2})}});
  CHECK(load_safetensors(longname).size() == 1);

  // Where the file cannot go: each message names the path.
  const std::string dir = temp_dir().string();
  CHECK_ERROR(save_safetensors(dir, {{"w", vec({1})}}), dir.c_str(), "directory");
  const std::string under_file = p + "/x.safetensors";
  CHECK_ERROR(save_safetensors(under_file, {{"w", vec({1})}}), under_file.c_str(), "not a directory");
  const std::string missing = (temp_dir() / "no" / "such" / "x.safetensors").string();
  CHECK_ERROR(save_safetensors(missing, {{"w", vec({1})}}), missing.c_str(), "No such file");
  if (::geteuid() != 0) {  // root writes anywhere
    const fs::path ro = temp_dir() / "readonly";
    fs::create_directory(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    const std::string target = (ro / "x.safetensors").string();
    CHECK_ERROR(save_safetensors(target, {{"w", vec({1})}}), target.c_str(), "Permission denied");
  }
  // A FIFO (or a device) in the way is not replaced by the rename.
  const std::string fifo = (temp_dir() / "out.fifo").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_ERROR(save_safetensors(fifo, {{"w", vec({1})}}), fifo.c_str(), "not a regular file");
  CHECK(fs::is_fifo(fifo));
  CHECK_ERROR(save_safetensors(p, {{"bad\nname", vec({1})}}), "control characters");
  CHECK_ERROR(save_safetensors(p, {{std::string(2000, 'n'), vec({1})}}), "at most 1024 bytes");
}

TEST_CASE("saving: a write that fails leaves the old file and no temporary behind") {
  const std::string p = temp_path("full");
  save_safetensors(p, {{"old", vec({7})}});
  // Cap the size a file may grow to (write() then fails with EFBIG instead of raising SIGXFSZ).
  struct rlimit old {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  auto previous = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit capped = old;
  capped.rlim_cur = 1 << 16;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &capped) == 0);
  bool threw = false;
  std::string msg;
  try {
    save_safetensors(p, {{"new", Tensor::empty({1 << 16}, DType::f32)}});
  } catch (const Error& e) {
    threw = true, msg = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  CHECK(threw);
  CHECK_THAT(msg, Catch::Contains(p) && Catch::Contains("writing"));
  CHECK(no_temporary_left(p));
  NamedTensors still = load_safetensors(p);
  REQUIRE(still.size() == 1);
  CHECK(still[0].first == "old");
}
