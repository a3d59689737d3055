/**
 * What the viewer draws for a dataset, and the stand-in for datasets whose manifest names no
 * registered system (imported traces such as HalfCheetah): one 3D point per state, made of the
 * three state components with the largest training std (the manifest's statistics), each
 * divided by its std so that the axes are comparable. Such a dataset has no energy.
 */
import type { Manifest } from '../data/types.js';
import type { SystemInstance } from '../../systems/system.js';

/** The state components a phase-space view draws as x, y, z. */
export interface PhaseSpaceAxes {
  /** State component indices, largest training std first (fewer than 3 when the state is smaller). */
  readonly components: readonly number[];
  readonly labels: readonly string[];
}

/** The parts of a system the server uses; `energy` is null for a phase-space stand-in. */
export interface ViewSystem {
  readonly name: string;
  readonly options: SystemInstance['options'];
  readonly dim: number;
  readonly stateLabels: readonly string[];
  readonly paramLabels: readonly string[];
  readonly conservative: boolean;
  readonly pointCount: number;
  readonly layout?: SystemInstance['layout'];
  positions(y: ArrayLike<number>, params: ArrayLike<number>): Float64Array;
  readonly energy: ((y: ArrayLike<number>, params: ArrayLike<number>) => number) | null;
  pointRadius?(params: ArrayLike<number>): Float64Array;
  /** Set for the phase-space stand-in: which components the point is made of. */
  readonly phaseSpace?: PhaseSpaceAxes;
}

/** A registered system as the server sees it (its energy included). */
export function registeredView(s: SystemInstance): ViewSystem {
  return {
    name: s.name,
    options: s.options,
    dim: s.dim,
    stateLabels: s.stateLabels,
    paramLabels: s.paramLabels,
    conservative: s.conservative,
    pointCount: s.pointCount,
    layout: s.layout,
    positions: (y, params) => s.positions(y, params),
    energy: (y, params) => s.energy(y, params),
    pointRadius: s.pointRadius ? (params) => s.pointRadius!(params) : undefined,
  };
}

/** A usable scale: the std when finite and positive, else 1. */
function usableStd(std: readonly number[], j: number): number {
  const s = std[j];
  return Number.isFinite(s) && s > 0 ? s : 1;
}

/**
 * The three components with the largest training std (ties: the lower index first); components
 * with no usable std rank last. Fewer when the state has fewer components.
 */
export function phaseSpaceAxes(dim: number, std: readonly number[], labels: readonly string[]): PhaseSpaceAxes {
  const rank = (j: number): number => (Number.isFinite(std[j]) && std[j] > 0 ? std[j] : -1);
  const components = Array.from({ length: dim }, (_, j) => j)
    .sort((a, b) => rank(b) - rank(a) || a - b)
    .slice(0, 3);
  return { components, labels: components.map((j) => labels[j] ?? `x${j}`) };
}

/** The phase-space stand-in for a dataset whose system is not registered. */
export function phaseSpaceSystem(m: Manifest): ViewSystem {
  const dim = m.state.dim;
  const std = m.stats?.std ?? [];
  const axes = phaseSpaceAxes(dim, std, m.state.labels);
  const scale = axes.components.map((j) => usableStd(std, j));
  return {
    name: m.system.name,
    options: m.system.options,
    dim,
    stateLabels: m.state.labels,
    paramLabels: m.system.paramLabels,
    conservative: false,
    pointCount: 1,
    positions: (y) => {
      const out = new Float64Array(3);
      axes.components.forEach((j, k) => (out[k] = y[j] / scale[k]));
      return out;
    },
    energy: null,
    phaseSpace: axes,
  };
}
