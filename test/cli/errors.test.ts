/**
 * How main() reports what a command throws: one line each for PhysodeError (message and hint), a
 * file-system error (the path and what went wrong) and anything else (an unexpected error with a hint
 * to report it, and its stack only with PHYSODE_DEBUG=1).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describeError } from '../../src/cli/main.js';
import { physodeWith } from './capture.js';
import { UsageError } from '../../src/cli/options.js';
import { CorruptFileError, InvalidArgumentError } from '../../src/util/errors.js';

async function mainWithBrokenStdout(argv: string[], failWith: unknown): Promise<{ code: number; stderr: string }> {
  const r = await physodeWith(argv, { stdoutFails: failWith });
  return { code: r.code, stderr: r.stderr };
}

describe('describeError', () => {
  test('a PhysodeError is its message and hint on one line, exit code 1; a UsageError exits 2', () => {
    assert.deepEqual(describeError(new InvalidArgumentError('--lr must be a number', 'e.g. --lr 3e-3')), { line: '--lr must be a number; hint: e.g. --lr 3e-3', code: 1, unexpected: false });
    assert.equal(describeError(new UsageError('unexpected argument', 'see --help')).code, 2);
    const multi = describeError(new CorruptFileError('m.json', 'line one\n  line two', 'fix it'));
    assert.equal(multi.line, 'm.json: line one line two; hint: fix it');
  });

  test('a file-system error names the path and the problem', () => {
    const e = Object.assign(new Error("ENOTDIR: not a directory, open 'a/b'"), { code: 'ENOTDIR', syscall: 'open', path: 'a/b' });
    const r = describeError(e);
    assert.equal(r.code, 1);
    assert.equal(r.unexpected, false);
    assert.match(r.line, /^cannot open a\/b: a file stands where a folder is expected; hint: /);
  });

  test('anything else is an unexpected error with a hint to report it', () => {
    const r = describeError(new TypeError("Cannot read properties of undefined (reading 'toFixed')"));
    assert.equal(r.unexpected, true);
    assert.equal(r.code, 1);
    assert.match(r.line, /^unexpected error \(TypeError: Cannot read properties .*\); hint: this is a physode bug, please report it .*PHYSODE_DEBUG=1/);
    assert.ok(!r.line.includes('\n'));
  });

  test('a long message is bounded', () => {
    assert.ok(describeError(new InvalidArgumentError('x'.repeat(10_000))).line.length <= 500);
  });
});

describe('main', () => {
  test('an unexpected error is one line without a stack trace', async () => {
    const saved = process.env.PHYSODE_DEBUG;
    delete process.env.PHYSODE_DEBUG;
    try {
      const r = await mainWithBrokenStdout(['--version'], new TypeError('boom'));
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^physode --version: unexpected error \(TypeError: boom\); hint: .*report/);
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    } finally {
      if (saved !== undefined) process.env.PHYSODE_DEBUG = saved;
    }
  });

  test('PHYSODE_DEBUG=1 adds the stack of an unexpected error', async () => {
    const saved = process.env.PHYSODE_DEBUG;
    process.env.PHYSODE_DEBUG = '1';
    try {
      const r = await mainWithBrokenStdout(['--version'], new TypeError('boom'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /unexpected error \(TypeError: boom\)/);
      assert.match(r.stderr, /^\s+at /m);
    } finally {
      if (saved === undefined) delete process.env.PHYSODE_DEBUG;
      else process.env.PHYSODE_DEBUG = saved;
    }
  });

  test('a PhysodeError from anywhere is one line even with PHYSODE_DEBUG=1', async () => {
    const saved = process.env.PHYSODE_DEBUG;
    process.env.PHYSODE_DEBUG = '1';
    try {
      const r = await mainWithBrokenStdout(['--version'], new InvalidArgumentError('bad', 'do this'));
      assert.equal(r.stderr, 'physode --version: bad; hint: do this\n');
    } finally {
      if (saved === undefined) delete process.env.PHYSODE_DEBUG;
      else process.env.PHYSODE_DEBUG = saved;
    }
  });
});

test('in the physode process, an error thrown outside any command (a late timer) is one line and exit code 1', () => {
  // A separate process: the handlers end it, as they must.
  const mainUrl = new URL('../../src/cli/main.ts', import.meta.url).href;
  const code = `const { installFatalHandlers } = await import(${JSON.stringify(mainUrl)}); installFatalHandlers(); setTimeout(() => { throw new TypeError('late boom'); }, 1);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, PHYSODE_DEBUG: '' } });
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^physode: unexpected error \(TypeError: late boom\); hint: .*report/);
});
