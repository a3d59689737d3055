/** `physode inspect DIR [--json]`: what a dataset holds, its quality figures, and a validation verdict. */
import type { Command } from '../command.js';
import { InvalidArgumentError } from '../../util/errors.js';
import { openDataset } from '../../data/dataset.js';
import { SPLITS } from '../../data/types.js';
import { parseCommandArgs } from '../options.js';

const usage = `usage: physode inspect DIR [--json]

Prints counts, shapes, splits, time span, per-component statistics (training split), energy-error
figures, and verifies every shard (checksum, shapes, indices). Exit code 1 when a shard is bad.`;

export const command: Command = {
  name: 'inspect',
  summary: 'describe and validate a dataset folder',
  usage,
  async run(argv) {
    const { values, positionals } = parseCommandArgs('inspect', argv, { json: { type: 'boolean' } }, true);
    if (positionals.length !== 1) throw new InvalidArgumentError(positionals.length === 0 ? 'expected one dataset folder' : `expected one dataset folder, got ${positionals.length}: ${positionals.join(' ')}`, 'e.g. physode inspect datasets/pendulum');
    const ds = await openDataset(positionals[0]);
    const m = ds.manifest;
    const verdict = await ds.verify();
    const splits = Object.fromEntries(SPLITS.map((s) => [s, m.shards.filter((x) => x.split === s).reduce((a, x) => a + x.count, 0)]));
    const summary = {
      dir: ds.dir,
      system: m.system.name,
      options: m.system.options,
      trajectories: m.generator.count,
      shape: { y: [m.generator.count, m.times.count, m.state.dim], params: [m.generator.count, m.system.paramLabels.length] },
      splits,
      shards: m.shards.length,
      times: m.times,
      stateLabels: m.state.labels,
      paramLabels: m.system.paramLabels,
      stats: { mean: m.stats.mean, std: m.stats.std },
      energy: { conservative: m.system.conservative, maxRelEnergyError: m.stats.maxRelEnergyError },
      generator: { integrator: `${m.generator.integrator} ${m.generator.integratorVersion}`, rtol: m.generator.rtol, atol: m.generator.atol, seed: m.generator.seed, noise: m.generator.noise, derivatives: m.generator.derivatives },
      valid: verdict.ok,
      problems: verdict.shards.filter((s) => !s.ok).map((s) => s.problem),
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return verdict.ok ? 0 : 1;
    }
    const fmt = (x: number): string => (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e5) || x === 0 ? x.toFixed(4) : x.toExponential(3);
    const lines = [
      `dataset ${ds.dir}`,
      `  system      ${m.system.name}${Object.keys(m.system.options).length ? ` ${JSON.stringify(m.system.options)}` : ''}`,
      `  count       ${m.generator.count} trajectories (train ${splits.train}, val ${splits.val}, test ${splits.test}) in ${m.shards.length} shard(s)`,
      `  y           [${summary.shape.y.join(', ')}]  params [${summary.shape.params.join(', ')}] (${m.system.paramLabels.join(', ')})`,
      `  times       ${m.times.count} samples, t in [${m.times.start}, ${fmt(m.times.end)}]`,
      `  generator   ${summary.generator.integrator}, rtol ${m.generator.rtol}, atol ${m.generator.atol}, seed ${m.generator.seed}` +
        `${m.generator.noise > 0 ? `, noise ${m.generator.noise}` : ''}${m.generator.derivatives ? ', dydt' : ''}`,
      `  energy      max relative ${m.system.conservative ? 'error' : 'change (monitored, not conserved)'} ${m.stats.maxRelEnergyError.toExponential(2)}`,
      '  component   mean        std (training split)',
      ...m.state.labels.map((l, i) => `  ${l.padEnd(11)} ${fmt(m.stats.mean[i]).padStart(11)} ${fmt(m.stats.std[i]).padStart(11)}`),
      verdict.ok ? `  valid       yes (${m.shards.length} shard(s): checksums, shapes, indices)` : `  valid       NO\n${summary.problems.map((p) => `    ${p}`).join('\n')}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return verdict.ok ? 0 : 1;
  },
};
