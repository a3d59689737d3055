/**
 * `physode reproduce --experiment halfcheetah`: runs the HalfCheetah next-state experiments and
 * the pendulum mechanism measurements in this process (src/reproduce/halfcheetah.ts,
 * mechanism.ts) and writes OUT/report.md, results.json and plots/.
 */
import { resolve } from 'node:path';
import { InvalidArgumentError } from '../util/errors.js';
import { checkWritableFolder } from '../util/fs.js';
import { writeFileAtomic } from '../util/atomic.js';
import { parseInteger } from './options.js';
import { runStoppable } from './stoppable.js';

export async function runHalfCheetahCommand(values: Record<string, string | boolean | undefined>, argv: readonly string[]): Promise<number> {
  for (const k of ['systems', 'experiments', 'shard-index', 'shard-count', 'from']) {
    if (values[k] !== undefined) throw new InvalidArgumentError(`--${k} does not apply to --experiment halfcheetah`, 'it has its own fixed grid; see physode reproduce --help');
  }
  if (values.merge === true) throw new InvalidArgumentError('--merge does not apply to --experiment halfcheetah');
  const quick = values.quick === true || values.profile === 'quick' || values.profile === 'smoke';
  const out = resolve(typeof values.out === 'string' ? values.out : quick ? 'reports/halfcheetah-quick' : 'reports/halfcheetah');
  await checkWritableFolder(out, '--out');
  const { HALFCHEETAH_PROFILES, runHalfCheetah } = await import('../reproduce/halfcheetah.js');
  const { MECHANISM_PROFILES, runMechanism } = await import('../reproduce/mechanism.js');
  const { writeHalfCheetahReport } = await import('../reproduce/halfcheetah-report.js');
  const { staticEnvironment } = await import('../reproduce/environment.js');
  const profile = HALFCHEETAH_PROFILES[quick ? 'quick' : 'full'];
  const seedCount = typeof values.seeds === 'string' ? parseInteger('seeds', values.seeds, 1, { max: 100 }) : profile.seeds;
  const { initBackend, parseBackendPreference } = await import('../backend/backend.js');
  const backend = await initBackend(parseBackendPreference(typeof values.backend === 'string' ? values.backend : 'auto'));
  process.stderr.write(`backend: ${backend.detail}\nphysode reproduce --experiment halfcheetah: ${profile.name}, ${seedCount} seed(s), output ${out}\n`);
  const started = performance.now();
  const { result: cheetah, stopped } = await runStoppable('halfcheetah', {}, ({ signal, onProgress, onEvent }) =>
    runHalfCheetah({ out, profile: { ...profile, seeds: seedCount }, signal, onProgress, onEvent }),
  );
  if (stopped) return 130;
  const mechanism = await runMechanism(resolve(out, 'mechanism'), MECHANISM_PROFILES[quick ? 'quick' : 'full'], (m) => process.stderr.write(`${m}\n`));
  await writeFileAtomic(resolve(out, 'mechanism', 'results.json'), `${JSON.stringify(mechanism, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  const report = await writeHalfCheetahReport({
    out,
    cheetah,
    mechanism,
    commandLine: ['physode', 'reproduce', ...argv].join(' '),
    wallSeconds: (performance.now() - started) / 1000,
    environment: { ...staticEnvironment(), backend: backend.detail },
  });
  process.stdout.write(`report: ${report}\n`);
  return 0;
}
