import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { batchNormSigmoidBackward, columnMoments, sigmoidGrad } from '../../src/kernels/host-kernels.js';
import { Rng } from '../../src/util/rng.js';

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

describe('WebAssembly host kernels against plain float64 loops', () => {
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
});
