/**
 * `npm run bench [-- --only generate|train|viewer|load]`: performance figures with the machine and
 * backend. Each suite is one file in this folder exporting `run(args)`.
 */
import os from 'node:os';

const SUITES: Record<string, () => Promise<{ run(args: readonly string[]): Promise<void> }>> = {
  generate: () => import('./generate.js'),
  train: () => import('./train.js'),
  viewer: () => import('./viewer.js'),
  scale: () => import('./scale.js'),
  load: () => import('./load.js'),
};

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1]?.split(',') : Object.keys(SUITES);
const rest = onlyAt >= 0 ? [...args.slice(0, onlyAt), ...args.slice(onlyAt + 2)] : args;

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`# physode bench  node ${process.version}  ${os.platform()}-${os.arch()}  ${cpu} x${os.cpus().length}  ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`);
for (const name of only ?? []) {
  const load = SUITES[name];
  if (!load) {
    console.error(`bench: unknown suite '${name}'; suites: ${Object.keys(SUITES).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n## ${name}`);
  await (await load()).run(rest);
}
