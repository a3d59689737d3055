/**
 * Builds the browser viewer (viewer/src/main.ts, three.js and uPlot from node_modules) into
 * viewer/dist/ with esbuild: main.js, main.css and index.html. No CDN: the page works offline.
 * The server calls `ensureViewerBuilt` and rebuilds when dist/ is missing or older than a source.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../util/atomic.js';
import { PhysodeError } from '../util/errors.js';

/** The repository's viewer/ folder: the nearest ancestor of this file holding viewer/index.html. */
export function findViewerDir(from = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, 'viewer');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new PhysodeError(`cannot find the viewer's sources (viewer/index.html) above ${from}`, 'run physode from a checkout of the project');
    dir = parent;
  }
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'dist' && entry.name !== 'node_modules') newest = Math.max(newest, await newestMtime(path));
    } else if (/\.(ts|html|css)$/.test(entry.name) && entry.name !== 'build.ts') {
      newest = Math.max(newest, (await stat(path)).mtimeMs);
    }
  }
  return newest;
}

/** True when viewer/dist/ lacks a file or is older than the newest source. */
export async function viewerIsStale(viewerDir: string): Promise<boolean> {
  const outputs = ['index.html', 'main.js', 'main.css'].map((f) => join(viewerDir, 'dist', f));
  if (!outputs.every((f) => existsSync(f))) return true;
  const built = Math.min(...(await Promise.all(outputs.map(async (f) => (await stat(f)).mtimeMs))));
  return (await newestMtime(viewerDir)) > built;
}

export interface ViewerBuild {
  readonly outDir: string;
  readonly files: readonly string[];
  readonly ms: number;
}

/** Bundles the viewer into viewer/dist/ (each file written atomically). */
export async function buildViewer(viewerDir = findViewerDir(), opts: { minify?: boolean } = {}): Promise<ViewerBuild> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (err) {
    throw new PhysodeError('the viewer is not built and esbuild is not installed', 'run `npm install` (with dev dependencies), then `npm run build:viewer`', { cause: err });
  }
  const started = performance.now();
  const outDir = join(viewerDir, 'dist');
  const result = await esbuild.build({
    entryPoints: { main: join(viewerDir, 'src', 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: outDir,
    minify: opts.minify ?? true,
    sourcemap: 'linked',
    write: false,
    logLevel: 'silent',
    legalComments: 'linked',
  });
  const files: string[] = [];
  for (const file of result.outputFiles) {
    await writeFileAtomic(file.path, file.contents);
    files.push(relative(viewerDir, file.path));
  }
  await writeFileAtomic(join(outDir, 'index.html'), await readFile(join(viewerDir, 'index.html')));
  files.push('dist/index.html');
  return { outDir, files, ms: performance.now() - started };
}

let pending: Promise<string> | undefined;
let checkedAt = -Infinity;

/**
 * viewer/dist/, built first when missing or stale (one build at a time per process; the sources
 * are checked at most once a second).
 */
export function ensureViewerBuilt(viewerDir = findViewerDir()): Promise<string> {
  const dist = join(viewerDir, 'dist');
  if (!pending && performance.now() - checkedAt < 1000) return Promise.resolve(dist);
  pending ??= (async () => {
    try {
      if (await viewerIsStale(viewerDir)) await buildViewer(viewerDir);
      checkedAt = performance.now();
      return dist;
    } finally {
      pending = undefined;
    }
  })();
  return pending;
}
