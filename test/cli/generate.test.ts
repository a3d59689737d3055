import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const mainUrl = new URL('../../src/cli/main.ts', import.meta.url).href;
function physode(...args: string[]) {
  const code = `const { main } = await import(${JSON.stringify(mainUrl)}); process.exitCode = await main(${JSON.stringify(args)});`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'physode-cli-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('physode generate / inspect', () => {
  test('generate writes a dataset and inspect validates it', () => {
    const out = join(root, 'p');
    const g = physode('generate', 'pendulum', '--out', out, '--count', '20', '--samples', '11', '--t-end', '1', '--workers', '2', '--quiet');
    assert.equal(g.status, 0, g.stderr);
    assert.match(g.stdout, /20 trajectories x 11 samples x 2/);
    const i = physode('inspect', out);
    assert.equal(i.status, 0, i.stderr);
    assert.match(i.stdout, /valid\s+yes/);
    const j = JSON.parse(physode('inspect', out, '--json').stdout);
    assert.deepEqual(j.shape.y, [20, 11, 2]);
  });

  test('bad input gives a one-line error, a non-zero exit code and writes nothing', () => {
    const out = join(root, 'bad');
    const cases: Array<[string[], RegExp]> = [
      [['generate', 'pendulm', '--out', out], /unknown system 'pendulm'[\s\S]*hint: systems: pendulum, damped-pendulum, double-pendulum, nbody/],
      [['generate', 'nbody', '--preset', 'eight', '--out', out], /unknown nbody preset 'eight'[\s\S]*two-body, figure-eight, pythagorean, random/],
      [['generate', 'pendulum', '--count=-5', '--out', out], /--count expects an integer >= 1, got '-5'/],
      [['generate', 'pendulum', '--count', '-5', '--out', out], /--count expects an integer >= 1, got '-5'/],
      [['generate', 'pendulum', '--count', 'many', '--out', out], /--count expects a number \(an integer >= 1\), got 'many'/],
      [['generate', 'pendulum', '--split', '0.9,0.9,0.1', '--out', out], /--split must be three fractions/],
      [['generate', 'pendulum', '--bogus', '--out', out], /Unknown option '--bogus'/],
      [['inspect', join(root, 'nothing-here')], /manifest\.json: missing/],
    ];
    for (const [args, pattern] of cases) {
      const r = physode(...args);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, pattern);
    }
    assert.throws(() => readdirSync(out));
  });
});
