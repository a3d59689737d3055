/**
 * What a physical system is to physode: data plus pure functions.
 * One file per system in this folder; `systems/index.ts` registers them by name.
 * Layouts (state labels, parameter order, energy formulas) are fixed by the design's DATASET.md.
 */
import type { Rng } from '../src/util/rng.js';

/** A parameter's default and the range a sampler draws it from (uniformly, unless log). */
/** The ground-truth integrators src/generate implements (a system may prefer one). */
export type IntegratorName = 'odex' | 'dop853';

export interface ParamSpec {
  readonly name: string;
  readonly default: number;
  /** Inclusive range for sampled parameters; equal ends mean the parameter is fixed. */
  readonly range: readonly [number, number];
  readonly description: string;
}

/** Options that shape a system instance (e.g. number of bodies, preset name). */
export interface SystemOptions {
  readonly preset?: string;
  readonly bodies?: number;
  readonly [key: string]: string | number | boolean | undefined;
}

/** One sampled trajectory's start: initial state and parameters in the system's layout. */
export interface InitialCondition {
  readonly y0: Float64Array;
  readonly params: Float64Array;
}

/** A concrete system (options resolved): everything a generator, a trainer and a viewer need. */
export interface SystemInstance {
  /** Registry name, e.g. `pendulum`, `nbody`. */
  readonly name: string;
  /** The options this instance was made with (preset, bodies...), recorded in manifests. */
  readonly options: SystemOptions;
  /** State dimension D. */
  readonly dim: number;
  /** One label per state component, as DATASET.md fixes them. */
  readonly stateLabels: readonly string[];
  /** Parameter labels, in layout order. */
  readonly paramLabels: readonly string[];
  /** Parameter specs (defaults and sampling ranges), in layout order. */
  readonly params: readonly ParamSpec[];
  /** Whether `energy` is conserved (true) or only monitored (damped, driven). */
  readonly conservative: boolean;
  /** Number of 3D points `positions` returns (pivot + bobs, or bodies). */
  readonly pointCount: number;
  /** Extra layout facts recorded in the manifest (n-body: bodies, position/velocity offsets). */
  readonly layout?: Readonly<Record<string, number | string>>;
  /** Draw an initial condition and parameters from a seeded generator. */
  sample(rng: Rng): InitialCondition;
  /** Right-hand side dy/dt = f(t, y, params), written into `out` (length D). */
  rhs(t: number, y: ArrayLike<number>, params: ArrayLike<number>, out: Float64Array): void;
  /** The system's energy (conserved or monitored). */
  energy(y: ArrayLike<number>, params: ArrayLike<number>): number;
  /** 3D points for the viewer as flat xyz triples (length 3 * pointCount). */
  positions(y: ArrayLike<number>, params: ArrayLike<number>): Float64Array;
  /**
   * Energy scale for relative energy errors, used as max(|E0|, scale) in the denominator when E0 can
   * be near zero (pendulum: g L, the depth of the potential well). Absent: |E0|.
   */
  energyScale?(params: ArrayLike<number>): number;
  /** Default dataset size and span for `physode generate` (small: `npm start` makes one on first run). */
  readonly defaults?: GenerationDefaults;
  /** Optional viewer hint: a radius per point of `positions` (n-body: grows with the mass). */
  pointRadius?(params: ArrayLike<number>): Float64Array;
  /** Optional further invariants by name (n-body: momentum and angular momentum components). */
  invariants?(y: ArrayLike<number>, params: ArrayLike<number>): Record<string, number>;
}

/** What `physode generate` uses for a system when the command line does not say. */
export interface GenerationDefaults {
  readonly count: number;
  readonly samples: number;
  readonly tEnd: number;
  /** Ground-truth integrator (default odex) and its rtol = atol (default 1e-12), for systems that need another. */
  readonly integrator?: IntegratorName;
  readonly tolerance?: number;
}

/** A registered system: a name, a description, the presets it knows, and a factory. */
export interface SystemDefinition {
  readonly name: string;
  readonly description: string;
  /** Valid preset names (empty when the system has none). */
  readonly presets: readonly string[];
  create(options?: SystemOptions): SystemInstance;
}
