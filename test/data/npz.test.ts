import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, decodeNpz, encodeNpz } from '../../src/data/npz.js';
import { CorruptFileError } from '../../src/util/errors.js';

const numpyWorks = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

describe('npz codec', () => {
  test('CRC-32 of "123456789" is 0xCBF43926 (the standard check value)', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  });

  test('round-trips float64, float32 and int32 arrays with their shapes', () => {
    const entries = {
      a: { dtype: 'float64' as const, shape: [2, 3], data: Float64Array.of(1, -2.5, 3e300, Math.PI, 0, -0) },
      b: { dtype: 'float32' as const, shape: [1], data: Float32Array.of(0.5) },
      c: { dtype: 'int32' as const, shape: [4], data: Int32Array.of(-1, 0, 2 ** 31 - 1, 7) },
    };
    const out = decodeNpz(encodeNpz(entries), 'x.npz');
    for (const [k, v] of Object.entries(entries)) {
      assert.equal(out[k].dtype, v.dtype);
      assert.deepEqual(out[k].shape, v.shape);
      assert.deepEqual(Array.from(out[k].data), Array.from(v.data));
    }
  });

  test('a flipped byte, a truncation and a non-zip file each give CorruptFileError naming the file', () => {
    const bytes = encodeNpz({ t: { dtype: 'float64', shape: [8], data: new Float64Array(8).fill(1) } });
    const flipped = bytes.slice();
    flipped[200] ^= 0xff;
    assert.throws(() => decodeNpz(flipped, 'f.npz'), (e: unknown) => e instanceof CorruptFileError && /f\.npz: .*CRC-32 mismatch/.test(e.message));
    assert.throws(() => decodeNpz(bytes.subarray(0, bytes.length - 40), 'cut.npz'), (e: unknown) => e instanceof CorruptFileError && /cut\.npz: .*(truncated|central directory)/.test(e.message));
    assert.throws(() => decodeNpz(new TextEncoder().encode('hello, this is not a zip archive at all'), 'txt.npz'), (e: unknown) => e instanceof CorruptFileError && /txt\.npz/.test(e.message));
  });

  test('numpy reads our npz and we read numpy.savez output', { skip: numpyWorks ? false : 'SKIPPED: python3 with numpy is not available (python3 -c "import numpy" failed)' }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'physode-npz-'));
    try {
      const ours = join(dir, 'ours.npz');
      writeFileSync(ours, encodeNpz({ y: { dtype: 'float64', shape: [2, 2], data: Float64Array.of(1, 2, 3, 4.5) }, index: { dtype: 'int32', shape: [2], data: Int32Array.of(5, 6) } }));
      const seen = execFileSync('python3', ['-c', `import numpy as np, json; d = np.load(${JSON.stringify(ours)}); print(json.dumps({k: [str(d[k].dtype), list(d[k].shape), d[k].ravel().tolist()] for k in d.files}))`], { encoding: 'utf8' });
      assert.deepEqual(JSON.parse(seen), { y: ['float64', [2, 2], [1, 2, 3, 4.5]], index: ['int32', [2], [5, 6]] });
      const theirs = join(dir, 'theirs.npz');
      execFileSync('python3', ['-c', `import numpy as np; np.savez(${JSON.stringify(theirs)}, a=np.arange(6.0).reshape(3, 2), b=np.array([1, -2], dtype=np.int32), c=np.ones(3, dtype=np.float32))`]);
      const read = decodeNpz(readFileSync(theirs), 'theirs.npz');
      assert.deepEqual(read.a.shape, [3, 2]);
      assert.deepEqual(Array.from(read.a.data), [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(Array.from(read.b.data), [1, -2]);
      assert.equal(read.c.dtype, 'float32');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
