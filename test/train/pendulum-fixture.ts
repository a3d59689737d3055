/**
 * An in-memory pendulum DataSource (the ideal pendulum of systems/pendulum.ts, integrated with the
 * project's ground-truth solver) for tests and tuning while no dataset folder is at hand. Split 80/10/10
 * by trajectory, statistics over the training split, as DATASET.md prescribes.
 */
import ndarray from 'ndarray';
import { getSystem } from '../../systems/index.js';
import { solveTrajectory } from '../../src/generate/solve.js';
import { Rng, deriveSeed } from '../../src/util/rng.js';
import type { TrajectoryBatch, Split } from '../../src/data/types.js';
import type { DataSource } from '../../src/train/training-data.js';

export function pendulumSource(count = 256, samples = 100, tEnd = 10, seed = 0): DataSource {
  const system = getSystem('pendulum').create();
  const D = system.dim;
  const P = system.paramLabels.length;
  const t = Float64Array.from({ length: samples }, (_, k) => (k * tEnd) / (samples - 1));
  const nTrain = Math.round(count * 0.8);
  const nVal = Math.round(count * 0.1);
  const ranges: Record<Split, [number, number]> = { train: [0, nTrain], val: [nTrain, nTrain + nVal], test: [nTrain + nVal, count] };
  const batches = {} as Record<Split, TrajectoryBatch>;
  for (const split of ['train', 'val', 'test'] as const) {
    const [a, b] = ranges[split];
    const n = b - a;
    const y = new Float64Array(n * samples * D);
    const params = new Float64Array(n * P);
    const energy = new Float64Array(n * samples);
    for (let i = 0; i < n; i++) {
      const ic = system.sample(new Rng(deriveSeed(seed, a + i)));
      const r = solveTrajectory(system, ic, t, { rtol: 1e-10, atol: 1e-10 });
      y.set(r.y, i * samples * D);
      params.set(ic.params, i * P);
      for (let k = 0; k < samples; k++) energy[i * samples + k] = system.energy(r.y.subarray(k * D, (k + 1) * D), ic.params);
    }
    batches[split] = { t, y: ndarray(y, [n, samples, D]), params: ndarray(params, [n, P]), energy: ndarray(energy, [n, samples]), index: Int32Array.from({ length: n }, (_, i) => a + i) };
  }
  const tr = batches.train.y.data;
  const mean = new Array<number>(D).fill(0);
  const sq = new Array<number>(D).fill(0);
  for (let i = 0; i < tr.length; i++) mean[i % D] += tr[i];
  const m = tr.length / D;
  for (let d = 0; d < D; d++) mean[d] /= m;
  for (let i = 0; i < tr.length; i++) sq[i % D] += (tr[i] - mean[i % D]) ** 2;
  const std = sq.map((s) => Math.sqrt(s / m));
  return {
    path: `memory:pendulum-${count}-${samples}-${tEnd}-${seed}`,
    checksum: 'f'.repeat(64),
    systemName: 'pendulum',
    stateLabels: system.stateLabels,
    stats: { mean, std },
    physics: system,
    loadSplit: async (split) => batches[split],
  };
}
