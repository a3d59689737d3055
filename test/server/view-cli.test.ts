/**
 * `physode view` refuses a --datasets folder that does not exist: one line on stderr, exit code 2
 * (a usage error), and no server started.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function physode(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('view --datasets MISSING: one line, exit code 2, nothing served', { timeout: 60_000 }, async () => {
  const root = await mkdtemp(join(tmpdir(), 'physode-view-cli-'));
  try {
    await writeFile(join(root, 'a-file'), 'x');
    for (const folder of [join(root, 'nope'), join(root, 'a-file')]) {
      const r = await physode(['view', '--datasets', folder, '--runs', root, '--port', '0'], 30_000);
      assert.equal(r.code, 2, `exit ${r.code}; stdout ${r.stdout}; stderr ${r.stderr}`);
      assert.equal(r.stdout, '', 'no "serving" line');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /--datasets folder '.*' does not exist/);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
