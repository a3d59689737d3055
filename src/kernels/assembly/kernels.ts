// AssemblyScript, compiled to src/kernels/kernels.wasm by `npm run build:kernels` (WebAssembly SIMD).
//
// The host-side loops of training that TF.js has no single kernel for and that run too slowly as
// JavaScript (measured 9–16 ns per element in V8 for the batch-norm backward, against under 1 ns
// here): batch statistics and the batch-norm / sigmoid backward. Every matrix is row-major float32
// [rows, cols] at a byte address in this module's memory; column sums are float64, as in the
// JavaScript they replace. Pointers are byte offsets; 0 means "absent".

/** Number of columns handled four at a time. */
@inline function vecCols(cols: i32): i32 {
  return cols & ~3;
}

/** Adds the four lanes of v, promoted to float64, to the four float64 at p. */
@inline function addPromoted(p: usize, v: v128): void {
  v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
  v128.store(p + 16, f64x2.add(v128.load(p + 16), f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1))));
}

/** Adds the four lanes of a·b, computed in float64, to the four float64 at p. */
@inline function addProductPromoted(p: usize, a: v128, b: v128): void {
  const lo = f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b));
  const hi = f64x2.mul(f64x2.promote_low_f32x4(f32x4.shuffle(a, a, 2, 3, 0, 1)), f64x2.promote_low_f32x4(f32x4.shuffle(b, b, 2, 3, 0, 1)));
  v128.store(p, f64x2.add(v128.load(p), lo));
  v128.store(p + 16, f64x2.add(v128.load(p + 16), hi));
}

function zeroF64(p: usize, n: i32): void {
  memory.fill(p, 0, <usize>n << 3);
}

/**
 * Per column of z [rows, cols]: mean and biased variance (float64), from sums of d = z − z[0]
 * (the shift keeps Σd² − (Σd)²/n free of cancellation when |mean| ≫ std).
 */
export function columnMoments(z: usize, rows: i32, cols: i32, mean: usize, variance: usize): void {
  zeroF64(mean, cols);
  zeroF64(variance, cols);
  const vec = vecCols(cols);
  for (let i = 1; i < rows; i++) {
    const row = z + ((<usize>i * <usize>cols) << 2);
    let f = 0;
    for (; f < vec; f += 4) {
      // d = z − z₀ in float64 (exact), then float64 sums of d and d²
      const x = v128.load(row + (<usize>f << 2));
      const x0 = v128.load(z + (<usize>f << 2));
      const lo = f64x2.sub(f64x2.promote_low_f32x4(x), f64x2.promote_low_f32x4(x0));
      const hi = f64x2.sub(f64x2.promote_low_f32x4(f32x4.shuffle(x, x, 2, 3, 0, 1)), f64x2.promote_low_f32x4(f32x4.shuffle(x0, x0, 2, 3, 0, 1)));
      const pm = mean + (<usize>f << 3);
      const pv = variance + (<usize>f << 3);
      v128.store(pm, f64x2.add(v128.load(pm), lo));
      v128.store(pm + 16, f64x2.add(v128.load(pm + 16), hi));
      v128.store(pv, f64x2.add(v128.load(pv), f64x2.mul(lo, lo)));
      v128.store(pv + 16, f64x2.add(v128.load(pv + 16), f64x2.mul(hi, hi)));
    }
    for (; f < cols; f++) {
      const d = <f64>load<f32>(row + (<usize>f << 2)) - <f64>load<f32>(z + (<usize>f << 2));
      const pm = mean + (<usize>f << 3);
      const pv = variance + (<usize>f << 3);
      store<f64>(pm, load<f64>(pm) + d);
      store<f64>(pv, load<f64>(pv) + d * d);
    }
  }
  const n = <f64>rows;
  for (let f = 0; f < cols; f++) {
    const pm = mean + (<usize>f << 3);
    const pv = variance + (<usize>f << 3);
    const m = load<f64>(pm) / n;
    store<f64>(pm, <f64>load<f32>(z + (<usize>f << 2)) + m);
    store<f64>(pv, max(0.0, load<f64>(pv) / n - m * m));
  }
}

/**
 * g = gIn ⊙ s ⊙ (1 − s) (a sigmoid's derivative; g = gIn when s is 0), and per column
 * sumG = Σ_rows g and sumGZ = Σ_rows g ⊙ z (float64).
 */
export function sigmoidGradColumnSums(gIn: usize, s: usize, z: usize, g: usize, sumG: usize, sumGZ: usize, rows: i32, cols: i32): void {
  zeroF64(sumG, cols);
  zeroF64(sumGZ, cols);
  const vec = vecCols(cols);
  const one = f32x4.splat(1);
  for (let i = 0; i < rows; i++) {
    const row = (<usize>i * <usize>cols) << 2;
    let f = 0;
    for (; f < vec; f += 4) {
      const k = row + (<usize>f << 2);
      let gi = v128.load(gIn + k);
      if (s) {
        const sv = v128.load(s + k);
        gi = f32x4.mul(f32x4.mul(gi, sv), f32x4.sub(one, sv));
      }
      v128.store(g + k, gi);
      addPromoted(sumG + (<usize>f << 3), gi);
      addProductPromoted(sumGZ + (<usize>f << 3), gi, v128.load(z + k));
    }
    for (; f < cols; f++) {
      const k = row + (<usize>f << 2);
      let gi = load<f32>(gIn + k);
      if (s) {
        const sv = load<f32>(s + k);
        gi = gi * sv * (1 - sv);
      }
      store<f32>(g + k, gi);
      const pg = sumG + (<usize>f << 3);
      store<f64>(pg, load<f64>(pg) + <f64>gi);
      const pz = sumGZ + (<usize>f << 3);
      store<f64>(pz, load<f64>(pz) + <f64>gi * <f64>load<f32>(z + k));
    }
  }
}

/** out[r, f] = g[r, f]·a[f] + z[r, f]·c[f] + d[f] (a, c, d float32 [cols]). */
export function affineRows(g: usize, z: usize, a: usize, c: usize, d: usize, out: usize, rows: i32, cols: i32): void {
  const vec = vecCols(cols);
  for (let i = 0; i < rows; i++) {
    const row = (<usize>i * <usize>cols) << 2;
    let f = 0;
    for (; f < vec; f += 4) {
      const k = row + (<usize>f << 2);
      const p = <usize>f << 2;
      const v = f32x4.add(f32x4.add(f32x4.mul(v128.load(g + k), v128.load(a + p)), f32x4.mul(v128.load(z + k), v128.load(c + p))), v128.load(d + p));
      v128.store(out + k, v);
    }
    for (; f < cols; f++) {
      const k = row + (<usize>f << 2);
      const p = <usize>f << 2;
      store<f32>(out + k, load<f32>(g + k) * load<f32>(a + p) + load<f32>(z + k) * load<f32>(c + p) + load<f32>(d + p));
    }
  }
}

/** out = ga ⊙ s ⊙ (1 − s) over n elements. */
export function sigmoidGrad(ga: usize, s: usize, out: usize, n: i32): void {
  const one = f32x4.splat(1);
  const vec = n & ~3;
  let k = 0;
  for (; k < vec; k += 4) {
    const p = <usize>k << 2;
    const sv = v128.load(s + p);
    v128.store(out + p, f32x4.mul(f32x4.mul(v128.load(ga + p), sv), f32x4.sub(one, sv)));
  }
  for (; k < n; k++) {
    const p = <usize>k << 2;
    const sv = load<f32>(s + p);
    store<f32>(out + p, load<f32>(ga + p) * sv * (1 - sv));
  }
}

export { matmul, matmulTransposedAccumulate, packStrips } from './matmul';
export { affineActivation, affineActivationGrad } from './activation';

/** First byte past this module's static data: the host's arena starts there. */
export function heapBase(): usize {
  return __heap_base;
}

/** sums[f] += scale · Σ_rows g[r, f] (float64) for g [rows, cols]. */
export function addColumnSums(g: usize, rows: i32, cols: i32, scale: f64, sums: usize): void {
  const vec = vecCols(cols);
  const sc = f64x2.splat(scale);
  for (let f = 0; f < vec; f += 4) {
    let lo = f64x2.splat(0);
    let hi = lo;
    for (let i = 0; i < rows; i++) {
      const v = v128.load(g + ((<usize>i * <usize>cols + <usize>f) << 2));
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1)));
    }
    const p = sums + (<usize>f << 3);
    v128.store(p, f64x2.add(v128.load(p), f64x2.mul(lo, sc)));
    v128.store(p + 16, f64x2.add(v128.load(p + 16), f64x2.mul(hi, sc)));
  }
  for (let f = vec; f < cols; f++) {
    let acc = 0.0;
    for (let i = 0; i < rows; i++) acc += <f64>load<f32>(g + ((<usize>i * <usize>cols + <usize>f) << 2));
    const p = sums + (<usize>f << 3);
    store<f64>(p, load<f64>(p) + acc * scale);
  }
}
