/**
 * Turning command-line strings into checked numbers and lists, with one-line errors that say what to
 * change. Shared by `physode train`, `eval` and `rollout` (the parsing stays in src/cli/commands).
 */
import { InvalidArgumentError } from '../util/errors.js';
import type { SolverOverride } from './model-port.js';

export function parseNumber(name: string, value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v)) throw new InvalidArgumentError(`--${name} expects a number, got '${value}'`);
  return v;
}

export function parseInteger(name: string, value: string, min = 0): number {
  const v = parseNumber(name, value);
  if (!Number.isInteger(v) || v < min) throw new InvalidArgumentError(`--${name} expects an integer >= ${min}, got '${value}'`);
  return v;
}

export function parseChoice<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new InvalidArgumentError(`--${name} '${value}' is not one of: ${choices.join(', ')}`);
}

/** "0,1,5" or "0-3" or a mix: ascending unique integers. */
export function parseIndexList(name: string, value: string): number[] {
  const out = new Set<number>();
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = part.match(/^(\d+)-(\d+)$/);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) throw new InvalidArgumentError(`--${name}: range '${part}' runs backwards`);
      for (let i = a; i <= b; i++) out.add(i);
    } else {
      out.add(parseInteger(name, part));
    }
  }
  if (out.size === 0) throw new InvalidArgumentError(`--${name} expects indices like 0,1,2 or 0-3, got '${value}'`);
  return [...out].sort((a, b) => a - b);
}

/** parseArgs options shared by the commands that may evaluate with another solver than training's. */
export const SOLVER_OVERRIDE_OPTIONS = {
  method: { type: 'string' },
  rtol: { type: 'string' },
  atol: { type: 'string' },
  step: { type: 'string' },
  'max-steps': { type: 'string' },
} as const;

/** The solver override given by --method/--rtol/--atol/--step/--max-steps (unset fields keep the run's own). */
export function parseSolverOverride(values: { method?: string; rtol?: string; atol?: string; step?: string; 'max-steps'?: string }): SolverOverride {
  return {
    method: values.method,
    rtol: values.rtol !== undefined ? parseNumber('rtol', values.rtol) : undefined,
    atol: values.atol !== undefined ? parseNumber('atol', values.atol) : undefined,
    step: values.step !== undefined ? parseNumber('step', values.step) : undefined,
    maxSteps: values['max-steps'] !== undefined ? parseInteger('max-steps', values['max-steps'], 1) : undefined,
  };
}
