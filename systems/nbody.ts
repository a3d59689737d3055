/**
 * Newtonian gravity for N bodies in 3D with optional Plummer softening (DATASET.md layout):
 * state x1 y1 z1 ... xN yN zN vx1 vy1 vz1 ... vxN vyN vzN, parameters G, softening, mass1..massN.
 * Acceleration of i: sum_j G m_j (r_j - r_i) / (|r_j - r_i|^2 + softening^2)^(3/2);
 * energy: kinetic plus pairwise -G m_i m_j / sqrt(r^2 + softening^2).
 * Options: `preset` (two-body, figure-eight, pythagorean, random; default random), `bodies`
 * (random preset only), `softening`, `eccentricity` (two-body).
 */
import type { SystemDefinition, SystemInstance, SystemOptions, ParamSpec } from './system.js';
import { InvalidArgumentError } from '../src/util/errors.js';
import { checkOptions, cleanOptions, sampleParams } from './params.js';
import { NBODY_PRESETS, type NBodyPreset } from './nbody-presets.js';

const MAX_BODIES = 1000;

/** Writes dy/dt for an N-body state into out; each pair is visited once (Newton's third law). */
export function nbodyRhs(y: ArrayLike<number>, p: ArrayLike<number>, out: Float64Array, n: number): void {
  const G = p[0], eps2 = p[1] * p[1];
  const v = 3 * n;
  for (let i = 0; i < v; i++) {
    out[i] = y[v + i];
    out[v + i] = 0;
  }
  for (let i = 0; i < n; i++) {
    const xi = y[3 * i], yi = y[3 * i + 1], zi = y[3 * i + 2];
    const mi = p[2 + i];
    for (let j = i + 1; j < n; j++) {
      const dx = y[3 * j] - xi, dy = y[3 * j + 1] - yi, dz = y[3 * j + 2] - zi;
      const r2 = dx * dx + dy * dy + dz * dz + eps2;
      const inv3 = G / (r2 * Math.sqrt(r2));
      const mj = p[2 + j];
      out[v + 3 * i] += mj * inv3 * dx;
      out[v + 3 * i + 1] += mj * inv3 * dy;
      out[v + 3 * i + 2] += mj * inv3 * dz;
      out[v + 3 * j] -= mi * inv3 * dx;
      out[v + 3 * j + 1] -= mi * inv3 * dy;
      out[v + 3 * j + 2] -= mi * inv3 * dz;
    }
  }
}

export function nbodyEnergy(y: ArrayLike<number>, p: ArrayLike<number>, n: number): number {
  const G = p[0], eps2 = p[1] * p[1];
  let kinetic = 0, potential = 0;
  for (let i = 0; i < n; i++) {
    const o = 3 * n + 3 * i;
    kinetic += 0.5 * p[2 + i] * (y[o] * y[o] + y[o + 1] * y[o + 1] + y[o + 2] * y[o + 2]);
    for (let j = i + 1; j < n; j++) {
      const dx = y[3 * j] - y[3 * i], dy = y[3 * j + 1] - y[3 * i + 1], dz = y[3 * j + 2] - y[3 * i + 2];
      potential -= (G * p[2 + i] * p[2 + j]) / Math.sqrt(dx * dx + dy * dy + dz * dz + eps2);
    }
  }
  return kinetic + potential;
}

/** Total linear momentum (px, py, pz) and angular momentum about the origin (Lx, Ly, Lz). */
export function nbodyMomenta(y: ArrayLike<number>, p: ArrayLike<number>, n: number): Record<string, number> {
  let px = 0, py = 0, pz = 0, Lx = 0, Ly = 0, Lz = 0;
  for (let i = 0; i < n; i++) {
    const m = p[2 + i], o = 3 * n + 3 * i;
    const x = y[3 * i], yy = y[3 * i + 1], z = y[3 * i + 2];
    const vx = m * y[o], vy = m * y[o + 1], vz = m * y[o + 2];
    px += vx; py += vy; pz += vz;
    Lx += yy * vz - z * vy;
    Ly += z * vx - x * vz;
    Lz += x * vy - yy * vx;
  }
  return { px, py, pz, Lx, Ly, Lz };
}

export function stateLabels(n: number): string[] {
  const labels: string[] = [];
  for (let i = 1; i <= n; i++) labels.push(`x${i}`, `y${i}`, `z${i}`);
  for (let i = 1; i <= n; i++) labels.push(`vx${i}`, `vy${i}`, `vz${i}`);
  return labels;
}

function findPreset(name: string): NBodyPreset {
  const preset = NBODY_PRESETS.find((p) => p.name === name);
  if (!preset) {
    throw new InvalidArgumentError(`unknown nbody preset '${name}'`, `presets: ${NBODY_PRESETS.map((p) => p.name).join(', ')}`);
  }
  return preset;
}

function resolveBodies(preset: NBodyPreset, bodies: SystemOptions['bodies']): number {
  if (bodies === undefined) return preset.bodies ?? preset.defaultBodies;
  const n = Number(bodies);
  if (!Number.isInteger(n) || n < 2 || n > MAX_BODIES) {
    throw new InvalidArgumentError(`bodies must be an integer in [2, ${MAX_BODIES}], got ${bodies}`, 'e.g. --bodies 10');
  }
  if (preset.bodies !== undefined && n !== preset.bodies) {
    throw new InvalidArgumentError(`preset '${preset.name}' has ${preset.bodies} bodies, not ${n}`, `drop --bodies, or use --preset random for ${n} bodies`);
  }
  return n;
}

function resolveSoftening(preset: NBodyPreset, softening: SystemOptions['softening']): number {
  if (softening === undefined) return preset.softening;
  const s = Number(softening);
  if (!(s >= 0 && Number.isFinite(s))) throw new InvalidArgumentError(`softening must be a finite number >= 0, got ${softening}`);
  return s;
}

export const nbody: SystemDefinition = {
  name: 'nbody',
  description: 'Newtonian gravity of N bodies in 3D (G = 1), optional softening; presets with published initial data',
  presets: NBODY_PRESETS.map((p) => p.name),
  create(options: SystemOptions = {}): SystemInstance {
    checkOptions('nbody', options, ['preset', 'bodies', 'softening', 'eccentricity']);
    const preset = findPreset(String(options.preset ?? 'random'));
    const n = resolveBodies(preset, options.bodies);
    const softening = resolveSoftening(preset, options.softening);
    const specs: ParamSpec[] = [
      { name: 'G', default: 1, range: [1, 1], description: 'gravitational constant' },
      { name: 'softening', default: softening, range: [softening, softening], description: 'Plummer softening length' },
    ];
    for (let i = 0; i < n; i++) {
      const range = preset.massRange(i, n);
      specs.push({ name: `mass${i + 1}`, default: (range[0] + range[1]) / 2, range, description: `mass of body ${i + 1}` });
    }
    // Validate preset-specific options now (e.g. eccentricity), not at the first sample.
    const check = new Float64Array(n).fill(1);
    if (preset.name === 'two-body') preset.initialState(undefined as never, check, options, softening);
    return {
      name: 'nbody',
      options: cleanOptions({ ...options, preset: preset.name, bodies: n }),
      dim: 6 * n,
      stateLabels: stateLabels(n),
      paramLabels: specs.map((s) => s.name),
      params: specs,
      conservative: true,
      pointCount: n,
      layout: { bodies: n, positionOffset: 0, velocityOffset: 3 * n, massParamOffset: 2, preset: preset.name },
      sample(rng) {
        const params = sampleParams(specs, rng);
        return { y0: preset.initialState(rng, params.subarray(2), options, softening), params };
      },
      rhs: (_t, y, p, out) => nbodyRhs(y, p, out, n),
      energy: (y, p) => nbodyEnergy(y, p, n),
      positions: (y) => Float64Array.from({ length: 3 * n }, (_, i) => y[i]),
      defaults: preset.defaults,
      pointRadius: (p) => Float64Array.from({ length: n }, (_, i) => 0.05 * Math.cbrt(p[2 + i])),
      invariants: (y, p) => nbodyMomenta(y, p, n),
    };
  },
};
