/**
 * `npm run bench -- --only generate`: ground-truth throughput and accuracy at the default
 * tolerances (rtol = atol = 1e-12), with 1 and 2 workers, and peak memory for a large vs a small
 * dataset (memory should follow the shard size, not the dataset size).
 * Anchor (issue 2): scipy's Fortran DOP853 at rtol = atol = 1e-12 does 149 pendulum trajectories/s on one core.
 * Options: --quick (smaller counts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset, type GenerateOptions } from '../src/generate/index.js';
import { FIGURE_EIGHT_PERIOD } from '../systems/nbody-presets.js';

interface Case {
  readonly name: string;
  readonly options: Omit<GenerateOptions, 'out' | 'workers'>;
}

async function timeCase(c: Case, workers: number, root: string): Promise<{ rate: number; cpuRate: number; err: number; seconds: number }> {
  const out = join(root, `${c.name}-${workers}`);
  const cpu0 = process.cpuUsage(); // process-wide: includes the worker threads
  const start = performance.now();
  const r = await generateDataset({ ...c.options, out, workers, force: true });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  rmSync(out, { recursive: true, force: true });
  return { rate: r.manifest.generator.count / seconds, cpuRate: r.manifest.generator.count / cpuSeconds, err: r.manifest.stats.maxRelEnergyError, seconds };
}

function peakRss(count: number, shardSize: number, root: string): number {
  const out = join(root, `mem-${count}`);
  const main = new URL('../src/generate/index.ts', import.meta.url).href;
  const code = `const { generateDataset } = await import(${JSON.stringify(main)});
await generateDataset({ system: 'pendulum', out: ${JSON.stringify(out)}, count: ${count}, samples: 100, tEnd: 0.5, shardSize: ${shardSize}, workers: 2, force: true });
process.stdout.write(String(process.resourceUsage().maxRSS));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8' });
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`memory run failed: ${r.stderr}`);
  return Number(r.stdout) / 1024; // KiB -> MiB
}

export async function run(args: readonly string[]): Promise<void> {
  const quick = args.includes('--quick');
  const root = mkdtempSync(join(tmpdir(), 'physode-bench-'));
  const cases: Case[] = [
    { name: 'pendulum', options: { system: 'pendulum', count: quick ? 500 : 20000, samples: 200, tEnd: 20, split: [1, 0, 0] } },
    { name: 'figure-eight', options: { system: 'nbody', preset: 'figure-eight', count: quick ? 2 : 16, samples: 1000, tEnd: 100 * FIGURE_EIGHT_PERIOD, split: [1, 0, 0] } },
    { name: 'random-10-body', options: { system: 'nbody', preset: 'random', bodies: 10, count: quick ? 8 : 128, samples: 200, tEnd: 5, split: [1, 0, 0] } },
  ];
  console.log('(shared machine: other jobs may run at the same time, so wall-clock rates are noisy; traj per CPU-second,');
  console.log(' counted over all threads of this process, shows the work per trajectory independently of the load)');
  console.log('case             trajectories  1 worker traj/s (per CPU-s)  2 workers traj/s (per CPU-s)  speed-up   worst |dE/E|');
  try {
    for (const c of cases) {
      const one = await timeCase(c, 1, root);
      const two = await timeCase(c, 2, root);
      console.log(
        `${c.name.padEnd(16)} ${String(c.options.count).padStart(12)}  ${`${one.rate.toFixed(1)} (${one.cpuRate.toFixed(1)})`.padStart(26)}  ${`${two.rate.toFixed(1)} (${two.cpuRate.toFixed(1)})`.padStart(28)}  ${(two.rate / one.rate).toFixed(2).padStart(7)}x   ${Math.max(one.err, two.err).toExponential(2)}`,
      );
    }
    const small = quick ? 2_000 : 5_000, large = quick ? 20_000 : 50_000;
    const rssSmall = peakRss(small, 1000, root);
    const rssLarge = peakRss(large, 1000, root);
    console.log(`peak RSS, pendulum (100 samples, shard size 1000, 2 workers): ${small} trajectories ${rssSmall.toFixed(0)} MiB, ${large} trajectories ${rssLarge.toFixed(0)} MiB`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
