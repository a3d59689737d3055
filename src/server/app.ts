/**
 * The viewer's HTTP server as an express app: a small JSON API over the datasets and runs folders,
 * and the built viewer (viewer/dist/) as static files. `createApp` only builds the app; see
 * start.ts for listening. The API is documented in README.md beside this file.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { resolve } from 'node:path';
import { version } from '../util/version.js';
import { PhysodeError } from '../util/errors.js';
import { listDatasets, listRuns, findDataset, findRun, lastMetrics, runSummaryFile, datasetOfRun, type DatasetEntry, type RunEntry } from './catalog.js';
import { HttpError, badRequest, notFound } from './http-error.js';
import { allowedHostsFor, hostProblem } from './host-check.js';
import { bounded, scrubText, scrubValue, type PathRoot } from './public-paths.js';
import { ByteCache } from './byte-cache.js';
import { Gate } from './gate.js';
import { runQuality } from './run-quality.js';
import { rawPathIsSuspicious } from './safe-name.js';
import { downsampleQuery, parseOr400, rolloutQuery, trajectoryIndex } from './schemas.js';
import { loadFull, openListed, trajectoryPayload, checkIndex, trajectoryBytes, type FullTrajectory, type OpenedDataset } from './trajectory.js';
import { computeRollout, rolloutPayload, RolloutCache } from './rollout.js';
import { ModelError, RolloutTimeoutError, type Predictor } from './predictor.js';
import { ensureViewerBuilt } from './viewer-build.js';

export interface AppOptions {
  /** Folder whose subfolders are datasets (each with manifest.json). */
  readonly datasetsDir: string;
  /** Folder whose subfolders are training runs (each with config.json). */
  readonly runsDir: string;
  /** The model call behind rollouts (default: a worker thread running src/train/predict.ts). */
  readonly predictor: Predictor;
  /** Serve the viewer page (built on demand); false for an API-only app. Default true. */
  readonly serveViewer?: boolean;
  /** Where unexpected (500) errors are reported; default console.error. */
  readonly onError?: (err: unknown) => void;
  /**
   * Host names answered besides loopback (localhost, 127.0.0.1, [::1]): the interface the server
   * binds (start.ts passes --host). Requests naming any other host get 403 (DNS rebinding).
   */
  readonly allowedHosts?: readonly string[];
  /** Byte budget of the in-memory trajectory cache; default 32 MiB. */
  readonly trajectoryCacheBytes?: number;
  /** Requests whose data work (rows read, answers built) may run at once; default 4 (see gate.ts). */
  readonly dataSlots?: number;
}

/** Longest error message an answer carries. */
const MAX_ERROR_CHARS = 300;

/** Security headers; the CSP allows only this origin, plus blob:/data: images for the PNG screenshot. */
function securityHeaders() {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        // uPlot sizes its elements with inline style attributes.
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:', 'blob:'],
        'connect-src': ["'self'"],
        'worker-src': ["'self'", 'blob:'],
        // Served over plain http on loopback: do not ask the browser to upgrade to https.
        'upgrade-insecure-requests': null,
      },
    },
    strictTransportSecurity: false,
  });
}

function datasetSummary(d: DatasetEntry) {
  const m = d.manifest;
  const splits: Record<string, number> = {};
  for (const s of m.shards) splits[s.split] = (splits[s.split] ?? 0) + s.count;
  return {
    name: d.name,
    system: m.system.name,
    options: m.system.options,
    conservative: m.system.conservative,
    dim: m.state.dim,
    stateLabels: m.state.labels,
    paramLabels: m.system.paramLabels,
    count: m.generator.count,
    splits,
    times: m.times,
    maxRelEnergyError: m.stats?.maxRelEnergyError ?? null,
  };
}

/**
 * A short, flat view of a run's config.json: its scalar fields as dotted keys (`config.model.norm`,
 * `dataset.system`...), nested up to three levels; arrays (statistics, labels) left out.
 */
function configSummary(config: Record<string, unknown>): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const walk = (obj: Record<string, unknown>, prefix: string, depth: number): void => {
    for (const [k, v] of Object.entries(obj)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[prefix + k] = v;
      else if (depth < 3 && typeof v === 'object' && v !== null && !Array.isArray(v)) walk(v as Record<string, unknown>, `${prefix}${k}.`, depth + 1);
    }
  };
  walk(config, '', 1);
  return out;
}

async function runSummary(run: RunEntry, datasets: readonly DatasetEntry[]) {
  const [metrics, summary, quality] = await Promise.all([lastMetrics(run), runSummaryFile(run), runQuality(run)]);
  return {
    id: run.id,
    dataset: datasetOfRun(run, datasets)?.name ?? null,
    modified: new Date(run.mtimeMs).toISOString(),
    config: configSummary(run.config),
    metrics: metrics ?? null,
    summary: summary ?? null,
    quality,
  };
}

/** Builds the express app; it holds an in-memory rollout cache and touches nothing outside the two folders. */
export function createApp(opts: AppOptions): express.Express {
  const app = express();
  const cache = new RolloutCache();
  const gate = new Gate(opts.dataSlots ?? 4);
  const trajectories = new ByteCache<FullTrajectory>(opts.trajectoryCacheBytes ?? 32 * 1024 * 1024, trajectoryBytes);
  const onError = opts.onError ?? ((err: unknown) => console.error('physode view:', err));
  const allowedHosts = allowedHostsFor(undefined, opts.allowedHosts ?? []);
  const roots: PathRoot[] = [
    { dir: resolve(opts.datasetsDir), as: 'datasets' },
    { dir: resolve(opts.runsDir), as: 'runs' },
  ];
  /** Run files and messages in their public form: no absolute server path. */
  const scrub = <T,>(value: T): T => scrubValue(value, roots);

  const trajectory = (ds: OpenedDataset, index: number): Promise<FullTrajectory> => {
    checkIndex(ds.entry, index);
    return trajectories.get(`${ds.entry.dir}@${ds.entry.mtimeMs}#${index}`, () => loadFull(ds, index));
  };

  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(securityHeaders());

  // DNS rebinding: answer only requests addressed to a loopback name or one the server binds.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const problem = hostProblem(req.headers.host, allowedHosts);
    next(problem ? new HttpError(403, problem) : undefined);
  });

  // Refuse traversal shapes in the raw path, in any encoding, before anything decodes them.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const rawPath = req.originalUrl.split('?')[0];
    if (rawPathIsSuspicious(rawPath)) return next(badRequest(`refused path ${JSON.stringify(rawPath.slice(0, 120))}: it contains '..', an encoded '.', '/' or '\\', or a backslash`));
    next();
  });

  const api = express.Router();

  api.get('/health', (_req, res) => {
    res.json({ ok: true, version });
  });

  api.get('/datasets', async (_req, res) => {
    const { datasets, skipped } = await listDatasets(opts.datasetsDir);
    res.json({ datasets: datasets.map(datasetSummary), skipped: skipped.map((s) => ({ name: s.name, reason: bounded(scrubText(s.reason, roots), MAX_ERROR_CHARS) })) });
  });

  api.get('/datasets/:name', async (req, res) => {
    const entry = await findDataset(opts.datasetsDir, req.params.name as string);
    res.json(scrub({ ...datasetSummary(entry), manifest: entry.manifest }));
  });

  api.get('/datasets/:name/trajectories/:index', async (req, res) => {
    const entry = await findDataset(opts.datasetsDir, req.params.name as string);
    const index = parseOr400(trajectoryIndex, req.params.index, 'trajectory index');
    const down = parseOr400(downsampleQuery, req.query, 'query');
    checkIndex(entry, index);
    await gate.run(async () => {
      const ds = openListed(entry);
      res.json(trajectoryPayload(ds, await trajectory(ds, index), down));
    });
  });

  api.get('/runs', async (_req, res) => {
    const [runs, { datasets }] = await Promise.all([listRuns(opts.runsDir), listDatasets(opts.datasetsDir)]);
    res.json(scrub({ runs: await Promise.all(runs.map((r) => runSummary(r, datasets))) }));
  });

  api.get('/runs/:id', async (req, res) => {
    const run = await findRun(opts.runsDir, req.params.id as string);
    const { datasets } = await listDatasets(opts.datasetsDir);
    res.json(scrub({ ...(await runSummary(run, datasets)), fullConfig: run.config }));
  });

  api.get('/runs/:id/rollout', async (req, res) => {
    const run = await findRun(opts.runsDir, req.params.id as string);
    const q = parseOr400(rolloutQuery, req.query, 'query');
    let entry: DatasetEntry;
    if (q.dataset !== undefined) entry = await findDataset(opts.datasetsDir, q.dataset);
    else {
      const own = datasetOfRun(run, (await listDatasets(opts.datasetsDir)).datasets);
      if (!own) throw badRequest(`run '${run.id}' was trained on a dataset that is not in the listing; pass ?dataset=NAME`);
      entry = own;
    }
    checkIndex(entry, q.index);
    const samples = entry.manifest.times.count;
    if (q.horizon !== undefined && q.horizon > samples) {
      throw badRequest(`query parameter 'horizon': ${q.horizon} exceeds the ${samples} samples of the trajectories of '${entry.name}'`);
    }
    const ds = openListed(entry);
    const traj = await gate.run(() => trajectory(ds, q.index));
    const horizon = Math.min(q.horizon ?? traj.t.length, traj.t.length);
    const key = `${run.id}@${run.mtimeMs}|${entry.name}@${entry.mtimeMs}|${q.index}|${horizon}`;
    const { rollout, cached } = await cache.get(key, () => computeRollout(opts.predictor, run, ds, traj, horizon));
    await gate.run(() => res.json(rolloutPayload(ds, rollout, { every: q.every, max: q.max }, cached)));
  });

  api.use((req, _res, next) => next(notFound(`no API route ${req.method} ${req.path.slice(0, 80)}; see src/server/README.md`)));
  app.use('/api', api);

  if (opts.serveViewer ?? true) {
    let serve: { dist: string; handler: express.RequestHandler } | undefined;
    app.use(async (req, res, next) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return next();
      try {
        const dist = await ensureViewerBuilt();
        if (serve?.dist !== dist) serve = { dist, handler: express.static(dist, { index: 'index.html', fallthrough: true }) };
        serve.handler(req, res, next);
      } catch (err) {
        next(err);
      }
    });
  }

  app.use((req, _res, next) => next(notFound(`not found: ${req.method} ${req.path.slice(0, 80)}`)));

  // Errors: HttpError keeps its status; a model error is 422; anything else is a 500 with a short
  // message. Every message is bounded in length and carries no absolute server path.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    // The server's own messages name datasets, runs and routes, never files: only bounded. Others
    // (the model loader's, the file system's) may carry paths: rewritten too.
    const say = (status: number, message: string, hint?: string, own = false): void => {
      const clean = (text: string): string => bounded(own ? text : scrubText(text, roots), MAX_ERROR_CHARS);
      const body: { error: string; hint?: string } = { error: clean(message) };
      if (hint) body.hint = clean(hint);
      res.status(status).json(body);
    };
    if (err instanceof HttpError) return say(err.status, err.message, undefined, true);
    if (err instanceof ModelError) return say(422, err.message, err.hint);
    if (err instanceof RolloutTimeoutError) return say(504, err.message, err.hint);
    const status = (err as { status?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) return say(status, (err as Error).message);
    onError(err);
    say(500, err instanceof PhysodeError ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : 'internal error (see the server log)');
  });

  return app;
}
