// Matrix products for the vector field's layers in WebAssembly SIMD: register tiles of 4 rows × 8
// columns (eight 4-lane accumulators), one operand broadcast a value at a time, the other read as
// rows of 8. Row-major float32; addresses are bytes.
//
// Tail columns (a count that is not a multiple of 8) run the same tile and keep only the valid
// lanes, so the tile reads up to 7 floats past the end of a row of B: every matrix given to these
// kernels must be followed by 32 readable bytes (the host arena pads each allocation). Partial
// tiles are assembled in `tile`, 128 bytes of the caller's (one per thread: the kernels run on
// several threads over one shared memory, each on its own rows).

import { sigmoidV } from './activation';

/** c + a·b per lane. */
@inline function mad(c: v128, a: v128, b: v128): v128 {
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Activation applied to a finished tile: 0 none, 1 sigmoid. */
@inline function activate(v: v128, activation: i32): v128 {
  return activation == 1 ? sigmoidV(v) : v;
}

/**
 * Writes (or, with accumulate, adds alpha times) a 4 × 8 tile held at `tile` into c: `rows` rows
 * of `cols` floats at row stride ldc bytes.
 */
function storePartial(tile: usize, c: usize, ldc: usize, rows: i32, cols: i32, accumulate: bool, alpha: f32): void {
  for (let r = 0; r < rows; r++) {
    const src = tile + ((<usize>r) << 5);
    const dst = c + <usize>r * ldc;
    for (let j = 0; j < cols; j++) {
      const v = load<f32>(src + (<usize>j << 2));
      const p = dst + (<usize>j << 2);
      store<f32>(p, accumulate ? load<f32>(p) + alpha * v : v);
    }
  }
}

/**
 * The weight gradient packs g from this many rows (the reduction): a strided tile then touches
 * more cache lines than the L1 cache holds beside the other operand (64 bytes a line, 32 KiB).
 * Measured at 256 × 784 × 784 on one thread: 30 → 37 GFLOP/s; below it the layout is left as is.
 * (The host applies the same depth rule to matmul's packStrips.)
 */
const PACK_MIN_DEPTH = 192;

/**
 * Packs column strips s0 … s0 + count − 1 of b [K, N] (strip s: columns 8s … 8s + 7) into
 * `panels`: strip s as K rows of 8 floats (zeros past N) at panels + 32·K·s. A row tile then reads
 * its strip from 32·K contiguous bytes, which stay in the L1 cache, instead of K rows N floats
 * apart (at N = 784, 784 cache lines: more than L1 holds). The host packs b once per product
 * (shared by every row chunk and thread) when the product is deep enough for it to pay.
 */
export function packStrips(b: usize, N: i32, K: i32, panels: usize, s0: i32, count: i32): void {
  const ldb = <usize>N << 2;
  for (let s = s0; s < s0 + count; s++) {
    const n = s << 3;
    const cols = n + 8 <= N ? 8 : N - n;
    let src = b + (<usize>n << 2);
    let dst = panels + <usize>s * (<usize>K << 5);
    if (cols == 8) {
      for (let k = 0; k < K; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += ldb;
        dst += 32;
      }
      continue;
    }
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < cols; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
      for (let j = cols; j < 8; j++) store<f32>(dst + (<usize>j << 2), 0);
      src += ldb;
      dst += 32;
    }
  }
}

/**
 * c [M, N] = activation(a [M, K] · b [K, N] + bias [N]); bias 0: none; activation 0: none,
 * 1: sigmoid. `panels`: b packed by packStrips (all strips), or 0 to read b in place. `tile` is
 * the caller's 128 bytes of scratch.
 */
export function matmul(a: usize, b: usize, bias: usize, c: usize, M: i32, K: i32, N: i32, activation: i32, tile: usize, panels: usize): void {
  const lda = <usize>K << 2;
  const ldb = <usize>N << 2;
  const zero = f32x4.splat(0);
  const stride: usize = panels ? 32 : ldb;
  for (let n = 0; n < N; n += 8) {
    const full = n + 8 <= N;
    const cols = full ? 8 : N - n;
    const pbn = panels ? panels + (<usize>(n >> 3)) * (<usize>K << 5) : b + (<usize>n << 2);
    let bv0 = zero;
    let bv1 = zero;
    if (bias) {
      for (let j = 0; j < cols; j++) store<f32>(tile + (<usize>j << 2), load<f32>(bias + ((<usize>(n + j)) << 2)));
      for (let j = cols; j < 8; j++) store<f32>(tile + (<usize>j << 2), 0);
      bv0 = v128.load(tile);
      bv1 = v128.load(tile, 16);
    }
    let m = 0;
    for (; m + 4 <= M; m += 4) {
      let c00 = bv0, c01 = bv1, c10 = bv0, c11 = bv1, c20 = bv0, c21 = bv1, c30 = bv0, c31 = bv1;
      let pa = a + <usize>m * lda;
      let pb = pbn;
      for (let k = 0; k < K; k++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let s = v128.load32_splat(pa);
        c00 = mad(c00, s, b0);
        c01 = mad(c01, s, b1);
        s = v128.load32_splat(pa + lda);
        c10 = mad(c10, s, b0);
        c11 = mad(c11, s, b1);
        s = v128.load32_splat(pa + 2 * lda);
        c20 = mad(c20, s, b0);
        c21 = mad(c21, s, b1);
        s = v128.load32_splat(pa + 3 * lda);
        c30 = mad(c30, s, b0);
        c31 = mad(c31, s, b1);
        pa += 4;
        pb += stride;
      }
      const pc = c + ((<usize>m * <usize>N + <usize>n) << 2);
      const dst = full ? pc : tile;
      const ld: usize = full ? ldb : 32;
      v128.store(dst, activate(c00, activation));
      v128.store(dst, activate(c01, activation), 16);
      v128.store(dst + ld, activate(c10, activation));
      v128.store(dst + ld, activate(c11, activation), 16);
      v128.store(dst + 2 * ld, activate(c20, activation));
      v128.store(dst + 2 * ld, activate(c21, activation), 16);
      v128.store(dst + 3 * ld, activate(c30, activation));
      v128.store(dst + 3 * ld, activate(c31, activation), 16);
      if (!full) storePartial(tile, pc, ldb, 4, cols, false, 1);
    }
    for (; m < M; m++) {
      let c00 = bv0, c01 = bv1;
      let pa = a + <usize>m * lda;
      let pb = pbn;
      for (let k = 0; k < K; k++) {
        const s = v128.load32_splat(pa);
        c00 = mad(c00, s, v128.load(pb));
        c01 = mad(c01, s, v128.load(pb, 16));
        pa += 4;
        pb += stride;
      }
      const pc = c + ((<usize>m * <usize>N + <usize>n) << 2);
      const dst = full ? pc : tile;
      v128.store(dst, activate(c00, activation));
      v128.store(dst, activate(c01, activation), 16);
      if (!full) storePartial(tile, pc, ldb, 1, cols, false, 1);
    }
  }
}

/**
 * Copies a [N, F] (row stride lda bytes) into `panels`: for each block of 4 columns, N rows of 4
 * floats (zeros past F), so that a tile's column block lies in 16·N contiguous bytes.
 */
function packColumnPanels(a: usize, lda: usize, N: i32, F: i32, panels: usize): void {
  let dst = panels;
  for (let f = 0; f < F; f += 4) {
    let src = a + (<usize>f << 2);
    if (f + 4 <= F) {
      for (let n = 0; n < N; n++) {
        v128.store(dst, v128.load(src));
        src += lda;
        dst += 16;
      }
    } else {
      const cols = F - f;
      for (let n = 0; n < N; n++) {
        for (let j = 0; j < 4; j++) store<f32>(dst + (<usize>j << 2), j < cols ? load<f32>(src + (<usize>j << 2)) : 0);
        src += lda;
        dst += 16;
      }
    }
  }
}

/**
 * c [F, K] += alpha · aᵀ b for a [N, F] (row stride aStride floats), b [N, K], c rows of K: the
 * weight gradient Σ_rows gᵀx without a transpose. Tiles of 4 columns of a × 8 columns of b run
 * down all N rows. (aStride ≥ F lets threads take a range of a's columns each.) `tile` is the
 * caller's scratch: 128 bytes, and from N = PACK_MIN_DEPTH rows another 16·N·⌈F/4⌉ bytes where a's
 * columns are packed in blocks of 4 first (read in place, each tile's block would touch N cache
 * lines N·aStride floats apart for 16 bytes each, and push b's strip out of the L1 cache).
 */
export function matmulTransposedAccumulate(a: usize, aStride: i32, b: usize, c: usize, N: i32, F: i32, K: i32, alpha: f32, tile: usize): void {
  const ldb = <usize>K << 2;
  const al = f32x4.splat(alpha);
  const pack = N >= PACK_MIN_DEPTH && F >= 4;
  const panels = tile + 128;
  if (pack) packColumnPanels(a, <usize>aStride << 2, N, F, panels);
  // Packed: the block of columns f starts at panels + 4·N·f bytes and rows are 16 bytes apart.
  const lda: usize = pack ? 16 : <usize>aStride << 2;
  for (let kk = 0; kk < K; kk += 8) {
    const cols = kk + 8 <= K ? 8 : K - kk;
    for (let f = 0; f < F; f += 4) {
      const rows = f + 4 <= F ? 4 : F - f;
      let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
      let pa = pack ? panels + ((<usize>N * <usize>f) << 2) : a + (<usize>f << 2);
      let pb = b + (<usize>kk << 2);
      for (let n = 0; n < N; n++) {
        const b0 = v128.load(pb);
        const b1 = v128.load(pb, 16);
        let s = v128.load32_splat(pa);
        c00 = mad(c00, s, b0);
        c01 = mad(c01, s, b1);
        s = v128.load32_splat(pa, 4);
        c10 = mad(c10, s, b0);
        c11 = mad(c11, s, b1);
        s = v128.load32_splat(pa, 8);
        c20 = mad(c20, s, b0);
        c21 = mad(c21, s, b1);
        s = v128.load32_splat(pa, 12);
        c30 = mad(c30, s, b0);
        c31 = mad(c31, s, b1);
        pa += lda;
        pb += ldb;
      }
      const pc = c + ((<usize>f * <usize>K + <usize>kk) << 2);
      if (rows == 4 && cols == 8) {
        v128.store(pc, mad(v128.load(pc), al, c00));
        v128.store(pc, mad(v128.load(pc, 16), al, c01), 16);
        v128.store(pc + ldb, mad(v128.load(pc + ldb), al, c10));
        v128.store(pc + ldb, mad(v128.load(pc + ldb, 16), al, c11), 16);
        v128.store(pc + 2 * ldb, mad(v128.load(pc + 2 * ldb), al, c20));
        v128.store(pc + 2 * ldb, mad(v128.load(pc + 2 * ldb, 16), al, c21), 16);
        v128.store(pc + 3 * ldb, mad(v128.load(pc + 3 * ldb), al, c30));
        v128.store(pc + 3 * ldb, mad(v128.load(pc + 3 * ldb, 16), al, c31), 16);
      } else {
        v128.store(tile, c00);
        v128.store(tile, c01, 16);
        v128.store(tile, c10, 32);
        v128.store(tile, c11, 48);
        v128.store(tile, c20, 64);
        v128.store(tile, c21, 80);
        v128.store(tile, c30, 96);
        v128.store(tile, c31, 112);
        storePartial(tile, pc, ldb, rows, cols, true, alpha);
      }
    }
  }
}
