/**
 * Strict command-line parsing shared by every `physode` command: the option table (node:util
 * parseArgs, with negative numbers accepted as values), and numbers, integers, choices and lists
 * checked against their ranges. Every refusal is an InvalidArgumentError whose message names the
 * flag and the value given, and whose hint says what to write instead.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidArgumentError } from '../util/errors.js';
import type { SolverOverride } from '../train/model-port.js';

/** A malformed command line (unknown option, missing value, stray argument): exit code 2. */
export class UsageError extends InvalidArgumentError {}

type OptionTable = NonNullable<ParseArgsConfig['options']>;

/** What parseCommandArgs returns: typed option values and the positionals. */
export type ParsedCommandLine<O extends OptionTable> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>>;

/**
 * A decimal number as people write it: optional sign, digits with an optional fraction, optional
 * exponent. Refuses what Number() would also accept: hex (0x10), binary, octal, 'Infinity', blanks.
 */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * parseArgs with the project's rules: `--count -5` reads -5 as the value (parseArgs alone calls it
 * ambiguous), and every parse failure becomes a UsageError naming the command's --help.
 */
export function parseCommandArgs<O extends OptionTable>(command: string, argv: readonly string[], options: O, allowPositionals = false): ParsedCommandLine<O> {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : null;
    if (name !== null && options[name]?.type === 'string' && i + 1 < argv.length && NEGATIVE_NUMBER.test(argv[i + 1])) {
      args.push(`${a}=${argv[i + 1]}`);
      i++;
    } else {
      args.push(a);
    }
  }
  const help = `see: physode ${command} --help`;
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const message = (err as Error).message;
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /does not take an argument/.test(message)) {
      const flag = /'(-{1,2}[\w-]+)/.exec(message)?.[1] ?? 'a flag';
      throw new UsageError(`${flag} is a switch and does not take an argument`, `write ${flag} alone; ${help}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const flag = /'(-{1,2}[\w-]+)/.exec(message)?.[1] ?? 'an option';
      throw new UsageError(`${flag} needs a value`, `write it as ${flag}=VALUE; ${help}`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']*)'/.exec(message)?.[1] ?? '';
      throw new UsageError(`unexpected argument '${arg}'`, help);
    }
    if (code.startsWith('ERR_PARSE_ARGS_')) throw new UsageError(message.split('\n')[0].replace(/\. To specify a positional.*$/, ''), help);
    throw err;
  }
}

/** Bounds of a number option; an open bound excludes its value. */
export interface Range {
  readonly min?: number;
  readonly max?: number;
  /** min is excluded (e.g. a learning rate must be > 0). */
  readonly minOpen?: boolean;
  readonly maxOpen?: boolean;
  /** Shown as the fix, e.g. '--lr 1e-3'. */
  readonly example?: string;
}

function describeRange(r: Range): string {
  if (r.min !== undefined && r.max !== undefined) return ` in ${r.minOpen ? '(' : '['}${r.min}, ${r.max}${r.maxOpen ? ')' : ']'}`;
  if (r.min !== undefined) return ` ${r.minOpen ? '>' : '>='} ${r.min}`;
  if (r.max !== undefined) return ` ${r.maxOpen ? '<' : '<='} ${r.max}`;
  return '';
}

function inRange(v: number, r: Range): boolean {
  if (r.min !== undefined && (r.minOpen ? !(v > r.min) : !(v >= r.min))) return false;
  if (r.max !== undefined && (r.maxOpen ? !(v < r.max) : !(v <= r.max))) return false;
  return true;
}

/** A finite decimal number within `range`. */
export function parseNumber(name: string, value: string, range: Range = {}): number {
  const hint = range.example ? `e.g. ${range.example}` : `see: --${name} in --help`;
  if (!DECIMAL.test(value)) throw new InvalidArgumentError(`--${name} expects a number, got '${value}'`, `write a decimal number, ${hint}`);
  const v = Number(value);
  if (!Number.isFinite(v)) throw new InvalidArgumentError(`--${name} expects a finite number, got '${value}'`, hint);
  if (!inRange(v, range)) throw new InvalidArgumentError(`--${name} must be a number${describeRange(range)}, got '${value}'`, hint);
  return v;
}

/** An integer >= min (and within `range`'s max). */
export function parseInteger(name: string, value: string, min = 0, range: Omit<Range, 'min' | 'minOpen'> = {}): number {
  const hint = range.example ? `e.g. ${range.example}` : `see: --${name} in --help`;
  if (!DECIMAL.test(value)) throw new InvalidArgumentError(`--${name} expects a number (an integer >= ${min}), got '${value}'`, `write a whole decimal number, ${hint}`);
  const v = Number(value);
  if (!Number.isSafeInteger(v) || v < min) throw new InvalidArgumentError(`--${name} expects an integer >= ${min}, got '${value}'`, hint);
  if (range.max !== undefined && !inRange(v, range)) throw new InvalidArgumentError(`--${name} must be an integer in [${min}, ${range.max}], got '${value}'`, hint);
  return v;
}

export function parseChoice<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new InvalidArgumentError(`--${name} '${value}' is not one of: ${choices.join(', ')}`, `e.g. --${name} ${choices[0]}`);
}

/** "0,1,5" or "0-3" or a mix: ascending unique integers. */
export function parseIndexList(name: string, value: string): number[] {
  const out = new Set<number>();
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = part.match(/^(\d+)-(\d+)$/);
    if (range) {
      const a = Number(range[1]);
      const b = Number(range[2]);
      if (b < a) throw new InvalidArgumentError(`--${name}: range '${part}' runs backwards`, `write it low to high, e.g. --${name} ${b}-${a}`);
      if (b - a > 1_000_000) throw new InvalidArgumentError(`--${name}: range '${part}' is too long`, `give at most a million positions`);
      for (let i = a; i <= b; i++) out.add(i);
    } else {
      out.add(parseInteger(name, part));
    }
  }
  if (out.size === 0) throw new InvalidArgumentError(`--${name} expects indices like 0,1,2 or 0-3, got '${value}'`, `e.g. --${name} 0-3`);
  return [...out].sort((a, b) => a - b);
}

/**
 * A train,val,test split: three fractions >= 0 summing to 1, with a share to train on and a share
 * to validate on (a dataset without either cannot be trained).
 */
export function parseSplit(name: string, value: string): [number, number, number] {
  const example = `e.g. --${name} 0.8,0.1,0.1`;
  const parts = value.split(',');
  if (parts.length !== 3 || parts.some((p) => !DECIMAL.test(p.trim()))) {
    throw new InvalidArgumentError(`--${name} must be three comma-separated fractions, got '${value}'`, example);
  }
  const f = parts.map((p) => Number(p.trim())) as [number, number, number];
  if (f.some((x) => !(x >= 0 && x <= 1)) || Math.abs(f[0] + f[1] + f[2] - 1) > 1e-9) {
    throw new InvalidArgumentError(`--${name} must be three fractions >= 0 summing to 1, got '${value}'`, example);
  }
  if (f[0] === 0 || f[1] === 0) {
    throw new InvalidArgumentError(`--${name} ${value} leaves no ${f[0] === 0 ? 'training' : 'validation'} share: nothing could be trained on the dataset`, `give train and val a share each, ${example}`);
  }
  return f;
}

/** Ranges of the solver options: tolerances in (0, 1), a positive step, a positive step limit. */
export const TOLERANCE: Range = { min: 0, max: 1, minOpen: true, maxOpen: true, example: '--rtol 1e-6' };
export const STEP_SIZE: Range = { min: 0, minOpen: true, example: '--step 0.05' };

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
    rtol: values.rtol !== undefined ? parseNumber('rtol', values.rtol, TOLERANCE) : undefined,
    atol: values.atol !== undefined ? parseNumber('atol', values.atol, TOLERANCE) : undefined,
    step: values.step !== undefined ? parseNumber('step', values.step, STEP_SIZE) : undefined,
    maxSteps: values['max-steps'] !== undefined ? parseInteger('max-steps', values['max-steps'], 1) : undefined,
  };
}
