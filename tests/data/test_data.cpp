// Data sets: the byte-level text corpus and its MLM batcher, Fashion-MNIST's IDX files, and the RNG the
// batcher uses.
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "data/fashion_mnist.h"
#include "data/text.h"
#include "tests/support/helpers.h"

using namespace lf;
namespace fs = std::filesystem;

namespace {

using lf::test::TempDir;
using lf::test::write_text;

// Positions of one MLM batch, by what happened to them.
struct MaskCounts {
  int64_t positions = 0, chosen = 0, masked = 0, random = 0, kept = 0;
};

}  // namespace

TEST_CASE("data: Rng is deterministic, resumable and uniform") {
  Rng a(7), b(7), c(8);
  for (int i = 0; i < 10; ++i) CHECK(a.next_u64() == b.next_u64());
  CHECK(Rng(7).next_u64() != c.next_u64());

  Rng r(123);
  for (int i = 0; i < 5; ++i) r.next_u64();
  Rng::State saved = r.state();
  std::vector<uint64_t> expect;
  for (int i = 0; i < 5; ++i) expect.push_back(r.next_u64());
  Rng restored(999);
  restored.set_state(rng_state_from_tensor(rng_state_to_tensor(saved)));  // through a checkpoint tensor
  for (int i = 0; i < 5; ++i) CHECK(restored.next_u64() == expect[size_t(i)]);
  CHECK_ERROR(restored.set_state({0, 0, 0, 0}), "all-zero");

  // below(n) hits every value about equally often; uniform() stays in [0, 1) with mean 1/2.
  std::vector<int> hist(10, 0);
  double sum = 0;
  const int draws = 100000;
  for (int i = 0; i < draws; ++i) {
    hist[size_t(r.below(10))]++;
    double u = r.uniform();
    REQUIRE((u >= 0 && u < 1));
    sum += u;
  }
  for (int h : hist) CHECK(std::abs(h - draws / 10) < 600);  // ~6 standard deviations
  CHECK(std::abs(sum / draws - 0.5) < 0.005);
}

TEST_CASE("data: MLM batches mask ~15% of positions, 80/10/10, with targets only there") {
  // ids[i] = i % 251: every window is identifiable from any one of its unmasked values.
  std::vector<int64_t> ids(20000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int64_t(i % 251);
  const int64_t B = 32, n = 128;
  MlmBatcher batcher(ids, n, B, /*seed=*/42);
  MaskCounts k;
  for (int step = 0; step < 24; ++step) {
    MlmBatch batch = batcher.next();
    REQUIRE(batch.input.shape() == Shape{B, n});
    REQUIRE(batch.target.shape() == Shape{B, n});
    REQUIRE(batch.input.dtype() == DType::i64);
    REQUIRE(batch.target.dtype() == DType::i64);
    const int64_t* in = batch.input.data<int64_t>();
    const int64_t* tg = batch.target.data<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      // The window start, from the first position that was not chosen.
      int64_t j0 = 0;
      while (tg[b * n + j0] != kIgnoreIndex) ++j0;
      const int64_t start = ((in[b * n + j0] - j0) % 251 + 251) % 251;
      int64_t row_chosen = 0;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t original = (start + j) % 251, x = in[b * n + j], t = tg[b * n + j];
        ++k.positions;
        if (t == kIgnoreIndex) {
          REQUIRE(x == original);  // untouched positions keep their byte and have no target
          continue;
        }
        REQUIRE(t == original);  // the target is always the original byte
        ++k.chosen, ++row_chosen;
        if (x == kMaskToken) ++k.masked;
        else if (x == original) ++k.kept;
        else {
          REQUIRE((x >= 0 && x < 256));
          ++k.random;
        }
      }
      CHECK(row_chosen >= 1);
    }
  }
  const double chosen = double(k.chosen) / double(k.positions);
  INFO("positions " << k.positions << " chosen " << k.chosen << " masked " << k.masked << " random " << k.random
                    << " kept " << k.kept);
  CHECK(std::abs(chosen - 0.15) < 0.006);
  CHECK(std::abs(double(k.masked) / double(k.chosen) - 0.8) < 0.015);
  // A random byte equals the original 1 time in 256; those count as kept.
  CHECK(std::abs(double(k.random) / double(k.chosen) - 0.1 * 255 / 256) < 0.012);
  CHECK(std::abs(double(k.kept) / double(k.chosen) - (0.1 + 0.1 / 256)) < 0.012);
}

TEST_CASE("data: same seed, same batches; a restored RNG state continues the same stream") {
  std::vector<int64_t> ids = Tokenizer::bytes().encode(std::string(500, 'a') + "the quick brown fox jumps over the lazy dog");
  MlmBatcher a(ids, 32, 4, 5), b(ids, 32, 4, 5), c(ids, 32, 4, 6);
  MlmBatch x = a.next(), y = b.next(), z = c.next();
  CHECK(x.input.to_vector<int64_t>() == y.input.to_vector<int64_t>());
  CHECK(x.target.to_vector<int64_t>() == y.target.to_vector<int64_t>());
  CHECK(x.target.to_vector<int64_t>() != z.target.to_vector<int64_t>());

  Rng::State saved = a.rng_state();
  MlmBatch next1 = a.next();
  MlmBatcher resumed(ids, 32, 4, 1234);
  resumed.set_rng_state(saved);
  MlmBatch next2 = resumed.next();
  CHECK(next1.input.to_vector<int64_t>() == next2.input.to_vector<int64_t>());
  CHECK(next1.target.to_vector<int64_t>() == next2.target.to_vector<int64_t>());

  CHECK_ERROR(MlmBatcher(Tokenizer::bytes().encode("short"), 32, 4, 0), "5 tokens", "seq_len 32");
  CHECK_ERROR(MlmBatcher(std::vector<int64_t>(64, kMaskToken), 32, 4, 0), "[MASK]");
  CHECK_ERROR(MlmBatcher(std::vector<int64_t>(64, 300), 32, 4, 0), "token 300", "outside the vocabulary [0, 258)");
  MaskingRule bad;
  bad.prob = 1.5;
  CHECK_ERROR(MlmBatcher(ids, 32, 4, 0, bad), "mask_prob");
}

TEST_CASE("data: batch_rows cuts a batch into ranks' shares that together are the batch") {
  std::vector<int64_t> ids = Tokenizer::bytes().encode(std::string(300, 'b') + "a data-parallel shard of a batch");
  MlmBatch all = MlmBatcher(ids, 16, 6, 3).next();
  const std::vector<int64_t> pos = all.positions.to_vector<int64_t>(), lab = all.labels.to_vector<int64_t>();
  std::vector<int64_t> joined_pos, joined_lab;
  for (int64_t r = 0; r < 3; ++r) {  // 3 ranks x 2 rows
    MlmBatch part = batch_rows(all, 2 * r, 2 * r + 2);
    CHECK(part.input.shape() == Shape{2, 16});
    CHECK(part.input.to_vector<int64_t>() == all.input.narrow(0, 2 * r, 2).to_vector<int64_t>());
    CHECK(part.target.to_vector<int64_t>() == all.target.narrow(0, 2 * r, 2).to_vector<int64_t>());
    for (int64_t p : part.positions.to_vector<int64_t>()) {
      CHECK(p < 32);  // inside the shard's own 2 x 16 positions
      joined_pos.push_back(p + 32 * r);
    }
    for (int64_t l : part.labels.to_vector<int64_t>()) joined_lab.push_back(l);
  }
  CHECK(joined_pos == pos);
  CHECK(joined_lab == lab);
  CHECK(batch_rows(all, 6, 6).labels.numel() == 0);
  CHECK_ERROR(batch_rows(all, 4, 7), "batch_rows", "[4, 7)", "batch of 6");
}

TEST_CASE("data: next-token batches (a causal LM): nothing masked, every position's target the token after it") {
  std::vector<int64_t> ids(100);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int64_t(i);  // token i at position i: shifts are visible
  MaskingRule rule;
  rule.next_token = true;
  MlmBatcher batcher(ids, 16, 3, 7, rule);
  for (int t = 0; t < 5; ++t) {
    MlmBatch b = batcher.next();
    const std::vector<int64_t> in = b.input.to_vector<int64_t>(), tg = b.target.to_vector<int64_t>(),
                               pos = b.positions.to_vector<int64_t>(), lab = b.labels.to_vector<int64_t>();
    REQUIRE(pos.size() == 48);
    for (int64_t r = 0; r < 3; ++r)
      for (int64_t j = 0; j < 16; ++j) {
        const size_t i = size_t(r * 16 + j);
        if (j > 0) CHECK(in[i] == in[i - 1] + 1);  // a contiguous window, unmasked
        CHECK(tg[i] == in[i] + 1);                 // the next token
        CHECK(pos[i] == int64_t(i));
        CHECK(lab[i] == tg[i]);
      }
    CHECK(in.back() + 1 <= 99);  // the last target is inside the text
  }
  CHECK_ERROR(MlmBatcher(std::vector<int64_t>(16, 1), 16, 1, 0, rule), "16 tokens", "seq_len 16 + 1");
  MlmBatcher exact(std::vector<int64_t>(17, 1), 16, 1, 0, rule);  // n + 1 tokens: one window
  CHECK(exact.next().labels.numel() == 16);
}

TEST_CASE("data: byte encoding round-trips and shows MASK as '_'") {
  Tokenizer bytes = Tokenizer::bytes();
  std::string s = "caf\xc3\xa9 \x01\xff";
  std::vector<int64_t> ids = bytes.encode(s);
  CHECK(ids.size() == s.size());
  CHECK(ids[3] == 0xc3);
  CHECK(ids[6] == 1);
  CHECK(bytes.decode(ids) == s);
  CHECK(bytes.decode({'a', kMaskToken, 'c', kPadToken}) == "a_c");
  CHECK(kTextVocabSize == 258);
  CHECK(bytes.vocab_size() == kTextVocabSize);
  CHECK((bytes.mask_id() == kMaskToken && bytes.pad_id() == kPadToken));
  CHECK((bytes.bytes_of('x') == 1 && bytes.bytes_of(kMaskToken) == 0));
}

TEST_CASE("data: fortune files are parsed into entries; .dat, .u8 and links are skipped") {
  TempDir tmp("fortunes");
  write_text(tmp.file("b_quotes"), "first line\nsecond line\n%\n%\nOnly one\n%\n  \n%\nlast, no percent\n");
  write_text(tmp.file("a_jokes"), "%\nA joke\n  -- someone\n%\n");
  write_text(tmp.file("a_jokes.dat"), std::string("\0\0\0\x02\x01", 5));
  fs::create_symlink("a_jokes", tmp.dir / "a_jokes.u8");
  fs::create_symlink("b_quotes", tmp.dir / "c_link");
  write_text(tmp.file("binary"), std::string("a\0b", 3));

  TextCorpus c = TextCorpus::from_fortunes(tmp.dir.string());
  std::vector<std::string> expect = {"A joke\n  -- someone\n", "first line\nsecond line\n", "Only one\n",
                                     "last, no percent\n"};
  CHECK(c.documents() == expect);
  CHECK(c.text() == "A joke\n  -- someone\n\nfirst line\nsecond line\n\nOnly one\n\nlast, no percent\n");
  CHECK(c.size_bytes() == int64_t(c.text().size()));
  CHECK(TextCorpus::load(tmp.dir.string()).documents() == expect);

  // Few documents: the split cuts the text, the tail is validation.
  TextCorpus::Split s = c.split(0.1);
  const std::string text = c.text();
  REQUIRE((s.train.size() == 1 && s.valid.size() == 1));
  CHECK(s.train[0] + s.valid[0] == text);
  CHECK(s.valid[0].size() == size_t(std::llround(0.1 * double(text.size()))));

  // Many documents: every 20th goes to validation.
  std::vector<std::string> docs;
  for (int i = 0; i < 100; ++i) docs.push_back(fmt::format("doc {}\n", i));
  TextCorpus many = TextCorpus::from_documents(docs, "many");
  TextCorpus::Split s2 = many.split(0.05);
  CHECK(s2.valid == std::vector<std::string>{"doc 19\n", "doc 39\n", "doc 59\n", "doc 79\n", "doc 99\n"});
  CHECK(s2.train.size() == 95);
  // one joining '\n' fewer than the whole text
  CHECK(TextCorpus::Split::bytes(s2.train) + TextCorpus::Split::bytes(s2.valid) + 1 == many.size_bytes());

  const std::string missing = tmp.file("nope");
  CHECK_ERROR(TextCorpus::from_fortunes(missing), missing.c_str(), "apt-get install fortunes");
  CHECK_ERROR(TextCorpus::load(missing), missing.c_str(), "does not exist");
  TempDir empty("empty");
  CHECK_ERROR(TextCorpus::from_fortunes(empty.dir.string()), "no fortune entries", "apt-get install fortunes");
}

TEST_CASE("data: a plain text file is one document") {
  TempDir tmp("text");
  write_text(tmp.file("book.txt"), "Call me Ishmael. Some years ago...\n");
  TextCorpus c = TextCorpus::load(tmp.file("book.txt"));
  REQUIRE(c.documents().size() == 1);
  CHECK(c.text() == "Call me Ishmael. Some years ago...\n");
  TextCorpus::Split s = c.split(0.25);
  REQUIRE(s.valid.size() == 1);
  CHECK(s.valid[0].size() == 9);
  write_text(tmp.file("empty.txt"), "");
  CHECK_ERROR(TextCorpus::from_file(tmp.file("empty.txt")), "empty.txt", "empty");
}

TEST_CASE("data: the Debian fortunes corpus loads when installed") {
  if (!fs::is_directory(kFortunesDir)) {
    WARN("skipped: " << kFortunesDir << " not found (apt-get install fortunes)");
    return;
  }
  TextCorpus c = TextCorpus::from_fortunes();
  CHECK(c.documents().size() > 1000);
  CHECK(c.size_bytes() > 500000);
  for (const auto& d : c.documents()) {
    REQUIRE_FALSE(d.empty());
    REQUIRE(d.find("\n%\n") == std::string::npos);
    REQUIRE(d.rfind("%\n", 0) != 0);
  }
  TextCorpus::Split s = c.split();
  const double frac = double(s.valid.size()) / double(s.train.size() + s.valid.size());
  CHECK((frac > 0.03 && frac < 0.07));
  CHECK(TextCorpus::from_fortunes().split().valid == s.valid);  // deterministic
}

// ---- Fashion-MNIST ----

namespace {

void put_be32(std::string& s, uint32_t v) {
  for (int k = 24; k >= 0; k -= 8) s += char(v >> k);
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), unsigned(bytes.size())) == int(bytes.size()));
  gzclose(f);
}

std::string idx_images(uint32_t n, uint32_t magic = 2051) {
  std::string s;
  put_be32(s, magic);
  put_be32(s, n);
  put_be32(s, 28);
  put_be32(s, 28);
  for (uint32_t i = 0; i < n * 784; ++i) s += char(i * 7 % 256);
  return s;
}

std::string idx_labels(std::vector<uint8_t> labels) {
  std::string s;
  put_be32(s, 2049);
  put_be32(s, uint32_t(labels.size()));
  for (uint8_t l : labels) s += char(l);
  return s;
}

}  // namespace

TEST_CASE("data: IDX files are read and validated") {
  TempDir tmp("idx");
  const std::string img = tmp.file("img.gz"), lab = tmp.file("lab.gz");
  write_gz(img, idx_images(3));
  write_gz(lab, idx_labels({4, 0, 9}));
  FashionMnist ds = load_fashion_mnist_files(img, lab);
  CHECK(ds.size() == 3);
  CHECK(ds.images.shape() == Shape{3, 28, 28});
  CHECK(ds.labels.to_vector<int64_t>() == std::vector<int64_t>{4, 0, 9});
  CHECK(ds.images.at({1, 0, 5}) == Approx(float((784 + 5) * 7 % 256) / 255.0f));

  // Uncompressed IDX works too.
  write_text(tmp.file("img.raw"), idx_images(3));
  CHECK(load_fashion_mnist_files(tmp.file("img.raw"), lab).size() == 3);

  SECTION("truncated gzip file") {
    std::string gz;
    {
      std::ifstream in(img, std::ios::binary);
      gz.assign(std::istreambuf_iterator<char>(in), {});
    }
    write_text(img, gz.substr(0, gz.size() / 2));
    CHECK_ERROR(load_fashion_mnist_files(img, lab), img.c_str(), "truncated");
  }
  SECTION("a FIFO or a directory is refused, not read forever") {
    REQUIRE(mkfifo(tmp.file("fifo").c_str(), 0600) == 0);
    CHECK_ERROR(load_fashion_mnist_files(tmp.file("fifo"), lab), "fifo", "not a regular file");
    CHECK_ERROR(load_fashion_mnist_files(tmp.dir.string(), lab), "a directory, not a regular file");
    CHECK_ERROR(load_fashion_mnist_files(tmp.file("missing"), lab), "missing", "cannot open");
  }
  SECTION("truncated uncompressed file") {
    std::string raw = idx_images(3);
    write_text(tmp.file("short.raw"), raw.substr(0, raw.size() - 100));
    CHECK_ERROR(load_fashion_mnist_files(tmp.file("short.raw"), lab), "short.raw", "truncated", "2352 bytes");
  }
  SECTION("wrong magic numbers, counts and labels") {
    CHECK_ERROR(load_fashion_mnist_files(lab, lab), lab.c_str(), "magic number 2049", "2051");
    write_gz(tmp.file("bad.gz"), idx_labels({1, 2}));
    CHECK_ERROR(load_fashion_mnist_files(img, tmp.file("bad.gz")), "3 images", "2 labels");
    write_gz(tmp.file("bad.gz"), idx_labels({1, 10, 2}));
    CHECK_ERROR(load_fashion_mnist_files(img, tmp.file("bad.gz")), "label 10 at index 1");
    write_gz(tmp.file("extra.gz"), idx_labels({1, 2, 3}) + "x");
    CHECK_ERROR(load_fashion_mnist_files(img, tmp.file("extra.gz")), "extra.gz", "unexpected data");
  }
  SECTION("missing files name the package") {
    CHECK_ERROR(load_fashion_mnist("train", tmp.file("none")), "none", "dataset-fashion-mnist");
    CHECK_ERROR(load_fashion_mnist("train", tmp.dir.string()), "train-images-idx3-ubyte.gz", "dataset-fashion-mnist");
    CHECK_ERROR(load_fashion_mnist("valid", tmp.dir.string()), "\"valid\"");
  }
}

TEST_CASE("data: images become pixel or patch sequences") {
  Tensor img = Tensor::empty({2, 4, 6}, DType::f32);
  for (int64_t i = 0; i < img.numel(); ++i) img.data<float>()[i] = float(i);
  Tensor px = pixel_sequence(img);
  CHECK(px.shape() == Shape{2, 24, 1});
  CHECK(px.at({1, 7, 0}) == 24 + 7);

  Tensor p = patch_sequence(img, 2);  // 2x3 grid of 2x2 patches
  CHECK(p.shape() == Shape{2, 6, 4});
  // Patch (row 1, col 2) of image 1: pixels (2..3, 4..5) -> 24 + {2*6+4, 2*6+5, 3*6+4, 3*6+5}.
  CHECK(p.at({1, 5, 0}) == 24 + 16);
  CHECK(p.at({1, 5, 1}) == 24 + 17);
  CHECK(p.at({1, 5, 2}) == 24 + 22);
  CHECK(p.at({1, 5, 3}) == 24 + 23);
  CHECK(patch_sequence(img, 1).shape() == Shape{2, 24, 1});
  CHECK_ERROR(patch_sequence(img, 4), "patch size 4", "4x6");

  // Overlapping 2x2 patches one pixel apart: a 3x5 grid; patch (row 1, col 3) of image 0 starts at pixel
  // (1, 3) -> {1*6+3, 1*6+4, 2*6+3, 2*6+4}.
  Tensor o = patch_sequence(img, 2, 1);
  CHECK(o.shape() == Shape{2, 15, 4});
  CHECK(o.at({0, 8, 0}) == 9);
  CHECK(o.at({0, 8, 1}) == 10);
  CHECK(o.at({0, 8, 2}) == 15);
  CHECK(o.at({0, 8, 3}) == 16);
  CHECK(patch_sequence(img, 2, 2).shape() == p.shape());  // stride = patch: the non-overlapping patches
  CHECK(patch_sequence(img, 4, 2).shape() == Shape{2, 2, 16});  // rows 0 only (4 - 4 = 0), columns 0 and 2
  CHECK_ERROR(patch_sequence(img, 3, 2), "patch size 3 with stride 2", "4x6");  // 2 does not divide 4 - 3
  CHECK_ERROR(patch_sequence(img, 2, 3), "stride 3", "at most the patch size");
  CHECK_ERROR(patch_sequence(img, 5, 1), "patch size 5 does not fit", "4x6");

  // 4x4 patches 2 apart on the image padded by 1 zero pixel (6x8): a 2x3 grid. Feature (dy, dx) of patch
  // (py, px) is pixel (py*2 + dy - 1, px*2 + dx - 1), or 0 in the padding.
  Tensor z = patch_sequence(img, 4, 2, 1);
  CHECK(z.shape() == Shape{2, 6, 16});
  CHECK(z.at({1, 0, 0 * 4 + 3}) == 0);        // row -1: padding
  CHECK(z.at({1, 0, 1 * 4 + 0}) == 0);        // column -1: padding
  CHECK(z.at({1, 0, 1 * 4 + 1}) == 24 + 0);   // pixel (0, 0)
  CHECK(z.at({1, 0, 2 * 4 + 2}) == 24 + 7);   // pixel (1, 1)
  CHECK(z.at({1, 5, 0 * 4 + 0}) == 24 + 9);   // patch (1, 2) starts at pixel (1, 3)
  CHECK(z.at({1, 5, 2 * 4 + 2}) == 24 + 23);  // pixel (3, 5), the last one
  CHECK(z.at({1, 5, 3 * 4 + 3}) == 0);        // pixel (4, 6): padding
  CHECK(patch_sequence(img, 2, 2, 0).shape() == p.shape());  // no padding: as before
  CHECK_ERROR(patch_sequence(img, 2, 2, 2), "padding 2", "[0, patch size 2)");
  CHECK_ERROR(patch_sequence(img, 3, 2, 1), "stride 2", "padded by 1");  // 2 does not divide 4 + 2 - 3
  CHECK_ERROR(pixel_sequence(Tensor::empty({2, 4}, DType::f32)), "[N, H, W]", "[2,4]");
  CHECK_ERROR(pixel_sequence(Tensor()), "pixel_sequence", "undefined");
  // a strided view (each image transposed) gives what its contiguous copy gives
  const Tensor t = img.transpose(1, 2);
  REQUIRE_FALSE(t.is_contiguous());
  CHECK(patch_sequence(t, 2, 2, 1).to_vector<float>() ==
        patch_sequence(t.contiguous(), 2, 2, 1).to_vector<float>());
  CHECK(pixel_sequence(t).to_vector<float>() == pixel_sequence(t.contiguous()).to_vector<float>());
}

TEST_CASE("data: Fashion-MNIST loads 60000 + 10000 images when installed") {
  if (!fs::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    WARN("skipped: Fashion-MNIST not found in " << kFashionMnistDir << " (apt-get install dataset-fashion-mnist)");
    return;
  }
  FashionMnist test = load_fashion_mnist("test");
  CHECK(test.images.shape() == Shape{10000, 28, 28});
  CHECK(test.labels.shape() == Shape{10000});
  std::vector<int64_t> l = test.labels.to_vector<int64_t>();
  CHECK(std::vector<int64_t>(l.begin(), l.begin() + 10) == std::vector<int64_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7});
  std::vector<int64_t> per_class(10, 0);
  for (int64_t v : l) {
    REQUIRE((v >= 0 && v < 10));
    per_class[size_t(v)]++;
  }
  for (int64_t c : per_class) CHECK(c == 1000);  // the test set is balanced
  // The first test image (an ankle boot): its pixel bytes sum to 33456.
  const float* px = test.images.data<float>();
  double sum = 0;
  for (int i = 0; i < 784; ++i) sum += px[i];
  CHECK(sum * 255 == Approx(33456).epsilon(1e-5));

  FashionMnist train = load_fashion_mnist("train");
  CHECK(train.size() == 60000);
  CHECK(train.labels.data<int64_t>()[0] == 9);
  CHECK(train.labels.data<int64_t>()[59999] < 10);
  CHECK(fashion_mnist_classes()[9] == "Ankle boot");
}

TEST_CASE("data: the unigram baseline is the smoothed cross-entropy of token frequencies") {
  // train: 0 x3, 1 x1 over vocab 3 -> counts 4, 2, 1 of 7.
  std::vector<int64_t> train = {0, 0, 0, 1};
  CHECK(unigram_cross_entropy(train, {0}, 3) == Approx(-std::log(4.0 / 7)));
  CHECK(unigram_cross_entropy(train, {1, 2}, 3) == Approx(-(std::log(2.0 / 7) + std::log(1.0 / 7)) / 2));
  CHECK_ERROR(unigram_cross_entropy(train, {3}, 3), "token 3", "[0, 3)");
  CHECK_ERROR(unigram_cross_entropy(train, {}, 3), "tokens to score");
}
