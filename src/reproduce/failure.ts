/**
 * Classifies a failed run from what the child process left: its exit, its last error lines,
 * and its metrics. Failures are results of the sweep (claim 4 is about them), so each gets a
 * kind and a one-line reason for results.csv.
 */
import type { ChildResult } from './child-process.js';
import type { EvalMetrics, FailureKind } from './types.js';

export interface Failure {
  readonly failure: FailureKind;
  readonly reason: string;
}

/** The last non-empty line of stderr that reads like an error (the CLI prints one such line). */
export function errorLine(stderr: string): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').trim()).filter((l) => l.length > 0);
  const error = [...lines].reverse().find((l) => /error|physode \w+:|fail|diverg|nan|underflow|step/i.test(l) && !l.startsWith('hint:'));
  return (error ?? lines[lines.length - 1] ?? '').slice(0, 300);
}

/** Kind of failure named by an error message (the solver's and the trainer's wording). */
export function failureKindOf(message: string): FailureKind {
  if (/underflow|step ?size.*(small|minimum)|minimum step|h ?< ?hmin/i.test(message)) return 'step-underflow';
  if (/step limit|max(imum)?[ -]?steps|too many steps|nfe/i.test(message)) return 'nfe-blowup';
  if (/diverg|nan|inf(inite)?\b|non-finite|not finite/i.test(message)) return 'divergence';
  return 'crash';
}

/** Failure of a child that did not exit with 0, or undefined if it did. */
export function childFailure(result: ChildResult, what: string): Failure | undefined {
  if (result.timedOut) return { failure: 'timeout', reason: `${what} ran past ${Math.round(result.seconds)} s and was stopped` };
  if (result.code === 0) return undefined;
  const line = errorLine(result.stderr) || (result.signal ? `killed by ${result.signal}` : `exit code ${result.code}`);
  return { failure: failureKindOf(line), reason: `${what}: ${line}` };
}

/** Failure read from metrics of a run that exited cleanly: non-finite error or runaway NFE. */
export function metricFailure(metrics: EvalMetrics, nfeBlowUp: number): Failure | undefined {
  if (metrics.mse === undefined) return { failure: 'crash', reason: 'eval --json gave no rollout MSE' };
  if (!Number.isFinite(metrics.mse)) return { failure: 'non-finite-metric', reason: `rollout MSE is ${metrics.mse}` };
  if (metrics.nfe !== undefined && metrics.nfe > nfeBlowUp) {
    return { failure: 'nfe-blowup', reason: `NFE per rollout ${metrics.nfe} above the limit ${nfeBlowUp}` };
  }
  return undefined;
}
