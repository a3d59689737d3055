/**
 * Reads the figures the report needs out of `physode eval --json` output. The output's shape
 * belongs to the eval command; this module only looks values up by name, so that a renamed
 * or nested field is found and a missing one stays undefined instead of breaking the sweep.
 */
import type { EvalMetrics } from './types.js';

/** Flattens nested objects to dotted paths holding numbers (or numeric strings like "NaN"). */
export function flattenNumbers(value: unknown, prefix = '', out = new Map<string, number>()): Map<string, number> {
  if (typeof value === 'number') out.set(prefix, value);
  else if (typeof value === 'string' && /^(NaN|-?Infinity)$/.test(value)) out.set(prefix, Number(value));
  else if (value === null && prefix !== '') out.set(prefix, NaN);
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenNumbers(v, prefix ? `${prefix}.${k}` : k, out);
  }
  return out;
}

function normaliseName(path: string): string {
  return path.toLowerCase().replace(/[^a-z0-9.]/g, '');
}

/** The value of the shallowest path whose normalised form ends with one of the names. */
function lookup(flat: Map<string, number>, names: readonly string[]): number | undefined {
  let best: { depth: number; rank: number; value: number } | undefined;
  for (const [path, value] of flat) {
    const p = normaliseName(path);
    const depth = p.split('.').length;
    names.forEach((name, rank) => {
      if (p === name || p.endsWith(`.${name}`)) {
        if (!best || rank < best.rank || (rank === best.rank && depth < best.depth)) best = { depth, rank, value };
      }
    });
  }
  return best?.value;
}

/** Names tried in order, most specific first (issue 4 names the metrics, not their keys). */
const NAMES = {
  mse: ['rolloutmse', 'fullhorizonmse', 'msefull', 'rollout.mse', 'mse'],
  vpt: ['validpredictiontime', 'vpt'],
  energyDrift: ['energydrift', 'relativeenergydrift', 'energy.drift'],
  nfe: ['nfeperrollout', 'meannfe', 'nfe'],
} as const;

export function extractMetrics(json: unknown): EvalMetrics {
  const flat = flattenNumbers(json);
  return {
    mse: lookup(flat, NAMES.mse),
    vpt: lookup(flat, NAMES.vpt),
    energyDrift: lookup(flat, NAMES.energyDrift),
    nfe: lookup(flat, NAMES.nfe),
  };
}

/** Finds the JSON document in a command's stdout (whole text, else its last `{...}` block). */
export function parseJsonOutput(stdout: string): unknown {
  const text = stdout.trim();
  try {
    return JSON.parse(text);
  } catch {
    // fall through: logs before the document
  }
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start >= 0 && end > start) {
    for (let s = start; s >= 0 && s < end; s = text.indexOf('{', s + 1)) {
      try {
        return JSON.parse(text.slice(s, end + 1));
      } catch {
        // try the next opening brace
      }
    }
  }
  throw new SyntaxError('no JSON document in the output of physode eval --json');
}
