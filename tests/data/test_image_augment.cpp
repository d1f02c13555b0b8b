// augment_images and mirror_images (data/image_augment.cpp): shifts with a zero border, flips, the draws'
// range and reproducibility, and the checks.
#include <set>

#include "data/image_augment.h"
#include "tests/support/helpers.h"

using namespace lf;

namespace {

// N images [H, W] whose pixel (y, x) of image i is 1 + i * 1000 + y * W + x: every value names its place.
Tensor numbered(int64_t N, int64_t H, int64_t W) {
  std::vector<float> v(size_t(N * H * W));
  for (size_t j = 0; j < v.size(); ++j)
    v[j] = float(1 + (int64_t(j) / (H * W)) * 1000 + int64_t(j) % (H * W));
  return from_vector(v, {N, H, W});
}

// The (dy, dx, flip) that turns `in` (numbered, one image) into `out`, found by trying every one.
std::tuple<int64_t, int64_t, bool> find_move(const std::vector<float>& in, const std::vector<float>& out,
                                             int64_t H, int64_t W, int64_t pad) {
  for (int64_t dy = -pad; dy <= pad; ++dy)
    for (int64_t dx = -pad; dx <= pad; ++dx)
      for (bool flip : {false, true}) {
        bool same = true;
        for (int64_t y = 0; y < H && same; ++y)
          for (int64_t x = 0; x < W && same; ++x) {
            int64_t sy = y + dy, sx = (flip ? W - 1 - x : x) + dx;
            float want = (sy >= 0 && sy < H && sx >= 0 && sx < W) ? in[size_t(sy * W + sx)] : 0.0f;
            same = out[size_t(y * W + x)] == want;
          }
        if (same) return {dy, dx, flip};
      }
  FAIL("no shift and flip explains the augmented image");
  return {0, 0, false};
}

}  // namespace

TEST_CASE("augment_images with nothing to do returns the images") {
  Tensor x = numbered(3, 4, 5);
  CHECK(augment_images(x, {}, 1, 7).to_vector<float>() == x.to_vector<float>());
}

TEST_CASE("augment_images shifts within the padding, fills the border with 0 and flips about half") {
  const int64_t N = 400, H = 6, W = 7, pad = 2;
  Tensor x = numbered(N, H, W);
  Tensor y = augment_images(x, {pad, true}, 5, 3);
  REQUIRE(y.shape() == Shape{N, H, W});
  const std::vector<float> in = x.to_vector<float>(), out = y.to_vector<float>();
  std::set<std::pair<int64_t, int64_t>> shifts;
  int64_t flips = 0;
  for (int64_t i = 0; i < N; ++i) {
    std::vector<float> a(in.begin() + i * H * W, in.begin() + (i + 1) * H * W);
    std::vector<float> b(out.begin() + i * H * W, out.begin() + (i + 1) * H * W);
    auto [dy, dx, flip] = find_move(a, b, H, W, pad);
    shifts.insert({dy, dx});
    flips += flip;
  }
  CHECK(shifts.size() == 25);  // every shift in [-2, 2]^2 occurs among 400 images
  CHECK(flips > 150);
  CHECK(flips < 250);
  CHECK(x.to_vector<float>() == in);  // the input is not changed
}

TEST_CASE("augment_images draws by (seed, step, image): the same call gives the same images") {
  Tensor x = numbered(8, 5, 5);
  const ImageAugment a{1, true};
  CHECK(augment_images(x, a, 9, 12).to_vector<float>() == augment_images(x, a, 9, 12).to_vector<float>());
  CHECK(augment_images(x, a, 9, 12).to_vector<float>() != augment_images(x, a, 9, 13).to_vector<float>());
  CHECK(augment_images(x, a, 9, 12).to_vector<float>() != augment_images(x, a, 10, 12).to_vector<float>());
  // the flip alone mirrors each row or leaves it
  const std::vector<float> f = augment_images(numbered(1, 1, 3), {0, true}, 2, 0).to_vector<float>();
  CHECK((f == std::vector<float>{1, 2, 3} || f == std::vector<float>{3, 2, 1}));
}

TEST_CASE("augment_images checks its input") {
  CHECK_ERROR(augment_images(zeros({2, 3}), {1, false}, 0, 0), "augment_images", "[N, H, W]", "[2,3]");
  CHECK_ERROR(augment_images(zeros({1, 2, 3}, DType::f64), {1, false}, 0, 0), "augment_images", "f64");
  CHECK_ERROR(augment_images(zeros({1, 2, 3}), {-1, false}, 0, 0), "pad -1");
  CHECK_ERROR(augment_images(Tensor(), {1, false}, 0, 0), "augment_images", "undefined");
  // a strided view is read through its strides
  const Tensor t = numbered(2, 3, 4).transpose(1, 2);
  CHECK(augment_images(t, {1, true}, 5, 7).to_vector<float>() ==
        augment_images(t.contiguous(), {1, true}, 5, 7).to_vector<float>());
  CHECK(mirror_images(t).to_vector<float>() == mirror_images(t.contiguous()).to_vector<float>());
}

TEST_CASE("mirror_images mirrors every row of every image, and twice is the identity") {
  Tensor x = numbered(2, 2, 3);
  const std::vector<float> m = mirror_images(x).to_vector<float>();
  CHECK(m == std::vector<float>{3, 2, 1, 6, 5, 4, 1003, 1002, 1001, 1006, 1005, 1004});
  CHECK(mirror_images(mirror_images(x)).to_vector<float>() == x.to_vector<float>());
  CHECK(find_move(x.to_vector<float>(), m, 2, 3, 0) == std::tuple<int64_t, int64_t, bool>{0, 0, true});
  CHECK_ERROR(mirror_images(zeros({2, 3})), "mirror_images", "[N, H, W]", "[2,3]");
}
