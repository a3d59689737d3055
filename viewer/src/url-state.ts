/** The shareable part of the view, kept in the page's query string. */

export interface UrlState {
  dataset?: string;
  traj?: number;
  run?: string;
  t?: number;
  view?: 'overlay' | 'side';
}

export function readUrlState(search = location.search): UrlState {
  const q = new URLSearchParams(search);
  const num = (k: string): number | undefined => {
    const v = q.get(k);
    return v !== null && v !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;
  };
  const view = q.get('view');
  return {
    dataset: q.get('dataset') ?? undefined,
    traj: num('traj'),
    run: q.get('run') ?? undefined,
    t: num('t'),
    view: view === 'side' || view === 'overlay' ? view : undefined,
  };
}

/** Replaces the current history entry's query (keeps other parameters such as bench). */
export function writeUrlState(s: UrlState): void {
  const q = new URLSearchParams(location.search);
  const set = (k: string, v: string | undefined): void => {
    if (v === undefined || v === '') q.delete(k);
    else q.set(k, v);
  };
  set('dataset', s.dataset);
  set('traj', s.traj === undefined ? undefined : String(s.traj));
  set('run', s.run);
  set('t', s.t === undefined ? undefined : s.t.toPrecision(6));
  set('view', s.view);
  const next = `${location.pathname}?${q.toString()}`;
  if (next !== `${location.pathname}${location.search}`) history.replaceState(null, '', next);
}
