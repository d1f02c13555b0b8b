// Reductions of contiguous tensors. Row reductions: x [rows, cols] -> out [rows], sum or max of each row
// (the ops layer permutes scattered reduced dims to the end). Middle reductions, at the end of this file:
// x [outer, R, inner] -> out [outer, inner], for a block of reduced dims read in place (bias gradients).
//
// A team (one warp for short rows, a whole block for long ones; see RowTeam) reduces one row: each thread
// folds a strided slice of the row, then the team combines the per-thread values with shuffles. When a
// few long rows would leave most of the GPU idle (sum of a whole tensor: rows = 1), each row is cut into
// `splits` chunks reduced in parallel into partials [rows, splits], and a second pass reduces those.
#include <limits>

#include "backends/cuda/cuda_common.cuh"

namespace lf::cuda {

// Work item = (row, split): x[row, split*chunk : (split+1)*chunk] -> out[row * splits + split].
// In is what the pass reads, Acc what it accumulates in, Out what it writes (see reduce_rows).
template <typename In, typename Acc, typename Out, typename Op, bool kWarp>
__global__ void reduce_rows_kernel(const In* x, Out* out, int64_t rows, int64_t cols, int64_t splits, int64_t chunk,
                                   Op op, Acc identity) {
  using Team = RowTeam<kWarp>;
  const int64_t items = rows * splits;
  for (int64_t item = Team::first_row(); item < items; item += Team::row_step()) {
    const int64_t row = item / splits, split = item % splits;
    const int64_t begin = split * chunk, end = min(cols, begin + chunk);
    const In* xr = x + row * cols;
    Acc acc = identity;
    for (int64_t c = begin + Team::lane(); c < end; c += Team::width()) acc = op(acc, Acc(xr[c]));
    acc = Team::reduce(acc, op, identity);
    if (Team::lane() == 0) out[item] = Out(acc);
  }
}

namespace {

constexpr int64_t kSplitChunk = 4096;  // columns per chunk when a row is split

template <typename In, typename Acc, typename Out, typename Op>
void reduce_pass(const In* x, Out* out, int64_t rows, int64_t cols, int64_t splits, int64_t chunk, Op op,
                 Acc identity) {
  if (chunk <= kWarpRowMax) {
    reduce_rows_kernel<In, Acc, Out, Op, true><<<row_blocks(rows * splits, true), kThreads>>>(
        x, out, rows, cols, splits, chunk, op, identity);
  } else {
    reduce_rows_kernel<In, Acc, Out, Op, false><<<row_blocks(rows * splits, false), kThreads>>>(
        x, out, rows, cols, splits, chunk, op, identity);
  }
  LF_CUDA_CHECK_LAUNCH("reduce_rows_kernel");
}

// Sums of f32 accumulate in double (as the CPU backend's chunk totals do): the per-thread slices are
// long for long rows, and a float running sum would drift by ~1e-5 there. The partials of a split
// row are kept in the accumulator type too.
template <typename T, typename Acc, typename Op>
void reduce_rows(const T* x, T* out, int64_t rows, int64_t cols, Op op, Acc identity) {
  // Enough work items to give every multiprocessor a few teams.
  const int64_t target = 4 * int64_t(sm_count());
  int64_t splits = 1;
  if (cols >= 2 * kSplitChunk && rows < target) splits = std::min(ceil_div(cols, kSplitChunk), ceil_div(target, rows));
  if (splits == 1) {
    reduce_pass<T, Acc, T>(x, out, rows, cols, 1, cols, op, identity);
    return;
  }
  const int64_t chunk = ceil_div(cols, splits);
  splits = ceil_div(cols, chunk);  // no empty chunk at the end
  Scratch partial(size_t(rows * splits) * sizeof(Acc));
  reduce_pass<T, Acc, Acc>(x, partial.as<Acc>(), rows, cols, splits, chunk, op, identity);  // -> [rows, splits]
  reduce_pass<Acc, Acc, T>(partial.as<Acc>(), out, rows, splits, 1, splits, op, identity);  // -> [rows]
}

}  // namespace

void launch_reduce_rows(KType type, KReduce op, const void* x, void* out, int64_t rows, int64_t cols) {
  if (rows == 0) return;
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x);
    T* o = static_cast<T*>(out);
    if (op == KReduce::sum) {
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
      reduce_rows<T, Acc>(xp, o, rows, cols, SumOp{}, Acc(0));
    } else if constexpr (std::is_floating_point_v<T>) {
      reduce_rows<T, T>(xp, o, rows, cols, MaxOp{}, -std::numeric_limits<T>::infinity());  // empty row: -inf
    } else {
      reduce_rows<T, T>(xp, o, rows, cols, MaxOp{}, std::numeric_limits<T>::lowest());
    }
  });
}

// Middle reductions: x [outer, R, inner] -> out [outer, inner]. (Bias gradients: outer = 1, R = rows of dy,
// e.g. 4096, inner = its columns, e.g. 128.) A block is a tile of 32 columns x 8 row lanes, as for
// layer_norm's dw and db: each warp reads 32 adjacent columns of one row (coalesced), and the 8 lanes'
// values meet in shared memory. blockIdx.x walks the (outer, column tile) pairs; blockIdx.y cuts R into
// gridDim.y interleaved slices, so that a [4096, 128] gradient, 4 column tiles, still fills the GPU.
// Block (tile, split) writes out[o, split, j]: the result itself when gridDim.y == 1, else Acc partials
// [outer, splits, inner] that a second pass of this kernel (splits reduced instead of R) reduces.
template <typename In, typename Acc, typename Out, typename Op>
__global__ void reduce_middle_kernel(const In* x, Out* out, int64_t outer, int64_t R, int64_t inner, Op op,
                                     Acc identity) {
  __shared__ Acc part[kRowLanes][kColTile];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t col_tiles = (inner + kColTile - 1) / kColTile, splits = gridDim.y, split = blockIdx.y;
  for (int64_t tile = blockIdx.x; tile < outer * col_tiles; tile += gridDim.x) {
    const int64_t o = tile / col_tiles, j = (tile % col_tiles) * kColTile + tx;
    Acc acc = identity;
    if (j < inner) {
      const In* col = x + o * R * inner + j;
      for (int64_t r = split * kRowLanes + ty; r < R; r += splits * kRowLanes)
        acc = op(acc, Acc(col[r * inner]));
    }
    part[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && j < inner) {
#pragma unroll
      for (int i = 1; i < kRowLanes; ++i) acc = op(acc, part[i][tx]);
      out[(o * splits + split) * inner + j] = Out(acc);
    }
    __syncthreads();  // `part` is refilled for the next tile
  }
}

namespace {

template <typename T, typename Acc, typename Op>
void reduce_middle(const T* x, T* out, int64_t outer, int64_t R, int64_t inner, Op op, Acc identity) {
  const int64_t tiles = outer * ceil_div(inner, kColTile);
  const dim3 block{kColTile, kRowLanes};
  const unsigned grid_x = unsigned(std::min<int64_t>(tiles, int64_t(1) << 16));
  // Split R so that tiles x splits blocks give every multiprocessor a few, with at least 32 rows per split.
  const int64_t splits =
      std::min<int64_t>({ceil_div(4 * int64_t(sm_count()), tiles), std::max<int64_t>(1, R / 32), 65535});
  if (splits == 1) {
    reduce_middle_kernel<T, Acc, T><<<dim3{grid_x, 1}, block>>>(x, out, outer, R, inner, op, identity);
    LF_CUDA_CHECK_LAUNCH("reduce_middle_kernel");
    return;
  }
  Scratch partial(size_t(outer * splits * inner) * sizeof(Acc));  // [outer, splits, inner]
  reduce_middle_kernel<T, Acc, Acc>
      <<<dim3{grid_x, unsigned(splits)}, block>>>(x, partial.as<Acc>(), outer, R, inner, op, identity);
  LF_CUDA_CHECK_LAUNCH("reduce_middle_kernel");
  reduce_middle_kernel<Acc, Acc, T>
      <<<dim3{grid_x, 1}, block>>>(partial.as<Acc>(), out, outer, splits, inner, op, identity);
  LF_CUDA_CHECK_LAUNCH("reduce_middle_kernel");
}

}  // namespace

void launch_reduce_middle(KType type, KReduce op, const void* x, void* out, int64_t outer, int64_t R,
                          int64_t inner) {
  if (outer * inner == 0) return;
  dispatch_all(type, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = static_cast<const T*>(x);
    T* o = static_cast<T*>(out);
    if (op == KReduce::sum) {
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
      reduce_middle<T, Acc>(xp, o, outer, R, inner, SumOp{}, Acc(0));
    } else if constexpr (std::is_floating_point_v<T>) {
      reduce_middle<T, T>(xp, o, outer, R, inner, MaxOp{}, -std::numeric_limits<T>::infinity());
    } else {
      reduce_middle<T, T>(xp, o, outer, R, inner, MaxOp{}, std::numeric_limits<T>::lowest());
    }
  });
}

}  // namespace lf::cuda
