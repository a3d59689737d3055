import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { accumulateWeightGradient, kernelThreadStats, matmul, residentArray, residentUse, withKernelThreads } from '../../src/kernels/host-kernels.js';
import { kernelThreadCount, setKernelThreads } from '../../src/kernels/kernel-threads.js';
import { setNativeBlas } from '../../src/kernels/native-blas.js';
import { Rng } from '../../src/util/rng.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const random = (n: number, rng: Rng): Float32Array => Float32Array.from({ length: n }, () => 2 * rng.uniform() - 1);

/** Runs a snippet in a fresh Node process (sources through tsx) with extra environment. */
function runNode(code: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('kernel threads', () => {
  const defaultThreads = kernelThreadCount();
  after(() => setKernelThreads(defaultThreads));

  test('helper threads take chunks of the WebAssembly products, and the results are those of one thread, bit for bit', (t) => {
    setNativeBlas(false); // the native product's threads are checked in native-blas.test.ts
    t.after(() => setNativeBlas(true));
    const rng = new Rng(11);
    const [M, K, N] = [128, 64, 40];
    const a = random(M * K, rng);
    const b = random(K * N, rng);
    const bias = random(N, rng);
    const g = random(M * N, rng);
    setKernelThreads(1);
    const single = matmul(a, M, b, N, bias, 'sigmoid');
    const dw1 = new Float32Array(N * K);
    const db1 = new Float64Array(N);
    accumulateWeightGradient(dw1, db1, g, a, M, 0.5);
    setKernelThreads(2);
    const before = kernelThreadStats().helperChunks;
    const deadline = Date.now() + 10_000;
    // A helper starts in tens of milliseconds; until then this thread runs every chunk itself.
    while (kernelThreadStats().helperChunks === before && Date.now() < deadline) {
      withKernelThreads(() => {
        for (let i = 0; i < 20; i++) assert.deepEqual(matmul(a, M, b, N, bias, 'sigmoid'), single);
      });
    }
    assert.ok(kernelThreadStats().helperChunks > before, 'no chunk ran on the helper thread within 10 s');
    const dw2 = new Float32Array(N * K);
    const db2 = new Float64Array(N);
    withKernelThreads(() => accumulateWeightGradient(dw2, db2, g, a, M, 0.5));
    assert.deepEqual(dw2, dw1);
    assert.deepEqual(db2, db1);
  });

  test('setKernelThreads and PHYSODE_KERNEL_THREADS refuse counts outside 1–16 with a clear message', () => {
    assert.throws(() => setKernelThreads(0), /kernel threads must be an integer from 1 to 16, got 0/);
    assert.throws(() => setKernelThreads(2.5), /from 1 to 16/);
    const r = runNode(
      "const { kernelThreadCount } = await import('./src/kernels/kernel-threads.ts'); try { kernelThreadCount(); } catch (e) { console.log(e.message); }",
      { PHYSODE_KERNEL_THREADS: 'many' },
    );
    assert.match(r.stdout, /PHYSODE_KERNEL_THREADS must be an integer from 1 to 16, got 'many'/);
  });

  test('a process whose kernels ran on 2 threads exits by itself (helpers do not keep it alive)', () => {
    const started = Date.now();
    const r = runNode(
      "const { matmul, withKernelThreads, kernelThreadStats } = await import('./src/kernels/host-kernels.ts'); const a = new Float32Array(128 * 128).fill(1); withKernelThreads(() => { for (let i = 0; i < 300; i++) matmul(a, 128, a, 128, null); }); console.log('done', matmul(a, 128, a, 128, null)[0]);",
      { PHYSODE_KERNEL_THREADS: '2' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /done 128/);
    assert.ok(Date.now() - started < 30_000);
  });
});

describe('resident arrays in the kernels\' memory', () => {
  test('sets released out of order are reclaimed once the sets above them are released', () => {
    const start = residentUse();
    const a = residentArray(4);
    const b = residentArray(2000);
    const grown = residentUse();
    assert.equal(grown.sets, start.sets + 2);
    assert.ok(grown.bytes >= start.bytes + 8016);
    a.set.release(); // below b: kept until b goes
    assert.deepEqual(residentUse(), grown);
    b.set.release();
    assert.deepEqual(residentUse(), start);
    assert.throws(() => matmul(new Float32Array(4), 2, a, 2, null), /used after its set was released/);
  });

  test('a request over the memory limit is a clear error and leaves the memory usable', () => {
    const start = residentUse();
    assert.throws(() => residentArray(300_000_000), /needs \d+ MiB of memory, over the kernels' 1024 MiB/);
    assert.deepEqual(residentUse(), start);
    const x = Float32Array.of(1, 2, 3, 4);
    assert.deepEqual(matmul(x, 2, Float32Array.of(1, 0, 0, 1), 2, null), x);
  });
});
