import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { affineActivation, affineActivationGrad, batchNormSigmoidBackward, columnMoments, matmul, sigmoidGrad, accumulateWeightGradient, type KernelActivation } from '../../src/kernels/host-kernels.js';
import { Rng } from '../../src/util/rng.js';
import { kernelThreadCount, setKernelThreads } from '../../src/kernels/kernel-threads.js';
import { nativeBlas, setNativeBlas } from '../../src/kernels/native-blas.js';

// Shapes with and without a multiple of 4 columns (the SIMD body and the scalar tail), one row,
// and the training shapes of the benchmark.
const SHAPES: readonly [number, number][] = [
  [1, 1],
  [2, 3],
  [7, 5],
  [5, 8],
  [3, 130],
  [128, 128],
];

function random(n: number, rng: Rng, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => offset + scale * (2 * rng.uniform() - 1));
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = rel * Math.max(1, Math.abs(want[i]));
    assert.ok(Math.abs(got[i] - want[i]) <= tol, `${what}[${i}]: got ${got[i]}, want ${want[i]} (tolerance ${tol})`);
  }
}

// Every check runs on 1, 2 and 3 kernel threads: the products and the elementwise passes split by
// rows (uneven parts with 3), the weight gradient by columns; results must not depend on it. And
// with the native BLAS (where it loads: ../../src/kernels/native-blas.ts) and without: the larger
// products of these checks go to it when it is on.
const defaultThreads = kernelThreadCount();
const paths = nativeBlas() ? [true, false] : [false];
for (const blas of paths) for (const threads of [1, 2, 3]) describe(`host kernels against plain float64 loops, ${threads} kernel thread${threads > 1 ? 's' : ''}, ${blas ? 'native BLAS' : 'WebAssembly'} products`, () => {
  before(() => {
    setKernelThreads(threads);
    setNativeBlas(blas);
  });
  after(() => {
    setKernelThreads(defaultThreads);
    setNativeBlas(true);
  });
  test('columnMoments: two-pass mean and biased variance, also when |mean| ≫ std', () => {
    const rng = new Rng(1);
    for (const [rows, cols] of SHAPES) {
      for (const offset of [0, 1e4]) {
        const z = random(rows * cols, rng, 1, offset);
        const { mean, variance } = columnMoments(z, rows, cols);
        const wantMean = new Float64Array(cols);
        const wantVar = new Float64Array(cols);
        for (let f = 0; f < cols; f++) {
          for (let r = 0; r < rows; r++) wantMean[f] += z[r * cols + f] / rows;
          for (let r = 0; r < rows; r++) wantVar[f] += (z[r * cols + f] - wantMean[f]) ** 2 / rows;
        }
        assertClose(mean, wantMean, 1e-12, `mean ${rows}x${cols}+${offset}`);
        // Float64 sums of float32 data: the variance is exact to float64 round-off relative to
        // offset² (no cancellation at float32 precision, which would give errors near 1).
        assertClose(variance, wantVar, 1e-9, `variance ${rows}x${cols}+${offset}`);
      }
    }
  });

  test('batchNormSigmoidBackward: sums of g = gIn·s(1 − s) and g·z, then g·a + z·c + d', () => {
    const rng = new Rng(2);
    for (const [rows, cols] of SHAPES) {
      for (const withSigmoid of [true, false]) {
        const n = rows * cols;
        const gIn = random(n, rng);
        const s = withSigmoid ? Float32Array.from(random(n, rng), (v) => 0.5 + 0.5 * v) : null;
        const z = random(n, rng, 3);
        const a = random(cols, rng);
        const c = random(cols, rng);
        const d = random(cols, rng);
        const seen: { sumG: Float64Array; sumGZ: Float64Array }[] = [];
        const out = batchNormSigmoidBackward(gIn, s, z, rows, cols, (sumG, sumGZ) => {
          seen.push({ sumG: sumG.slice(), sumGZ: sumGZ.slice() });
          return { a, c, d };
        });
        const g = Float64Array.from(gIn, (v, i) => (s ? v * s[i] * (1 - s[i]) : v));
        const sumG = new Float64Array(cols);
        const sumGZ = new Float64Array(cols);
        const dz = new Float64Array(n);
        for (let r = 0; r < rows; r++) {
          for (let f = 0; f < cols; f++) {
            const i = r * cols + f;
            sumG[f] += g[i];
            sumGZ[f] += g[i] * z[i];
            dz[i] = g[i] * a[f] + z[i] * c[f] + d[f];
          }
        }
        const what = `${rows}x${cols}${withSigmoid ? ' sigmoid' : ''}`;
        assert.equal(seen.length, 1, 'the coefficients callback ran once');
        assertClose(seen[0].sumG, sumG, 1e-5, `sumG ${what}`);
        assertClose(seen[0].sumGZ, sumGZ, 1e-5, `sumGZ ${what}`);
        assertClose(out.sumG, sumG, 1e-5, `returned sumG ${what}`);
        assertClose(out.dz, dz, 1e-5, `dz ${what}`);
      }
    }
  });

  test('sigmoidGrad: ga·s(1 − s) elementwise', () => {
    const rng = new Rng(3);
    for (const n of [1, 3, 4, 17, 4096]) {
      const ga = random(n, rng);
      const s = Float32Array.from(random(n, rng), (v) => 0.5 + 0.5 * v);
      assertClose(sigmoidGrad(ga, s), Float64Array.from(ga, (v, i) => v * s[i] * (1 - s[i])), 1e-6, `n = ${n}`);
    }
  });

  test('results are fresh arrays: a later call does not change them', () => {
    const a = sigmoidGrad(Float32Array.of(1, 2), Float32Array.of(0.5, 0.5));
    sigmoidGrad(Float32Array.of(9, 9), Float32Array.of(0.1, 0.1));
    assert.deepEqual([...a], [0.25, 0.5]);
  });

  test('large inputs grow the memory', () => {
    const rows = 2048;
    const cols = 512; // 4 MiB per matrix, several of them: beyond the initial 1 MiB
    const z = new Float32Array(rows * cols).fill(2);
    const { mean, variance } = columnMoments(z, rows, cols);
    assert.ok(mean.every((v) => v === 2) && variance.every((v) => v === 0));
  });

  // Products: rows and columns around the 4 × 8 register tile (full tiles, tails, a single row or
  // column, K = 1), the benchmark's layer shapes, and depths K ≥ 192 where b's column strips are
  // packed first (tail strips of 5 and 4 columns; at 256 × 260 the packing itself is shared out
  // among the kernel threads).
  const PRODUCTS: readonly [M: number, K: number, N: number][] = [
    [1, 1, 1],
    [3, 2, 5],
    [4, 7, 8],
    [5, 3, 9],
    [9, 13, 17],
    [32, 2, 64],
    [32, 64, 2],
    [128, 18, 128],
    [128, 128, 18],
    [37, 200, 29],
    [70, 256, 16],
    [20, 256, 260],
  ];

  test('matmul: a·b + bias, then sigmoid, against float64 loops and Math.exp', () => {
    const rng = new Rng(4);
    for (const [M, K, N] of PRODUCTS) {
      const a = random(M * K, rng, 2);
      const b = random(K * N, rng, 2);
      const bias = random(N, rng);
      const want = new Float64Array(M * N);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let acc = bias[j];
          for (let q = 0; q < K; q++) acc += a[i * K + q] * b[q * N + j];
          want[i * N + j] = acc;
        }
      }
      // float32 sums of K products: relative error up to ~K·2⁻²⁴ of the sum of magnitudes (≤ 4K + 1)
      const tol = 4 * K * 2 ** -24 * (4 * K + 1);
      assertClose(matmul(a, M, b, N, bias), want, tol, `matmul ${M}x${K}x${N}`);
      const noBias = Float64Array.from(want, (v, i) => v - bias[i % N]);
      assertClose(matmul(a, M, b, N, null), noBias, tol, `matmul ${M}x${K}x${N} without bias`);
      const sig = Float64Array.from(want, (v) => 1 / (1 + Math.exp(-v)));
      assertClose(matmul(a, M, b, N, bias, 'sigmoid'), sig, tol + 4e-7, `sigmoid(matmul) ${M}x${K}x${N}`);
    }
  });

  // Reference activations and derivatives in float64 (Math.exp, Math.log1p).
  const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));
  const REFERENCE = {
    sigmoid: { f: sigmoid, df: (x: number) => sigmoid(x) * (1 - sigmoid(x)) },
    softplus: { f: (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), df: sigmoid },
    silu: { f: (x: number) => x * sigmoid(x), df: (x: number) => sigmoid(x) * (1 + x * (1 - sigmoid(x))) },
  } as const;

  test('affineActivation: sigmoid, softplus and SiLU accurate to a few float32 roundings over [−100, 100], no NaN or overflow', () => {
    const cols = 7;
    const rows = 2001;
    const xs = Float32Array.from({ length: rows * cols }, (_, i) => -100 + (200 * Math.floor(i / cols)) / 2000 + 0.013 * (i % cols));
    for (const [name, ref] of Object.entries(REFERENCE)) {
      const got = affineActivation(xs, rows, cols, name as KernelActivation, null);
      for (let i = 0; i < xs.length; i++) {
        const want = ref.f(xs[i]);
        // exp's argument is clamped at ±87: below −87 sigmoid stays at ≈ 1.6e−38
        const tol = 4e-7 * Math.abs(want) + 1.7e-38 + (name === 'sigmoid' ? 0 : 2e-7);
        assert.ok(Math.abs(got[i] - want) <= tol, `${name}(${xs[i]}): got ${got[i]}, want ${want}`);
      }
    }
  });

  test('affineActivation and affineActivationGrad with a per-column affine map, against float64', () => {
    const rng = new Rng(5);
    for (const [rows, cols] of [[5, 7], [33, 130]] as const) {
      const z = random(rows * cols, rng, 3);
      const ga = random(rows * cols, rng);
      const affine = { scale: random(cols, rng, 2), shift: random(cols, rng) };
      for (const [name, ref] of Object.entries(REFERENCE)) {
        const n = (i: number) => z[i] * affine.scale[i % cols] + affine.shift[i % cols];
        const act = name as KernelActivation;
        assertClose(affineActivation(z, rows, cols, act, affine), Float64Array.from(z, (_, i) => ref.f(n(i))), 1e-6, `${name} ${rows}x${cols}`);
        assertClose(affineActivationGrad(ga, z, rows, cols, act, affine), Float64Array.from(z, (_, i) => ga[i] * ref.df(n(i))), 1e-6, `${name}' ${rows}x${cols}`);
        assertClose(affineActivationGrad(ga, z, rows, cols, act, null), Float64Array.from(z, (v, i) => ga[i] * ref.df(v)), 1e-6, `${name}' ${rows}x${cols}, no affine`);
      }
    }
  });

  test('accumulateWeightGradient: Σ scale·gᵀx and Σ scale·Σ_rows g over terms of different sizes (64 rows: split by columns; 200 rows: g packed in column blocks)', () => {
    const rng = new Rng(6);
    for (const [F, K] of [[1, 1], [5, 3], [4, 8], [18, 128], [128, 18], [13, 21], [30, 13]] as const) {
      const terms = [3, 1, 64, 5, 200].map((rows, i) => ({ g: random(rows * F, rng), x: random(rows * K, rng), rows, scale: [1, -0.5, 2, 0.25, 0.5][i] }));
      const dw = new Float64Array(F * K);
      const db = new Float64Array(F);
      for (const t of terms) {
        for (let r = 0; r < t.rows; r++) {
          for (let f = 0; f < F; f++) {
            db[f] += t.scale * t.g[r * F + f];
            for (let q = 0; q < K; q++) dw[f * K + q] += t.scale * t.g[r * F + f] * t.x[r * K + q];
          }
        }
      }
      const got = { dw: new Float32Array(F * K), db: new Float64Array(F) };
      for (const t of terms) accumulateWeightGradient(got.dw, got.db, t.g, t.x, t.rows, t.scale);
      assertClose(got.dw, dw, 1e-5, `dw ${F}x${K}`);
      assertClose(got.db, db, 1e-12, `db ${F}`);
    }
  });
});
