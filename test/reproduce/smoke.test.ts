/**
 * End to end through the real CLI: `physode reproduce --profile smoke` (the smallest
 * configuration; `--quick` is the same pipeline on a larger grid) generates a dataset, trains
 * and evaluates in child processes, and writes a well-formed report. Checks the form, not the
 * science.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from '../../src/reproduce/child-process.js';
import { physodeCommand } from '../../src/reproduce/physode-command.js';
import { planSweep } from '../../src/reproduce/plan.js';
import { SMOKE } from '../../src/reproduce/profiles.js';
import { RESULTS_HEADER } from '../../src/reproduce/results-store.js';
import { checkSvg } from './svg-check.js';

const commands = fileURLToPath(new URL('../../src/cli/commands/', import.meta.url));
const missing = ['generate', 'train', 'eval'].filter((c) => !existsSync(join(commands, `${c}.ts`)));

test('physode reproduce --profile smoke writes results.csv with a row per run, a report section per experiment and valid SVG plots', { skip: missing.length > 0 ? `physode ${missing.join(', ')} not available yet` : false, timeout: 240_000 }, async () => {
  const out = await mkdtemp(join(tmpdir(), 'physode-smoke-'));
  try {
    const cmd = physodeCommand();
    const args = [...cmd.args, 'reproduce', '--profile', 'smoke', '--systems', 'pendulum', '--out', out];
    const first = await runChild(cmd.file, args, { timeoutSeconds: 220 });
    assert.equal(first.code, 0, `reproduce failed:\n${first.stderr.slice(-3000)}`);

    const plan = planSweep({ profile: SMOKE, systems: ['pendulum'], seeds: [1] });
    const csv = (await readFile(join(out, 'results.csv'), 'utf8')).trim().split('\n');
    assert.equal(csv[0], RESULTS_HEADER.join(','));
    assert.equal(csv.length - 1, plan.runs.length);

    const report = await readFile(join(out, 'report.md'), 'utf8');
    for (const section of ['## 1. Batch size', '## 2. Outliers', '## 3. Time dependence', '## 4. Depth', '## 5. Solvers']) assert.ok(report.includes(section), section);
    assert.match(report, /\*\*Verdict: (holds|does not hold|inconclusive)\.\*\*/);
    assert.match(report, /physode reproduce --profile smoke/);

    const plots = await readdir(join(out, 'plots'));
    assert.ok(plots.length >= 5, `plots: ${plots.join(', ')}`);
    for (const p of plots) assert.equal(checkSvg(await readFile(join(out, 'plots', p), 'utf8')), undefined, p);

    // Rerunning the same command redoes nothing.
    const second = await runChild(cmd.file, args, { timeoutSeconds: 60 });
    assert.equal(second.code, 0, second.stderr.slice(-2000));
    assert.match(second.stdout, /\(0 run now/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
