// Random crop (as a shift with a zero border) and horizontal flip of every image of a batch; see the header.
#include "data/image_augment.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/philox.h"
#include "ops/creation.h"

namespace lf {

void check_images(const char* op, const Tensor& images) {
  LF_CHECK(images.defined(), "{}: expected CPU f32 images [N, H, W], got an undefined tensor", op);
  LF_CHECK(images.dim() == 3 && images.dtype() == DType::f32 && images.device().is_cpu(),
           "{}: expected CPU f32 images [N, H, W], got {} {} on {}", op, shape_str(images.shape()),
           dtype_name(images.dtype()), images.device().str());
}

Tensor augment_images(const Tensor& images, const ImageAugment& augment, uint64_t seed, uint64_t step,
                      int64_t first) {
  check_images("augment_images", images);
  LF_CHECK(augment.pad >= 0, "augment_images: pad {} is negative", augment.pad);
  LF_CHECK(first >= 0, "augment_images: first {} is negative", first);
  const int64_t N = images.size(0), H = images.size(1), W = images.size(2);
  const std::vector<float> in = images.to_vector<float>();  // row-major, on the host
  std::vector<float> out(in.size(), 0.0f);
  const int64_t span = 2 * augment.pad + 1;
  for (int64_t i = 0; i < N; ++i) {
    // One Philox block per (step, image): lanes 0 and 1 give the shift, lane 2 the flip. Step and image
    // share the 64-bit counter: 40 bits of step, 24 of image (a batch holds at most 2^24 images).
    const Philox4 r = philox4x32_10((step << 24) | uint64_t(first + i), seed);
    const int64_t dy = int64_t(r.v[0] % uint32_t(span)) - augment.pad;
    const int64_t dx = int64_t(r.v[1] % uint32_t(span)) - augment.pad;
    const bool flip = augment.flip && (r.v[2] & 1u);
    const float* src = in.data() + i * H * W;
    float* dst = out.data() + i * H * W;
    // dst[y][x] = src[y + dy][x' + dx], x' = x or its mirror W - 1 - x; 0 where that falls outside the image
    for (int64_t y = 0; y < H; ++y) {
      const int64_t sy = y + dy;
      if (sy < 0 || sy >= H) continue;
      for (int64_t x = 0; x < W; ++x) {
        const int64_t sx = (flip ? W - 1 - x : x) + dx;
        if (sx >= 0 && sx < W) dst[y * W + x] = src[sy * W + sx];
      }
    }
  }
  return from_vector(out, {N, H, W});
}

Tensor mirror_images(const Tensor& images) {
  check_images("mirror_images", images);
  const int64_t N = images.size(0), H = images.size(1), W = images.size(2);
  std::vector<float> px = images.to_vector<float>();  // row-major, on the host
  for (int64_t row = 0; row < N * H; ++row) std::reverse(px.begin() + row * W, px.begin() + (row + 1) * W);
  return from_vector(px, {N, H, W});
}

}  // namespace lf
