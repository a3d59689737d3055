/**
 * Ground truth for a range of global trajectory indices: a pure function of the system, the sample
 * times and the generation settings, so any range (and so any shard) can be regenerated alone, bit
 * for bit. Per-trajectory seed: deriveSeed(master seed, global index) (src/util/rng.ts); that seed's
 * Rng draws the parameters and initial state (system.sample) and then the observation noise.
 */
import type { SystemInstance } from '../../systems/system.js';
import { Rng, deriveSeed } from '../util/rng.js';
import { PhysodeError } from '../util/errors.js';
import { solveTrajectory, IntegrationError, type IntegratorName } from './solve.js';

export const SEED_DERIVATION = 'seed_i = deriveSeed(seed, i) for global index i (src/util/rng.ts); Rng(seed_i) draws params, then y0, then the noise';

export interface TrajectorySettings {
  readonly seed: number;
  readonly integrator?: IntegratorName;
  readonly rtol: number;
  readonly atol: number;
  /** Observation noise: Gaussian, standard deviation noise * (spread of each component along its trajectory). */
  readonly noise: number;
  readonly derivatives: boolean;
  readonly maxSteps?: number;
  readonly interpolationDegree?: number;
}

/** Trajectories [start, end) in the shard layout (DATASET.md), row-major. */
export interface TrajectoryChunk {
  readonly start: number;
  readonly count: number;
  readonly y: Float64Array; // [N, T, D]
  readonly params: Float64Array; // [N, P]
  readonly energy: Float64Array; // [N, T]
  readonly index: Int32Array; // [N]
  readonly dydt?: Float64Array; // [N, T, D]
  readonly yClean?: Float64Array; // [N, T, D]
  /** Largest relative energy error (or change) per trajectory. */
  readonly maxRelEnergyError: Float64Array; // [N]
}

/** Relative energy error with the system's energy scale guarding E0 near zero. */
export function relativeEnergyError(e: number, e0: number, scale: number): number {
  return Math.abs(e - e0) / Math.max(Math.abs(e0), scale);
}

export function computeTrajectories(
  system: SystemInstance,
  times: Float64Array,
  start: number,
  end: number,
  settings: TrajectorySettings,
): TrajectoryChunk {
  const n = end - start, T = times.length, D = system.dim, P = system.paramLabels.length;
  const y = new Float64Array(n * T * D);
  const params = new Float64Array(n * P);
  const energy = new Float64Array(n * T);
  const index = new Int32Array(n);
  const dydt = settings.derivatives ? new Float64Array(n * T * D) : undefined;
  const yClean = settings.noise > 0 ? new Float64Array(n * T * D) : undefined;
  const maxRel = new Float64Array(n);
  const deriv = new Float64Array(D);
  for (let j = 0; j < n; j++) {
    const g = start + j;
    const seed = deriveSeed(settings.seed, g);
    const rng = new Rng(seed);
    let states: Float64Array;
    let p: Float64Array;
    try {
      const ic = system.sample(rng);
      p = ic.params;
      states = solveTrajectory(system, ic, times, settings).y;
    } catch (err) {
      if (err instanceof PhysodeError) {
        throw new IntegrationError(`trajectory ${g} (seed ${seed}): ${err.message}`, err.hint);
      }
      throw new IntegrationError(`trajectory ${g} (seed ${seed}): ${err instanceof Error ? err.message : String(err)}`);
    }
    index[j] = g;
    params.set(p, j * P);
    const scale = system.energyScale?.(p) ?? 0;
    let e0 = 0;
    for (let k = 0; k < T; k++) {
      const row = states.subarray(k * D, (k + 1) * D);
      const e = system.energy(row, p);
      energy[j * T + k] = e;
      if (k === 0) e0 = e;
      else maxRel[j] = Math.max(maxRel[j], relativeEnergyError(e, e0, scale));
      if (dydt) {
        system.rhs(times[k], row, p, deriv);
        dydt.set(deriv, (j * T + k) * D);
      }
    }
    if (yClean) {
      yClean.set(states, j * T * D);
      states = addNoise(states, T, D, settings.noise, rng);
    }
    y.set(states, j * T * D);
  }
  return { start, count: n, y, params, energy, index, dydt, yClean, maxRelEnergyError: maxRel };
}

/** y + noise * spread_d * N(0, 1), spread_d the standard deviation of component d along the trajectory. */
function addNoise(states: Float64Array, T: number, D: number, noise: number, rng: Rng): Float64Array {
  const out = new Float64Array(states.length);
  for (let d = 0; d < D; d++) {
    let mean = 0;
    for (let k = 0; k < T; k++) mean += states[k * D + d];
    mean /= T;
    let v = 0;
    for (let k = 0; k < T; k++) v += (states[k * D + d] - mean) ** 2;
    const spread = Math.sqrt(v / T);
    for (let k = 0; k < T; k++) out[k * D + d] = states[k * D + d] + noise * spread * rng.normal();
  }
  return out;
}
