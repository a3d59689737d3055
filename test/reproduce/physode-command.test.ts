import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { runChild } from '../../src/reproduce/child-process.js';
import { physodeCommand } from '../../src/reproduce/physode-command.js';

test('under tsx the resolver starts src/cli/run.ts with a TypeScript loader, and the child answers --version', async () => {
  const cmd = physodeCommand();
  assert.equal(cmd.file, process.execPath);
  assert.match(cmd.args[cmd.args.length - 1], /src\/cli\/run\.ts$/);
  assert.ok(cmd.args.some((a) => a.includes('tsx')));
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const result = await runChild(cmd.file, [...cmd.args, '--version'], { timeoutSeconds: 60 });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.trim(), pkg.version);
});

test('an unknown command exits non-zero through run.ts (exit code carried to the process), from any working directory', async () => {
  const cmd = physodeCommand();
  const result = await runChild(cmd.file, [...cmd.args, 'no-such-command'], { timeoutSeconds: 60, cwd: tmpdir() });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command/);
});

test('debugger and test-runner flags of the parent are not passed on', () => {
  const cmd = physodeCommand(['--inspect=9229', '--import', 'tsx', '--test-reporter=spec']);
  assert.equal(cmd.args[0], '--import');
  // The bare name is resolved to tsx's own file, so a child in any working directory finds it.
  assert.match(cmd.args[1], /^file:\/\/.*node_modules\/tsx\//);
  assert.ok(!cmd.args.some((a) => a.startsWith('--inspect') || a.startsWith('--test')));
});
