/**
 * The optional native product (src/kernels/native-blas.ts, src/kernels/native/blas.c): the
 * addon's sgemm against float64 loops for every transpose, stride, alpha/beta and bias case; its
 * refusal of extents outside the view (the memory is left as it was); the host kernels handing
 * large products to it, on 1–3 kernel threads; and the fallback to the WebAssembly kernels when
 * no library can be opened. Without the addon or a BLAS library the numeric checks are skipped,
 * unless PHYSODE_REQUIRE_BLAS=1 (set by .ci/run, which installs OpenBLAS): then they must run.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { accumulateWeightGradient, kernelThreadStats, matmul, nativeProductCount, withKernelThreads } from '../../src/kernels/host-kernels.js';
import { KernelThreads, kernelThreadCount, setKernelThreads } from '../../src/kernels/kernel-threads.js';
import { kernelModule } from '../../src/kernels/kernel-module.js';
import { nativeBlas, nativeBlasStatus, setNativeBlas, type SgemmArgs } from '../../src/kernels/native-blas.js';
import { Rng } from '../../src/util/rng.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const blas = nativeBlas();
const skip = blas ? false : `no native BLAS here (${nativeBlasStatus()})`;

test('the native BLAS is present where the environment requires it', () => {
  if (process.env.PHYSODE_REQUIRE_BLAS === '1') assert.ok(blas, `PHYSODE_REQUIRE_BLAS=1 but ${nativeBlasStatus()}`);
  assert.match(nativeBlasStatus(), blas ? /^native BLAS: .+\(.+\)/ : /^WebAssembly SIMD \(native BLAS not used: .+\)$/);
});

/** Row-major stored matrix: rows × cols at offset off with row stride ld. */
interface Stored {
  off: number;
  rows: number;
  cols: number;
  ld: number;
}
const at = (v: Float32Array, m: Stored, i: number, j: number): number => v[m.off + i * m.ld + j];

describe('the addon\'s sgemm against float64 loops', { skip }, () => {
  const rng = new Rng(21);
  const CASES = [
    // M, N, K, transA, transB, alpha, beta, padding of the row strides, bias
    [3, 5, 4, 0, 0, 1, 0, 0, false],
    [3, 5, 4, 1, 0, 0.5, 0, 2, false],
    [3, 5, 4, 0, 1, -1, 1, 1, false],
    [7, 2, 9, 1, 1, 2, 0.25, 3, false],
    [6, 11, 8, 0, 0, 1, 0, 0, true],
    [6, 11, 8, 1, 0, 1, 0.5, 1, true], // a bias replaces c and beta
    [33, 40, 70, 0, 1, 1, 0, 5, false],
    [4, 3, 0, 0, 0, 1, 0.5, 0, false], // K = 0: c = beta·c
    [4, 3, 0, 0, 0, 1, 0, 0, true], // K = 0 with a bias: c = bias
  ] as const;
  for (const [M, N, K, tA, tB, alpha, beta, pad, withBias] of CASES) {
    test(`${M}×${K} · ${K}×${N}${tA ? ', aᵀ' : ''}${tB ? ', bᵀ' : ''}, alpha ${alpha}, beta ${beta}${pad ? `, strides +${pad}` : ''}${withBias ? ', bias' : ''}`, () => {
      // BLAS's rule: a row stride is at least 1, also for a matrix with no columns (K = 0).
      const a: Stored = { off: 3, rows: tA ? K : M, cols: tA ? M : K, ld: Math.max(1, (tA ? M : K) + pad) };
      const b: Stored = { off: a.off + a.rows * a.ld + 1, rows: tB ? N : K, cols: tB ? K : N, ld: Math.max(1, (tB ? K : N) + pad) };
      const c: Stored = { off: b.off + b.rows * b.ld + 2, rows: M, cols: N, ld: N + pad };
      const bias = c.off + c.rows * c.ld;
      const view = Float32Array.from({ length: bias + N + 5 }, () => 2 * rng.uniform() - 1);
      const before = view.slice();
      const want = new Float64Array(M * N);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let acc = 0;
          for (let q = 0; q < K; q++) acc += (tA ? at(before, a, q, i) : at(before, a, i, q)) * (tB ? at(before, b, j, q) : at(before, b, q, j));
          want[i * N + j] = withBias ? before[bias + j] + alpha * acc : alpha * acc + beta * at(before, c, i, j);
        }
      }
      blas!.sgemm(view, tA, tB, M, N, K, alpha, a.off, a.ld, b.off, b.ld, beta, c.off, c.ld, withBias ? bias : -1);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          const got = at(view, c, i, j);
          assert.ok(Math.abs(got - want[i * N + j]) <= 1e-5 * (1 + K), `c[${i}, ${j}]: got ${got}, want ${want[i * N + j]}`);
        }
      }
      // Nothing outside c's rows × cols changed (the stride padding and everything else).
      for (let p = 0; p < view.length; p++) {
        const inC = p >= c.off && p < c.off + M * c.ld && (p - c.off) % c.ld < N;
        if (!inC) assert.equal(view[p], before[p], `float ${p} outside c changed`);
      }
    });
  }

  test('extents outside the view, bad strides and bad numbers are refused before the library is called, and the memory is unchanged', () => {
    const view = Float32Array.from({ length: 64 }, (_, i) => i);
    const before = view.slice();
    const good: SgemmArgs = [0, 0, 2, 2, 2, 1, 0, 2, 4, 2, 0, 8, 2, -1];
    const bad: [string, SgemmArgs, RegExp][] = [
      ['a past the end', [0, 0, 2, 2, 2, 1, 63, 2, 4, 2, 0, 8, 2, -1], /matrix a does not fit/],
      ['b past the end', [0, 0, 2, 2, 2, 1, 0, 2, 62, 2, 0, 8, 2, -1], /matrix b does not fit/],
      ['c past the end', [0, 0, 2, 2, 2, 1, 0, 2, 4, 2, 0, 63, 2, -1], /matrix c does not fit/],
      ['bias past the end', [0, 0, 2, 2, 2, 1, 0, 2, 4, 2, 0, 8, 2, 63], /bias does not fit/],
      ['row stride below the columns', [0, 0, 2, 2, 2, 1, 0, 1, 4, 2, 0, 8, 2, -1], /matrix a does not fit/],
      ['transposed a read with the wrong stride', [1, 0, 3, 2, 2, 1, 0, 2, 4, 2, 0, 8, 2, -1], /matrix a does not fit/],
      ['a negative size', [0, 0, -2, 2, 2, 1, 0, 2, 4, 2, 0, 8, 2, -1], /integers from 0/],
      ['a fractional offset', [0, 0, 2, 2, 2, 1, 0.5, 2, 4, 2, 0, 8, 2, -1], /integers from 0/],
      ['NaN', [0, 0, 2, 2, NaN, 1, 0, 2, 4, 2, 0, 8, 2, -1], /integers from 0/],
      ['a size past 2^31', [0, 0, 2 ** 31, 2, 2, 1, 0, 2, 4, 2, 0, 8, 2, -1], /integers from 0/],
    ];
    for (const [what, args, message] of bad) {
      assert.throws(() => blas!.sgemm(view, ...args), (e: Error) => e instanceof RangeError && message.test(e.message), what);
      assert.deepEqual(view, before, `${what}: the memory changed`);
    }
    assert.throws(() => blas!.sgemm(new Float64Array(64) as unknown as Float32Array, ...good), /Float32Array/);
    assert.throws(() => (blas!.sgemm as (...a: unknown[]) => void)(view, 0, 0, 2), /15 arguments/);
    blas!.sgemm(view, ...good); // and the same call in range works
    assert.deepEqual(Array.from(view.slice(8, 12)), [0 * 4 + 1 * 6, 0 * 5 + 1 * 7, 2 * 4 + 3 * 6, 2 * 5 + 3 * 7]);
  });
});

describe('host kernels hand large products to the native BLAS', { skip }, () => {
  const defaultThreads = kernelThreadCount();
  after(() => {
    setKernelThreads(defaultThreads);
    setNativeBlas(true);
  });
  const rng = new Rng(22);
  const random = (n: number): Float32Array => Float32Array.from({ length: n }, () => 2 * rng.uniform() - 1);
  // The W5 field's shape, scaled down: deep enough for the native path on every thread count.
  const [M, K, N] = [96, 160, 136];
  const a = random(M * K);
  const b = random(K * N);
  const bias = random(N);
  const g = random(M * N);

  test('products and weight gradients on 1, 2 and 3 kernel threads agree with the WebAssembly kernels; helpers run native chunks', () => {
    setNativeBlas(false);
    setKernelThreads(1);
    const wantY = matmul(a, M, b, N, bias, 'sigmoid');
    const wantDw = new Float32Array(N * K);
    const wantDb = new Float64Array(N);
    accumulateWeightGradient(wantDw, wantDb, g, a, M, 0.5);
    setNativeBlas(true);
    for (const threads of [1, 2, 3]) {
      setKernelThreads(threads);
      matmul(a, M, b, N, bias, 'sigmoid'); // starts this thread count's helpers (and their counts)
      const count = nativeProductCount();
      const helpers = kernelThreadStats().helperChunks;
      const deadline = Date.now() + 10_000;
      do {
        withKernelThreads(() => {
          for (let i = 0; i < 10; i++) {
            const y = matmul(a, M, b, N, bias, 'sigmoid');
            for (let j = 0; j < y.length; j++) assert.ok(Math.abs(y[j] - wantY[j]) <= 2e-6, `${threads} threads: y[${j}] ${y[j]} against ${wantY[j]}`);
          }
        });
      } while (threads > 1 && kernelThreadStats().helperChunks === helpers && Date.now() < deadline); // helpers start in tens of ms
      assert.ok(nativeProductCount() >= count + 10, 'the products did not go to the native BLAS');
      if (threads > 1) assert.ok(kernelThreadStats().helperChunks > helpers, `${threads} threads: no native chunk ran on a helper thread within 10 s`);
      const dw = new Float32Array(N * K);
      const db = new Float64Array(N);
      withKernelThreads(() => accumulateWeightGradient(dw, db, g, a, M, 0.5));
      for (let j = 0; j < dw.length; j++) assert.ok(Math.abs(dw[j] - wantDw[j]) <= 1e-5, `${threads} threads: dw[${j}] ${dw[j]} against ${wantDw[j]}`);
      assert.deepEqual(db, wantDb);
    }
  });

  test('small and shallow products stay in the WebAssembly kernels', () => {
    setKernelThreads(1);
    const count = nativeProductCount();
    matmul(random(32 * 64), 32, random(64 * 64), 64, null); // 131,072 multiply–adds
    matmul(random(128 * 18), 128, random(18 * 128), 128, null); // depth 18
    assert.equal(nativeProductCount(), count);
  });
});

describe('native chunks on kernel threads', { skip }, () => {
  test('a chunk the addon refuses fails the job with a clear error; the threads stay usable; threads without the addon refuse native jobs before posting them', () => {
    const m = kernelModule();
    const pool = new KernelThreads(m.module, m.memory, 2, blas!.addonPath);
    const bare = new KernelThreads(m.module, m.memory, 2, null);
    after(() => {
      pool.close();
      bare.close();
    });
    const view = () => new Float32Array(m.memory.buffer);
    const fns = { sgemm: (...a: number[]) => blas!.sgemm(view(), ...(a as SgemmArgs)) };
    const set = m.allocPinned([4, 4, 8]);
    const [a, b, c] = set.arrays.map((x) => x.address >> 2);
    view().set([1, 2, 3, 4], a);
    view().set([5, 6, 7, 8], b);
    const row = (r: number): SgemmArgs => [0, 0, 1, 2, 2, 1, a + 2 * r, 2, b, 2, 0, c + 2 * r, 2, -1];
    const outside: SgemmArgs = [0, 0, 1, 2, 2, 1, a, 2, b, 2, 0, view().length - 1, 2, -1];
    assert.throws(() => pool.run(fns, 'sgemm', [row(0), outside, row(1), outside]), /the sgemm kernel failed on a kernel thread/);
    pool.run(fns, 'sgemm', [row(0), row(1)]);
    assert.deepEqual(Array.from(view().slice(c, c + 4)), [19, 22, 43, 50]);
    assert.throws(() => bare.run(fns, 'sgemm', [row(0), row(1)]), /started without the native product/);
    assert.throws(() => bare.run(m.fn, 'sgemm', [row(0)]), /no kernel 'sgemm' to run/);
    set.release();
  });
});

/** nativeBlasStatus() in a fresh process with this PHYSODE_BLAS. */
function statusWith(value: string): string {
  const code = "const { nativeBlasStatus } = await import('./src/kernels/native-blas.ts'); const { matmul } = await import('./src/kernels/host-kernels.ts'); const a = new Float32Array(128 * 128).fill(1); console.log(nativeBlasStatus()); console.log('product', matmul(a, 128, a, 128, null)[0]);";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, env: { ...process.env, PHYSODE_BLAS: value }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('PHYSODE_BLAS', () => {
  test("'off' and a library that cannot be opened fall back to the WebAssembly kernels and say why", () => {
    assert.match(statusWith('off'), /^WebAssembly SIMD \(native BLAS not used: PHYSODE_BLAS=off\)\nproduct 128\n$/);
    const missing = statusWith('/nonexistent/libopenblas.so.0');
    assert.match(missing, /^WebAssembly SIMD \(native BLAS not used: .*\)\nproduct 128\n$/);
    if (blas) assert.match(missing, /PHYSODE_BLAS=\/nonexistent\/libopenblas\.so\.0 cannot be used/);
  });
});
