/**
 * Initial conditions of the n-body presets (G = 1). Each preset gives masses, softening and the
 * initial state (positions x1 y1 z1 ... then velocities, DATASET.md layout).
 * Published data are cited beside each preset (see also the design's REFERENCE_CASES.md).
 */
import type { GenerationDefaults } from './system.js';
import type { Rng } from '../src/util/rng.js';
import type { SystemOptions } from './system.js';
import { InvalidArgumentError } from '../src/util/errors.js';

export interface NBodyPreset {
  readonly name: string;
  readonly description: string;
  /** Body count fixed by the preset; undefined when the `bodies` option chooses it. */
  readonly bodies?: number;
  readonly defaultBodies: number;
  /** Default dataset size, span and ground-truth integrator for `physode generate`. */
  readonly defaults: GenerationDefaults;
  /** Default Plummer softening length. */
  readonly softening: number;
  /** Sampling range of body i's mass (equal ends: fixed). */
  massRange(i: number, n: number): readonly [number, number];
  /** Initial positions and velocities (length 6 n) for the given masses. */
  initialState(rng: Rng, masses: Float64Array, options: SystemOptions, softening: number): Float64Array;
}

/**
 * Default count of the presets whose initial state is fixed (every trajectory the same orbit): the
 * smallest count that the default split 0.8/0.1/0.1 cuts into 8 train, 1 val and 1 test trajectory
 * (test/systems/defaults.test.ts), so that `train` accepts the dataset at its defaults.
 */
const FIXED_ORBIT_COUNT = 10;

/** State vector from per-body positions and velocities (each a list of [x, y, z]). */
function packState(positions: readonly (readonly number[])[], velocities: readonly (readonly number[])[]): Float64Array {
  const n = positions.length;
  const y = new Float64Array(6 * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      y[3 * i + k] = positions[i][k];
      y[3 * n + 3 * i + k] = velocities[i][k];
    }
  }
  return y;
}

/** Moves a state into its centre-of-mass frame (zero total momentum, centre of mass at the origin). */
export function toCentreOfMassFrame(y: Float64Array, masses: ArrayLike<number>): void {
  const n = masses.length;
  let total = 0;
  const r = [0, 0, 0], v = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    total += masses[i];
    for (let k = 0; k < 3; k++) {
      r[k] += masses[i] * y[3 * i + k];
      v[k] += masses[i] * y[3 * n + 3 * i + k];
    }
  }
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      y[3 * i + k] -= r[k] / total;
      y[3 * n + 3 * i + k] -= v[k] / total;
    }
  }
}

/**
 * Kepler orbit of eccentricity e, semi-major axis 1, period 2 pi: two bodies of mass 1/2 so that
 * G (m1 + m2) = 1, starting at pericentre. Relative motion q0 = (1 - e, 0), p0 = (0, sqrt((1 + e)/(1 - e)));
 * for e = 0.6 this is q0 = (0.4, 0), p0 = (0, 2), the Kepler test of Hairer, Lubich & Wanner,
 * "Geometric Numerical Integration", 2nd ed., Springer 2006, sec. I.2.3.
 */
export const twoBody: NBodyPreset = {
  name: 'two-body',
  description: 'Kepler orbit, eccentricity option `eccentricity` (default 0.6), period 2 pi',
  bodies: 2,
  defaultBodies: 2,
  defaults: { count: FIXED_ORBIT_COUNT, samples: 500, tEnd: 10 * Math.PI },
  softening: 0,
  massRange: () => [0.5, 0.5],
  initialState(_rng, masses, options) {
    const e = options.eccentricity === undefined ? 0.6 : Number(options.eccentricity);
    if (!(e >= 0 && e < 1)) {
      throw new InvalidArgumentError(`eccentricity must be in [0, 1) for a bound Kepler orbit, got ${options.eccentricity}`, 'e.g. eccentricity 0.6');
    }
    const q = [1 - e, 0, 0];
    const p = [0, Math.sqrt((1 + e) / (1 - e)), 0];
    const m1 = masses[0], m2 = masses[1], total = m1 + m2;
    return packState(
      [q.map((c) => (-m2 / total) * c), q.map((c) => (m1 / total) * c)],
      [p.map((c) => (-m2 / total) * c), p.map((c) => (m1 / total) * c)],
    );
  },
};

/**
 * Figure-eight choreography: A. Chenciner and R. Montgomery, Annals of Mathematics 152 (2000)
 * 881-901, initial data by C. Simó. Period T = 6.32591398.
 */
export const FIGURE_EIGHT_PERIOD = 6.32591398;
export const figureEight: NBodyPreset = {
  name: 'figure-eight',
  description: 'Chenciner-Montgomery figure-eight of three equal masses (Simó\'s data), period 6.32591398',
  bodies: 3,
  defaultBodies: 3,
  defaults: { count: FIXED_ORBIT_COUNT, samples: 600, tEnd: 3 * 6.32591398 },
  softening: 0,
  massRange: () => [1, 1],
  initialState() {
    const x1 = [0.97000436, -0.24308753, 0];
    const v3 = [-0.93240737, -0.86473146, 0];
    return packState(
      [x1, x1.map((c) => -c), [0, 0, 0]],
      [v3.map((c) => -c / 2), v3.map((c) => -c / 2), v3],
    );
  },
};

/**
 * Pythagorean three-body problem: C. Burrau (1913); V. Szebehely and C. F. Peters, Astron. J. 72
 * (1967) 876. Masses 3, 4, 5 at rest at (1, 3), (-2, -1), (1, -1); energy -769/60.
 */
export const pythagorean: NBodyPreset = {
  name: 'pythagorean',
  description: 'Burrau\'s problem: masses 3, 4, 5 at rest at the corners of a 3-4-5 triangle',
  bodies: 3,
  defaultBodies: 3,
  // The close approaches (down to 4.2e-4 at t = 15.83) need DOP853 to hold the energy to 1e-9
  // (test/systems/pythagorean.test.ts); odex at its best reaches 3e-9.
  defaults: { count: FIXED_ORBIT_COUNT, samples: 2000, tEnd: 70, integrator: 'dop853', tolerance: 1e-13 },
  softening: 0,
  massRange: (i) => {
    const m = [3, 4, 5][i];
    return [m, m];
  },
  initialState() {
    return packState([[1, 3, 0], [-2, -1, 0], [1, -1, 0]], [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
  },
};

/** Virial ratio 2T/|U| the random preset scales velocities to (1: virial equilibrium, bound since E = U/2 < 0). */
const RANDOM_VIRIAL_RATIO = 1;

/**
 * N bodies with masses in [0.5, 1.5], positions uniform in the unit ball, Gaussian velocities,
 * moved to the centre-of-mass frame and scaled to virial equilibrium (2T = |U|, U with the softening), so the total
 * energy E = U / 2 is negative: the system is bound as a whole.
 */
export const random: NBodyPreset = {
  name: 'random',
  description: 'N bodies (option `bodies`, default 3) in 3D, centre-of-mass frame, virial equilibrium (bound)',
  defaultBodies: 3,
  defaults: { count: 64, samples: 200, tEnd: 5 },
  softening: 0.05,
  massRange: () => [0.5, 1.5],
  initialState(rng, masses, _options, softening) {
    const n = masses.length;
    const y = new Float64Array(6 * n);
    for (let i = 0; i < n; i++) {
      let x: number, yy: number, z: number;
      do {
        x = rng.range(-1, 1);
        yy = rng.range(-1, 1);
        z = rng.range(-1, 1);
      } while (x * x + yy * yy + z * z > 1);
      y[3 * i] = x;
      y[3 * i + 1] = yy;
      y[3 * i + 2] = z;
      for (let k = 0; k < 3; k++) y[3 * n + 3 * i + k] = rng.normal();
    }
    toCentreOfMassFrame(y, masses);
    let kinetic = 0, potential = 0;
    for (let i = 0; i < n; i++) {
      const o = 3 * n + 3 * i;
      kinetic += 0.5 * masses[i] * (y[o] ** 2 + y[o + 1] ** 2 + y[o + 2] ** 2);
      for (let j = i + 1; j < n; j++) {
        const r = Math.hypot(y[3 * j] - y[3 * i], y[3 * j + 1] - y[3 * i + 1], y[3 * j + 2] - y[3 * i + 2], softening);
        potential -= (masses[i] * masses[j]) / r;
      }
    }
    if (kinetic > 0) {
      const scale = Math.sqrt((RANDOM_VIRIAL_RATIO * Math.abs(potential)) / (2 * kinetic));
      for (let i = 3 * n; i < 6 * n; i++) y[i] *= scale;
    }
    return y;
  },
};

export const NBODY_PRESETS: readonly NBodyPreset[] = [twoBody, figureEight, pythagorean, random];
