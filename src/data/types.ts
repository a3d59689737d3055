/**
 * The dataset format's types (design: DATASET.md, version 1). The writer and reader in this folder
 * implement them; training, evaluation and the server consume them.
 */
import type { NdArray } from 'ndarray';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

export interface ShardEntry {
  readonly file: string;
  /** Number of trajectories in the shard. */
  readonly count: number;
  /** Global trajectory indices [start, end) held by the shard. */
  readonly indexRange: readonly [number, number];
  readonly split: Split;
  /** Hex SHA-256 of the file's bytes. */
  readonly sha256: string;
  /** Per-shard figures the manifest's stats combine (so resuming needs no re-read of finished shards). */
  readonly summary?: ShardSummary;
}

/** Per-component mean and sum of squared deviations (Welford; combined with Chan et al. 1979). */
export interface ShardSummary {
  readonly samples: number;
  readonly mean: readonly number[];
  readonly m2: readonly number[];
  readonly maxRelEnergyError: number;
}

export interface Manifest {
  readonly format: 'physode-dataset';
  readonly version: 1;
  /** false while a generation is under way or was interrupted (rerun the command to finish it). */
  readonly complete?: boolean;
  readonly system: {
    readonly name: string;
    /** Options the system instance was created with (preset, bodies...). */
    readonly options: Readonly<Record<string, string | number | boolean>>;
    readonly paramLabels: readonly string[];
    /** Fixed values and sampling ranges of the parameters. */
    readonly params: ReadonlyArray<{ readonly name: string; readonly default: number; readonly range: readonly [number, number] }>;
    readonly conservative: boolean;
  };
  readonly state: {
    readonly dim: number;
    readonly labels: readonly string[];
    /** n-body: bodies, and offsets of positions and velocities; absent otherwise. */
    readonly layout?: Readonly<Record<string, number | string>>;
  };
  readonly times: { readonly start: number; readonly end: number; readonly count: number };
  readonly generator: {
    readonly integrator: string;
    readonly integratorVersion: string;
    readonly rtol: number;
    readonly atol: number;
    readonly seed: number;
    /** Human-readable rule, e.g. "deriveSeed(seed, globalIndex) (src/util/rng.ts)". */
    readonly seedDerivation: string;
    readonly physodeVersion: string;
    readonly noise: number;
    readonly derivatives: boolean;
    readonly count: number;
    readonly shardSize: number;
    readonly split: readonly [number, number, number];
  };
  readonly shards: readonly ShardEntry[];
  readonly stats: {
    /** Per-component mean and standard deviation over the training split. */
    readonly mean: readonly number[];
    readonly std: readonly number[];
    /**
     * Largest |E(t) - E(0)| / max(|E(0)|, energy scale) over all samples (see SystemInstance.energyScale);
     * for non-conservative systems it is the largest relative energy change, not an error.
     */
    readonly maxRelEnergyError: number;
  };
}

/** Trajectories loaded from one or more shards, as strided float64 arrays. */
export interface TrajectoryBatch {
  /** Sample times [T]. */
  readonly t: Float64Array;
  /** States [N, T, D]. */
  readonly y: NdArray<Float64Array>;
  /** Parameters [N, P]. */
  readonly params: NdArray<Float64Array>;
  /** Energies [N, T]. */
  readonly energy: NdArray<Float64Array>;
  /** Global trajectory indices [N]. */
  readonly index: Int32Array;
  /** Exact derivatives [N, T, D], when generated with --derivatives. */
  readonly dydt?: NdArray<Float64Array>;
  /** Noise-free states [N, T, D], when generated with --noise. */
  readonly yClean?: NdArray<Float64Array>;
}
