/**
 * The native addon's build (src/kernels/native/build.mjs), run on a copy of its folder so the
 * project's own addon is untouched: it builds where node-gyp and a compiler are present, and
 * where they cannot work (here: no Python for node-gyp) it exits 0 with the reason and leaves no
 * addon behind, so that `npm install` succeeds and the WebAssembly kernels take every product.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../../src/kernels/native/', import.meta.url));
const nodeGyp = join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const skip = existsSync(nodeGyp) || process.env.npm_config_node_gyp ? false : `npm's node-gyp not found at ${nodeGyp}`;

/** A copy of src/kernels/native under a fresh folder; returns the folder and the addon's path there. */
function copyOfNative(): { root: string; addon: string; script: string } {
  const root = mkdtempSync(join(tmpdir(), 'physode-native-'));
  const dir = join(root, 'src', 'kernels', 'native');
  mkdirSync(dir, { recursive: true });
  for (const f of ['blas.c', 'binding.gyp', 'build.mjs']) copyFileSync(join(source, f), join(dir, f));
  return { root, addon: join(root, 'src', 'kernels', 'physode-blas.node'), script: join(dir, 'build.mjs') };
}

const run = (script: string, env: Record<string, string>) =>
  spawnSync(process.execPath, [script, '--force'], { encoding: 'utf8', env: { ...process.env, PHYSODE_BLAS: '', ...env }, timeout: 120_000 });

test('builds the addon, and without a working node-gyp exits 0 with the reason and no addon', { skip }, () => {
  const { root, addon, script } = copyOfNative();
  try {
    const built = run(script, {});
    assert.equal(built.status, 0, built.stderr);
    if (/not built/.test(built.stdout)) {
      // No compiler here: the build says why, and that is all the rest can check.
      assert.match(built.stdout, /native BLAS addon: not built \(node-gyp failed: .+\); the WebAssembly kernels run every matrix product/);
      return;
    }
    assert.match(built.stdout, /native BLAS addon: built/);
    assert.ok(existsSync(addon));
    // node-gyp needs Python: with a PATH that has none, the build fails, and says so.
    const failed = run(script, { PATH: join(root, 'no-such-bin') });
    assert.equal(failed.status, 0, failed.stderr);
    assert.match(failed.stdout, /native BLAS addon: not built \(node-gyp failed: .*Python.*\)/);
    assert.ok(!existsSync(addon), 'a failed build left the older addon in place');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
