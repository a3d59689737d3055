/**
 * What a run needs from a dataset, gathered once: where it came from (path and manifest checksum),
 * its normalisation statistics, the system's energy (and invariants), and loaded splits.
 */
import type { TrajectoryBatch, Split } from '../data/types.js';
import type { NormStats } from './normalise.js';

/** The parts of a physical system that metrics use (a SystemInstance satisfies it). */
export interface PhysicsProbe {
  energy(y: ArrayLike<number>, params: ArrayLike<number>): number;
  invariants?(y: ArrayLike<number>, params: ArrayLike<number>): Record<string, number>;
}

export interface DataSource {
  /** Dataset folder (as given) and SHA-256 of its manifest.json. */
  readonly path: string;
  readonly checksum: string;
  readonly systemName: string;
  readonly stateLabels: readonly string[];
  readonly stats: NormStats;
  /** The system, for energies of predicted states; absent when unknown. */
  readonly physics?: PhysicsProbe;
  loadSplit(split: Split): Promise<TrajectoryBatch>;
}
