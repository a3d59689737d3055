import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/util/atomic.js';

test('writeFileAtomic replaces a file whole and leaves no temporary files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'physode-atomic-'));
  try {
    const path = join(dir, 'nested', 'file.json');
    await writeFileAtomic(path, 'first');
    await writeFileAtomic(path, new Uint8Array([104, 105]));
    assert.equal(await readFile(path, 'utf8'), 'hi');
    assert.deepEqual(await readdir(join(dir, 'nested')), ['file.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
