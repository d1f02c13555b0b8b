#pragma once
// Fashion-MNIST (Xiao et al. 2017): 70,000 grey 28x28 images of clothing in 10 classes, 60,000 for training
// and 10,000 for testing. Read from the IDX files of the Debian package dataset-fashion-mnist:
//
//   /usr/share/datasets/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
//
// IDX layout (big-endian): u32 magic (2051 = images, 2049 = labels), u32 count, for images u32 rows and
// u32 cols, then one unsigned byte per pixel (row-major) or per label.
//
// The classifier example feeds an image to the Linformer as a sequence: either its 784 pixels (n = 784,
// one feature per position, where attention's n^2 cost starts to matter) or P x P patches as in ViT
// (n = (28/P)^2 positions of P*P features).
#include <array>
#include <string>
#include <string_view>

#include "core/tensor.h"

namespace lf {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr int64_t kFashionMnistClasses = 10;
inline constexpr int64_t kFashionMnistSide = 28;  // every image is 28 x 28 pixels

struct FashionMnist {
  Tensor images;  // f32 [N, 28, 28], pixel / 255 in [0, 1], CPU
  Tensor labels;  // i64 [N] in 0..9, CPU
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// split: "train" (60,000 images) or "test" (10,000). Looks for the .gz files in `dir`, or the same names
// without .gz. Throws lf::Error naming the file for a missing, truncated or malformed file.
FashionMnist load_fashion_mnist(const std::string& split, const std::string& dir = kFashionMnistDir);
// The same from explicit paths (gzip-compressed or plain IDX).
FashionMnist load_fashion_mnist_files(const std::string& images_path, const std::string& labels_path);

// "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot".
const std::array<std::string_view, 10>& fashion_mnist_classes();

// images f32 [N, H, W] (CPU) -> [N, H*W, 1]: one position per pixel (a view of the same bytes when
// `images` is contiguous).
Tensor pixel_sequence(const Tensor& images);
// images f32 [N, H, W] -> [N, gh*gw, P*P]: P x P patches whose corners are S = stride pixels apart (stride
// 0: S = P, non-overlapping; S < P: neighbouring patches overlap, the way a convolution's windows do), in
// row-major order, each flattened row-major, cut from the image with `pad` zero pixels added on every side
// (a convolution's padding, pad < P). gh = (H + 2 pad - P)/S + 1 (gw alike): the patches must tile the
// padded image exactly, so S must divide H + 2 pad - P and W + 2 pad - P. For example P 11, S 7, pad 2 on a
// 28 x 28 image: 4 x 4 patches as with P 7, each also seeing 2 pixels of its neighbours on every side.
Tensor patch_sequence(const Tensor& images, int64_t patch, int64_t stride = 0, int64_t pad = 0);

}  // namespace lf
