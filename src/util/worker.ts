/**
 * Starts a worker thread on a module next to the caller, from dist/ (the compiled .js) as from the
 * sources under tsx (.ts). Under tsx, Node 20 workers do not get tsx's module hooks from the
 * inherited `--import tsx` in time for their entry file, so a two-line bootstrap registers tsx
 * (tsx/esm/api) inside the worker and then imports the .ts module.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `callerUrl`: the caller's import.meta.url; `name`: the module's file name without extension. */
export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, callerUrl), options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, callerUrl).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
