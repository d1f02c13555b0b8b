#pragma once
// Data augmentation for image batches, as the Fashion-MNIST recipe uses it (examples/train_fashion_mnist):
//
//   random crop   the image padded by `pad` zero pixels on every side, then cropped back to H x W at a random
//                 offset: the content shifts by (dy, dx) in [-pad, pad]^2 and the uncovered border is 0
//   flip          mirrored left-right with probability 1/2 (clothing is left-right symmetric)
//
// The random numbers come from Philox (core/philox.h) at counter (step, image): image i of optimizer step s
// is augmented the same way every time, so a resumed run sees exactly the batches of the run it continues
// without storing any generator state.
#include <cstdint>

#include "core/tensor.h"

namespace lf {

struct ImageAugment {
  int64_t pad = 0;    // random-crop padding in pixels (0: no shift)
  bool flip = false;  // random horizontal flip
  bool active() const { return pad > 0 || flip; }
};

// The check every image function here and in data/fashion_mnist.h makes first: an lf::Error naming `op`
// unless `images` is a CPU f32 tensor [N, H, W] (any layout: a view is read through its strides).
void check_images(const char* op, const Tensor& images);

// images f32 [N, H, W] (CPU) -> a new f32 [N, H, W] tensor, each image shifted and flipped by its own draw
// from the stream (seed, step). `images` itself is left as it is. first: the index of images[0] in the
// step's whole batch (a data-parallel rank holds rows [first, first + N) of it), so that image i draws the
// same on any number of ranks.
Tensor augment_images(const Tensor& images, const ImageAugment& augment, uint64_t seed, uint64_t step,
                      int64_t first = 0);

// images f32 [N, H, W] (CPU) -> a new tensor with every image mirrored left-right: out[i][y][x] =
// images[i][y][W - 1 - x]. The test-time half of flipping (train_fashion_mnist --tta).
Tensor mirror_images(const Tensor& images);

}  // namespace lf
