#include "data/fashion_mnist.h"

#include <zlib.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "core/untrusted_input.h"
#include "data/image_augment.h"

namespace lf {

namespace {

const char* kInstallHint = "install the Debian package with `apt-get install dataset-fashion-mnist`";

struct GzCloser {
  void operator()(gzFile_s* f) const {
    if (f) gzclose(f);
  }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

// Reads up to n bytes; returns how many were read (< n only at the end of the data). Throws on a
// decompression error, e.g. a corrupt or truncated gzip stream.
size_t gz_read(gzFile f, void* dst, size_t n, const std::string& path) {
  size_t done = 0;
  while (done < n) {
    unsigned chunk = unsigned(std::min<size_t>(n - done, size_t(1) << 30));
    int got = gzread(f, static_cast<char*>(dst) + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* msg = gzerror(f, &code);
      throw Error(fmt::format("fashion_mnist: {}: cannot decompress: {}", path, msg ? msg : "unknown error"));
    }
    if (got == 0) {
      // zlib reports a stream cut short as end of input plus an error code, not as got < 0.
      int code = 0;
      const char* msg = gzerror(f, &code);
      LF_CHECK(code == Z_OK || code == Z_STREAM_END, "fashion_mnist: {}: cannot decompress ({}); the file is "
               "truncated or corrupt", path, msg ? msg : "unknown error");
      break;
    }
    done += size_t(got);
  }
  return done;
}

uint32_t big_endian_u32(const unsigned char* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

struct Idx {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;
};

// One IDX file of unsigned bytes with the given magic number (2051 images: 3 dims, 2049 labels: 1 dim).
Idx read_idx(const std::string& path, uint32_t magic, size_t ndims, const char* what) {
  LF_CHECK(std::filesystem::exists(path), "fashion_mnist: cannot open {} ({})", path, kInstallHint);
  // Only a regular file: a FIFO in the data directory would block gzread forever.
  uint64_t size = 0;
  FileDescriptor fd = open_regular_file(path, "fashion_mnist", &size);
  GzFile f(gzdopen(fd.get(), "rb"));  // also reads files that are not gzip-compressed, as they are
  LF_CHECK(f, "fashion_mnist: cannot read {} ({})", path, kInstallHint);
  fd.release();  // gzclose closes it now
  gzbuffer(f.get(), 1 << 18);

  unsigned char header[16];
  size_t got = gz_read(f.get(), header, 4, path);
  LF_CHECK(got == 4, "fashion_mnist: {}: truncated: the file has {} bytes, not even the 4-byte magic number", path,
           got);
  uint32_t m = big_endian_u32(header);
  LF_CHECK(m == magic, "fashion_mnist: {}: magic number {} where an IDX {} file has {}", path, m, what, magic);
  got = gz_read(f.get(), header + 4, 4 * ndims, path);
  LF_CHECK(got == 4 * ndims, "fashion_mnist: {}: truncated: the {} header needs {} dimensions, the file has {} "
           "bytes of them", path, what, ndims, got);

  Idx idx;
  size_t count = 1;
  for (size_t d = 0; d < ndims; ++d) {
    idx.dims.push_back(big_endian_u32(header + 4 + 4 * d));
    count *= idx.dims.back();
  }
  LF_CHECK(count <= (size_t(1) << 32), "fashion_mnist: {}: implausible dimensions {}", path, fmt::join(idx.dims, "x"));
  idx.data.resize(count);
  got = gz_read(f.get(), idx.data.data(), count, path);
  LF_CHECK(got == count, "fashion_mnist: {}: truncated: dimensions {} need {} bytes of {} after the header, the "
           "file has {}", path, fmt::join(idx.dims, "x"), count, what, got);
  // Reading past the end also makes zlib check the gzip trailer (CRC and length).
  unsigned char extra;
  LF_CHECK(gz_read(f.get(), &extra, 1, path) == 0, "fashion_mnist: {}: unexpected data after {} bytes of {}", path,
           count, what);
  return idx;
}

std::string pick(const std::string& dir, const std::string& name) {
  std::string gz = dir + "/" + name + ".gz";
  if (!std::filesystem::exists(gz) && std::filesystem::exists(dir + "/" + name)) return dir + "/" + name;
  return gz;
}

}  // namespace

FashionMnist load_fashion_mnist_files(const std::string& images_path, const std::string& labels_path) {
  Idx img = read_idx(images_path, 2051, 3, "images");
  Idx lab = read_idx(labels_path, 2049, 1, "labels");
  const int64_t n = img.dims[0], rows = img.dims[1], cols = img.dims[2];
  LF_CHECK(rows == 28 && cols == 28, "fashion_mnist: {}: images are {}x{}, expected 28x28", images_path, rows, cols);
  LF_CHECK(int64_t(lab.dims[0]) == n, "fashion_mnist: {} has {} images but {} has {} labels", images_path, n,
           labels_path, lab.dims[0]);

  FashionMnist ds;
  ds.images = Tensor::empty({n, rows, cols}, DType::f32);
  float* px = ds.images.data<float>();
  for (size_t i = 0; i < img.data.size(); ++i) px[i] = float(img.data[i]) * (1.0f / 255.0f);
  ds.labels = Tensor::empty({n}, DType::i64);
  int64_t* lb = ds.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    LF_CHECK(lab.data[i] < kFashionMnistClasses, "fashion_mnist: {}: label {} at index {} is not a class 0..9",
             labels_path, lab.data[i], i);
    lb[i] = lab.data[i];
  }
  return ds;
}

FashionMnist load_fashion_mnist(const std::string& split, const std::string& dir) {
  LF_CHECK(split == "train" || split == "test", "fashion_mnist: split must be \"train\" or \"test\", got \"{}\"",
           split);
  LF_CHECK(std::filesystem::is_directory(dir), "fashion_mnist: directory {} not found ({})", dir, kInstallHint);
  const std::string prefix = split == "train" ? "train" : "t10k";
  return load_fashion_mnist_files(pick(dir, prefix + "-images-idx3-ubyte"), pick(dir, prefix + "-labels-idx1-ubyte"));
}

const std::array<std::string_view, 10>& fashion_mnist_classes() {
  static const std::array<std::string_view, 10> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                         "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

Tensor pixel_sequence(const Tensor& images) {
  check_images("pixel_sequence", images);
  // Same bytes (of a contiguous copy if `images` is a strided view), new shape: [N, H, W] -> [N, H*W, 1].
  const Tensor x = images.contiguous();
  return x.as_strided({x.size(0), x.size(1) * x.size(2), 1}, {x.size(1) * x.size(2), 1, 1}, x.offset());
}

Tensor patch_sequence(const Tensor& images, int64_t patch, int64_t stride, int64_t pad) {
  check_images("patch_sequence", images);
  const int64_t N = images.size(0), H = images.size(1), W = images.size(2), P = patch;
  const int64_t S = stride == 0 ? P : stride, Z = pad;
  LF_CHECK(P > 0 && P <= H + 2 * Z && P <= W + 2 * Z,
           "patch_sequence: patch size {} does not fit the image size {}x{} padded by {}", P, H, W, Z);
  LF_CHECK(Z >= 0 && Z < P, "patch_sequence: padding {} must be in [0, patch size {})", Z, P);
  LF_CHECK(S > 0 && S <= P && (H + 2 * Z - P) % S == 0 && (W + 2 * Z - P) % S == 0,
           "patch_sequence: patch size {} with stride {} does not tile the image size {}x{} padded by {} "
           "(the stride must be at most the patch size and divide {} and {})",
           P, S, H, W, Z, H + 2 * Z - P, W + 2 * Z - P);
  const int64_t gh = (H + 2 * Z - P) / S + 1, gw = (W + 2 * Z - P) / S + 1;
  Tensor out = Tensor::empty({N, gh * gw, P * P}, DType::f32);
  const Tensor x = images.contiguous();  // itself unless a strided view
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  // out[n, py*gw + px, dy*P + dx] = images[n, y, x] at y = py*S + dy - Z, x = px*S + dx - Z, and 0 where
  // (y, x) falls in the padding: a convolution's zero padding.
  for (int64_t n = 0; n < N; ++n)
    for (int64_t py = 0; py < gh; ++py)
      for (int64_t px = 0; px < gw; ++px)
        for (int64_t dy = 0; dy < P; ++dy)
          for (int64_t dx = 0; dx < P; ++dx) {
            const int64_t y = py * S + dy - Z, x = px * S + dx - Z;
            *dst++ = y >= 0 && y < H && x >= 0 && x < W ? src[(n * H + y) * W + x] : 0.0f;
          }
  return out;
}

}  // namespace lf
