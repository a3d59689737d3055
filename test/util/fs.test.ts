import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkWritableFolder } from '../../src/util/fs.js';

test('checking a new folder leaves nothing behind', async () => {
  const root = await mkdtemp(join(tmpdir(), 'physode-fs-'));
  try {
    await checkWritableFolder(join(root, 'a', 'b'), '--out');
    assert.deepEqual(await readdir(root), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a folder that holds another process’s files is never removed by a check', async () => {
  const root = await mkdtemp(join(tmpdir(), 'physode-fs-'));
  try {
    const out = join(root, 'out');
    await mkdir(out);
    await writeFile(join(out, 'other.txt'), 'x');
    await checkWritableFolder(out, '--out');
    assert.deepEqual(await readdir(out), ['other.txt']);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
