/** Which run the page opens with for a dataset: the comparison, not "(none)". */
import type { RunInfo } from './api.js';

/**
 * The newest run trained on `dataset` whose training finished (it has a summary), else the newest
 * trained on it; '' when none was.
 */
export function defaultRun(runs: readonly Pick<RunInfo, 'id' | 'dataset' | 'modified' | 'summary'>[], dataset: string): string {
  const own = runs.filter((r) => r.dataset === dataset).sort((a, b) => b.modified.localeCompare(a.modified));
  return (own.find((r) => r.summary !== null) ?? own[0])?.id ?? '';
}
